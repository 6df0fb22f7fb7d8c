"""Input validation shared by the library: every public function turns bad input into a
``ValueError`` with a plain message through these helpers."""

from __future__ import annotations

import numpy as np


def as_finite_array(x: object, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``x`` as a float64 array; raise ``ValueError`` if it has the wrong number of
    dimensions, is empty, or holds NaN or inf."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(x).__name__}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_probabilities(p: object, name: str, atol: float = 1e-6) -> np.ndarray:
    """Return ``p`` as an array of distributions over its last axis; raise ``ValueError`` if an
    entry is negative or a row does not sum to one (within ``atol``)."""
    arr = as_finite_array(p, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least one axis (the outcomes), got a scalar")
    if np.any(arr < -atol):
        raise ValueError(f"{name} has negative probabilities (min {arr.min():.3g})")
    sums = arr.sum(axis=-1)
    worst = float(np.max(np.abs(sums - 1.0)))
    if worst > atol:
        raise ValueError(
            f"{name} does not sum to one over its last axis (off by up to {worst:.3g})"
        )
    return np.clip(arr, 0.0, None)


def check_labels(y: object, n_classes: int | None, name: str = "y") -> np.ndarray:
    """Return ``y`` as a 1-D int64 array of labels in ``0..n_classes-1``; raise ``ValueError`` on
    a wrong shape, non-integer values, or labels out of range."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class labels, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(f"{name} has a negative label ({arr.min()}); labels run from 0 to K-1")
    if n_classes is not None and arr.max() >= n_classes:
        raise ValueError(
            f"{name} has label {arr.max()}, out of range for {n_classes} classes "
            f"(0..{n_classes - 1})"
        )
    return arr


def check_same_length(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same number of rows."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} rows but {name_b} has {len(b)}; they must match")
