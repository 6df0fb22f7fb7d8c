"""Entropy, cross-entropy, KL divergence and mutual information of discrete distributions.

All quantities are in nats (natural logarithm) and are taken over the **last axis**; any leading
axes are kept, so a batch of distributions of shape (n, K) gives n values. The convention
0 log 0 = 0 is used throughout. Introduced in lesson 01.
"""

from __future__ import annotations

import numpy as np

from ._checks import check_probabilities
from .validation import Array, Probabilities, validate

__all__ = ["cross_entropy", "entropy", "kl_divergence", "mutual_information"]


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x log y with 0 log y = 0 (even for y = 0) and x log 0 = -inf for x > 0."""
    out = np.zeros(np.broadcast_shapes(x.shape, y.shape))
    x_b, y_b = np.broadcast_to(x, out.shape), np.broadcast_to(y, out.shape)
    pos = x_b > 0
    with np.errstate(divide="ignore"):
        out[pos] = x_b[pos] * np.log(y_b[pos])
    return out


def _pair(p_arr: np.ndarray, q_arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The relations of two checked distributions: as many outcomes, broadcastable shapes."""
    if p_arr.shape[-1] != q_arr.shape[-1]:
        raise ValueError(f"p and q must have the same number of outcomes (last axis), got "
                         f"{p_arr.shape[-1]} and {q_arr.shape[-1]}")
    try:
        np.broadcast_shapes(p_arr.shape, q_arr.shape)
    except ValueError as exc:
        raise ValueError(f"p and q have shapes {p_arr.shape} and {q_arr.shape}, which do not "
                         f"broadcast") from exc
    return p_arr, q_arr


def _scalar_or_array(x: np.ndarray) -> np.ndarray | float:
    return float(x) if x.ndim == 0 else x


@validate(p=Probabilities())
def entropy(p: object) -> np.ndarray | float:
    """Shannon entropy H(p) = -sum_k p_k log p_k (nats), over the last axis.

    0 log 0 = 0, so 0 <= H(p) <= log K, with equality on the right exactly for the uniform
    distribution. Returns a float for one distribution, else an array of the leading shape.
    Introduced in lesson 01. Raises ``ValueError`` unless ``p`` holds probability vectors.
    """
    p_arr = p
    h = -_xlogy(p_arr, p_arr).sum(axis=-1)
    return _scalar_or_array(np.maximum(h, 0.0))


@validate(p=Probabilities(), q=Probabilities())
def cross_entropy(p: object, q: object) -> np.ndarray | float:
    """Cross-entropy H(p, q) = -sum_k p_k log q_k (nats), over the last axis.

    H(p, q) = H(p) + KL(p || q) >= H(p). It is ``inf`` where some q_k = 0 < p_k (q gives zero
    probability to an outcome p can produce). Introduced in lesson 01.
    """
    p_arr, q_arr = _pair(p, q)
    return _scalar_or_array(-_xlogy(p_arr, q_arr).sum(axis=-1))


@validate(p=Probabilities(), q=Probabilities())
def kl_divergence(p: object, q: object) -> np.ndarray | float:
    """Kullback-Leibler divergence KL(p || q) = sum_k p_k log(p_k / q_k) (nats), last axis.

    KL >= 0 with equality iff p = q (Gibbs' inequality). It is ``inf`` where some q_k = 0 < p_k.
    Introduced in lesson 01.
    """
    p_arr, q_arr = _pair(p, q)
    kl = (_xlogy(p_arr, p_arr) - _xlogy(p_arr, q_arr)).sum(axis=-1)
    kl = np.where(np.isfinite(kl), np.maximum(kl, 0.0), kl)
    return _scalar_or_array(kl)


class _JointTable(Array):
    """A joint table P(x, y): a 2-D array of non-negative entries summing to one (over all
    entries, not per row); passed on as a float64 array."""

    def check(self, value: object, name: str, args: dict[str, object]) -> np.ndarray:
        arr = super().check(value, name, args)
        return check_probabilities(arr.reshape(-1), name).reshape(arr.shape)

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        arr = np.asarray(example, dtype=float)
        rows = arr / arr.sum(axis=1, keepdims=True)
        neg = arr.copy()
        neg.flat[0] = -0.5
        return [*super().bad_values(example), ("not_summing_to_one", 2 * arr, "value"),
                ("negative", neg, "value"), ("rows_normalised_not_joint", rows, "value")]


@validate(joint=_JointTable(ndim=2))
def mutual_information(joint: object) -> float:
    """Mutual information I(X; Y) = KL(P(x, y) || P(x) P(y)) of a joint table ``joint[x, y]``.

    ``joint`` is a 2-D array of non-negative entries summing to one. I = H(X) + H(Y) - H(X, Y),
    0 <= I <= min(H(X), H(Y)). Introduced in lesson 01 (used in lesson 03 for FC1).
    """
    arr = joint
    flat = arr.reshape(-1)
    px, py = arr.sum(axis=1), arr.sum(axis=0)
    h_xy = float(-_xlogy(flat, flat).sum())
    h_x = float(-_xlogy(px, px).sum())
    h_y = float(-_xlogy(py, py).sum())
    return max(h_x + h_y - h_xy, 0.0)
