"""The feature conditions measured by repeated sample splitting with probe refits (lessons
03-07): every probe is refitted on each of J random splits, and each gap comes with the
corrected repeated-split t interval (:func:`maxent_lib.stats.t_interval`), which includes the
refits and whose coverage lesson 03 checks by simulation (:mod:`maxent_lib.conditions.coverage`).
The probes' excess cross-entropy over the Bayes one is a bias no interval removes.

The linear read-out's penalty. ``alpha`` is one penalty, or a list of candidates: then, on every
split and for every feature set, the candidates are fitted on the fitting part from the largest
penalty down (each warm-started from the previous one) and scored on the validation part until
the validation loss rises; the best one fitted is refitted on the whole training part (the test
part selects nothing). A penalty that suits the raw input over-fits a wide hidden layer read
from a few thousand points, so comparing layers with one fixed penalty would compare penalties;
choosing it on validation data approximates each feature set's best linear read-out, the
CE_lin* of lesson 03.

The flexible read-out. Each MLP probe starts at the softmax regression fitted on its fitting
part (affine part at that solution, MLP output at zero), so it only has to learn what a linear
read-out misses. With ``select=True`` the flexible read-out of a split is the better, on the
probe's validation part, of softmax regression and the MLP probe, by the one-standard-error
rule: the MLP only if it wins by more than one standard error. The read-out family then
contains the linear model exactly, which removes most of the MLP's excess cross-entropy where a
linear read-out is already right (it makes FC2 gaps too small where the MLP is chosen, and
moves FC1 gaps by the difference of the probes' excesses on T and on X).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import MAX_CLASSES, InputTypeError, check_number, check_same_length
from ..softmax import SoftmaxRegression, log_softmax
from ..stats import t_interval
from ..validation import (
    Dict,
    Flag,
    Integer,
    Items,
    Labels,
    OneOf,
    Probabilities,
    Real,
    Seed,
    validate,
)
from ._common import (
    DEFAULT_ALPHA,
    FEATURES,
    FEATURES_OR_NONE,
    FRACTION,
    _label_surprisal,
    _standardiser,
    point_losses,
)
from .probes import SETTINGS as PROBE_SETTINGS


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


#: A linear read-out's penalty, or a non-empty list of candidate penalties.
PENALTIES = OneOf((Real(low=0.0), Items(Real(low=0.0), min_len=1)))


@validate(features=Items(FEATURES, min_len=1), y=Labels(n_classes="n_classes"),
          X=FEATURES_OR_NONE, n_splits=Integer(low=1, high=10_000), test_fraction=FRACTION,
          val_fraction=FRACTION, alpha=PENALTIES, confidence=FRACTION, seed=Seed(),
          n_classes=Integer(low=2, high=MAX_CLASSES, optional=True),
          priors=Probabilities(ndim=1, optional=True), select=Flag(),
          probe=Dict(fields=PROBE_SETTINGS, closed=True, optional=True))
def layerwise_repeated_split_gaps(
    features: Sequence[np.ndarray], y: np.ndarray, X: np.ndarray | None = None, *,
    n_splits: int = 10, test_fraction: float = 0.3, val_fraction: float = 0.2,
    alpha: float | Sequence[float] = DEFAULT_ALPHA, confidence: float = 0.95, seed: int = 0,
    n_classes: int | None = None, priors: np.ndarray | None = None, select: bool = True,
    probe: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """FC1 and FC2 gaps of several feature sets T_1..T_G of the same n points (e.g. the layers
    of one net, on data it never saw), by repeated sample splitting with refits.

    For each of ``n_splits`` random splits (seed ``[seed, j]``) into a training part and a test
    part (``test_fraction``): on the training part, fit softmax regression on every T_g
    (penalty ``alpha``, or the best of a list of candidates on a validation part, see the module
    docstring) and a flexible probe on every T_g and on X (:class:`StackedProbes`, started at
    the fitted softmax regression; ``probe`` passes its settings); on the test part, compute
    CE_lin(T_g), CE_flex(T_g), CE_flex(X) and the split's gaps FC2 = CE_lin(T) - CE_flex(T),
    FC1 = CE_flex(T) - CE_flex(X), total = CE_lin(T) - CE_flex(X). With ``select=True`` the
    flexible read-out is the MLP probe only where it beats softmax regression on the validation
    part by more than one standard error. Each gap is the mean over splits with the corrected
    repeated-split t interval (:func:`maxent_lib.stats.t_interval` with ``test_fraction``),
    which covers the splits and the probes' refits, not the probes' bias.

    Returns one dict per feature set: ``ce_linear``, ``ce_flexible``, ``ce_flexible_input``,
    ``fc2_gap``, ``fc1_gap``, ``total_gap`` (FC1 and total: None without X), each gap with
    ``*_ci`` (None for one split), ``entropy_y``, ``mi_lower_bound`` = H(Y) - CE_flex(T) with
    ``mi_lower_bound_ci`` (its expectation is at most I(T; Y)), ``acc_linear``,
    ``acc_flexible``, ``mlp_chosen`` (fraction of splits whose flexible read-out on T is the
    MLP), ``alpha_chosen``, ``splits`` (each quantity per split), ``n_splits``, ``n_train``,
    ``n_test``, ``interval``. Raises ``ValueError`` on bad shapes, NaN/inf, labels out of
    range, too few points or bad options. Introduced in lesson 04.
    """
    feats, x_index = _feature_sets(features, y, X)
    K = int(n_classes) if n_classes is not None else int(y.max()) + 1
    if priors is not None:
        _label_surprisal(y, K, priors)  # checks priors before any fit
    n_test, n_train, n_val = _split_sizes(len(y), test_fraction, val_fraction)
    lin = _linear_fits(feats, y, K, _penalties(alpha), int(n_splits), n_test, n_val, seed)
    flex = _flexible_fits(lin, y, K, len(feats), priors, select, probe)
    return _gap_results(len(features), x_index, lin, flex, confidence, test_fraction,
                        _penalties(alpha), n_train, n_test)


def _feature_sets(features: Sequence[np.ndarray], y: np.ndarray, X: np.ndarray | None
                  ) -> tuple[list[np.ndarray], int | None]:
    """The feature sets to read (X appended unless it is one of them) and X's index."""
    feats = list(features)
    for i, F in enumerate(feats):
        check_same_length(f"features[{i}]", F, "y", y)
    if len(np.unique(y)) < 2:
        raise ValueError("y holds a single class; the conditions need at least two")
    if X is None:
        return feats, None
    check_same_length("X", X, "y", y)
    x_index = next((i for i, F in enumerate(feats) if F.shape == X.shape
                    and np.array_equal(F, X)), None)
    if x_index is None:
        feats.append(X)
        x_index = len(feats) - 1
    return feats, x_index


