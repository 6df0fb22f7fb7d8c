"""The two feature conditions, measured (lesson 03; used per layer in lessons 04-06).

Softmax regression on features T recovers the true P(Y|X) exactly when

- **FC1, sufficiency:** Y is independent of X given T(X), i.e. P(y|x) = P(y|T(x)), and
- **FC2, log-linearity:** the class log-odds are affine in T, P(y|T) = softmax(W T + b).

Quantitatively (lesson 03, (4)): with q* the population-optimal softmax regression on T,

    CE_lin* - H(Y|X) = E_x KL(P(Y|x) || P(Y|T(x)))  +  E_T KL(P(Y|T) || q*(Y|T))
                     =        FC1 gap                +         FC2 gap,

each term >= 0 and zero exactly when its condition holds.

**Measured** on data, with mean held-out cross-entropies in nats,

    CE_lin(T)   softmax regression on T (lightly L2-penalised, see below)
    CE_flex(T)  a flexible read-out on T
    CE_flex(X)  the same read-out on the raw input X

    FC2 gap = CE_lin(T) - CE_flex(T),   FC1 gap = CE_flex(T) - CE_flex(X).

:func:`repeated_split_gaps` / :func:`layerwise_repeated_split_gaps` (lessons 03-04) refit every
probe on repeated random splits and give intervals that include the refits (the corrected
repeated-split t interval; coverage checked by simulation in :mod:`maxent_lib.coverage`).
:func:`feature_condition_gaps` / :func:`layerwise_condition_gaps` measure on one given split with
a bootstrap over its test points, which holds the fitted probes fixed and so covers the population
gaps too rarely (lesson 03 measures how rarely). The probes' excess cross-entropy over the Bayes
one is a bias no interval removes. H(Y) - CE_flex(T), with H(Y) on the same test points or from
known priors, is an estimate whose expectation is at most I(T; Y) (Barber & Agakov 2003).

**Exact**, where P(Y|X) is known (the synthetic tasks of :mod:`maxent_lib.data`):
:func:`exact_condition_gaps` integrates the labels out with the exact posterior and computes the
expectations over x by quadrature (:mod:`maxent_lib.quadrature`), with an error estimate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from scipy.special import logsumexp
from threadpoolctl import threadpool_limits

from . import quadrature
from ._checks import (
    InputTypeError,
    as_finite_array,
    check_flag,
    check_int,
    check_labels,
    check_n_classes,
    check_number,
    check_probabilities,
    check_same_length,
    check_seed,
)
from .data import GaussianMixtureTask, SyntheticTask
from .runtime import progress_bar
from .softmax import SoftmaxRegression, log_softmax

__all__ = [
    "DEFAULT_ALPHA",
    "FlexibleProbe",
    "exact_condition_gaps",
    "feasible_alternative",
    "feature_condition_gaps",
    "layerwise_condition_gaps",
    "layerwise_repeated_split_gaps",
    "linear_probe",
    "log_odds_affine_residual",
    "paired_bootstrap_ci",
    "point_losses",
    "repeated_split_gaps",
    "soft_label_softmax",
    "split_t_interval",
]

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


# ---------------------------------------------------------------- helpers

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


def _check_fraction(value: object, name: str) -> float:
    return check_number(value, name, low=0.0, high=1.0, low_open=True, high_open=True)


def _check_n_classes(n_classes: object) -> int | None:
    return None if n_classes is None else check_n_classes(n_classes)


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


def point_losses(log_probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-point cross-entropy -log q(y_i | x_i) from log-probabilities (n, K), in nats.
    Raises ``ValueError`` if a row of ``log_probs`` is not a log-distribution (probabilities or
    logits passed by mistake), on NaN/inf, labels out of 0..K-1 or mismatched lengths.
    Introduced in lesson 03."""
    lp = _log_prob_rows(log_probs)
    y_arr = check_labels(y, lp.shape[1])
    check_same_length("log_probs", lp, "y", y_arr)
    return -lp[np.arange(len(y_arr)), y_arr]


