"""Constraints of objects: instances, functions, devices, and no check at all (see
:mod:`maxent_lib.validation`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import _checks
from .._checks import InputTypeError
from .core import BadValue, Constraint


@dataclass
class Instance(Constraint):
    """An instance of one of ``types`` (classes, or their dotted names as strings, for classes
    defined later or in modules that are slow to import: "torch.Tensor",
    "maxent_lib.softmax.SoftmaxRegression"); passed on unchanged. Used by the library only."""

    types: tuple[Any, ...] = ()
    optional: bool = False

    def _classes(self) -> tuple[type, ...]:
        out = []
        for t in self.types:
            if isinstance(t, str):
                import importlib

                module, _, attr = t.rpartition(".")
                t = getattr(importlib.import_module(module), attr)
            out.append(t)
        return tuple(out)

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        classes = self._classes()
        if not isinstance(value, classes):
            raise InputTypeError(f"{name} must be {self.describe()}, got "
                                 f"{type(value).__name__}")
        return value

    def bad_values(self, example: Any) -> list[BadValue]:
        classes = self._classes()
        return [*super().bad_values(example)] + [
            (label, v, "type") for label, v in (("text", "abc"), ("int", 3), ("dict", {}))
            if not isinstance(v, classes)]

    def describe(self) -> str:
        names = [t.rpartition(".")[2] if isinstance(t, str) else t.__name__ for t in self.types]
        return "a " + " or ".join(names)


@dataclass
class Function(Constraint):
    """A callable (a function, a method, a class, ``functools.partial``...); passed on
    unchanged. ``what`` says what it computes, for the message. Used by the library only."""

    what: str = "a function"
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        if not callable(value):
            raise InputTypeError(f"{name} must be callable ({self.what}), got "
                                 f"{type(value).__name__}")
        return value

    def bad_values(self, example: Any) -> list[BadValue]:
        return [*super().bad_values(example), ("int", 3, "type"), ("text", "abc", "type")]

    def describe(self) -> str:
        return self.what


@dataclass
class Device(Constraint):
    """A device: None or ``"auto"`` (the automatic choice), a name (``cpu``, ``cuda``,
    ``cuda:N``, ``mps``) or a ``torch.device`` that this machine can serve (the rule of
    :func:`maxent_lib.runtime.get_device`); passed on unchanged. Used by the library only."""

    optional: bool = True

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        _checks.check_device(value, name)
        return value

    def bad_values(self, example: Any) -> list[BadValue]:
        return [*super().bad_values(example), ("int", 3, "type"), ("list", ["cpu"], "type"),
                ("unknown", "tpu", "value"), ("absent_gpu", "cuda:99", "value")]

    def describe(self) -> str:
        return "a device"


@dataclass
class Anything(Constraint):
    """No check: the parameter accepts any value (``reason`` says why, e.g. "a label of any
    type" or "checked in the body against the fitted model"). Used by the library only."""

    reason: str = ""

    def __post_init__(self) -> None:
        if not self.reason:
            raise ValueError("Anything() needs a reason: say why the parameter is not checked")

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        return value

    def bad_values(self, example: Any) -> list[BadValue]:
        return []

    def describe(self) -> str:
        return "any value"


def devices() -> Constraint:
    """The constraint of a ``device`` argument (the same as :class:`Device`). Used by the
    library only."""
    return Device()
