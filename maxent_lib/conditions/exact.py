"""The feature conditions computed exactly, where P(Y|X) is known (lesson 03): the synthetic
tasks of :mod:`maxent_lib.data` integrate the labels out with the exact posterior, and
:func:`exact_condition_gaps` computes the expectations over x by quadrature
(:mod:`maxent_lib.quadrature`), with an error estimate. Also lesson 03's theorem checks: the
log-odds residual (FC2 as a property of P(Y|T)) and a feasible alternative distribution.

How :func:`exact_condition_gaps` computes its expectations over x (``method``):
``"quadrature"`` is deterministic (:mod:`maxent_lib.quadrature`, ``n_nodes`` per axis;
``accuracy`` is the change from a rule with 3/4 as many nodes per axis; ``seed``, ``n_eval`` and
``n_population`` are not used); ``"monte_carlo"`` averages over ``n_eval`` fresh points (seed
``seed + 1``) and fits q* on ``n_population`` points (seed ``seed + 2``), labels integrated out,
``accuracy`` = 2 standard errors; ``"auto"`` uses quadrature where the task and its marginal have
a rule, else Monte Carlo. With ``X_test`` the expectation over x is the average over those points
(``method`` is then ``"points"``; q* as for ``"auto"``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.special import logsumexp
from threadpoolctl import threadpool_limits

from .. import quadrature
from .._checks import check_int, check_labels, check_same_length
from ..data import GaussianMixtureTask, SyntheticTask
from ..validation import (
    Array,
    Choice,
    Function,
    Instance,
    Integer,
    Items,
    Labels,
    Probabilities,
    Real,
    Seed,
    validate,
)
from ._common import FEATURES, FRACTION, MAX_FEATURE, _check_columns, _features


def _log_posterior(task: SyntheticTask, X: np.ndarray) -> np.ndarray:
    lj = task.log_joint(X)  # log P(y | x) = log P(x, y) - log P(x), stable where P(y|x) ~ 0
    return lj - logsumexp(lj, axis=1, keepdims=True)


@validate(T=FEATURES, P=Probabilities(ndim=2), weights=Probabilities(ndim=1, atol=1e-9),
          alpha=Real(low=0.0), tol=Real(low=0.0, low_open=True),
          max_iter=Integer(low=1, high=10**5))
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
    T_arr, P_arr, w = T, P, weights
    check_same_length("T", T_arr, "P", P_arr)
    check_same_length("T", T_arr, "weights", w)
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


@validate(task=Instance((SyntheticTask,)), keep=Items(Integer(low=0), min_len=1, unique=True,
                                                     optional=True),
          transform=Function("a one-to-one map of x[keep] (n, k) -> features (n, m)",
                             optional=True),
          X_test=Array(ndim=2, optional=True), y_test=Labels(optional=True),
          n_eval=Integer(low=10, high=10**7), n_population=Integer(low=10, high=10**7),
          alpha=Real(low=0.0), seed=Seed(), method=Choice(("auto", "quadrature", "monte_carlo")),
          n_nodes=Integer(low=8, optional=True))
def exact_condition_gaps(
    task: SyntheticTask, keep: Sequence[int] | None = None,
    transform: Callable[[np.ndarray], np.ndarray] | None = None, *,
    X_test: np.ndarray | None = None, y_test: np.ndarray | None = None,
    n_eval: int = 20_000, n_population: int = 50_000, alpha: float = 0.0, seed: int = 0,
    method: str = "auto", n_nodes: int | None = None,
) -> dict[str, Any]:
    """The exact counterparts of the measured gaps for a synthetic task with known P(Y|X), for
    the features T(x) = transform(x[keep]) (``keep`` defaults to every coordinate, ``transform``
    to the identity; it must be one-to-one, like :func:`maxent_lib.data.quadratic_features`).
    No label is sampled: every expectation integrates the labels out with the exact posterior.

    Returns (nats): ``ce_bayes_input`` = H(Y|X); ``ce_bayes_features`` = H(Y|T), with P(y|T)
    from ``task.marginal(keep)``; ``ce_linear_best`` = CE_lin* = E_x sum_k P(k|x)
    (-log q*(k|T(x))), q* the population-optimal softmax regression on T (penalty ``alpha`` on
    standardised T, fitted by :func:`soft_label_softmax` against the exact posteriors);
    ``fc1_gap`` = H(Y|T) - H(Y|X), ``fc2_gap`` = CE_lin* - H(Y|T), ``total_gap`` =
    CE_lin* - H(Y|X), and lesson 03's decomposition computed separately, ``kl_fc1`` =
    E_x KL(P(Y|x) || P(Y|T(x))) and ``kl_fc2`` = E_T KL(P(Y|T) || q*(Y|T)), with total_gap =
    kl_fc1 + kl_fc2, each >= 0; ``entropy_y`` = H(Y), ``mi_input`` = I(X;Y), ``mi_features`` =
    I(T;Y); ``method``, ``accuracy`` (an estimate of the largest error, in nats), ``n_eval`` and
    ``n_population`` (the nodes or points of the expectation and of q*'s fit).

    ``method`` is "quadrature", "monte_carlo" or "auto", and with ``X_test`` the expectation is
    the average over those points ("points"; ``y_test`` is only checked): see the module
    docstring. Introduced in lesson 03.
    """
    keep_list, feature_task = _feature_task(task, keep)
    can_quad = quadrature.has_quadrature(task) and quadrature.has_quadrature(feature_task)
    if method == "quadrature" and not can_quad:
        raise ValueError(f"no quadrature rule for this task ({type(task).__name__}, "
                         f"{task.dim}-D); use method='monte_carlo'")
    use_quad = can_quad and method != "monte_carlo"
    if use_quad and X_test is None:  # checks n_nodes: it needs a coarser rule for the error
        quadrature.coarser_n(task, n_nodes)
    points = _test_points(task, X_test, y_test)
    features = functools.partial(_transformed, transform)
    sizes = {"n_population": n_population, "n_eval": n_eval, "seed": seed}

    def run(n_ax: int | None) -> tuple[dict[str, float], np.ndarray, int, int]:
        return _exact_run(task, feature_task, keep_list, features, alpha, points, use_quad,
                          n_ax, **sizes)

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


def _feature_task(task: SyntheticTask, keep: Sequence[int] | None
                  ) -> tuple[list[int], SyntheticTask]:
    """The kept coordinates and the task of the features' distribution (its marginal)."""
    keep_list = list(range(task.dim)) if keep is None else [
        check_int(k, "keep", low=0, high=task.dim - 1) for k in keep]
    if keep_list == list(range(task.dim)):
        return keep_list, task
    if not isinstance(task, GaussianMixtureTask):
        raise ValueError("dropping coordinates needs a GaussianMixtureTask (its marginal is "
                         "known exactly)")
    return keep_list, task.marginal(keep_list)


def _transformed(transform: Callable[[np.ndarray], np.ndarray] | None, T: np.ndarray
                 ) -> np.ndarray:
    if transform is None:
        return T
    out = _features(transform(T), "transform(x)")
    if len(out) != len(T):
        raise ValueError(f"transform(x) must keep the rows: {len(T)} in, {len(out)} out")
    return out


def _test_points(task: SyntheticTask, X_test: np.ndarray | None, y_test: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """Given test points as an expectation (equal weights), or None."""
    if X_test is None:
        if y_test is not None:
            raise ValueError("y_test was given without X_test")
        return None
    if X_test.shape[1] != task.dim:
        raise ValueError(f"X_test must have {task.dim} columns for this task, "
                         f"got {X_test.shape[1]}")
    if y_test is not None:
        check_same_length("X_test", X_test, "y_test", check_labels(y_test, task.n_classes,
                                                                   "y_test"))
    return X_test, np.full(len(X_test), 1.0 / len(X_test))


def _sample_points(task: SyntheticTask, n: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    X, _ = task.sample(n, seed=s)
    return X, np.full(len(X), 1.0 / len(X))


def _exact_run(task: SyntheticTask, feature_task: SyntheticTask, keep_list: list[int],
               features: Callable[[np.ndarray], np.ndarray], alpha: float,
               points: tuple[np.ndarray, np.ndarray] | None, use_quad: bool,
               n_ax: int | None, *, n_population: int, n_eval: int, seed: int
               ) -> tuple[dict[str, float], np.ndarray, int, int]:
    """One evaluation of the exact values (on quadrature nodes with ``n_ax`` per axis, or on
    Monte Carlo points or the given points): values, per-point terms, sizes."""
    if use_quad:
        fit = quadrature.quadrature_nodes(feature_task, n_ax)
        full = points or quadrature.quadrature_nodes(task, n_ax)
        marginal = fit if points is None else (full[0][:, keep_list], full[1])
    else:
        Xp, wp = _sample_points(task, n_population, seed + 2)
        fit = (Xp[:, keep_list], wp)
        full = points or _sample_points(task, n_eval, seed + 1)
        marginal = (full[0][:, keep_list], full[1])
    vals, per_point = _exact_values(task, feature_task, keep_list, features, alpha, full,
                                    marginal, fit)
    return vals, per_point, len(full[1]), len(fit[1])


class _LogOdds(Array):
    """Log-probabilities or logits (n, K) of at least two classes, not probabilities
    (non-negative rows summing to one, which no log-probabilities of two or more classes are);
    passed on as float64."""

    def check(self, value: object, name: str, args: dict[str, object]) -> np.ndarray:
        lp = super().check(value, name, args)
        if lp.shape[1] < 2:
            raise ValueError(f"{name} needs at least two classes (columns)")
        if np.all(lp >= 0) and np.allclose(lp.sum(axis=1), 1.0, atol=1e-9):
            raise ValueError(f"{name} holds probabilities (non-negative rows summing to one); "
                             "pass log-probabilities, e.g. np.log(probs)")
        return lp

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        lp = np.asarray(example, dtype=float)
        return [*super().bad_values(example), ("probabilities", np.exp(lp), "value"),
                ("one_class", lp[:, :1], "value")]


@validate(T=FEATURES, log_probs=_LogOdds(ndim=2, max_abs=MAX_FEATURE))
def log_odds_affine_residual(T: np.ndarray, log_probs: np.ndarray) -> float:
    """How far the class log-odds are from affine in T (FC2): fit log P(y=k|t) - log P(y=0|t),
    k = 1..K-1, by least squares on [T, 1] and return the root-mean-square residual (nats).
    It is 0 (up to rounding) exactly when FC2 holds on these points. The log-odds do not change
    when a row of ``log_probs`` is shifted, so unnormalised log-probabilities (logits) give the
    same answer; probabilities passed by mistake (non-negative rows summing to one, which no
    log-probabilities of two or more classes are) raise ``ValueError``. Introduced in
    lesson 03."""
    T_arr, lp = T, log_probs
    check_same_length("T", T_arr, "log_probs", lp)
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


@validate(T=FEATURES, probs=Probabilities(ndim=2), step=FRACTION, seed=Seed(),
          min_prob=Real(low=0.0, high=1.0, high_open=True), max_points=Integer(low=1))
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
    T_arr, P = T, probs
    check_same_length("T", T_arr, "probs", P)
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
