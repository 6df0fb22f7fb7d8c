"""Constraints of numbers, flags, choices, text and paths (see :mod:`maxent_lib.validation`)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _checks
from .._checks import InputTypeError
from .core import BadValue, Constraint


@dataclass
class Real(Constraint):
    """One real number in ``[low, high]`` (``low_open``/``high_open`` make a bound strict),
    finite unless ``allow_inf``; passed on as ``float``. Text, booleans and complex numbers are
    refused. Used by the library only."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> float:
        return _checks.check_number(value, name, low=self.low, high=self.high,
                                    low_open=self.low_open, high_open=self.high_open,
                                    allow_inf=self.allow_inf)

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("text", "0.5", "type"), ("bool", True, "type"),
               ("complex", 1j, "type"), ("list", [0.1, 0.2], "type"),
               ("nan", math.nan, "value")]
        if not self.allow_inf:
            out.append(("inf", math.inf, "value"))
        if self.low is not None and math.isfinite(self.low):
            out.append(("below", self.low if self.low_open
                        else self.low - max(1.0, abs(self.low)), "value"))
        if self.high is not None and math.isfinite(self.high):
            out.append(("above", self.high if self.high_open
                        else self.high + max(1.0, abs(self.high)), "value"))
        return out

    def describe(self) -> str:
        return "a real number"


@dataclass
class Integer(Constraint):
    """An integer (Python or NumPy, not ``bool``, not a float such as 2.0) in ``[low, high]``;
    passed on as ``int``. Used by the library only."""

    low: int | None = None
    high: int | None = None
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> int:
        return _checks.check_int(value, name, low=self.low, high=self.high)

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("float", 2.5, "type"), ("whole_float", 2.0, "type"),
               ("bool", True, "type"), ("text", "3", "type"), ("nan", math.nan, "type")]
        if self.low is not None:
            out.append(("below", self.low - 1, "value"))
        if self.high is not None:
            out.append(("above", self.high + 1, "value"))
        return out

    def describe(self) -> str:
        return "an integer"


@dataclass
class Seed(Integer):
    """A random seed: an integer in 0..2**63 - 1. Used by the library only."""

    low: int | None = 0
    high: int | None = _checks.MAX_SEED


@dataclass
class Flag(Constraint):
    """``True`` or ``False`` (also NumPy's bool), passed on as ``bool``; the strings
    "True"/"False" and 0/1 are refused. Used by the library only."""

    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> bool:
        return _checks.check_flag(value, name)

    def bad_values(self, example: Any) -> list[BadValue]:
        return [*super().bad_values(example), ("text", "False", "type"), ("int", 1, "type")]

    def describe(self) -> str:
        return "True or False"


@dataclass
class Choice(Constraint):
    """One of the strings ``options``. Used by the library only."""

    options: Sequence[str] = ()
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> str:
        return _checks.check_choice(value, name, self.options)

    def bad_values(self, example: Any) -> list[BadValue]:
        return [*super().bad_values(example), ("unknown", "no-such-option", "value"),
                ("int", 3, "type")]

    def describe(self) -> str:
        return "one of " + ", ".join(map(repr, self.options))


@dataclass
class Text(Constraint):
    """A string (non-empty, not only spaces, unless ``empty``), passed on unchanged.
    Used by the library only."""

    empty: bool = True
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> str:
        if not isinstance(value, str):
            raise InputTypeError(f"{name} must be a string, got {type(value).__name__}")
        if not self.empty and not value.strip():
            raise ValueError(f"{name} is empty")
        return value

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("int", 3, "type"), ("bytes", b"x", "type")]
        return out + ([] if self.empty else [("empty", "", "value")])

    def describe(self) -> str:
        return "a string"


@dataclass
class PathArg(Constraint):
    """A file-system path: a non-empty ``str`` or ``os.PathLike``; passed on as ``Path``. With
    ``file``, the path must name a regular file (or a symlink to one) or nothing: a folder, a
    device, a named pipe or a socket is refused (reading a pipe would wait forever, replacing a
    device would destroy it). Used by the library only."""

    file: bool = False
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Path:
        path = _checks.check_path(value, name)
        if self.file:
            check_regular_file(path, name)
        return path

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("int", 3, "type"), ("bytes", b"r.jsonl", "type"),
               ("empty", "", "value"), ("nul", "a\x00b", "value")]
        if self.file:
            folder = os.path.dirname(os.path.abspath(os.fspath(example)))
            out += [("folder", folder, "value"), ("device", os.devnull, "value")]
        return out

    def describe(self) -> str:
        return "a path"


def check_regular_file(path: Path, name: str) -> None:
    """Raise ``ValueError`` if ``path`` exists and is not a regular file (after following
    symlinks): a folder, a device, a named pipe or a socket. Used by the library only."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there yet (or a missing folder, reported where it matters)
    except OSError as exc:
        raise ValueError(f"{name} {str(path)!r} cannot be inspected: {exc}") from exc
    if stat.S_ISREG(mode):
        return
    kind = ("a folder" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
    raise ValueError(f"{name} {str(path)!r} is {kind}; give the name of a regular file (or of "
                     "one that does not exist yet)")
