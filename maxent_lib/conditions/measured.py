"""The two feature conditions, measured on one train/test split (lesson 03; per layer in
lesson 04).

Softmax regression on features T recovers the true P(Y|X) exactly when

- **FC1, sufficiency:** Y is independent of X given T(X), i.e. P(y|x) = P(y|T(x)), and
- **FC2, log-linearity:** the class log-odds are affine in T, P(y|T) = softmax(W T + b).

Quantitatively (lesson 03, (4)): with q* the population-optimal softmax regression on T,

    CE_lin* - H(Y|X) = E_x KL(P(Y|x) || P(Y|T(x)))  +  E_T KL(P(Y|T) || q*(Y|T))
                     =        FC1 gap                +         FC2 gap,

each term >= 0 and zero exactly when its condition holds. **Measured** on data, with mean
held-out cross-entropies in nats: CE_lin(T) (softmax regression on T, lightly L2-penalised),
CE_flex(T) (a flexible read-out on T) and CE_flex(X) (the same read-out on the raw input);
FC2 gap = CE_lin(T) - CE_flex(T), FC1 gap = CE_flex(T) - CE_flex(X).

:func:`feature_condition_gaps` / :func:`layerwise_condition_gaps` measure on one given split with a
bootstrap over its test points, which holds the fitted probes fixed and so covers the population
gaps too rarely (lesson 03 measures how rarely; :mod:`maxent_lib.conditions.refit` gives the
intervals the lessons use). H(Y) - CE_flex(T) is an estimate whose expectation is at most
I(T; Y) (Barber & Agakov 2003: for the fitted probe q, H(Y) - E[-log q(Y|T)] <= I(T; Y); the
plug-in H(Y) is biased low, which keeps the bound; one sample's value can exceed I(T; Y) by
sampling noise). :func:`feature_condition_gaps`' paired bootstrap intervals hold the fitted
probes fixed: they cover test-point variability only, not the training sample or the probe's
refit; :func:`~maxent_lib.conditions.refit.repeated_split_gaps` gives intervals that include
both. Typical cost: 1-3 s on a 2-core CPU for n = 2000-4000, d <= 64.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._checks import MAX_CLASSES, check_same_length
from ..runtime import progress_bar
from ..softmax import SoftmaxRegression, log_softmax
from ..stats import paired_bootstrap_ci
from ..validation import Array, Flag, Integer, Items, Labels, Probabilities, Real, Seed, validate
from ._common import (
    DEFAULT_ALPHA,
    FEATURES,
    FEATURES_OR_NONE,
    FRACTION,
    _check_columns,
    _check_split,
    _features,
    _label_surprisal,
    _standardiser,
    point_losses,
)
from .probes import FlexibleProbe


@validate(T_train=FEATURES, y_train=Labels(n_classes="n_classes"),
          n_classes=Integer(low=2, high=MAX_CLASSES), alpha=Real(low=0.0))
def linear_probe(T_train: np.ndarray, y_train: np.ndarray, n_classes: int,
                 alpha: float = DEFAULT_ALPHA) -> Callable[[np.ndarray], np.ndarray]:
    """Fit softmax regression (:class:`maxent_lib.softmax.SoftmaxRegression`, mean CE +
    (alpha/2)||W||^2) on standardised ``T_train`` and return a function T -> log P(y | T), shape
    (n, K). Standardising (training mean and sd) changes no unpenalised solution, only makes
    ``alpha`` scale-free. The returned function checks its input: ``T_new`` must have the
    columns of ``T_train`` (``ValueError`` otherwise, never a broadcast). Introduced in
    lesson 03."""
    T = T_train
    check_same_length("T_train", T, "y_train", y_train)
    mu, sd = _standardiser(T)
    model = SoftmaxRegression(alpha=alpha).fit((T - mu) / sd, y_train, n_classes=n_classes)

    def log_proba(T_new: np.ndarray) -> np.ndarray:
        T_arr = _features(T_new, "T_new")
        _check_columns(T_arr, T.shape[1], "T_new", "T_train")
        return log_softmax(model.decision_function((T_arr - mu) / sd))

    return log_proba


@validate(T_train=FEATURES, y_train=Labels(n_classes="n_classes"), T_test=FEATURES,
          y_test=Labels(n_classes="n_classes"), X_train=FEATURES_OR_NONE,
          X_test=FEATURES_OR_NONE, alpha=Real(low=0.0),
          n_bootstrap=Integer(low=1, high=10**7), seed=Seed(),
          n_classes=Integer(low=2, high=MAX_CLASSES, optional=True), confidence=FRACTION,
          input_losses=Array(ndim=1, low=0.0, optional=True),
          priors=Probabilities(ndim=1, optional=True))
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
      labels, and ``mi_lower_bound`` = H(Y) - CE_flex(T) with ``mi_lower_bound_ci`` (its
      expectation is at most I(T; Y), see the module docstring);
    - ``acc_linear``, ``acc_flexible`` (test accuracies), ``n_train``, ``n_test``, and
      ``losses``: the per-test-point losses {"linear", "flexible", "flexible_input"}.

    ``input_losses`` (per-test-point losses of the probe on X from an earlier call on the same
    split) skips refitting the probe on X. The intervals hold the fitted probes fixed: they
    cover test-point variability only (see the module docstring). Raises ``ValueError`` on bad
    shapes, NaN/inf, labels out of range or a one-class y_train. Introduced in lesson 03.
    """
    Ttr, ytr, Tte, yte, K = _check_split(T_train, y_train, T_test, y_test, n_classes)
    if (X_train is None) != (X_test is None):
        raise ValueError("give both X_train and X_test, or neither")
    if X_train is not None:
        Xtr, _, Xte, _, _ = _check_split(X_train, ytr, X_test, yte, K, ("X_train", "X_test"))
        check_same_length("X_train", Xtr, "T_train", Ttr)
        check_same_length("X_test", Xte, "T_test", Tte)
    if input_losses is not None:
        check_same_length("input_losses", input_losses, "y_test", yte)
    h_losses = _label_surprisal(yte, K, priors)  # checks priors before any fit

    lp_lin = linear_probe(Ttr, ytr, K, alpha)(Tte)
    lp_flex = FlexibleProbe(seed=seed).fit(Ttr, ytr, K).predict_log_proba(Tte)
    loss_lin, loss_flex = point_losses(lp_lin, yte), point_losses(lp_flex, yte)
    if input_losses is None and X_train is not None:
        if np.array_equal(Xtr, Ttr) and np.array_equal(Xte, Tte):
            input_losses = loss_flex  # T = X: the same probe, same seed, so the same losses
        else:
            input_losses = point_losses(FlexibleProbe(seed=seed).fit(Xtr, ytr, K)
                                        .predict_log_proba(Xte), yte)
    ci = functools.partial(paired_bootstrap_ci, n_bootstrap=n_bootstrap, confidence=confidence,
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


@validate(features_train=Items(FEATURES, min_len=1), features_test=Items(FEATURES, min_len=1),
          y_train=Labels(n_classes="n_classes"), y_test=Labels(n_classes="n_classes"),
          X_train=FEATURES_OR_NONE, X_test=FEATURES_OR_NONE, alpha=Real(low=0.0),
          n_bootstrap=Integer(low=1, high=10**7), seed=Seed(),
          n_classes=Integer(low=2, high=MAX_CLASSES, optional=True), progress=Flag())
def layerwise_condition_gaps(
    features_train: Sequence[np.ndarray], features_test: Sequence[np.ndarray],
    y_train: np.ndarray, y_test: np.ndarray, X_train: np.ndarray | None = None,
    X_test: np.ndarray | None = None, *, alpha: float = DEFAULT_ALPHA, n_bootstrap: int = 1000,
    seed: int = 0, n_classes: int | None = None, progress: bool = True,
) -> list[dict[str, Any]]:
    """:func:`feature_condition_gaps` for each layer's features T_1..T_L of one model (lists of
    (n, d_l) arrays, e.g. from :func:`maxent_lib.models.layer_features`), fitting the probe on X
    only once. Returns one dict per layer. Introduced in lesson 04."""
    if len(features_train) != len(features_test):
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