def _split_sizes(n: int, test_fraction: float, val_fraction: float) -> tuple[int, int, int]:
    n_test = int(round(test_fraction * n))
    n_train = n - n_test
    n_val = int(round(val_fraction * n_train))
    if n_test < 2 or n_val < 2 or n_train - n_val < 2:
        raise ValueError(f"{n} points are too few to split into training, validation and test "
                         "parts; give more points")
    return n_test, n_train, n_val


def _linear_fits(feats: list[np.ndarray], y: np.ndarray, K: int, alphas: list[float], J: int,
                 n_test: int, n_val: int, seed: int) -> dict[str, Any]:
    """Every split's softmax regressions (test losses, validation losses, accuracies, chosen
    penalties) and the padded inputs and starting points of the flexible probes."""
    n, G = len(y), len(feats)
    d_max = max(F.shape[1] for F in feats)
    out: dict[str, Any] = {k: [] for k in ("splits", "Zf", "yf", "Zv", "yv", "Zt", "seeds",
                                           "dims", "W_init", "b_init")}
    out.update(lin_test=np.empty((J, G, n_test)), lin_val=np.empty((J, G, n_val)),
               acc_lin=np.empty((J, G)), chosen_alpha=np.empty((J, G)))
    for j in range(J):
        perm = np.random.default_rng([int(seed), j]).permutation(n)
        te, tr = perm[:n_test], perm[n_test:]
        val, fit = tr[:n_val], tr[n_val:]
        out["splits"].append((te, val, fit))
        for g, F in enumerate(feats):
            mu, sd = _standardiser(F[tr])
            Z = (F - mu) / sd
            a_jg, part, out["lin_val"][j, g] = _best_penalty(alphas, Z[fit], y[fit], Z[val],
                                                             y[val], K)
            out["chosen_alpha"][j, g] = a_jg
            full = SoftmaxRegression(alpha=a_jg).fit(Z[tr], y[tr], n_classes=K)
            lp = log_softmax(full.decision_function(Z[te]))
            out["lin_test"][j, g] = point_losses(lp, y[te])
            out["acc_lin"][j, g] = np.mean(lp.argmax(1) == y[te])
            W0 = np.zeros((d_max, K))
            W0[:F.shape[1]] = part.coef_.T
            out["W_init"].append(W0)
            out["b_init"].append(part.intercept_)
            pad = np.zeros((n, d_max))
            pad[:, :F.shape[1]] = Z
            for key, rows in (("Zf", fit), ("Zv", val), ("Zt", te)):
                out[key].append(pad[rows])
            out["yf"].append(y[fit])
            out["yv"].append(y[val])
            out["seeds"].append(int(np.random.default_rng([int(seed), j, g, 11])
                                    .integers(2**31)))
            out["dims"].append(F.shape[1])
    return out


