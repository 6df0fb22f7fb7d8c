"""Constraints of arrays and tensors (see :mod:`maxent_lib.validation`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _checks
from .._checks import InputTypeError
from .core import BadValue, Constraint


def _poke(arr: np.ndarray, value: Any, dtype: Any = float) -> np.ndarray:
    out = np.array(arr, dtype=dtype, copy=True)
    out.flat[0] = value
    return out


@dataclass
class Array(Constraint):
    """An array of real numbers (list, NumPy array, torch tensor, or any other iterable of
    numbers) with ``ndim`` dimensions (an int or a tuple of allowed ones) or at least
    ``min_ndim``, at least ``min_len`` entries along its first axis, no NaN or inf, not empty
    unless ``allow_empty``, booleans only with ``allow_bool``, entries at most ``max_abs`` in
    magnitude and at least ``low`` (``low_open``: above it); passed on as a float64 NumPy
    array. Used by the library only."""

    ndim: int | tuple[int, ...] | None = None
    min_ndim: int = 0
    min_len: int = 0
    allow_empty: bool = False
    allow_bool: bool = False
    max_abs: float | None = None
    low: float | None = None
    low_open: bool = False
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> np.ndarray:
        if isinstance(value, Iterator):
            value = list(value)  # a generator of numbers
        arr = _checks.as_finite_array(value, name, self.ndim, allow_empty=self.allow_empty,
                                      allow_bool=self.allow_bool, max_abs=self.max_abs)
        if arr.ndim < self.min_ndim:
            got = "a scalar" if arr.ndim == 0 else f"shape {arr.shape}"
            raise ValueError(f"{name} must have at least {self.min_ndim} dimension(s), got "
                             f"{got}")
        if self.min_len and (arr.ndim == 0 or len(arr) < self.min_len):
            raise ValueError(f"{name} must hold at least {self.min_len} entries, got shape "
                             f"{arr.shape}")
        if self.low is not None and arr.size:
            least = float(arr.min())
            if least < self.low or (self.low_open and least == self.low):
                raise ValueError(f"{name} must hold numbers {'>' if self.low_open else '>='} "
                                 f"{self.low:g}, got {least:g}")
        return arr

    def bad_values(self, example: Any) -> list[BadValue]:
        out = [*super().bad_values(example), ("text", "abc", "type")]
        arr = np.asarray(example, dtype=float)
        if arr.size:
            out += [("nan", _poke(arr, math.nan), "value"), ("inf", _poke(arr, math.inf), "value"),
                    ("-inf", _poke(arr, -math.inf), "value"),
                    ("complex", arr.astype(complex) + 1j, "type"),
                    ("numeric_strings", arr.astype(str), "type"),
                    ("object_with_None",
                     np.array([None] * arr.size, dtype=object).reshape(arr.shape), "type")]
            if not self.allow_bool:
                out.append(("bool", arr > arr.mean(), "type"))
            if self.max_abs is not None:
                out.append(("huge", np.full_like(arr, 10 * self.max_abs), "value"))
            if self.low is not None:
                below = self.low if self.low_open else self.low - max(1.0, abs(self.low))
                out.append(("below", _poke(arr, below), "value"))
        if arr.ndim >= 1 and len(arr) >= 2:
            ragged = [list(np.ravel(row)) for row in arr]
            ragged[0] = ragged[0] + [1.0]
            out.append(("ragged", ragged, "value"))
        if self.ndim is not None:
            allowed = (self.ndim,) if isinstance(self.ndim, int) else self.ndim
            wrong = max(allowed) + 1
            out.append((f"ndim_{wrong}", arr.reshape((1,) * (wrong - arr.ndim) + arr.shape),
                        "value"))
        if self.min_ndim > 0:
            out.append(("scalar", 1.0, "value"))
        if self.min_len > 1 and arr.ndim >= 1:
            out.append(("too_short", arr[: self.min_len - 1], "value"))
        if not self.allow_empty:
            out.append(("empty", np.zeros((0,) + arr.shape[1:]), "value"))
        return out

    def describe(self) -> str:
        return "an array of numbers"


@dataclass
class Labels(Constraint):
    """Class labels: an array (1-D, or ``ndim``-D) of integers in 0..K-1, with K the argument
    named by ``n_classes`` when it is given (else the largest label + 1, at most
    :data:`~maxent_lib._checks.MAX_CLASSES`); passed on as an int64 array of the same shape.
    Used by the library only."""

    n_classes: str | None = None
    ndim: int = 1
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> np.ndarray:
        k = args.get(self.n_classes) if self.n_classes else None
        if self.ndim == 1:
            return _checks.check_labels(value, k, name)
        if value is None or isinstance(value, (str, bytes)):
            raise InputTypeError(f"{name} must be an array of integer class labels, got "
                                 f"{type(value).__name__}")
        if _checks._is_torch_tensor(value):
            value = value.detach().cpu().numpy()
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be a rectangular array of class labels: {exc}"
                             ) from exc
        if arr.ndim != self.ndim:
            raise ValueError(f"{name} must have {self.ndim} dimensions, got shape {arr.shape}")
        return _checks.check_labels(arr.reshape(-1), k, name).reshape(arr.shape)

    def bad_values(self, example: Any) -> list[BadValue]:
        y = np.asarray(example)
        out = [*super().bad_values(example), ("text", "abc", "type"),
               ("strings", y.astype(str), "type"), ("complex", y + 1j, "type"),
               ("bool", y > 0, "type"),
               ("nan", _poke(y, math.nan), "value"), ("inf", _poke(y, math.inf), "value"),
               ("negative", _poke(y, -1, np.int64), "value"),
               ("fraction", y + 0.5, "value"), (f"ndim_{self.ndim + 1}", y[..., None], "value"),
               ("million_classes", _poke(y, 10**6, np.int64), "value"),
               ("empty", np.zeros((0,) * self.ndim, dtype=np.int64), "value")]
        return out

    def refers_to(self) -> tuple[str, ...]:
        return (self.n_classes,) if self.n_classes else ()

    def describe(self) -> str:
        return "an array of class labels"


@dataclass
class Probabilities(Constraint):
    """Distributions over the last axis: no negative entry, each row summing to one within
    ``atol``, with ``ndim`` dimensions when it is given; passed on as a float64 array (tiny
    negative rounding errors set to 0). Used by the library only."""

    ndim: int | None = None
    atol: float = 1e-6
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> np.ndarray:
        p = _checks.check_probabilities(value, name, self.atol)
        if self.ndim is not None and p.ndim != self.ndim:
            raise ValueError(f"{name} must have {self.ndim} dimension(s), got shape {p.shape}")
        return p

    def bad_values(self, example: Any) -> list[BadValue]:
        p = np.asarray(example, dtype=float)
        out = [*super().bad_values(example), ("text", "abc", "type"),
               ("numeric_strings", p.astype(str), "type"), ("complex", p + 1j, "type"),
               ("nan", _poke(p, math.nan), "value"), ("inf", _poke(p, math.inf), "value"),
               ("not_summing_to_one", 1.5 * p, "value"), ("negative", _poke(p, -0.5), "value"),
               ("empty", np.zeros((0,) + p.shape[1:]), "value")]
        if self.ndim is not None:
            out.append((f"ndim_{self.ndim + 1}", p[None], "value"))
        return out

    def describe(self) -> str:
        return "probability vectors"



@dataclass
class Tensor(Constraint):
    """A torch tensor with ``ndim`` dimensions, floating (or integer with ``floating=False``),
    not empty, without NaN or inf (``-inf`` allowed with ``allow_neg_inf``); passed on
    detached. Used by the library only."""

    ndim: int | None = None
    floating: bool = True
    allow_neg_inf: bool = False
    optional: bool = False

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        return _checks.check_tensor(value, name, ndim=self.ndim, floating=self.floating,
                                    allow_neg_inf=self.allow_neg_inf)

    def bad_values(self, example: Any) -> list[BadValue]:
        import torch

        out = [*super().bad_values(example), ("numpy", example.detach().cpu().numpy(), "type"),
               ("list", example.tolist(), "type"), ("bool_tensor", example > 0, "type")]
        if self.floating:
            bad = example.detach().clone()
            bad.view(-1)[0] = math.nan
            out += [("nan", bad, "value"), ("int_dtype", example.long(), "type"),
                    ("complex_dtype", example.to(torch.complex64), "type")]
        else:
            out.append(("float_dtype", example.double(), "type"))
        if self.ndim is not None:
            out.append((f"ndim_{self.ndim + 1}", example.unsqueeze(0), "value"))
        out.append(("empty", torch.zeros((0,) * max(self.ndim or 1, 1),
                                         dtype=example.dtype), "value"))
        return out

    def describe(self) -> str:
        return "a torch tensor"


@dataclass
class LogProbabilities(Tensor):
    """A floating tensor of log-probabilities over its last axis (logsumexp = 0, see
    :func:`~maxent_lib._checks.check_log_probabilities`); passed on detached.
    Used by the library only."""

    allow_neg_inf: bool = True

    def check(self, value: Any, name: str, args: dict[str, Any]) -> Any:
        return _checks.check_log_probabilities(value, name, ndim=self.ndim)

    def bad_values(self, example: Any) -> list[BadValue]:
        return [*super().bad_values(example), ("probabilities", example.exp(), "value"),
                ("logits", example + 1.0, "value")]
