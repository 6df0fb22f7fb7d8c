"""Shared inputs and losses of the feature-condition measurements (lesson 03): feature and
label checks, standardisation, per-point cross-entropies, and the default penalty of the linear
read-out. Private to :mod:`maxent_lib.conditions`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .._checks import as_finite_array, check_labels, check_probabilities, check_same_length
from ..validation import Array, Constraint, Labels, Real, validate

#: L2 penalty of the linear read-out, on standardised features: mean CE + (alpha/2)||W||^2.
#: Small enough that it changes a finite optimum's test CE by well under 0.01 nats at n in the
#: thousands, large enough that separable features (common in trained nets) get a finite answer.
DEFAULT_ALPHA = 1e-4


#: Features beyond this magnitude are refused: their squares (in the standard deviation) would
#: overflow float64. Standardise or rescale them first.
MAX_FEATURE = 1e150


#: Standardised features beyond this many standard deviations cannot be represented in the
#: float32 arithmetic of the flexible probes.
MAX_STANDARDISED = 1e30


#: Features (n, d): finite, at most :data:`MAX_FEATURE` in magnitude; passed on as float64.
FEATURES = Array(ndim=2, max_abs=MAX_FEATURE)
#: Features, or None.
FEATURES_OR_NONE = Array(ndim=2, max_abs=MAX_FEATURE, optional=True)
#: A fraction strictly between 0 and 1.
FRACTION = Real(low=0.0, high=1.0, low_open=True, high_open=True)


def _features(T: object, name: str) -> np.ndarray:
    """Features (n, d) as float64, finite, at most :data:`MAX_FEATURE` in magnitude."""
    return as_finite_array(T, name, ndim=2, max_abs=MAX_FEATURE)


def _check_columns(T: np.ndarray, d: int, name: str, fitted: str = "the fitted features"
                   ) -> None:
    if T.shape[1] != d:
        raise ValueError(f"{name} has {T.shape[1]} columns but {fitted} had {d}; they must "
                         "match")


def _float32_inputs(Z: np.ndarray, name: str) -> np.ndarray:
    """Standardised inputs of a float32 probe: refused beyond :data:`MAX_STANDARDISED` (they
    would turn into inf, and the probe's outputs into NaN)."""
    if Z.size and float(np.max(np.abs(Z))) > MAX_STANDARDISED:
        raise ValueError(f"{name} lies up to {float(np.max(np.abs(Z))):.3g} standard deviations "
                         "from the features the probe was fitted on: beyond the float32 range "
                         "of the probe")
    return Z


def _log_prob_rows(log_probs: object, name: str = "log_probs") -> np.ndarray:
    """A (n, K) array of log-probabilities: finite, every row's logsumexp 0 (within 1e-3 for
    float32/16 input, 1e-6 otherwise); refuses probabilities or logits passed by mistake."""
    dtype = getattr(log_probs, "dtype", None)
    lp = as_finite_array(log_probs, name, ndim=2)
    low_precision = str(dtype) in ("float32", "float16", "torch.float32", "torch.float16",
                                   "torch.bfloat16")
    lse = logsumexp(lp, axis=1)
    worst = float(np.max(np.abs(lse)))
    if worst > (1e-3 if low_precision else 1e-6):
        raise ValueError(f"{name} must be log-probabilities (every row's logsumexp = 0), but a "
                         f"row's exp sums to {float(np.exp(lse[np.argmax(np.abs(lse))])):.4g}; "
                         f"pass log-probabilities (e.g. np.log(probs)), not probabilities or "
                         "logits")
    return lp


class _LogProbRows(Constraint):
    """Log-probabilities (n, K), every row's logsumexp 0 (:func:`_log_prob_rows`: the
    tolerance depends on the precision they come in); passed on as float64."""

    def check(self, value: object, name: str, args: dict[str, object]) -> np.ndarray:
        return _log_prob_rows(value, name)

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        lp = np.asarray(example, dtype=float)
        return [*Array(ndim=2).bad_values(example), ("probabilities", np.exp(lp), "value"),
                ("logits", lp + 1.0, "value")]


def _standardiser(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and sds; a constant column (e.g. a dead ReLU unit) gets sd 1 and so stays
    constant (zero). Constant means: sd below 1e-8 in the units of the data when they are small
    (1e-8 times the largest |T| if that is below 1, so features measured in tiny units are not
    mistaken for constants), or below 1e-13 of the column's own magnitude (rounding noise of a
    constant column at a huge scale)."""
    mu = T.mean(axis=0)
    sd = T.std(axis=0)
    scale = float(np.max(np.abs(T))) if T.size else 0.0
    col = np.max(np.abs(T), axis=0) if T.size else np.zeros(T.shape[1])
    sd[(sd < 1e-8 * min(1.0, scale)) | (sd <= 1e-13 * col)] = 1.0
    return mu, sd


@validate(log_probs=_LogProbRows(), y=Labels())
def point_losses(log_probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-point cross-entropy -log q(y_i | x_i) from log-probabilities (n, K), in nats.
    Raises ``ValueError`` if a row of ``log_probs`` is not a log-distribution (probabilities or
    logits passed by mistake), on NaN/inf, labels out of 0..K-1 or mismatched lengths.
    Introduced in lesson 03."""
    lp = log_probs
    y_arr = check_labels(y, lp.shape[1])
    check_same_length("log_probs", lp, "y", y_arr)
    return -lp[np.arange(len(y_arr)), y_arr]


def _check_split(Ttr: np.ndarray, ytr: np.ndarray, Tte: np.ndarray, yte: np.ndarray,
                 n_classes: int | None, names: tuple[str, str] = ("T_train", "T_test"),
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The relations between the (checked) arrays of a train/test split: as many columns in
    both, one label per row, at least two classes; and K."""
    if Ttr.shape[1] != Tte.shape[1]:
        raise ValueError(f"{names[0]} has {Ttr.shape[1]} columns but {names[1]} has "
                         f"{Tte.shape[1]}; they must match")
    check_same_length(names[0], Ttr, "y_train", ytr)
    check_same_length(names[1], Tte, "y_test", yte)
    K = int(n_classes) if n_classes is not None else int(max(ytr.max(), yte.max())) + 1
    if len(np.unique(ytr)) < 2:
        raise ValueError("y_train holds a single class; the conditions need at least two")
    return Ttr, ytr, Tte, yte, K


def _label_surprisal(y: np.ndarray, K: int, priors: object = None) -> np.ndarray:
    """Per-point -log p(y_i): p = ``priors`` if given, else the label frequencies of ``y``
    itself, so that the mean is H(Y) (known, or the plug-in estimate on these points)."""
    if priors is None:
        p = np.bincount(y, minlength=K) / len(y)
    else:
        p = check_probabilities(as_finite_array(priors, "priors", ndim=1), "priors")
        if len(p) != K:
            raise ValueError(f"priors must have one entry per class ({K}), got {len(p)}")
        if np.any(p[y] <= 0):
            raise ValueError("priors give probability 0 to a class that occurs in y")
    return -np.log(p[y])
