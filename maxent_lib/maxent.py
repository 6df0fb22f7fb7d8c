"""The discrete maximum-entropy problem and its convex dual (lesson 01).

States k = 1..K carry feature values F[k] = (f_1(k), ..., f_m(k)). The problem

    maximise H(p) = -sum_k p_k log p_k   subject to   sum_k p_k F[k] = target,  sum_k p_k = 1

has, when ``target`` lies in the relative interior of the convex hull of the rows of F, the unique
solution of Gibbs form (stationarity of the Lagrangian)

    p_k(lambda) = exp(lambda . F[k]) / Z(lambda),   Z(lambda) = sum_k exp(lambda . F[k]),

where lambda minimises the convex dual

    D(lambda) = log Z(lambda) - lambda . target,
    grad D    = E_p[f] - target,     Hess D = Cov_p[f]  (positive semi-definite).

At the optimum H(p*) = D(lambda*) = log Z(lambda*) - lambda* . target, and every feasible q
satisfies the Pythagorean identity H(q) = H(p*) - KL(q || p*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.special import logsumexp

from ._checks import as_finite_array

__all__ = ["MaxEntSolution", "dual", "gibbs", "solve_maxent"]


@dataclass(frozen=True)
class MaxEntSolution:
    """The max-ent distribution ``p`` (K,), its multipliers ``lambdas`` (m,), its ``entropy``
    (nats), ``log_partition`` log Z(lambda*), the Newton steps taken ``n_iter`` and the largest
    constraint violation ``max_constraint_error`` = max_i |E_p[f_i] - target_i|."""

    p: np.ndarray
    lambdas: np.ndarray
    entropy: float
    log_partition: float
    n_iter: int
    max_constraint_error: float


def _check_F_target(F: object, target: object) -> tuple[np.ndarray, np.ndarray]:
    F_arr = as_finite_array(F, "F", ndim=(1, 2))
    if F_arr.ndim == 1:  # one feature: a column
        F_arr = F_arr[:, None]
    t_arr = as_finite_array(target, "target", ndim=(0, 1)).reshape(-1)
    if t_arr.shape[0] != F_arr.shape[1]:
        raise ValueError(f"target has {t_arr.shape[0]} entries but F has {F_arr.shape[1]} feature "
                         f"columns (F must have shape (K states, m features))")
    return F_arr, t_arr


def gibbs(F: object, lambdas: object) -> tuple[np.ndarray, float]:
    """The Gibbs distribution p_k = exp(lambda . F[k]) / Z and log Z, computed stably.
    Introduced in lesson 01."""
    F_arr = as_finite_array(F, "F", ndim=(1, 2))
    F_arr = F_arr[:, None] if F_arr.ndim == 1 else F_arr
    lam = as_finite_array(lambdas, "lambdas", ndim=(0, 1)).reshape(-1)
    if lam.shape[0] != F_arr.shape[1]:
        raise ValueError(f"lambdas has {lam.shape[0]} entries but F has {F_arr.shape[1]} columns")
    s = F_arr @ lam
    log_z = float(logsumexp(s))
    return np.exp(s - log_z), log_z


def dual(F: object, target: object, lambdas: object) -> tuple[float, np.ndarray, np.ndarray]:
    """The dual D(lambda) = log Z(lambda) - lambda . target with its gradient E_p[f] - target and
    Hessian Cov_p[f] (positive semi-definite, so D is convex). Introduced in lesson 01."""
    F_arr, t_arr = _check_F_target(F, target)
    lam = as_finite_array(lambdas, "lambdas", ndim=(0, 1)).reshape(-1)
    if lam.shape != t_arr.shape:
        raise ValueError(f"lambdas must have {t_arr.shape[0]} entries, got {lam.shape[0]}")
    p, log_z = gibbs(F_arr, lam)
    mean = p @ F_arr
    centred = F_arr - mean
    return log_z - float(lam @ t_arr), mean - t_arr, (centred * p[:, None]).T @ centred


def _interior_margin(F: np.ndarray, target: np.ndarray) -> float | None:
    """max over feasible q of min_k q_k (an LP), or None when no feasible q exists.

    Positive: ``target`` is in the relative interior of the hull (some feasible q has full
    support). Zero: it is on the boundary (every feasible q has a zero entry)."""
    K, m = F.shape
    # variables (q_1..q_K, t); maximise t subject to q_k >= t, sum q = 1, F^T q = target
    c = np.r_[np.zeros(K), -1.0]
    A_ub = np.hstack([-np.eye(K), np.ones((K, 1))])
    A_eq = np.vstack([np.r_[np.ones(K), 0.0], np.hstack([F.T, np.zeros((m, 1))])])
    b_eq = np.r_[1.0, target]
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(K), A_eq=A_eq, b_eq=b_eq,
                  bounds=[(0, None)] * K + [(0, 1)], method="highs")
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"the feasibility check failed: {res.message}")
    return float(-res.fun)


def solve_maxent(F: object, target: object, tol: float = 1e-12, max_iter: int = 200,
                 boundary_tol: float = 1e-9) -> MaxEntSolution:
    """Solve max H(p) subject to E_p[f] = target over K discrete states (module docstring).

    ``F`` has shape (K, m) (a 1-D ``F`` is one feature), ``target`` shape (m,). Steps:

    1. Feasibility, by a linear programme: if no distribution q has F^T q = target (the target
       is outside the convex hull of F's rows), raise ``ValueError`` ("infeasible"). If every
       feasible q gives zero probability to some state (max_q min_k q_k <= ``boundary_tol``: the
       target is on the boundary of the hull), raise ``ValueError`` too: the max-ent solution then
       has zeros, and no finite lambda reaches it (Gibbs form needs lambda -> infinity).
    2. Newton's method on the convex dual with a backtracking line search. The Newton system uses
       the pseudo-inverse of Cov_p[f], so redundant or collinear features (including ones that
       are constant across states) are handled: lambda is the minimum-norm optimum.

    Stops when max_i |E_p[f_i] - target_i| <= tol * max(1, max |F|). Raises ``ValueError`` on bad
    shapes, NaN/inf, or a non-positive ``tol``, negative ``max_iter`` or ``boundary_tol``;
    ``RuntimeError`` if Newton's method does not reach the constraints within ``max_iter`` steps.
    Introduced in lesson 01.
    """
    F_arr, t_arr = _check_F_target(F, target)
    if not isinstance(tol, (int, float, np.integer, np.floating)) or not (
            np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if not isinstance(max_iter, (int, np.integer)) or isinstance(max_iter, bool) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if not isinstance(boundary_tol, (int, float, np.integer, np.floating)) or not (
            np.isfinite(boundary_tol) and boundary_tol >= 0):
        raise ValueError(f"boundary_tol must be a non-negative number, got {boundary_tol!r}")
    margin = _interior_margin(F_arr, t_arr)
    if margin is None:
        raise ValueError(
            f"infeasible constraints: the target {np.round(t_arr, 6).tolist()} lies outside the "
            "convex hull of the feature vectors F[k] of the states, so no probability "
            "distribution has these expectations")
    if margin <= boundary_tol:
        raise ValueError(
            f"the target {np.round(t_arr, 6).tolist()} lies on the boundary of the convex hull of "
            "the feature vectors F[k]: every feasible distribution gives zero probability to some "
            "states, so the maximum-entropy distribution is not of Gibbs form with finite "
            "multipliers (lambda would have to go to infinity). Drop those states or move the "
            "target inside the hull")
    scale = max(1.0, float(np.max(np.abs(F_arr))))
    lam = np.zeros(F_arr.shape[1])
    value, grad, hess = dual(F_arr, t_arr, lam)
    n_iter = 0
    while np.max(np.abs(grad)) > tol * scale and n_iter < max_iter:
        w, V = np.linalg.eigh(hess)
        keep = w > max(w[-1], 0.0) * 1e-13
        step = -(V[:, keep] @ ((V[:, keep].T @ grad) / w[keep]))
        slope = float(grad @ step)
        if slope >= 0:  # numerically lost descent: use the gradient
            step, slope = -grad, -float(grad @ grad)
        t = 1.0
        while True:
            new_value, new_grad, new_hess = dual(F_arr, t_arr, lam + t * step)
            if new_value <= value + 1e-4 * t * slope or -slope < 1e-14 or t < 1e-12:
                break
            t *= 0.5
        lam, value, grad, hess = lam + t * step, new_value, new_grad, new_hess
        n_iter += 1
    error = float(np.max(np.abs(grad)))
    if error > max(tol * scale, 1e-9 * scale):
        raise RuntimeError(f"Newton's method did not reach the constraints after {n_iter} steps "
                           f"(largest violation {error:.2e}); the target may be extremely close "
                           "to the boundary of the convex hull")
    p, log_z = gibbs(F_arr, lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = float(-np.sum(np.where(p > 0, p * np.log(p), 0.0)))
    return MaxEntSolution(p=p, lambdas=lam, entropy=h, log_partition=log_z, n_iter=n_iter,
                          max_constraint_error=error)
