"""The mechanism of :mod:`maxent_lib.validation`: the :class:`Constraint` base class,
:func:`validate` and :data:`DECLARED`."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._checks import InputTypeError

#: A bad argument and the error it must raise: "type" (InputTypeError) or "value" (ValueError).
BadValue = tuple[str, Any, str]


def _renamed(exc: ValueError, name: str) -> ValueError:
    """``exc`` (an InputTypeError or a ValueError) with ``name: `` before its message."""
    out = type(exc)(f"{name}: {exc}")
    return out


class Constraint:
    """What one parameter must be. ``optional``: None is accepted (and passed on as None).


    Used by the library only."""

    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        """Return ``value`` in its standard form, or raise a plain error naming ``name``.
        ``args`` holds the arguments checked so far (for constraints that refer to another)."""
        raise NotImplementedError

    def bad_values(self, example: Any) -> list[BadValue]:
        """Values this constraint refuses, derived from a valid ``example``: (label, value,
        "type" or "value")."""
        return [] if self.optional else [("None", None, "type")]

    def refers_to(self) -> tuple[str, ...]:
        """The other arguments this constraint reads (they are checked first)."""
        return ()

    def describe(self) -> str:
        """The constraint in words, for error messages and documentation."""
        return type(self).__name__.lower()




@dataclass(frozen=True)
class Declared:
    """A declared function: its qualified name, the function and its parameters' constraints.
    Used by the library only."""

    name: str
    function: Callable[..., Any]
    constraints: dict[str, Constraint]


#: Every function declared with :func:`validate`, by qualified name (module.qualname; a class's
#: declaration is its ``__init__``: ``module.Class.__init__``).
DECLARED: dict[str, Declared] = {}

_IMPLICIT = ("self", "cls")


def _order(params: list[str], constraints: dict[str, Constraint]) -> list[str]:
    """The parameters in order, each after the parameters its constraint refers to."""
    out: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in out:
            return
        if name in path:
            raise TypeError(f"the constraints of {list(path)} refer to each other in a circle")
        for ref in constraints[name].refers_to():
            if ref not in constraints:
                raise TypeError(f"the constraint of {name!r} refers to {ref!r}, which is not a "
                                "declared parameter")
            visit(ref, (*path, name))
        out.append(name)

    for p in params:
        visit(p, ())
    return out


def validate(**constraints: Constraint) -> Callable[[Any], Any]:
    """Declare the constraints of a function's parameters (see the module docstring); applied
    to a class, declare its ``__init__``. Raises ``TypeError`` at decoration time when a
    parameter has no constraint or a constraint names no parameter. Used by the library only."""
    for name, c in constraints.items():
        if not isinstance(c, Constraint):
            raise TypeError(f"the constraint of {name!r} must be a Constraint, got {c!r}")

    def decorate(func: Any, owner: type | None = None) -> Any:
        if inspect.isclass(func):
            func.__init__ = decorate(func.__init__, func)
            return func
        sig = inspect.signature(func)
        params = [p.name for p in sig.parameters.values() if p.name not in _IMPLICIT
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        missing = [p for p in params if p not in constraints]
        extra = [n for n in constraints if n not in params]
        module = owner.__module__ if owner is not None else func.__module__
        qualname = f"{module}.{func.__qualname__}"
        if missing or extra:
            raise TypeError(f"{qualname}: declare a constraint for every parameter "
                            f"(missing {missing}, unknown {extra})")
        order = [(p, constraints[p]) for p in _order(params, constraints)]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise InputTypeError(f"{func.__qualname__}(): {exc}") from None
            bound.apply_defaults()
            arguments = bound.arguments
            checked: dict[str, Any] = {}
            for name, c in order:
                value = arguments[name]
                if value is None and c.optional:
                    checked[name] = None
                    continue
                checked[name] = arguments[name] = c.check(value, name, checked)
            return func(*bound.args, **bound.kwargs)

        wrapper.__signature__ = sig  # type: ignore[attr-defined]
        wrapper.constraints = dict(constraints)  # type: ignore[attr-defined]
        DECLARED[qualname] = Declared(qualname, wrapper, dict(constraints))
        return wrapper

    return decorate


def is_path_like(value: Any) -> bool:
    """True for a ``str`` or ``os.PathLike`` (used by constraints that accept a path or data).
    Used by the library only."""
    return isinstance(value, (str, os.PathLike))
