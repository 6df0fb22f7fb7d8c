"""Constraints of containers: lists, fixed tuples, dicts, and a choice of constraints (see
:mod:`maxent_lib.validation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import InputTypeError
from .core import BadValue, Constraint, _renamed
from .objects import Anything


def _sequence(value: Any, name: str, what: str) -> list[Any]:
    """``value`` as a list if it is a list, tuple, range or 1-D array (not text, a dict or a
    set), else InputTypeError."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return list(value)
    if isinstance(value, (str, bytes, dict, set)) or not isinstance(value, (list, tuple,
                                                                            range)):
        raise InputTypeError(f"{name} must be {what}, got {type(value).__name__}")
    return list(value)


@dataclass
class Items(Constraint):
    """A list, tuple, range or 1-D array (not a string, a dict or a set) of items that each
    meet ``each`` (an error names the item: ``name[i]``), at least ``min_len`` of them, all
    different with ``unique``; passed on as a list of the checked items.
    Used by the library only."""

    each: Constraint = field(default_factory=lambda: Anything("any item"))
    min_len: int = 0
    unique: bool = False
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> list[Any]:
        items = _sequence(value, name, f"a list of {self.each.describe()}")
        if len(items) < self.min_len:
            raise ValueError(f"{name} is empty: give at least {self.min_len} item(s)" if not items
                             else f"{name} must hold at least {self.min_len} item(s), got "
                             f"{len(items)}")
        out = [self.each.check(v, f"{name}[{i}]", args) for i, v in enumerate(items)]
        if self.unique:
            seen = [repr(v) for v in out]
            if len(set(seen)) != len(seen):
                raise ValueError(f"{name} lists an item twice: {out!r:.200}")
        return out

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("text", "abc", "type"), ("dict", {"a": 1}, "type")]
        items = list(example)
        if self.min_len:
            out.append(("too_short", items[: self.min_len - 1], "value"))
        if items:
            for label, bad, kind in self.each.bad_values(items[0]):
                out.append((f"item_{label}", [bad, *items[1:]], kind))
            if self.unique:
                out.append(("repeated", [items[0], *items], "value"))
        return out

    def refers_to(self) -> tuple[str, ...]:
        return self.each.refers_to()

    def describe(self) -> str:
        return f"a list of {self.each.describe()}"


@dataclass
class Tuple(Constraint):
    """A fixed-length list or tuple whose entries meet ``items`` in order (``names`` name them
    in messages: ``X_train``, ...); passed on as a tuple of the checked entries. A wrong length
    is a wrong type (it is not this kind of record). Used by the library only."""

    items: tuple[Constraint, ...] = ()
    names: tuple[str, ...] = ()
    optional: bool = False

    def _name(self, name: str, i: int) -> str:
        return self.names[i] if self.names else f"{name}[{i}]"

    def check(self, value: Any, name: str, args: dict[str, Any]) -> tuple[Any, ...]:
        what = f"a tuple ({', '.join(self.names)})" if self.names else \
            f"a tuple of {len(self.items)} entries"
        if isinstance(value, (str, bytes, dict, set)) or not isinstance(value, (list, tuple)) \
                or len(value) != len(self.items):
            raise InputTypeError(f"{name} must be {what}, got "
                                 f"{type(value).__name__}" + (f" of {len(value)} entries"
                                                              if isinstance(value, (list, tuple))
                                                              else ""))
        out = []
        for i, (c, v) in enumerate(zip(self.items, value, strict=True)):
            try:
                out.append(c.check(v, self._name(name, i), args))
            except ValueError as exc:  # InputTypeError included
                if not self.names:
                    raise
                raise _renamed(exc, name) from None
        return tuple(out)

    def bad_values(self, example: Any) -> list[BadValue]:
        items = list(example)
        out = [*super().bad_values(example), ("text", "abc", "type"),
               ("one_short", tuple(items[:-1]), "type")]
        for i, c in enumerate(self.items):
            for label, bad, kind in c.bad_values(items[i]):
                value = tuple(items[:i]) + (bad,) + tuple(items[i + 1:])
                out.append((f"{self._name('item', i)}_{label}", value, kind))
        return out

    def describe(self) -> str:
        return f"a tuple ({', '.join(self.names)})" if self.names else "a tuple"


@dataclass
class Dict(Constraint):
    """A dict with string keys (a config, a record, settings): the keys in ``required`` must be
    there, with ``closed`` only the keys of ``fields`` may be, it holds at least ``min_len``
    entries, and each key of ``fields`` that it holds has a value meeting that field's
    constraint (an error says ``name: key ...``). Passed on as a new dict, in the same order,
    with the checked values (the other values unchanged). Used by the library only."""

    fields: dict[str, Constraint] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    closed: bool = False
    min_len: int = 0
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InputTypeError(f"{name} must be a dict, got {type(value).__name__}")
        if self.closed:
            unknown = sorted(map(str, set(value) - set(self.fields)))
            if unknown:
                raise ValueError(f"{name} has unknown key(s) {unknown}; known keys: "
                                 f"{sorted(self.fields)}")
        missing = [k for k in self.required if k not in value]
        if missing:
            raise ValueError(f"{name} lacks the field(s) {missing}")
        if len(value) < self.min_len:
            raise ValueError(f"{name} is empty" if not value else
                             f"{name} must hold at least {self.min_len} entries")
        out = dict(value)
        for key, c in self.fields.items():
            if key not in value or (value[key] is None and c.optional):
                continue
            try:
                out[key] = c.check(value[key], key, args)
            except ValueError as exc:  # InputTypeError included
                raise _renamed(exc, name) from None
        return out

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("text", "abc", "type"),
               ("list", list(example.items()), "type")]
        if self.closed:
            out.append(("unknown_key", {**example, "no_such_key": 1}, "value"))
        if self.required:
            k = self.required[0]
            out.append((f"without_{k}", {kk: v for kk, v in example.items() if kk != k},
                        "value"))
        if self.min_len:
            out.append(("empty", {}, "value"))
        for key, c in self.fields.items():
            if key in example:
                for label, bad, kind in c.bad_values(example[key]):
                    if bad is None and c.optional:
                        continue
                    out.append((f"{key}={label}", {**example, key: bad}, kind))
        return out

    def describe(self) -> str:
        return "a dict"


@dataclass
class OneOf(Constraint):
    """A value that meets one of ``options`` (e.g. a penalty or a list of penalties:
    ``OneOf((Real(low=0), Items(Real(low=0), min_len=1)))``), passed on as the first option
    that accepts it passes it on. When none does, the error is the first one that found the
    right kind of value with a wrong value (a ``ValueError``), else a type error listing the
    options. Used by the library only."""

    options: tuple[Constraint, ...] = ()
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        errors = []
        for c in self.options:
            try:
                return c.check(value, name, args)
            except ValueError as exc:  # InputTypeError included
                errors.append(exc)
        for exc in errors:
            if not isinstance(exc, TypeError):
                raise exc
        raise InputTypeError(f"{name} must be {self.describe()}, got {type(value).__name__}")

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example)]
        for c in self.options:
            try:
                c.check(example, "example", {})
            except ValueError:
                continue
            for label, bad, _ in c.bad_values(example):
                if bad is None:
                    continue
                try:
                    self.check(bad, "x", {})
                except ValueError as exc:  # refused by every option: the kind of its error
                    out.append((label, bad, "type" if isinstance(exc, TypeError) else "value"))
            break
        return out

    def refers_to(self) -> tuple[str, ...]:
        return tuple(n for c in self.options for n in c.refers_to())

    def describe(self) -> str:
        return " or ".join(c.describe() for c in self.options)
