"""The two feature conditions, measured (lesson 03; used per layer in lessons 04-06).

Softmax regression on features T recovers the true P(Y|X) exactly when

- **FC1, sufficiency:** Y is independent of X given T(X), i.e. P(y|x) = P(y|T(x)), and
- **FC2, log-linearity:** the class log-odds are affine in T, P(y|T) = softmax(W T + b).

On held-out data, with mean cross-entropies in nats,

    CE_lin(T)   softmax regression on T (lightly L2-penalised, see below)
    CE_flex(T)  a flexible, early-stopped probe on T (:class:`FlexibleProbe`)
    CE_flex(X)  the same probe on the raw input X

    FC2 gap = CE_lin(T) - CE_flex(T)        (what a linear read-out misses but T still holds)
    FC1 gap = CE_flex(T) - CE_flex(X)       (what T lost about Y)

and the two add up to CE_lin(T) - CE_flex(X), the whole excess of the linear read-out. Each gap is
an estimate: the probe is only near-Bayes, so a gap whose condition holds comes out close to 0
with either sign, and :func:`feature_condition_gaps` gives a paired bootstrap interval over test
points for it. H(Y) - CE_flex(T) is a lower bound on I(T; Y) (Barber & Agakov 2003): any model
q(y|t) gives E[-log q(Y|T)] >= H(Y|T).

Where P(Y|X) is known (the synthetic tasks of :mod:`maxent_lib.data`),
:func:`exact_condition_gaps` gives the same quantities with the Bayes cross-entropies instead of
the probe and the population-optimal linear read-out instead of the fitted one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from scipy.special import logsumexp

from ._checks import as_finite_array, check_labels, check_probabilities, check_same_length
from .data import GaussianMixtureTask, SyntheticTask
from .runtime import progress_bar
from .softmax import SoftmaxRegression, log_softmax

__all__ = [
    "DEFAULT_ALPHA",
    "FlexibleProbe",
    "exact_condition_gaps",
    "feature_condition_gaps",
    "layerwise_condition_gaps",
    "feasible_alternative",
    "linear_probe",
    "log_odds_affine_residual",
    "paired_bootstrap_ci",
    "point_losses",
]

#: L2 penalty of the linear read-out, on standardised features: mean CE + (alpha/2)||W||^2.
#: Small enough that it changes a finite optimum's test CE by well under 0.01 nats at n in the
#: thousands, large enough that separable features (common in trained nets) get a finite answer.
DEFAULT_ALPHA = 1e-4


# ---------------------------------------------------------------- helpers

def _standardiser(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = T.mean(axis=0)
    sd = T.std(axis=0)
    sd[sd < 1e-8] = 1.0  # constant columns (e.g. dead ReLU units) stay constant (zero)
    return mu, sd


def point_losses(log_probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-point cross-entropy -log q(y_i | x_i) from log-probabilities (n, K), in nats.
    Introduced in lesson 03."""
    lp = as_finite_array(log_probs, "log_probs", ndim=2)
    y_arr = check_labels(y, lp.shape[1])
    check_same_length("log_probs", lp, "y", y_arr)
    return -lp[np.arange(len(y_arr)), y_arr]