def paired_bootstrap_ci(losses_a: np.ndarray, losses_b: np.ndarray, *, n_bootstrap: int = 1000,
                        confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(losses_a - losses_b), resampling test points (the
    same resample for both, so the interval is for the paired difference). Introduced in
    lesson 03."""
    a = as_finite_array(losses_a, "losses_a", ndim=1, max_abs=MAX_FEATURE)
    b = as_finite_array(losses_b, "losses_b", ndim=1, max_abs=MAX_FEATURE)
    check_same_length("losses_a", a, "losses_b", b)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=1, high=10**7)
    confidence = _check_fraction(confidence, "confidence")
    seed = check_seed(seed)
    diff = a - b
    rng = np.random.default_rng(seed)
    means = np.empty(int(n_bootstrap))
    for start in range(0, int(n_bootstrap), 200):  # chunks keep memory small for large n
        stop = min(start + 200, int(n_bootstrap))
        idx = rng.integers(0, len(diff), size=(stop - start, len(diff)))
        means[start:stop] = diff[idx].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


# ---------------------------------------------------------------- the two read-outs

def linear_probe(T_train: np.ndarray, y_train: np.ndarray, n_classes: int,
                 alpha: float = DEFAULT_ALPHA) -> Callable[[np.ndarray], np.ndarray]:
    """Fit softmax regression (:class:`maxent_lib.softmax.SoftmaxRegression`, mean CE +
    (alpha/2)||W||^2) on standardised ``T_train`` and return a function T -> log P(y | T), shape
    (n, K). Standardising (training mean and sd) changes no unpenalised solution, only makes
    ``alpha`` scale-free. The returned function checks its input: ``T_new`` must have the
    columns of ``T_train`` (``ValueError`` otherwise, never a broadcast). Introduced in
    lesson 03."""
    T = _features(T_train, "T_train")
    n_classes = check_n_classes(n_classes)
    mu, sd = _standardiser(T)
    model = SoftmaxRegression(alpha=alpha).fit((T - mu) / sd, y_train, n_classes=n_classes)

    def log_proba(T_new: np.ndarray) -> np.ndarray:
        T_arr = _features(T_new, "T_new")
        _check_columns(T_arr, T.shape[1], "T_new", "T_train")
        return log_softmax(model.decision_function((T_arr - mu) / sd))

    return log_proba


class FlexibleProbe:
    """The flexible read-out q(y | t) used to measure the feature conditions: logits =
    A z + b + MLP(z) on standardised features z, where the MLP has two SiLU hidden layers of
    ``width`` units. The affine part means the probe contains softmax regression, and the MLP adds
    any smooth non-linear log-odds.

    Training (deterministic for a given ``seed``): AdamW (``lr``, ``weight_decay``) on minibatches
    of about a tenth of the fitting set (64-256 points), on ``1 - val_fraction`` of the training
    split; after every epoch the mean CE on the held-out ``val_fraction`` is computed, and
    training stops after ``patience`` epochs without improvement. The weights of the best epoch are
    kept (no refit). It runs on the CPU with one thread: for nets this small that is the fastest
    choice, about 1 ms a step (1-2 s for n = 2000-4000, d <= 64).

    On the 2-D tasks of :mod:`maxent_lib.data` with 2000 training points its test CE is within
    about 0.01 nats of the Bayes CE (measured in lesson 03 and tests/test_conditions.py).
    Introduced in lesson 03.
    """

    def __init__(self, width: int = 64, weight_decay: float = 1e-4, lr: float = 3e-3,
                 max_epochs: int = 300, patience: int = 20, val_fraction: float = 0.2,
                 seed: int = 0) -> None:
        width = check_int(width, "width", low=1, high=65_536)
        val_fraction = _check_fraction(val_fraction, "val_fraction")
        weight_decay = check_number(weight_decay, "weight_decay", low=0.0)
        lr = check_number(lr, "lr", low=0.0, low_open=True)
        max_epochs = check_int(max_epochs, "max_epochs", low=1, high=10**6)
        patience = check_int(patience, "patience", low=1)
        seed = check_seed(seed)
        self.width, self.weight_decay, self.lr = int(width), float(weight_decay), float(lr)
        self.max_epochs, self.patience = int(max_epochs), int(patience)
        self.val_fraction, self.seed = float(val_fraction), int(seed)

    def _net(self, d: int, K: int) -> torch.nn.ModuleDict:
        w = self.width
        mlp = torch.nn.Sequential(torch.nn.Linear(d, w), torch.nn.SiLU(), torch.nn.Linear(w, w),
                                  torch.nn.SiLU(), torch.nn.Linear(w, K))
        return torch.nn.ModuleDict({"affine": torch.nn.Linear(d, K), "mlp": mlp})

    def _logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net_["affine"](z) + self.net_["mlp"](z)

    def fit(self, T: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> FlexibleProbe:
        """Fit on features ``T`` (n, d) and labels ``y``; returns ``self``. Sets
        ``best_epoch_``, ``n_epochs_`` and ``val_loss_`` (held-out CE of the kept weights)."""
        T_arr = _features(T, "T")
        n_classes = _check_n_classes(n_classes)
        y_arr = check_labels(y, n_classes)
        check_same_length("T", T_arr, "y", y_arr)
        K = int(n_classes) if n_classes is not None else int(y_arr.max()) + 1
        n = len(y_arr)
        n_val = int(round(self.val_fraction * n))
        if n_val < 2 or n - n_val < 2:
            raise ValueError(f"{n} training points are too few for a held-out part; need >= 10")
        self.mu_, self.sd_ = _standardiser(T_arr)
        Z = _float32_inputs((T_arr - self.mu_) / self.sd_, "T")
        rng = np.random.default_rng(self.seed)
        perm = rng.permutation(n)
        val, fit = perm[:n_val], perm[n_val:]
        batch = int(np.clip(len(fit) // 10, 64, 256))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.net_ = self._net(T_arr.shape[1], K)
                gen = torch.Generator().manual_seed(self.seed)
                self._train(Z, y_arr, fit, val, batch, gen)
        finally:
            torch.set_num_threads(threads)
        self.n_classes_, self.n_features_in_ = K, T_arr.shape[1]
        return self

    def _train(self, Z: np.ndarray, y: np.ndarray, fit: np.ndarray, val: np.ndarray,
               batch: int, gen: torch.Generator) -> None:
        Xf = torch.tensor(Z[fit], dtype=torch.float32)
        yf = torch.tensor(y[fit])
        Xv = torch.tensor(Z[val], dtype=torch.float32)
        yv = torch.tensor(y[val])
        params = list(self.net_.parameters())
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        ce = torch.nn.functional.cross_entropy
        best, best_state, best_epoch, bad, epoch = np.inf, None, 0, 0, 0
        for epoch in range(1, self.max_epochs + 1):
            order = torch.randperm(len(fit), generator=gen)
            for i in range(0, len(fit), batch):
                b = order[i:i + batch]
                loss = ce(self._logits(Xf[b]), yf[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                v = float(ce(self._logits(Xv), yv))
            if v < best - 1e-5:
                best, best_epoch, bad = v, epoch, 0
                best_state = [p.detach().clone() for p in params]
            else:
                bad += 1
                if bad >= self.patience:
                    break
        with torch.no_grad():
            for p, s in zip(params, best_state or [], strict=False):
                p.copy_(s)
        self.best_epoch_, self.n_epochs_, self.val_loss_ = best_epoch, epoch, best

    def predict_log_proba(self, T: np.ndarray) -> np.ndarray:
        """log q(y | t), shape (n, K), float64."""
        if not hasattr(self, "net_"):
            raise ValueError("this FlexibleProbe is not fitted yet; call fit(T, y) first")
        T_arr = _features(T, "T")
        if T_arr.shape[1] != self.n_features_in_:
            raise ValueError(f"T must have {self.n_features_in_} columns (as in fit), "
                             f"got {T_arr.shape[1]}")
        z = torch.tensor(_float32_inputs((T_arr - self.mu_) / self.sd_, "T"),
                         dtype=torch.float32)
        with torch.no_grad():
            logits = self._logits(z).double()
        return torch.log_softmax(logits, dim=1).numpy()

    def predict_proba(self, T: np.ndarray) -> np.ndarray:
        """q(y | t), shape (n, K)."""
        return np.exp(self.predict_log_proba(T))


# ---------------------------------------------------------------- the gaps

def _check_split(T_train: object, y_train: object, T_test: object, y_test: object,
                 n_classes: int | None, names: tuple[str, str] = ("T_train", "T_test"),
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    Ttr = _features(T_train, names[0])
    Tte = _features(T_test, names[1])
    if Ttr.shape[1] != Tte.shape[1]:
        raise ValueError(f"{names[0]} has {Ttr.shape[1]} columns but {names[1]} has "
                         f"{Tte.shape[1]}; they must match")
    n_classes = _check_n_classes(n_classes)
    ytr = check_labels(y_train, n_classes, "y_train")
    yte = check_labels(y_test, n_classes, "y_test")
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


def feature_condition_gaps(
    T_train: np.ndarray, y_train: np.ndarray, T_test: np.ndarray, y_test: np.ndarray,
    X_train: np.ndarray | None = None, X_test: np.ndarray | None = None, *,
    alpha: float = DEFAULT_ALPHA, n_bootstrap: int = 1000, seed: int = 0,
    n_classes: int | None = None, confidence: float = 0.95,
    input_losses: np.ndarray | None = None, priors: np.ndarray | None = None,
) -> dict[str, Any]:
    """Measure FC1 and FC2 for features T on a train/test split (all cross-entropies in nats,
    means over the test points).

    Returns a dict with

    - ``ce_linear`` = CE_lin(T) (softmax regression, penalty ``alpha`` on standardised T),
      ``ce_flexible`` = CE_flex(T) (:class:`FlexibleProbe` with ``seed``),
      ``ce_flexible_input`` = CE_flex(X) (None without X);
    - ``fc2_gap`` = CE_lin(T) - CE_flex(T), ``fc1_gap`` = CE_flex(T) - CE_flex(X) (None without
      X), ``total_gap`` = CE_lin(T) - CE_flex(X), each with a ``*_ci`` = (lo, hi): a paired
      percentile bootstrap interval (``n_bootstrap`` resamples of the test points, level
      ``confidence``);
    - ``entropy_y`` = H(Y), from ``priors`` when given, else the plug-in entropy of the *test*
      labels (the same points as the cross-entropies), and ``mi_lower_bound`` =
      H(Y) - CE_flex(T), with ``mi_lower_bound_ci``. Its expectation over test samples is at
      most I(T; Y) (Barber & Agakov: for the fitted probe q, H(Y) - E[-log q(Y|T)] <= I(T; Y);
      the plug-in H(Y) is biased low, which keeps the bound); one sample's value can exceed
      I(T; Y) by sampling noise;
    - ``acc_linear``, ``acc_flexible`` (test accuracies), ``n_train``, ``n_test``, and
      ``losses``: the per-test-point losses {"linear", "flexible", "flexible_input"}.

    ``input_losses`` (per-test-point losses of the probe on X, e.g. ``losses["flexible_input"]``
    of an earlier call on the same split) skips refitting the probe on X; X_test is then not
    needed. The intervals hold the fitted probes fixed: they cover test-point variability only,
    not the training sample or the probe's refit, and cover the population gaps too rarely
    (lesson 03 measures it); :func:`repeated_split_gaps` gives intervals that include both.
    Typical cost: 1-3 s on a 2-core CPU for n = 2000-4000, d <= 64.
    Raises ``ValueError`` on bad shapes, NaN/inf, labels out of range or a one-class y_train.
    Introduced in lesson 03.
    """
    Ttr, ytr, Tte, yte, K = _check_split(T_train, y_train, T_test, y_test, n_classes)
    if (X_train is None) != (X_test is None):
        raise ValueError("give both X_train and X_test, or neither")
    if X_train is not None:
        Xtr, _, Xte, _, _ = _check_split(X_train, ytr, X_test, yte, K, ("X_train", "X_test"))
        check_same_length("X_train", Xtr, "T_train", Ttr)
        check_same_length("X_test", Xte, "T_test", Tte)
    if input_losses is not None:
        input_losses = as_finite_array(input_losses, "input_losses", ndim=1)
        check_same_length("input_losses", input_losses, "y_test", yte)
        if np.any(input_losses < 0):
            raise ValueError("input_losses must be per-point cross-entropies (>= 0), got a "
                             f"negative value ({input_losses.min():.3g})")
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=1, high=10**7)
    seed = check_seed(seed)
    confidence = _check_fraction(confidence, "confidence")
    check_number(alpha, "alpha", low=0.0)
    h_losses = _label_surprisal(yte, K, priors)  # checks priors before any fit

    lp_lin = linear_probe(Ttr, ytr, K, alpha)(Tte)
    probe = FlexibleProbe(seed=seed).fit(Ttr, ytr, K)
    lp_flex = probe.predict_log_proba(Tte)
    loss_lin, loss_flex = point_losses(lp_lin, yte), point_losses(lp_flex, yte)
    if input_losses is None and X_train is not None:
        if np.array_equal(Xtr, Ttr) and np.array_equal(Xte, Tte):
            input_losses = loss_flex  # T = X: the same probe, same seed, so the same losses
        else:
            input_losses = point_losses(FlexibleProbe(seed=seed).fit(Xtr, ytr, K)
                                        .predict_log_proba(Xte), yte)

    def ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        return paired_bootstrap_ci(a, b, n_bootstrap=n_bootstrap, confidence=confidence,
                                   seed=seed)

    h_y = float(h_losses.mean())
    out: dict[str, Any] = {
        "ce_linear": float(loss_lin.mean()), "ce_flexible": float(loss_flex.mean()),
        "ce_flexible_input": None,
        "fc2_gap": float(loss_lin.mean() - loss_flex.mean()), "fc2_gap_ci": ci(loss_lin, loss_flex),
        "fc1_gap": None, "fc1_gap_ci": None, "total_gap": None, "total_gap_ci": None,
        "entropy_y": h_y, "mi_lower_bound": h_y - float(loss_flex.mean()),
        "acc_linear": float(np.mean(lp_lin.argmax(1) == yte)),
        "acc_flexible": float(np.mean(lp_flex.argmax(1) == yte)),
        "n_train": len(ytr), "n_test": len(yte), "alpha": float(alpha),
        "losses": {"linear": loss_lin, "flexible": loss_flex, "flexible_input": input_losses},
    }
    out["mi_lower_bound_ci"] = ci(h_losses, loss_flex)
    if input_losses is not None:
        out["ce_flexible_input"] = float(input_losses.mean())
        out["fc1_gap"] = float(loss_flex.mean() - input_losses.mean())
        out["fc1_gap_ci"] = ci(loss_flex, input_losses)
        out["total_gap"] = float(loss_lin.mean() - input_losses.mean())
        out["total_gap_ci"] = ci(loss_lin, input_losses)
    return out


def layerwise_condition_gaps(
    features_train: Sequence[np.ndarray], features_test: Sequence[np.ndarray],
    y_train: np.ndarray, y_test: np.ndarray, X_train: np.ndarray | None = None,
    X_test: np.ndarray | None = None, *, alpha: float = DEFAULT_ALPHA, n_bootstrap: int = 1000,
    seed: int = 0, n_classes: int | None = None, progress: bool = True,
) -> list[dict[str, Any]]:
    """:func:`feature_condition_gaps` for each layer's features T_1..T_L of one model (lists of
    (n, d_l) arrays, e.g. from :func:`maxent_lib.models.layer_features`), fitting the probe on X
    only once. Returns one dict per layer. Introduced in lesson 04."""
    for name, feats in (("features_train", features_train), ("features_test", features_test)):
        if not isinstance(feats, (list, tuple)):
            raise InputTypeError(f"{name} must be a list of (n, d) arrays, one per layer, got "
                                 f"{type(feats).__name__}")
    progress = check_flag(progress, "progress")
    if len(features_train) != len(features_test) or not features_train:
        raise ValueError("features_train and features_test must be non-empty lists of the same "
                         "length (one array per layer)")
    input_losses = None
    results = []
    layers = progress_bar(range(len(features_train)), desc="FC gaps per layer", enabled=progress)
    for i in layers:
        res = feature_condition_gaps(
            features_train[i], y_train, features_test[i], y_test,
            X_train if input_losses is None else None, X_test if input_losses is None else None,
            alpha=alpha, n_bootstrap=n_bootstrap, seed=seed, n_classes=n_classes,
            input_losses=input_losses)
        input_losses = res["losses"]["flexible_input"]
        results.append(res)
    return results


# ---------------------------------------------------------------- intervals that include refits

def split_t_interval(values: Sequence[float], test_fraction: float,
                     confidence: float = 0.95) -> tuple[float, float]:
    """The corrected repeated-split t interval (Nadeau & Bengio 2003) for the mean of J
    estimates from J random train/test splits of one sample: mean +- t_{J-1} s sqrt(1/J + r),
    with s the sd of the J values and r = n_test / n_train = ``test_fraction`` /
    (1 - ``test_fraction``). The term r corrects for the splits sharing data (the J estimates
    are correlated); without it the interval would only reflect the spread between splits.
    Needs J >= 2. Values of any magnitude are handled (rescaled when their squares would
    overflow); an interval beyond the float range raises ``ValueError``. Introduced in
    lesson 03."""
    v = as_finite_array(values, "values", ndim=1)
    if len(v) < 2:
        raise ValueError(f"values: need at least two split estimates, got {len(v)}")
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    confidence = _check_fraction(confidence, "confidence")
    from scipy.stats import t as student_t

    q = student_t.ppf(0.5 + confidence / 2, len(v) - 1)
    r = np.sqrt(1 / len(v) + test_fraction / (1 - test_fraction))
    with np.errstate(over="ignore", invalid="ignore"):
        half = q * v.std(ddof=1) * r
        out = (float(v.mean() - half), float(v.mean() + half))
        if not all(np.isfinite(out)):  # overflow: the same interval on rescaled values
            scale = float(np.max(np.abs(v)))
            u = v / scale
            h = q * u.std(ddof=1) * r
            out = (float((u.mean() - h) * scale), float((u.mean() + h) * scale))
    if not all(np.isfinite(out)):
        raise ValueError("values: the interval lies beyond the float range; rescale them")
    return out


def _one_se_choice(loss_lin: np.ndarray, loss_mlp: np.ndarray) -> bool:
    """True (use the MLP) when it beats the linear probe on the validation points by more than
    one standard error of the paired mean difference (the one-standard-error rule)."""
    d = loss_lin - loss_mlp
    return bool(d.mean() > d.std(ddof=1) / np.sqrt(len(d)))


def _penalties(alpha: object) -> list[float]:
    """``alpha`` as a list of candidate penalties (one number, or a non-empty list of them)."""
    if isinstance(alpha, (list, tuple, np.ndarray)):
        values = [check_number(a, "alpha", low=0.0) for a in np.ravel(np.asarray(alpha,
                                                                                  dtype=object))]
        if not values:
            raise ValueError("alpha is an empty list: give a penalty or candidate penalties")
        return [float(a) for a in values]
    return [float(check_number(alpha, "alpha", low=0.0))]


def _best_penalty(alphas: Sequence[float], Z_fit: np.ndarray, y_fit: np.ndarray,
                  Z_val: np.ndarray, y_val: np.ndarray, K: int,
                  ) -> tuple[float, SoftmaxRegression, np.ndarray]:
    """The candidate penalty whose softmax regression, fitted on the fitting part, has the
    lowest mean cross-entropy on the validation part; with that model and its validation losses.
    One candidate: that one, fitted as usual.

    The candidates are fitted along the path from the largest penalty down, each starting from
    the previous one's solution (the same optima, in fewer Newton steps), and the path stops
    once the validation loss rises from one candidate to the next: smaller penalties only
    over-fit further (the validation curve of a penalty path is U-shaped), and they are the
    slowest fits. Ties go to the candidate listed first."""
    fits: dict[int, tuple[SoftmaxRegression, np.ndarray]] = {}
    previous: SoftmaxRegression | None = None
    last = np.inf
    for i in sorted(range(len(alphas)), key=lambda i: -alphas[i]):
        model = SoftmaxRegression(alpha=alphas[i]).fit(Z_fit, y_fit, n_classes=K, init=previous)
        losses = point_losses(log_softmax(model.decision_function(Z_val)), y_val)
        fits[i], previous = (model, losses), model
        if losses.mean() > last:
            break
        last = float(losses.mean())
    best = min(fits, key=lambda i: (fits[i][1].mean(), i))
    return alphas[best], fits[best][0], fits[best][1]


def layerwise_repeated_split_gaps(
    features: Sequence[np.ndarray], y: np.ndarray, X: np.ndarray | None = None, *,
    n_splits: int = 10, test_fraction: float = 0.3, val_fraction: float = 0.2,
    alpha: float | Sequence[float] = DEFAULT_ALPHA, confidence: float = 0.95, seed: int = 0,
    n_classes: int | None = None, priors: np.ndarray | None = None, select: bool = True,
    probe: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """FC1 and FC2 gaps of several feature sets T_1..T_G of the same n points (e.g. the layers
    of one net, on data it never saw), by repeated sample splitting with refits.

    For each of ``n_splits`` random splits of the n points (seed ``[seed, j]``) into a training
    part and a test part (``test_fraction``): on the training part, fit softmax regression on
    every T_g (penalty ``alpha``, standardised T) and a flexible probe on every T_g and on X; on
    the test part, compute CE_lin(T_g), CE_flex(T_g), CE_flex(X) and so the split's gaps
    FC2 = CE_lin(T) - CE_flex(T), FC1 = CE_flex(T) - CE_flex(X), total = CE_lin(T) - CE_flex(X).
    The flexible probes of all splits and feature sets are trained together
    (:class:`maxent_lib.probes.StackedProbes`; ``probe`` passes its settings, e.g. ``width``),
    each starting from the softmax regression fitted on its fitting part (affine part at that
    solution, MLP output at zero), so it only has to learn what a linear read-out misses.

    ``alpha`` is the linear read-out's penalty, or a list of candidate penalties: then, on every
    split and for every feature set, the candidates are fitted on the fitting part from the
    largest penalty down (each warm-started from the previous one) and scored on the validation
    part until the validation loss rises; the best one fitted is refitted on the whole training
    part (the test part selects nothing). A penalty that suits the raw input over-fits a wide
    hidden layer read from a few thousand points, so comparing layers with one fixed penalty
    would compare penalties; choosing it on validation data approximates each feature set's
    best linear read-out, the CE_lin* of lesson 03. ``alpha_chosen`` gives the choices per split.

    With ``select=True`` the flexible read-out of a split is the better, on the probe's
    validation part (``val_fraction`` of the training part), of softmax regression and the MLP
    probe, by the one-standard-error rule: the MLP only if it wins by more than one standard
    error. The read-out family then contains the linear model exactly, which removes most of the
    MLP's excess cross-entropy where a linear read-out is already right.

    Each gap is the mean over splits, with the corrected repeated-split t interval
    (:func:`split_t_interval`). It covers what varies between splits: which points train and
    which test, and the probes' refits (initialisation, batch order, early stopping). It is an
    interval for the gap that probes trained on ``n_train`` points measure; the estimator's
    bias with respect to the population gap is not in it: the flexible probe's excess over the
    Bayes cross-entropy (it makes FC2 gaps too small where the MLP is chosen, and moves FC1 gaps
    by the difference of the probes' excesses on T and on X). Lesson 03 measures the coverage
    for population gaps by simulation.

    Returns one dict per feature set, with ``ce_linear``, ``ce_flexible``,
    ``ce_flexible_input``, ``fc2_gap``, ``fc1_gap``, ``total_gap`` (FC1 and total: None without
    X), each gap with ``*_ci`` (None for one split), ``entropy_y`` (from ``priors`` when given,
    else the plug-in entropy of each split's test labels) and ``mi_lower_bound`` =
    H(Y) - CE_flex(T) with ``mi_lower_bound_ci`` (its expectation is at most I(T; Y)),
    ``acc_linear``, ``acc_flexible``, ``mlp_chosen`` (fraction of splits whose flexible
    read-out on T is the MLP), ``splits`` (each quantity per split, as arrays), ``n_splits``,
    ``n_train``, ``n_test`` (per split), ``interval`` (what the interval covers).
    Raises ``ValueError`` on bad shapes, NaN/inf, labels out of range, too few points or bad
    options. Introduced in lesson 03.
    """
    if not isinstance(features, (list, tuple)):
        raise InputTypeError(f"features must be a list of (n, d) arrays, one per set, got "
                             f"{type(features).__name__}")
    if not features:
        raise ValueError("features must be a non-empty list of (n, d) arrays, one per set")
    n_classes = _check_n_classes(n_classes)
    y_arr = check_labels(y, n_classes)
    feats = [_features(F, f"features[{i}]") for i, F in enumerate(features)]
    for i, F in enumerate(feats):
        check_same_length(f"features[{i}]", F, "y", y_arr)
    K = int(n_classes) if n_classes is not None else int(y_arr.max()) + 1
    if len(np.unique(y_arr)) < 2:
        raise ValueError("y holds a single class; the conditions need at least two")
    n_splits = check_int(n_splits, "n_splits", low=1, high=10_000)
    test_fraction = _check_fraction(test_fraction, "test_fraction")
    val_fraction = _check_fraction(val_fraction, "val_fraction")
    confidence = _check_fraction(confidence, "confidence")
    alphas = _penalties(alpha)
    seed = check_seed(seed)
    select = check_flag(select, "select")
    if probe is not None:
        if not isinstance(probe, dict):
            raise InputTypeError(f"probe must be a dict of StackedProbes settings, got "
                                 f"{type(probe).__name__}")
        unknown = sorted(map(str, set(probe) - _PROBE_SETTINGS))
        if unknown:
            raise ValueError(f"probe has unknown setting(s) {unknown}; known: "
                             f"{sorted(_PROBE_SETTINGS)}")
    x_index = None
    if X is not None:
        X_arr = _features(X, "X")
        check_same_length("X", X_arr, "y", y_arr)
        x_index = next((i for i, F in enumerate(feats) if F.shape == X_arr.shape
                        and np.array_equal(F, X_arr)), None)
        if x_index is None:
            feats.append(X_arr)
            x_index = len(feats) - 1
    if priors is not None:
        _label_surprisal(y_arr, K, priors)  # checks priors before any fit
    n, G, J = len(y_arr), len(feats), int(n_splits)
    n_test = int(round(test_fraction * n))
    n_train = n - n_test
    n_val = int(round(val_fraction * n_train))
    if n_test < 2 or n_val < 2 or n_train - n_val < 2:
        raise ValueError(f"{n} points are too few to split into training, validation and test "
                         "parts; give more points")

    d_max = max(F.shape[1] for F in feats)
    splits = []
    Zf, yf, Zv, yv, Zt, seeds, dims, W_init, b_init = [], [], [], [], [], [], [], [], []
    lin_test, lin_val = np.empty((J, G, n_test)), np.empty((J, G, n_val))
    acc_lin, chosen_alpha = np.empty((J, G)), np.empty((J, G))
    for j in range(J):
        perm = np.random.default_rng([int(seed), j]).permutation(n)
        te, tr = perm[:n_test], perm[n_test:]
        val, fit = tr[:n_val], tr[n_val:]
        splits.append((te, val, fit))
        for g, F in enumerate(feats):
            mu, sd = _standardiser(F[tr])
            Z = (F - mu) / sd
            a_jg, part, lin_val[j, g] = _best_penalty(alphas, Z[fit], y_arr[fit], Z[val],
                                                      y_arr[val], K)
            chosen_alpha[j, g] = a_jg
            full = SoftmaxRegression(alpha=a_jg).fit(Z[tr], y_arr[tr], n_classes=K)
            lp = log_softmax(full.decision_function(Z[te]))
            lin_test[j, g] = point_losses(lp, y_arr[te])
            acc_lin[j, g] = np.mean(lp.argmax(1) == y_arr[te])
            W0 = np.zeros((d_max, K))
            W0[:F.shape[1]] = part.coef_.T
            W_init.append(W0)
            b_init.append(part.intercept_)
            pad = np.zeros((n, d_max))
            pad[:, :F.shape[1]] = Z
            Zf.append(pad[fit])
            Zv.append(pad[val])
            Zt.append(pad[te])
            yf.append(y_arr[fit])
            yv.append(y_arr[val])
            seeds.append(int(np.random.default_rng([int(seed), j, g, 11]).integers(2**31)))
            dims.append(F.shape[1])
    from .probes import StackedProbes

    probes = StackedProbes(**(probe or {})).fit(np.stack(Zf), np.stack(yf), np.stack(Zv),
                                                np.stack(yv), K, seeds, dims,
                                                (np.stack(W_init), np.stack(b_init)))
    lp_val = probes.predict_log_proba(np.stack(Zv))
    lp_test = probes.predict_log_proba(np.stack(Zt))
    flex_test = np.empty((J, G, n_test))
    acc_flex, chosen = np.empty((J, G)), np.zeros((J, G), bool)
    h_y = np.empty(J)
    for j, (te, val, _) in enumerate(splits):
        h_y[j] = _label_surprisal(y_arr[te], K, priors).mean()
        for g in range(G):
            i = j * G + g
            mlp_val = point_losses(lp_val[i], y_arr[val])
            chosen[j, g] = (not select) or _one_se_choice(lin_val[j, g], mlp_val)
            if chosen[j, g]:
                flex_test[j, g] = point_losses(lp_test[i], y_arr[te])
                acc_flex[j, g] = np.mean(lp_test[i].argmax(1) == y_arr[te])
            else:
                flex_test[j, g], acc_flex[j, g] = lin_test[j, g], acc_lin[j, g]
    ce_lin, ce_flex = lin_test.mean(axis=2), flex_test.mean(axis=2)   # (J, G)

    def summary(v: np.ndarray) -> tuple[float, tuple[float, float] | None]:
        ci = split_t_interval(v, test_fraction, confidence) if J > 1 else None
        return float(v.mean()), ci

    results = []
    for g in range(len(features)):
        per = {"ce_linear": ce_lin[:, g], "ce_flexible": ce_flex[:, g],
               "fc2_gap": ce_lin[:, g] - ce_flex[:, g], "entropy_y": h_y,
               "mi_lower_bound": h_y - ce_flex[:, g]}
        if x_index is not None:
            per["ce_flexible_input"] = ce_flex[:, x_index]
            per["fc1_gap"] = ce_flex[:, g] - ce_flex[:, x_index]
            per["total_gap"] = ce_lin[:, g] - ce_flex[:, x_index]
        out: dict[str, Any] = {"ce_flexible_input": None, "fc1_gap": None, "fc1_gap_ci": None,
                               "total_gap": None, "total_gap_ci": None}
        for key, v in per.items():
            out[key] = float(v.mean())
            if key.endswith("_gap") or key == "mi_lower_bound":
                out[key], out[key + "_ci"] = summary(v)
        out.update({
            "acc_linear": float(acc_lin[:, g].mean()), "acc_flexible": float(acc_flex[:, g].mean()),
            "mlp_chosen": float(chosen[:, g].mean()),
            "mlp_chosen_input": None if x_index is None else float(chosen[:, x_index].mean()),
            "splits": per, "n_splits": J, "n_train": n_train, "n_test": n_test,
            "alpha": alphas[0] if len(alphas) == 1 else None,
            "alpha_chosen": chosen_alpha[:, g].tolist(), "confidence": float(confidence),
            "interval": ("corrected repeated-split t interval (Nadeau & Bengio 2003) over "
                         f"{J} splits: training/test assignment and probe refits vary"
                         if J > 1 else "none (one split)"),
        })
        results.append(out)
    return results


#: The settings a ``probe`` dict may give (:class:`maxent_lib.probes.StackedProbes`).
_PROBE_SETTINGS = frozenset({"width", "weight_decay", "lr", "max_epochs", "patience",
                             "min_delta", "device", "threads"})
_SPLIT_OPTIONS = frozenset({"n_splits", "test_fraction", "val_fraction", "alpha", "confidence",
                            "seed", "n_classes", "priors", "select", "probe"})


def repeated_split_gaps(T: np.ndarray, y: np.ndarray, X: np.ndarray | None = None,
                        **kwargs: Any) -> dict[str, Any]:
    """:func:`layerwise_repeated_split_gaps` for one feature set T (an (n, d) array); the
    keyword arguments are the same. Introduced in lesson 03."""
    unknown = sorted(set(kwargs) - _SPLIT_OPTIONS)
    if unknown:
        raise InputTypeError(f"unknown option(s) {unknown} of repeated_split_gaps; known: "
                             f"{sorted(_SPLIT_OPTIONS)}")
    return layerwise_repeated_split_gaps([_features(T, "T")], y, X, **kwargs)[0]


# ---------------------------------------------------------------- the truth, where it is known

def _log_posterior(task: SyntheticTask, X: np.ndarray) -> np.ndarray:
    lj = task.log_joint(X)  # log P(y | x) = log P(x, y) - log P(x), stable where P(y|x) ~ 0
    return lj - logsumexp(lj, axis=1, keepdims=True)


def soft_label_softmax(T: np.ndarray, P: np.ndarray, weights: np.ndarray, alpha: float = 0.0,
                       tol: float = 1e-10, max_iter: int = 100,
                       ) -> Callable[[np.ndarray], np.ndarray]:
    """The softmax regression that minimises the expected cross-entropy against known
    posteriors,

        sum_i w_i sum_k P[i, k] (-log softmax(W z_i + b)_k) + (alpha/2) ||W||^2,

    on features standardised with the weighted mean and sd (``weights`` w >= 0, summing to one:
    quadrature weights, or 1/n for a sample). With quadrature nodes this is the
    population-optimal linear read-out q* of lesson 03, with no sampled labels. Newton's method
    with a backtracking line search on the parameters of classes 1..K-1 (class 0's are fixed at
    0, which removes the softmax's shift invariance), to max |gradient| <= ``tol``. Returns
    T -> log q*(y | T), shape (n, K). Raises ``ValueError`` on bad shapes, NaN/inf, rows of P
    that are not distributions, or weights that are negative or do not sum to one.
    Introduced in lesson 03."""
    T_arr = _features(T, "T")
    P_arr = check_probabilities(as_finite_array(P, "P", ndim=2), "P")
    w = as_finite_array(weights, "weights", ndim=1)
    alpha = check_number(alpha, "alpha", low=0.0)
    tol = check_number(tol, "tol", low=0.0, low_open=True)
    max_iter = check_int(max_iter, "max_iter", low=1, high=10**5)
    check_same_length("T", T_arr, "P", P_arr)
    check_same_length("T", T_arr, "weights", w)
    if np.any(w < 0) or abs(w.sum() - 1.0) > 1e-9:
        raise ValueError("weights must be non-negative and sum to one")
    mu = w @ T_arr
    sd = np.sqrt(w @ (T_arr - mu) ** 2)
    sd[sd < 1e-12] = 1.0
    X1 = np.hstack([(T_arr - mu) / sd, np.ones((len(T_arr), 1))])
    n, d = X1.shape
    K = P_arr.shape[1]
    pen = np.r_[np.full(d - 1, float(alpha)), 0.0]

    def objective(th: np.ndarray) -> tuple[float, np.ndarray]:
        S = np.zeros((n, K))
        S[:, 1:] = X1 @ th.T
        lq = S - logsumexp(S, axis=1, keepdims=True)
        return float(-(w @ (P_arr * lq).sum(axis=1)) + 0.5 * np.sum(pen * th**2)), lq

    theta = np.zeros((K - 1, d))
    f, lq = objective(theta)
    with threadpool_limits(limits=1, user_api="blas"):
        for _ in range(max_iter):
            Q1 = np.exp(lq[:, 1:])
            G = ((Q1 - P_arr[:, 1:]) * w[:, None]).T @ X1 + pen * theta
            if np.max(np.abs(G)) <= tol:
                break
            Xw = X1 * w[:, None]
            H = np.zeros((K - 1, d, K - 1, d))
            for k in range(K - 1):
                for m in range(K - 1):
                    c = Q1[:, k] * ((k == m) - Q1[:, m])
                    H[k, :, m, :] = (Xw * c[:, None]).T @ X1
                H[k, :, k, :] += np.diag(pen)
            H = H.reshape((K - 1) * d, (K - 1) * d)
            H[np.diag_indices_from(H)] += 1e-12 * max(float(np.max(np.diag(H))), 1e-300)
            step = -np.linalg.solve(H, G.ravel()).reshape(theta.shape)
            slope, t = float(G.ravel() @ step.ravel()), 1.0
            new_f, new_lq = objective(theta + step)
            while new_f > f + 1e-4 * t * slope and t > 1e-10:
                t *= 0.5
                new_f, new_lq = objective(theta + t * step)
            if new_f > f:  # no descent left in float64
                break
            theta, f, lq = theta + t * step, new_f, new_lq

    def log_proba(T_new: np.ndarray) -> np.ndarray:
        T_new_arr = _features(T_new, "T_new")
        _check_columns(T_new_arr, T_arr.shape[1], "T_new", "T")
        Z = (T_new_arr - mu) / sd
        S = np.zeros((len(Z), K))
        S[:, 1:] = Z @ theta[:, :-1].T + theta[:, -1]
        return S - logsumexp(S, axis=1, keepdims=True)

    return log_proba


_GAP_KEYS = ("ce_bayes_input", "ce_bayes_features", "ce_linear_best", "fc1_gap", "fc2_gap",
             "total_gap", "kl_fc1", "kl_fc2")


def _exact_values(task: SyntheticTask, feature_task: SyntheticTask, keep: list[int],
                  features: Callable[[np.ndarray], np.ndarray], alpha: float,
                  full: tuple[np.ndarray, np.ndarray], marginal: tuple[np.ndarray, np.ndarray],
                  fit: tuple[np.ndarray, np.ndarray]) -> tuple[dict[str, float], np.ndarray]:
    """The exact quantities from three weighted point sets: ``full`` (x, w) for expectations over
    P(x), ``marginal`` (t, w) for expectations over the distribution of x[keep], ``fit`` (t, w)
    on which q* is fitted. Also returns the per-point values on ``full`` (for standard errors)."""
    t_fit, w_fit = fit
    lin = soft_label_softmax(features(t_fit), np.exp(_log_posterior(feature_task, t_fit)),
                             w_fit, alpha)
    X, w = full
    lp_x = _log_posterior(task, X)
    lp_t = _log_posterior(feature_task, X[:, keep])
    lq = lin(features(X[:, keep]))
    P_x = np.exp(lp_x)
    per_point = np.stack([-(P_x * lp_x).sum(1), -(P_x * lp_t).sum(1), -(P_x * lq).sum(1)], 1)
    ce_x, ce_t, ce_lin = (float(v) for v in w @ per_point)
    # KL(p || q) = sum_k p_k (log p_k - log q_k), from log-probabilities (no underflow)
    kl1 = float(w @ (P_x * (lp_x - lp_t)).sum(1))
    t_m, w_m = marginal
    lp_m = _log_posterior(feature_task, t_m)
    kl2 = float(w_m @ (np.exp(lp_m) * (lp_m - lin(features(t_m)))).sum(1))
    values = {"ce_bayes_input": ce_x, "ce_bayes_features": ce_t, "ce_linear_best": ce_lin,
              "fc1_gap": ce_t - ce_x, "fc2_gap": ce_lin - ce_t, "total_gap": ce_lin - ce_x,
              "kl_fc1": kl1, "kl_fc2": kl2}
    return values, per_point


def exact_condition_gaps(
    task: SyntheticTask, keep: Sequence[int] | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None, *,
    X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
    n_eval: int = 20_000, n_population: int = 50_000, alpha: float = 0.0, seed: int = 0,
    method: str = "auto", n_nodes: int | None = None,
) -> dict[str, Any]:
    """The exact counterparts of the measured gaps for a synthetic task with known P(Y|X), for
    the features T(x) = transform(x[keep]) (``keep`` defaults to every coordinate, ``transform``
    to the identity; it must be one-to-one, like :func:`maxent_lib.data.quadratic_features`, so
    that T loses exactly what ``keep`` drops). No label is ever sampled: every expectation
    integrates the labels out with the exact posterior, E_x sum_k P(k|x) g(x, k).

    Returns a dict with (nats)

    - ``ce_bayes_input`` = H(Y|X) = E_x sum_k P(k|x) (-log P(k|x));
    - ``ce_bayes_features`` = H(Y|T) = E_x sum_k P(k|x) (-log P(k|T(x))), with P(y|T) from
      ``task.marginal(keep)`` (a :class:`~maxent_lib.data.GaussianMixtureTask` is needed to drop
      coordinates);
    - ``ce_linear_best`` = CE_lin* = E_x sum_k P(k|x) (-log q*(k|T(x))), q* the
      population-optimal softmax regression on T (penalty ``alpha`` on standardised T, default
      0), fitted by :func:`soft_label_softmax` against the exact posteriors;
    - ``fc1_gap`` = H(Y|T) - H(Y|X), ``fc2_gap`` = CE_lin* - H(Y|T), ``total_gap`` =
      CE_lin* - H(Y|X), and the two terms of lesson 03's decomposition computed separately,
      ``kl_fc1`` = E_x KL(P(Y|x) || P(Y|T(x))) and ``kl_fc2`` = E_T KL(P(Y|T) || q*(Y|T)) (the
      latter over the distribution of T, on its own nodes), with
      total_gap = kl_fc1 + kl_fc2, each >= 0;
    - ``entropy_y`` = H(Y) from the priors, ``mi_input`` = I(X;Y) = H(Y) - H(Y|X),
      ``mi_features`` = I(T;Y) = H(Y) - H(Y|T);
    - ``method``, ``accuracy`` (an estimate of the largest error of the CE and gap values, in
      nats), ``n_eval`` (points or nodes of the expectation over x), ``n_population`` (points or
      nodes q* was fitted on).

    ``method``: ``"quadrature"`` (deterministic, :mod:`maxent_lib.quadrature`, ``n_nodes`` per
    axis; ``accuracy`` is the change from a rule with 3/4 as many nodes per axis; ``seed``,
    ``n_eval`` and ``n_population`` are not used), ``"monte_carlo"`` (expectations over
    ``n_eval`` fresh points, seed ``seed + 1``, q* fitted on ``n_population`` points, seed
    ``seed + 2``, labels integrated out; ``accuracy`` = 2 standard errors), or ``"auto"``
    (quadrature where the task and its marginal have a rule, else Monte Carlo). With
    ``X_test``, the expectation over x is the average over those points (``method`` is then
    ``"points"``; q* as for ``"auto"``); ``y_test`` is not needed (labels are integrated out)
    and, if given, only checked. Introduced in lesson 03.
    """
    if not isinstance(task, SyntheticTask):
        raise InputTypeError(f"task must be a SyntheticTask with a known posterior, got "
                             f"{type(task).__name__}")
    if not isinstance(method, str):
        raise InputTypeError(f"method must be 'auto', 'quadrature' or 'monte_carlo', got "
                             f"{method!r}")
    if method not in ("auto", "quadrature", "monte_carlo"):
        raise ValueError(f"method must be 'auto', 'quadrature' or 'monte_carlo', got {method!r}")
    if keep is not None and (isinstance(keep, (str, bytes)) or not isinstance(
            keep, (list, tuple, range, np.ndarray))):
        raise InputTypeError(f"keep must be a list of coordinates, got {type(keep).__name__}")
    keep_list = list(range(task.dim)) if keep is None else [
        check_int(k, "keep", low=0, high=task.dim - 1) for k in keep]
    if not keep_list or len(set(keep_list)) != len(keep_list):
        raise ValueError(f"keep must list distinct coordinates of 0..{task.dim - 1}, got "
                         f"{keep_list}")
    if transform is not None and not callable(transform):
        raise InputTypeError(f"transform must be a function or None, got "
                             f"{type(transform).__name__}")
    n_eval = check_int(n_eval, "n_eval", low=10, high=10**7)
    n_population = check_int(n_population, "n_population", low=10, high=10**7)
    alpha = check_number(alpha, "alpha", low=0.0)
    seed = check_seed(seed)
    if keep_list != list(range(task.dim)):
        if not isinstance(task, GaussianMixtureTask):
            raise ValueError("dropping coordinates needs a GaussianMixtureTask (its marginal is "
                             "known exactly)")
        feature_task: SyntheticTask = task.marginal(keep_list)
    else:
        feature_task = task
    can_quad = quadrature.has_quadrature(task) and quadrature.has_quadrature(feature_task)
    if method == "quadrature" and not can_quad:
        raise ValueError(f"no quadrature rule for this task ({type(task).__name__}, "
                         f"{task.dim}-D); use method='monte_carlo'")
    use_quad = can_quad and method != "monte_carlo"
    if use_quad and X_test is None:  # checks n_nodes: it needs a coarser rule for the error
        quadrature.coarser_n(task, n_nodes)

    def features(T: np.ndarray) -> np.ndarray:
        if transform is None:
            return T
        out = _features(transform(T), "transform(x)")
        if len(out) != len(T):
            raise ValueError(f"transform(x) must keep the rows: {len(T)} in, {len(out)} out")
        return out

    def mc(n: int, s: int) -> tuple[np.ndarray, np.ndarray]:
        X, _ = task.sample(n, seed=s)
        return X, np.full(len(X), 1.0 / len(X))

    points = None
    if X_test is not None:
        X_te = as_finite_array(X_test, "X_test", ndim=2)
        if X_te.shape[1] != task.dim:
            raise ValueError(f"X_test must have {task.dim} columns for this task, "
                             f"got {X_te.shape[1]}")
        if y_test is not None:
            check_same_length("X_test", X_te, "y_test", check_labels(y_test, task.n_classes,
                                                                     "y_test"))
        points = (X_te, np.full(len(X_te), 1.0 / len(X_te)))
    elif y_test is not None:
        raise ValueError("y_test was given without X_test")

    def run(n_ax: int | None) -> tuple[dict[str, float], np.ndarray, int, int]:
        if use_quad:
            fit = quadrature.quadrature_nodes(feature_task, n_ax)
            full = points or quadrature.quadrature_nodes(task, n_ax)
            marginal = fit if points is None else (full[0][:, keep_list], full[1])
        else:
            Xp, wp = mc(n_population, seed + 2)
            fit = (Xp[:, keep_list], wp)
            full = points or mc(n_eval, seed + 1)
            marginal = (full[0][:, keep_list], full[1])
        vals, per_point = _exact_values(task, feature_task, keep_list, features, alpha, full,
                                        marginal, fit)
        return vals, per_point, len(full[1]), len(fit[1])

    vals, per_point, n_x, n_fit = run(n_nodes)
    if use_quad and points is None:
        coarse, _, _, _ = run(quadrature.coarser_n(task, n_nodes)[1])
        accuracy = max(abs(vals[k] - coarse[k]) for k in _GAP_KEYS)
        used = "quadrature"
    else:
        diffs = np.stack([per_point[:, 0], per_point[:, 1], per_point[:, 2],
                          per_point[:, 1] - per_point[:, 0], per_point[:, 2] - per_point[:, 1],
                          per_point[:, 2] - per_point[:, 0]], axis=1)
        accuracy = float(2 * np.max(diffs.std(axis=0, ddof=1)) / np.sqrt(len(diffs)))
        used = "points" if points is not None else "monte_carlo"
    h_y = float(-(task.priors * np.log(task.priors)).sum())
    return {
        **vals, "entropy_y": h_y, "mi_input": h_y - vals["ce_bayes_input"],
        "mi_features": h_y - vals["ce_bayes_features"], "method": used,
        "accuracy": float(accuracy), "n_eval": int(n_x), "n_population": int(n_fit),
    }


# ---------------------------------------------------------------- checks used in lesson 03

def log_odds_affine_residual(T: np.ndarray, log_probs: np.ndarray) -> float:
    """How far the class log-odds are from affine in T (FC2): fit log P(y=k|t) - log P(y=0|t),
    k = 1..K-1, by least squares on [T, 1] and return the root-mean-square residual (nats).
    It is 0 (up to rounding) exactly when FC2 holds on these points. The log-odds do not change
    when a row of ``log_probs`` is shifted, so unnormalised log-probabilities (logits) give the
    same answer; probabilities passed by mistake (non-negative rows summing to one, which no
    log-probabilities of two or more classes are) raise ``ValueError``. Introduced in
    lesson 03."""
    T_arr = _features(T, "T")
    lp = as_finite_array(log_probs, "log_probs", ndim=2, max_abs=MAX_FEATURE)
    check_same_length("T", T_arr, "log_probs", lp)
    if lp.shape[1] < 2:
        raise ValueError("log_probs needs at least two classes (columns)")
    if np.all(lp >= 0) and np.allclose(lp.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError("log_probs holds probabilities (non-negative rows summing to one); "
                         "pass log-probabilities, e.g. np.log(probs)")
    odds = lp[:, 1:] - lp[:, :1]
    A = np.hstack([T_arr, np.ones((len(T_arr), 1))])
    coef, *_ = np.linalg.lstsq(A, odds, rcond=None)
    return float(np.sqrt(np.mean((A @ coef - odds) ** 2)))


def _project_feasible(G: np.ndarray, M: np.ndarray, A: np.ndarray) -> np.ndarray:
    """The orthogonal projection of G (n, K), restricted to the free entries M (0/1), onto
    {D : D = 0 off M, every row of D sums to 0, sum_i D[i, k] A[i, :] = 0 for every k}.

    D = M * (G - mu_i - A_i . nu_k) with multipliers mu (rows) and nu (K, m1); eliminating mu
    leaves a (K m1)-square system for nu (least squares: the constraints are redundant), so
    the cost is O(n K^2 m1^2) rather than a dense solve over all free entries."""
    K, m1 = G.shape[1], A.shape[1]
    c = np.maximum(M.sum(1), 1.0)                    # free entries per row
    g = (M * G).sum(1)
    B = np.zeros((K, m1, K, m1))
    r = np.zeros((K, m1))
    AA = A[:, :, None] * A[:, None, :]               # (n, m1, m1)
    for k in range(K):
        r[k] = -(M[:, k] * (G[:, k] - g / c)) @ A
        for m in range(K):
            B[k, :, m, :] = np.einsum("i,ijl->jl", M[:, k] * M[:, m] / c, AA)
        B[k, :, k, :] -= np.einsum("i,ijl->jl", M[:, k], AA)
    nu = np.linalg.lstsq(B.reshape(K * m1, K * m1), r.ravel(), rcond=None)[0].reshape(K, m1)
    mu = (g - (M * (A @ nu.T)).sum(1)) / c
    return M * (G - mu[:, None] - A @ nu.T)


def feasible_alternative(T: np.ndarray, probs: np.ndarray, step: float = 0.5,
                         seed: int = 0, min_prob: float = 0.05,
                         max_points: int = 400) -> np.ndarray:
    """Another conditional distribution q(y | x_i) on the same points with the same constraint
    values as ``probs``: for every class k and feature j (and the class totals),
    sum_i q[i, k] T[i, j] = sum_i probs[i, k] T[i, j], and every row of q sums to one.

    It moves only entries with probs > ``min_prob`` in up to ``max_points`` rows that have at least
    two such entries (so near-zero probabilities do not throttle the step): a random direction is
    projected onto the null space of the constraints (row sums and class moments), and scaled to
    ``step`` of the largest step that keeps q >= 0. Used to check the theorem of lesson 03: a
    feasible distribution of Gibbs form has higher entropy than any other feasible one.
    Raises ``ValueError`` if a row of ``probs`` is not a distribution (negative, or not summing
    to one). Introduced in lesson 03."""
    T_arr = _features(T, "T")
    P = check_probabilities(as_finite_array(probs, "probs", ndim=2), "probs")
    check_same_length("T", T_arr, "probs", P)
    step = _check_fraction(step, "step")
    seed = check_seed(seed)
    min_prob = check_number(min_prob, "min_prob", low=0.0, high=1.0, high_open=True)
    max_points = check_int(max_points, "max_points", low=1)
    movable = P > min_prob
    rows = np.flatnonzero(movable.sum(axis=1) >= 2)[:max_points]
    A = np.hstack([T_arr[rows], np.ones((len(rows), 1))])
    ii, kk = np.nonzero(movable[rows])  # the free entries (row in ``rows``, class)
    K, m1 = P.shape[1], A.shape[1]
    if len(ii) <= len(rows) + K * m1:
        raise ValueError(f"too few entries above min_prob = {min_prob} to move while keeping "
                         "the constraints; lower min_prob or give more points")
    g = np.random.default_rng(seed).normal(size=len(ii))
    G = np.zeros((len(rows), K))
    G[ii, kk] = g
    d = _project_feasible(G, movable[rows].astype(float), A)[ii, kk]  # null-space part of g
    neg = d < 0
    t_max = float(np.min(P[rows[ii[neg]], kk[neg]] / -d[neg]))
    Q = P.copy()
    Q[rows[ii], kk] += step * t_max * d
    return Q