def _flexible_fits(lin: dict[str, Any], y: np.ndarray, K: int, G: int,
                   priors: np.ndarray | None, select: bool, probe: dict[str, Any] | None
                   ) -> dict[str, np.ndarray]:
    """The flexible read-outs of every split and feature set, trained as one stack, and the
    one-standard-error choice between them and softmax regression."""
    from .probes import StackedProbes

    probes = StackedProbes(**(probe or {})).fit(
        np.stack(lin["Zf"]), np.stack(lin["yf"]), np.stack(lin["Zv"]), np.stack(lin["yv"]), K,
        lin["seeds"], lin["dims"], (np.stack(lin["W_init"]), np.stack(lin["b_init"])))
    lp_val = probes.predict_log_proba(np.stack(lin["Zv"]))
    lp_test = probes.predict_log_proba(np.stack(lin["Zt"]))
    J = len(lin["splits"])
    out = {"flex_test": np.empty_like(lin["lin_test"]), "acc_flex": np.empty((J, G)),
           "chosen": np.zeros((J, G), bool), "h_y": np.empty(J)}
    for j, (te, val, _) in enumerate(lin["splits"]):
        out["h_y"][j] = _label_surprisal(y[te], K, priors).mean()
        for g in range(G):
            i = j * G + g
            mlp_val = point_losses(lp_val[i], y[val])
            out["chosen"][j, g] = (not select) or _one_se_choice(lin["lin_val"][j, g], mlp_val)
            if out["chosen"][j, g]:
                out["flex_test"][j, g] = point_losses(lp_test[i], y[te])
                out["acc_flex"][j, g] = np.mean(lp_test[i].argmax(1) == y[te])
            else:
                out["flex_test"][j, g] = lin["lin_test"][j, g]
                out["acc_flex"][j, g] = lin["acc_lin"][j, g]
    return out


def _gap_results(n_features: int, x_index: int | None, lin: dict[str, Any],
                 flex: dict[str, np.ndarray], confidence: float, test_fraction: float,
                 alphas: list[float], n_train: int, n_test: int) -> list[dict[str, Any]]:
    """Per feature set: the gaps' means over splits and their intervals (see the caller)."""
    ce_lin, ce_flex = lin["lin_test"].mean(axis=2), flex["flex_test"].mean(axis=2)  # (J, G)
    J, h_y = ce_lin.shape[0], flex["h_y"]
    results = []
    for g in range(n_features):
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
                out[key + "_ci"] = t_interval(v, confidence, test_fraction=test_fraction)[1:] \
                    if J > 1 else None
        chosen = flex["chosen"]
        out.update({
            "acc_linear": float(lin["acc_lin"][:, g].mean()),
            "acc_flexible": float(flex["acc_flex"][:, g].mean()),
            "mlp_chosen": float(chosen[:, g].mean()),
            "mlp_chosen_input": None if x_index is None else float(chosen[:, x_index].mean()),
            "splits": per, "n_splits": J, "n_train": n_train, "n_test": n_test,
            "alpha": alphas[0] if len(alphas) == 1 else None,
            "alpha_chosen": lin["chosen_alpha"][:, g].tolist(), "confidence": float(confidence),
            "interval": ("corrected repeated-split t interval (Nadeau & Bengio 2003) over "
                         f"{J} splits: training/test assignment and probe refits vary"
                         if J > 1 else "none (one split)"),
        })
        results.append(out)
    return results


_SPLIT_OPTIONS = frozenset({"n_splits", "test_fraction", "val_fraction", "alpha", "confidence",
                            "seed", "n_classes", "priors", "select", "probe"})


@validate(T=FEATURES, y=Labels(), X=FEATURES_OR_NONE)
def repeated_split_gaps(T: np.ndarray, y: np.ndarray, X: np.ndarray | None = None,
                        **kwargs: Any) -> dict[str, Any]:
    """:func:`layerwise_repeated_split_gaps` for one feature set T (an (n, d) array); the
    keyword arguments are the same. Introduced in lesson 03."""
    unknown = sorted(set(kwargs) - _SPLIT_OPTIONS)
    if unknown:
        raise InputTypeError(f"unknown option(s) {unknown} of repeated_split_gaps; known: "
                             f"{sorted(_SPLIT_OPTIONS)}")
    return layerwise_repeated_split_gaps([T], y, X, **kwargs)[0]