def paired_bootstrap_ci(losses_a: np.ndarray, losses_b: np.ndarray, *, n_bootstrap: int = 1000,
                        confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(losses_a - losses_b), resampling test points (the
    same resample for both, so the interval is for the paired difference). Introduced in
    lesson 03."""
    a = as_finite_array(losses_a, "losses_a", ndim=1)
    b = as_finite_array(losses_b, "losses_b", ndim=1)
    check_same_length("losses_a", a, "losses_b", b)
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be a positive integer, got {n_bootstrap!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
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
    ``alpha`` scale-free. Introduced in lesson 03."""
    T = as_finite_array(T_train, "T_train", ndim=2)
    mu, sd = _standardiser(T)
    model = SoftmaxRegression(alpha=alpha).fit((T - mu) / sd, y_train, n_classes=n_classes)

    def log_proba(T_new: np.ndarray) -> np.ndarray:
        return log_softmax(model.decision_function((np.asarray(T_new, float) - mu) / sd))

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
        if not isinstance(width, (int, np.integer)) or width < 1:
            raise ValueError(f"width must be a positive integer, got {width!r}")
        if not 0 < val_fraction < 1:
            raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
        if weight_decay < 0 or lr <= 0 or max_epochs < 1 or patience < 1:
            raise ValueError("weight_decay must be >= 0, lr > 0, max_epochs and patience >= 1")
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
        T_arr = as_finite_array(T, "T", ndim=2)
        y_arr = check_labels(y, n_classes)
        check_same_length("T", T_arr, "y", y_arr)
        K = int(n_classes) if n_classes is not None else int(y_arr.max()) + 1
        n = len(y_arr)
        n_val = int(round(self.val_fraction * n))
        if n_val < 2 or n - n_val < 2:
            raise ValueError(f"{n} training points are too few for a held-out part; need >= 10")
        self.mu_, self.sd_ = _standardiser(T_arr)
        Z = (T_arr - self.mu_) / self.sd_
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
        T_arr = as_finite_array(T, "T", ndim=2)
        if T_arr.shape[1] != self.n_features_in_:
            raise ValueError(f"T must have {self.n_features_in_} columns (as in fit), "
                             f"got {T_arr.shape[1]}")
        z = torch.tensor((T_arr - self.mu_) / self.sd_, dtype=torch.float32)
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
    Ttr = as_finite_array(T_train, names[0], ndim=2)
    Tte = as_finite_array(T_test, names[1], ndim=2)
    if Ttr.shape[1] != Tte.shape[1]:
        raise ValueError(f"{names[0]} has {Ttr.shape[1]} columns but {names[1]} has "
                         f"{Tte.shape[1]}; they must match")
    if n_classes is not None and (not isinstance(n_classes, (int, np.integer)) or n_classes < 2):
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    ytr = check_labels(y_train, n_classes, "y_train")
    yte = check_labels(y_test, n_classes, "y_test")
    check_same_length(names[0], Ttr, "y_train", ytr)
    check_same_length(names[1], Tte, "y_test", yte)
    K = int(n_classes) if n_classes is not None else int(max(ytr.max(), yte.max())) + 1
    if len(np.unique(ytr)) < 2:
        raise ValueError("y_train holds a single class; the conditions need at least two")
    return Ttr, ytr, Tte, yte, K


def _entropy_of_labels(y: np.ndarray, K: int) -> float:
    p = np.bincount(y, minlength=K) / len(y)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def feature_condition_gaps(
    T_train: np.ndarray, y_train: np.ndarray, T_test: np.ndarray, y_test: np.ndarray,
    X_train: np.ndarray | None = None, X_test: np.ndarray | None = None, *,
    alpha: float = DEFAULT_ALPHA, n_bootstrap: int = 1000, seed: int = 0,
    n_classes: int | None = None, confidence: float = 0.95,
    input_losses: np.ndarray | None = None,
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
    - ``entropy_y`` = H(Y) from the training label frequencies and ``mi_lower_bound`` =
      H(Y) - CE_flex(T) <= I(T; Y) (Barber & Agakov), with ``mi_lower_bound_ci``;
    - ``acc_linear``, ``acc_flexible`` (test accuracies), ``n_train``, ``n_test``, and
      ``losses``: the per-test-point losses {"linear", "flexible", "flexible_input"}.

    ``input_losses`` (per-test-point losses of the probe on X, e.g. ``losses["flexible_input"]``
    of an earlier call on the same split) skips refitting the probe on X; X_test is then not
    needed. A gap near 0 whose interval covers 0 means "holds, as far as this probe can tell".
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
    if not isinstance(n_bootstrap, (int, np.integer)) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be a positive integer, got {n_bootstrap!r}")

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

    h_y = _entropy_of_labels(ytr, K)
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
    lo, hi = ci(np.full_like(loss_flex, h_y), loss_flex)
    out["mi_lower_bound_ci"] = (lo, hi)
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


# ---------------------------------------------------------------- the truth, where it is known

def exact_condition_gaps(
    task: SyntheticTask, keep: Sequence[int] | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None, *,
    X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
    n_eval: int = 20_000, n_population: int = 50_000, alpha: float = 0.0, seed: int = 0,
) -> dict[str, Any]:
    """The exact counterparts of :func:`feature_condition_gaps` for a synthetic task with known
    P(Y|X), for the features T(x) = transform(x[keep]) (``keep`` defaults to every coordinate,
    ``transform`` to the identity; it must be one-to-one, like
    :func:`maxent_lib.data.quadratic_features`, so that T loses exactly what ``keep`` drops).

    - ``ce_bayes_input`` = E[-log P(Y | X)]: the Bayes cross-entropy H(Y | X);
    - ``ce_bayes_features`` = E[-log P(Y | T)] = H(Y | T), with P(y | T) from
      ``task.marginal(keep)`` (a :class:`~maxent_lib.data.GaussianMixtureTask` is needed to drop
      coordinates);
    - ``ce_linear_best``: the CE of the population-optimal softmax regression on T, approximated
      by fitting :class:`~maxent_lib.softmax.SoftmaxRegression` (penalty ``alpha``, default 0) on
      ``n_population`` fresh points;
    - ``fc1_gap`` = H(Y|T) - H(Y|X) = I(X; Y) - I(T; Y) >= 0, ``fc2_gap`` = CE_lin* - H(Y|T) >= 0;
    - ``entropy_y`` = H(Y) from the priors, ``mi_input`` = H(Y) - CE_bayes(X) and
      ``mi_features`` = H(Y) - CE_bayes(T) (sample estimates of I(X;Y), I(T;Y)).

    The expectations are averages over ``(X_test, y_test)`` when given (so they pair with a
    probe's estimates on the same points), else over ``n_eval`` fresh points (seed ``seed+1``).
    Introduced in lesson 03.
    """
    if not isinstance(task, SyntheticTask):
        raise ValueError(f"task must be a SyntheticTask with a known posterior, got "
                         f"{type(task).__name__}")
    if (X_test is None) != (y_test is None):
        raise ValueError("give both X_test and y_test, or neither")
    if X_test is None:
        X_test, y_test = task.sample(n_eval, seed=seed + 1)
    X_te = as_finite_array(X_test, "X_test", ndim=2)
    if X_te.shape[1] != task.dim:
        raise ValueError(f"X_test must have {task.dim} columns for this task, got {X_te.shape[1]}")
    y_te = check_labels(y_test, task.n_classes, "y_test")
    check_same_length("X_test", X_te, "y_test", y_te)
    keep_list = list(range(task.dim)) if keep is None else [int(k) for k in keep]
    if keep_list != list(range(task.dim)):
        if not isinstance(task, GaussianMixtureTask):
            raise ValueError("dropping coordinates needs a GaussianMixtureTask (its marginal is "
                             "known exactly)")
        feature_task: SyntheticTask = task.marginal(keep_list)
    else:
        feature_task = task

    def features(X: np.ndarray) -> np.ndarray:
        T = X[:, keep_list]
        return T if transform is None else np.asarray(transform(T), float)

    def bayes_ce(t: SyntheticTask, X: np.ndarray) -> float:
        lj = t.log_joint(X)  # log P(y | x) = log P(x, y) - log P(x), stable where P(y|x) ~ 0
        return float(point_losses(lj - logsumexp(lj, axis=1, keepdims=True), y_te).mean())

    ce_x = bayes_ce(task, X_te)
    ce_t = bayes_ce(feature_task, X_te[:, keep_list])
    X_pop, y_pop = task.sample(n_population, seed=seed + 2)
    lin = linear_probe(features(X_pop), y_pop, task.n_classes, alpha)
    ce_lin = float(point_losses(lin(features(X_te)), y_te).mean())
    h_y = float(-(task.priors * np.log(task.priors)).sum())
    return {
        "ce_bayes_input": ce_x, "ce_bayes_features": ce_t, "ce_linear_best": ce_lin,
        "fc1_gap": ce_t - ce_x, "fc2_gap": ce_lin - ce_t, "total_gap": ce_lin - ce_x,
        "entropy_y": h_y, "mi_input": h_y - ce_x, "mi_features": h_y - ce_t,
        "n_eval": len(y_te), "n_population": int(n_population),
    }


# ---------------------------------------------------------------- checks used in lesson 03

def log_odds_affine_residual(T: np.ndarray, log_probs: np.ndarray) -> float:
    """How far the class log-odds are from affine in T (FC2): fit log P(y=k|t) - log P(y=0|t),
    k = 1..K-1, by least squares on [T, 1] and return the root-mean-square residual (nats).
    It is 0 (up to rounding) exactly when FC2 holds on these points. Introduced in lesson 03."""
    T_arr = as_finite_array(T, "T", ndim=2)
    lp = as_finite_array(log_probs, "log_probs", ndim=2)
    check_same_length("T", T_arr, "log_probs", lp)
    if lp.shape[1] < 2:
        raise ValueError("log_probs needs at least two classes (columns)")
    odds = lp[:, 1:] - lp[:, :1]
    A = np.hstack([T_arr, np.ones((len(T_arr), 1))])
    coef, *_ = np.linalg.lstsq(A, odds, rcond=None)
    return float(np.sqrt(np.mean((A @ coef - odds) ** 2)))


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
    T_arr = as_finite_array(T, "T", ndim=2)
    P = check_probabilities(as_finite_array(probs, "probs", ndim=2), "probs")
    check_same_length("T", T_arr, "probs", P)
    if not 0 < step < 1:
        raise ValueError(f"step must lie strictly between 0 and 1, got {step}")
    movable = P > min_prob
    rows = np.flatnonzero(movable.sum(axis=1) >= 2)[:max_points]
    A = np.hstack([T_arr[rows], np.ones((len(rows), 1))])
    ii, kk = np.nonzero(movable[rows])  # the free entries (row in ``rows``, class)
    K, m1 = P.shape[1], A.shape[1]
    if len(ii) <= len(rows) + K * m1:
        raise ValueError(f"too few entries above min_prob = {min_prob} to move while keeping "
                         "the constraints; lower min_prob or give more points")
    C = np.zeros((len(rows) + K * m1, len(ii)))
    C[ii, np.arange(len(ii))] = 1.0  # row sums
    for j in range(m1):  # class moments: sum_i D[i, k] A[i, j]
        C[len(rows) + kk * m1 + j, np.arange(len(ii))] = A[ii, j]
    g = np.random.default_rng(seed).normal(size=len(ii))
    d = g - C.T @ np.linalg.lstsq(C.T, g, rcond=None)[0]  # null-space part of g
    neg = d < 0
    t_max = float(np.min(P[rows[ii[neg]], kk[neg]] / -d[neg]))
    Q = P.copy()
    Q[rows[ii], kk] += step * t_max * d
    return Q
