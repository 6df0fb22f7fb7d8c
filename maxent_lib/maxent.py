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
from scipy import sparse
from scipy.optimize import linprog
from scipy.special import logsumexp

from .validation import Array, Integer, Labels, Probabilities, Real, Seed, validate

__all__ = ["MAX_FEATURES", "MaxEntSolution", "bias_preserving_swap", "dual", "gibbs",
           "penalised_duality_gap", "penalised_primal", "solve_maxent"]


@dataclass(frozen=True)
class MaxEntSolution:
    """The max-ent distribution ``p`` (K,), its multipliers ``lambdas`` (m,), its ``entropy``
    (nats), ``log_partition`` log Z(lambda*), the Newton steps taken ``n_iter`` and the largest
    constraint violation ``max_constraint_error`` = max_i |E_p[f_i] - target_i|.
    Introduced in lesson 01."""

    p: np.ndarray
    lambdas: np.ndarray
    entropy: float
    log_partition: float
    n_iter: int
    max_constraint_error: float


#: The feature values F[k] of the states: (K,) for one feature, or (K, m).
_FEATURES = Array(ndim=(1, 2))
#: One number per feature: a number for one feature, or (m,).
_PER_FEATURE = Array(ndim=(0, 1))


def _check_F_target(F_arr: np.ndarray, t_arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F as (K, m) (a 1-D F is one feature: a column) and the target as (m,), which must
    match."""
    if F_arr.ndim == 1:  # one feature: a column
        F_arr = F_arr[:, None]
    t_arr = t_arr.reshape(-1)
    if t_arr.shape[0] != F_arr.shape[1]:
        raise ValueError(f"target has {t_arr.shape[0]} entries but F has {F_arr.shape[1]} feature "
                         f"columns (F must have shape (K states, m features))")
    return F_arr, t_arr


def _check_lambdas(lambdas: np.ndarray, m: int) -> np.ndarray:
    lam = lambdas.reshape(-1)
    if lam.shape[0] != m:
        raise ValueError(f"lambdas has {lam.shape[0]} entries but F has {m} feature columns")
    return lam


def _scores(F: np.ndarray, lam: np.ndarray, what: str = "lambda . F[k]") -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        s = F @ lam
    if not np.all(np.isfinite(s)):
        raise ValueError(f"the scores {what} overflow float64 (|lambdas| times |F| is beyond "
                         "1.8e308), so the Gibbs distribution and log Z cannot be computed; "
                         "use smaller lambdas or rescale F")
    return s


def _gibbs(F: np.ndarray, lam: np.ndarray) -> tuple[np.ndarray, float]:
    s = _scores(F, lam)
    w = np.exp(s - s.max())  # the largest weight is 1: no overflow, full precision
    total = float(w.sum())
    return w / total, float(s.max() + np.log(total))


def _dual(F: np.ndarray, t: np.ndarray, lam: np.ndarray
          ) -> tuple[float, np.ndarray, np.ndarray]:
    p, _ = _gibbs(F, lam)
    # D = log Z - lambda . t = logsumexp_k lambda . (F[k] - t): no cancellation of two large terms
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = F - t
    if not np.all(np.isfinite(shifted)):
        raise ValueError("F - target overflows float64; rescale F and target")
    value = float(logsumexp(_scores(shifted, lam, "lambda . (F[k] - target)")))
    mean = p @ F
    centred = F - mean
    return value, mean - t, (centred * p[:, None]).T @ centred


@validate(F=_FEATURES, lambdas=_PER_FEATURE)
def gibbs(F: object, lambdas: object) -> tuple[np.ndarray, float]:
    """The Gibbs distribution p_k = exp(lambda . F[k]) / Z and log Z, computed stably
    (log-domain: log Z = logsumexp_k lambda . F[k]). Raises ``ValueError`` on bad shapes or
    NaN/inf, and when the scores lambda . F[k] overflow float64 (log Z is then not representable).
    Introduced in lesson 01."""
    F_arr = F[:, None] if F.ndim == 1 else F
    return _gibbs(F_arr, _check_lambdas(lambdas, F_arr.shape[1]))


@validate(F=_FEATURES, target=_PER_FEATURE, lambdas=_PER_FEATURE)
def dual(F: object, target: object, lambdas: object) -> tuple[float, np.ndarray, np.ndarray]:
    """The dual D(lambda) = log Z(lambda) - lambda . target with its gradient E_p[f] - target and
    Hessian Cov_p[f] (positive semi-definite, so D is convex). D is computed as
    logsumexp_k lambda . (F[k] - target), which equals log Z - lambda . target without the
    cancellation of two large terms at large lambda. Raises ``ValueError`` on bad shapes, NaN/inf,
    or scores that overflow float64. Introduced in lesson 01."""
    F_arr, t_arr = _check_F_target(F, target)
    lam = _check_lambdas(lambdas, F_arr.shape[1])
    return _dual(F_arr, t_arr, lam)


def _standardise(F: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                         np.ndarray, np.ndarray]:
    """Affine map of each feature column onto [-1, 1]: F' = (F - c) / s, t' = (t - c) / s with c
    the column's midrange and s a power of two at least its half-range (so the scaling is exact).
    The max-ent distribution does not change (lambda' = lambda * s). Constant columns are
    dropped: their constraint holds for every distribution or for none. Returns F', t', c, s and
    the mask of kept columns."""
    hi, lo = F.max(axis=0), F.min(axis=0)
    c = hi / 2 + lo / 2  # no overflow even for entries near +-1.8e308
    half = hi / 2 - lo / 2
    keep = half > 0
    for j in np.flatnonzero(~keep):
        if not np.isclose(t[j], c[j], rtol=1e-9, atol=0.0):
            raise ValueError(
                f"infeasible constraints: feature {j} is constant (= {c[j]:.6g}) across the "
                f"states, so every distribution has E[f_{j}] = {c[j]:.6g}, but its target is "
                f"{t[j]:.6g}")
    exponent = np.frexp(np.where(keep, half, 1.0))[1]  # half <= 2**exponent
    s = np.ldexp(1.0, exponent)
    with np.errstate(over="ignore"):
        Fs = (F[:, keep] - c[keep]) / s[keep]
        ts = (t[keep] - c[keep]) / s[keep]
    if not (np.all(np.isfinite(Fs)) and np.all(np.isfinite(ts))):
        raise ValueError("infeasible constraints: the target is further from the feature values "
                         "than float64 can represent (target far outside the convex hull of F)")
    return Fs, ts, c, s, keep


def _interior_margin(F: np.ndarray, target: np.ndarray) -> float | None:
    """max over feasible q of min_k q_k (an LP), or None when no feasible q exists.

    Positive: ``target`` is in the relative interior of the hull (some feasible q has full
    support). Zero: it is on the boundary (every feasible q has a zero entry). ``F`` and
    ``target`` should be standardised (:func:`_standardise`): the LP solver's feasibility
    tolerance is absolute."""
    K, m = F.shape
    # variables (q_1..q_K, t); maximise t subject to q_k >= t, sum q = 1, F^T q = target
    c = np.r_[np.zeros(K), -1.0]
    A_ub = sparse.hstack([-sparse.eye(K), sparse.csr_matrix(np.ones((K, 1)))]).tocsr()
    A_eq = sparse.vstack([sparse.csr_matrix(np.r_[np.ones(K), 0.0][None, :]),
                          sparse.csr_matrix(np.hstack([F.T, np.zeros((m, 1))]))]).tocsr()
    b_eq = np.r_[1.0, target]
    res = linprog(c, A_ub=A_ub, b_ub=np.zeros(K), A_eq=A_eq, b_eq=b_eq,
                  bounds=[(0, None)] * K + [(0, 1)], method="highs")
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"the feasibility check failed: {res.message}")
    return float(-res.fun)


#: the most feature columns :func:`solve_maxent` accepts (it forms m x m matrices)
MAX_FEATURES = 2000


@validate(F=_FEATURES, target=_PER_FEATURE, tol=Real(low=0.0, low_open=True),
          max_iter=Integer(low=0), boundary_tol=Real(low=0.0))
def solve_maxent(F: object, target: object, tol: float = 1e-12, max_iter: int = 200,
                 boundary_tol: float = 1e-9) -> MaxEntSolution:
    """Solve max H(p) subject to E_p[f] = target over K discrete states (module docstring).

    ``F`` has shape (K, m) (a 1-D ``F`` is one feature), ``target`` shape (m,). Steps:

    0. Each feature column is mapped onto [-1, 1] by f' = (f - c) / s (c its midrange, s a power
       of two), which leaves the max-ent distribution unchanged (lambda = lambda' / s) and makes
       the solver independent of the features' units: features at scale 1e-12 or 1e15, or with a
       large offset, are solved like features at scale 1. A feature constant across the states
       is dropped (its lambda is 0) after checking that its target equals the constant.
    1. Feasibility, by a linear programme: if no distribution q has F^T q = target (the target
       is outside the convex hull of F's rows), raise ``ValueError`` ("infeasible"). If every
       feasible q gives zero probability to some state (max_q min_k q_k <= ``boundary_tol``: the
       target is on the boundary of the hull), raise ``ValueError`` too: the max-ent solution then
       has zeros, and no finite lambda reaches it (Gibbs form needs lambda -> infinity).
    2. Newton's method on the convex dual with a backtracking line search. The Newton system uses
       the pseudo-inverse of Cov_p[f], so redundant or collinear features are handled: lambda is
       the minimum-norm optimum (in the standardised units).

    Stops when every constraint holds to ``tol`` relative to its feature's range:
    max_i |E_p[f_i] - target_i| / s_i <= tol. ``max_constraint_error`` is reported in the
    features' own units. Raises ``ValueError`` on bad shapes, NaN/inf, more than
    :data:`MAX_FEATURES` columns, a ``tol`` that is not a positive number (``True`` is not a
    number), ``max_iter`` that is not a non-negative integer or ``boundary_tol`` that is not a
    non-negative number, and when the log partition function overflows float64; ``RuntimeError``
    if Newton's method does not reach the constraints within ``max_iter`` steps.
    Introduced in lesson 01.
    """
    F_arr, t_arr = _check_F_target(F, target)
    m = F_arr.shape[1]
    if m > MAX_FEATURES:
        raise ValueError(f"F has {m} feature columns; solve_maxent supports at most "
                         f"{MAX_FEATURES} (it forms m x m matrices)")
    Fs, ts, c, s, kept = _standardise(F_arr, t_arr)
    _check_interior(Fs, ts, t_arr, boundary_tol)
    lam_s, n_iter = np.zeros(Fs.shape[1]), 0
    if Fs.shape[1]:
        lam_s, n_iter, grad = _newton(Fs, ts, tol, max_iter)
        error = float(np.max(np.abs(grad) * s[kept]))
    else:  # every feature is constant: no constraint binds, the answer is uniform
        error = float(np.max(np.abs(t_arr - c)))
    p, log_z_s = _gibbs(Fs, lam_s)
    lam = np.zeros(m)
    lam[kept] = lam_s / s[kept]
    # log Z(lambda) = log sum_k exp(lambda . F[k]) = log Z'(lambda') + lambda . c
    with np.errstate(over="ignore", invalid="ignore"):
        log_z = log_z_s + float(lam[kept] @ c[kept])
    if not np.isfinite(log_z):
        raise ValueError("the log partition function log Z = log sum_k exp(lambda . F[k]) "
                         "overflows float64 for these features (a huge offset in F); the "
                         "distribution is fine but cannot be reported with log Z; subtract a "
                         "constant from F and target")
    with np.errstate(divide="ignore", invalid="ignore"):
        h = float(-np.sum(np.where(p > 0, p * np.log(p), 0.0)))
    return MaxEntSolution(p=p, lambdas=lam, entropy=h, log_partition=log_z, n_iter=n_iter,
                          max_constraint_error=error)


def _check_interior(Fs: np.ndarray, ts: np.ndarray, t_arr: np.ndarray,
                    boundary_tol: float) -> None:
    """Step 1 of :func:`solve_maxent`: raise ``ValueError`` unless the (standardised) target
    lies in the relative interior of the hull of F's rows."""
    if np.any(np.abs(ts) > 1 + 1e-7):
        margin = None  # every feature value lies in [-1, 1], so every expectation does too
    else:
        margin = _interior_margin(Fs, ts)
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


def _newton(Fs: np.ndarray, ts: np.ndarray, tol: float,
            max_iter: int) -> tuple[np.ndarray, int, np.ndarray]:
    """Step 2 of :func:`solve_maxent`: Newton's method on the dual with a backtracking line
    search, from lambda = 0. Returns lambda, the number of steps and the final gradient (the
    constraint violations); ``RuntimeError`` if they are not within ``tol``."""
    lam_s = np.zeros(Fs.shape[1])
    n_iter = 0
    value, grad, hess = _dual(Fs, ts, lam_s)
    while np.max(np.abs(grad)) > tol and n_iter < max_iter:
        w, V = np.linalg.eigh(hess)
        keep = w > max(w[-1], 0.0) * 1e-13
        step = -(V[:, keep] @ ((V[:, keep].T @ grad) / w[keep]))
        slope = float(grad @ step)
        if slope >= 0:  # numerically lost descent: use the gradient
            step, slope = -grad, -float(grad @ grad)
        t = 1.0
        while True:
            new_value, new_grad, new_hess = _dual(Fs, ts, lam_s + t * step)
            if new_value <= value + 1e-4 * t * slope or -slope < 1e-14 or t < 1e-12:
                break
            t *= 0.5
        lam_s, value, grad, hess = lam_s + t * step, new_value, new_grad, new_hess
        n_iter += 1
    scaled_error = float(np.max(np.abs(grad)))
    if scaled_error > max(tol, 1e-9):
        raise RuntimeError(f"Newton's method did not reach the constraints after {n_iter} "
                           f"steps (largest violation {scaled_error:.2e} of the feature's "
                           "half-range); the target may be extremely close to the boundary "
                           "of the convex hull")
    return lam_s, n_iter, grad


# ---------------------------------------------------------------- lesson 02: the penalised
# conditional max-ent problem and its duality certificate

def _class_check(y: np.ndarray, P: np.ndarray, T: np.ndarray) -> None:
    if not len(T) == len(y) == len(P):
        raise ValueError(f"T, y and P must have one row per sample, got {len(T)}, {len(y)} and "
                         f"{len(P)} rows")
    if y.max() >= P.shape[1]:
        raise ValueError(f"y has the label {int(y.max())} but P has only {P.shape[1]} classes")


@validate(T=Array(ndim=2), y=Labels(), P=Probabilities(ndim=2),
          alpha=Real(low=0.0, low_open=True))
def penalised_primal(T: np.ndarray, y: np.ndarray, P: np.ndarray, alpha: float) -> float:
    """The objective of the penalised conditional max-ent problem (lesson 02, (9)),

        (1/n) sum_i H(P(.|x_i)) - ||R||_F^2 / (2 alpha),
        R_kj = (1/n) sum_i (P(k|x_i) - 1[y_i = k]) t_j(x_i)   (the moment residuals),

    in nats, for conditional distributions ``P`` (n, K) on the features ``T`` (n, m) with
    labels ``y``. It is strictly concave in P. Introduced in lesson 02."""
    _class_check(y, P, T)
    onehot = np.eye(P.shape[1])[y]
    R = (P - onehot).T @ T / len(T)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1).mean()
    return float(h - np.sum(R**2) / (2.0 * alpha))


@validate(T=Array(ndim=2), y=Labels(), P=Probabilities(ndim=2), W=Array(ndim=2),
          b=Array(ndim=1), alpha=Real(low=0.0, low_open=True), tol=Real(low=0.0))
def penalised_duality_gap(T: np.ndarray, y: np.ndarray, P: np.ndarray, W: np.ndarray,
                          b: np.ndarray, alpha: float, tol: float = 1e-8) -> float:
    """The duality gap of the penalised conditional max-ent problem (lesson 02, (9)): the dual
    value of (W, b), the penalised cross-entropy

        D(W, b) = (1/n) sum_i -log softmax(W t(x_i) + b)_{y_i} + (alpha/2) ||W||_F^2,

    minus the primal value of P (:func:`penalised_primal`). Weak duality: the gap is >= 0 for
    every P whose class totals match the labels' (the bias constraints, to ``tol``) and every
    (W, b); strong duality: it is 0 exactly when P = softmax(W T + b) solves both problems.
    So a gap at rounding level *certifies* that P is the unique maximiser (the primal is
    strictly concave) and (W, b) a minimiser, while a candidate whose gap exceeds the
    tolerance is not the optimum: its own (W, b) bound it away from it. Raises ``ValueError``
    if P breaks the bias constraints by more than ``tol`` (weak duality needs them).
    Introduced in lesson 02."""
    _class_check(y, P, T)
    K = P.shape[1]
    if W.shape != (K, T.shape[1]) or b.shape != (K,):
        raise ValueError(f"W must have shape {(K, T.shape[1])} and b shape {(K,)}, got "
                         f"{W.shape} and {b.shape}")
    freq = np.bincount(y, minlength=K) / len(y)
    off = float(np.max(np.abs(P.mean(axis=0) - freq)))
    if off > tol:
        raise ValueError(f"P breaks the bias constraints (class totals) by {off:.2e} > tol = "
                         f"{tol:.0e}: weak duality holds only for P that meets them")
    S = T @ W.T + b
    ce = float(np.mean(logsumexp(S, axis=1) - S[np.arange(len(y)), y]))
    return ce + 0.5 * alpha * float(np.sum(W**2)) - penalised_primal(T, y, P, alpha)


@validate(P=Probabilities(ndim=2), seed=Seed())
def bias_preserving_swap(P: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random perturbation of conditional distributions P (n, K) that keeps every row a
    distribution and every class total sum_i P(k|x_i) (the bias constraints of lesson 02): the
    rows are paired at random (a, b), two classes k, l drawn per pair, and mass d moves from l
    to k in row a and from k to l in row b, d uniform in [0, min(P[a, l], P[b, k])] (no entry
    turns negative). Used in lesson 02 to *illustrate* that the penalised fit scores highest:
    random moves like this one cannot tell the optimum from a nearby wrong candidate (the
    duality certificate of :func:`penalised_duality_gap` can). Introduced in lesson 02."""
    if len(P) < 2:
        raise ValueError("P needs at least two rows to pair")
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(P))
    half = len(P) // 2
    a, b = rows[:half], rows[half: 2 * half]
    k, l_ = rng.integers(0, P.shape[1], size=(2, half))
    d = rng.uniform(0, 1, half) * np.minimum(P[a, l_], P[b, k]) * (k != l_)
    Q = P.copy()
    np.add.at(Q, (a, k), d)
    np.add.at(Q, (a, l_), -d)
    np.add.at(Q, (b, k), -d)
    np.add.at(Q, (b, l_), d)
    return np.clip(Q, 0.0, None)
