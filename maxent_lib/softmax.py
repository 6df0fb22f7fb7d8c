"""Softmax regression, solved to convergence, and its moment residuals (lesson 02).

Softmax regression on features T(x) in R^m is the conditional maximum-entropy model (Berger,
Della Pietra & Della Pietra 1996): maximising H(Y|X) subject to, for every class k and feature j,

    (1/n) sum_i P(y=k | x_i) t_j(x_i) = (1/n) sum_i 1[y_i = k] t_j(x_i)        (moments)
    (1/n) sum_i P(y=k | x_i)          = (1/n) sum_i 1[y_i = k]                 (class sizes)

has the solution P(y=k | x) = softmax(W T(x) + b)_k, and its dual is the mean log-likelihood.
:class:`SoftmaxRegression` minimises the mean cross-entropy plus (alpha/2) ||W||_F^2 (biases are
not penalised) with Newton's method and a backtracking line search, to a gradient of ``tol``.
:func:`moment_residuals` gives "model moments - empirical moments": zero at the unpenalised
optimum, exactly ``-alpha W`` at the penalised one.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import logsumexp
from threadpoolctl import threadpool_limits

from ._checks import MAX_CLASSES, check_int, check_labels, check_same_length
from .validation import Array, Instance, Integer, Labels, Probabilities, Real, validate

__all__ = [
    "NotConvergedWarning",
    "SeparableDataWarning",
    "SoftmaxRegression",
    "conditional_entropy",
    "log_softmax",
    "mean_cross_entropy",
    "moment_residuals",
    "softmax",
]


class SeparableDataWarning(UserWarning):
    """The training data are linearly separable and ``alpha = 0``: the cross-entropy has no
    minimiser (it tends to 0 as the weights grow without bound)."""


class NotConvergedWarning(UserWarning):
    """Newton's method stopped at ``max_iter`` before the gradient fell below ``tol``."""


@validate(z=Array(min_ndim=1), axis=Integer())
def log_softmax(z: object, axis: int = -1) -> np.ndarray:
    """log softmax(z) = z - logsumexp(z), computed stably. Raises ``ValueError`` when the scores
    of one row are spread so widely (beyond about 1.8e308) that a log-probability overflows
    float64. Introduced in lesson 03."""
    arr = z
    axis = check_int(axis, "axis", low=-arr.ndim, high=arr.ndim - 1)
    with np.errstate(over="ignore", invalid="ignore"):
        # (z - max) - log sum exp(z - max): subtracting the maximum first keeps full precision
        # even when every score is large (z - logsumexp(z) would lose it to rounding)
        shifted = arr - np.max(arr, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    if not np.all(np.isfinite(out)):
        raise ValueError("z has scores spread over more than float64 can hold (about 1.8e308), "
                         "so some log-probabilities overflow; rescale z")
    return out


@validate(z=Array(min_ndim=1), axis=Integer())
def softmax(z: object, axis: int = -1) -> np.ndarray:
    """softmax(z)_k = exp(z_k) / sum_l exp(z_l) along ``axis``.

    Shift-invariant (softmax(z + c) = softmax(z)) and computed stably by subtracting the maximum,
    so large scores do not overflow. Introduced in lesson 02.
    """
    return np.exp(log_softmax(z, axis=axis))


def _one_hot(y: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(y), n_classes))
    out[np.arange(len(y)), y] = 1.0
    return out


@validate(T=Array(ndim=2), y=Labels(), probs=Probabilities(ndim=2))
def moment_residuals(T: object, y: object, probs: object) -> np.ndarray:
    """Model class moments minus empirical class moments, shape (K, m):

        R[k, j] = (1/n) sum_i (probs[i, k] - 1[y_i = k]) T[i, j].

    ``probs[i]`` is the model's P(y | x_i). R is the gradient of the mean cross-entropy with
    respect to W, so R = 0 at the unpenalised optimum (the max-ent constraints hold), and
    R = -alpha W at the optimum of mean CE + (alpha/2) ||W||^2. Introduced in lesson 02.
    """
    T_arr, P = T, probs
    y_arr = check_labels(y, P.shape[1])
    check_same_length("T", T_arr, "y", y_arr)
    check_same_length("T", T_arr, "probs", P)
    return (P - _one_hot(y_arr, P.shape[1])).T @ T_arr / len(T_arr)


@validate(probs=Probabilities(ndim=2), y=Labels())
def mean_cross_entropy(probs: object, y: object) -> float:
    """Mean cross-entropy (log loss) -(1/n) sum_i log probs[i, y_i] in nats: the cross-entropy
    between the empirical labels and the model. ``inf`` if a true label has probability 0.
    Introduced in lesson 02."""
    P = probs
    y_arr = check_labels(y, P.shape[1])
    check_same_length("probs", P, "y", y_arr)
    picked = P[np.arange(len(y_arr)), y_arr]
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(picked)))


@validate(probs=Probabilities(ndim=2))
def conditional_entropy(probs: object) -> float:
    """The model's conditional entropy on a sample, (1/n) sum_i H(P(. | x_i)), in nats: the
    quantity max-ent maximises. Introduced in lesson 02."""
    from .info import entropy

    return float(np.mean(entropy(probs)))


def _feature_scale(T: np.ndarray, per_column: bool) -> np.ndarray:
    """Powers of two that bring features whose largest magnitude lies outside [2**-10, 2**10]
    to unit scale (1 for every other column, and for all-zero columns): per column, or one
    number for all columns (then shaped (1,))."""
    top = np.max(np.abs(T), axis=0) if per_column else np.array([np.max(np.abs(T))])
    exponent = np.frexp(np.where(top > 0, top, 1.0))[1]  # top < 2**exponent
    scale = np.ldexp(1.0, exponent)
    return np.where((top > 0) & ((top < 2.0**-10) | (top > 2.0**10)), scale, 1.0)


class SoftmaxRegression:
    """Multinomial logistic (softmax) regression, P(y=k | x) = softmax(W T(x) + b)_k, fitted to
    convergence: it minimises

        L(W, b) = -(1/n) sum_i log softmax(W t_i + b)_{y_i} + (alpha/2) ||W||_F^2

    (biases unpenalised) by Newton's method with a backtracking line search, until
    max |grad L| <= ``tol``. Up to ``dense_limit`` parameters K (m + 1) the Newton system is
    solved with the full Hessian (its null space, from the softmax's shift invariance and from
    constant or collinear features, is handled explicitly); above it, by preconditioned
    conjugate gradients with Hessian-vector products (memory O(n (K + m))). Computations run in
    float64 on one BLAS thread (the matrices are small; threads only contend on a busy CPU).
    A class with no training example gets a bias that falls until its mean probability is
    below ``tol``.

    Separable data: with ``alpha = 0`` and linearly separable training data, L has no minimiser
    (it tends to 0 as ||W|| grows without bound). ``fit`` detects this with a certificate: as
    soon as an iterate classifies every training point correctly with a positive margin, the data
    are separable. It then issues a :class:`SeparableDataWarning`, stops, and keeps that
    separating iterate, with ``separable_ = True`` and ``converged_ = False``. It never diverges
    silently. Use ``alpha > 0`` for a finite optimum.

    After ``fit``: ``coef_`` (K, m) = W, ``intercept_`` (K,) = b (centred to sum to zero, which
    changes no probability), ``n_iter_``, ``converged_``, ``separable_``, ``loss_history_``
    (objective after each iteration, starting from W = 0, b = 0 or from ``init``), ``grad_norm_``.
    Introduced in lesson 02.
    """

    #: above this many parameters K (m + 1), Newton steps are solved by conjugate gradients with
    #: Hessian-vector products instead of forming the (K (m + 1))^2 Hessian
    dense_limit: int = 1000
    #: the most conjugate-gradient iterations per Newton step on the large-problem path
    cg_max_iter: int = 500

    @validate(alpha=Real(low=0.0), tol=Real(low=0.0, low_open=True), max_iter=Integer(low=1))
    def __init__(self, alpha: float = 0.0, tol: float = 1e-10, max_iter: int = 100) -> None:
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter

    # ------------------------------------------------------------------ objective and derivatives
    def _objective(self, theta: np.ndarray, X1: np.ndarray, Y: np.ndarray) -> float:
        S = X1 @ theta.T
        ce = float(np.mean(logsumexp(S, axis=1) - np.sum(S * Y, axis=1)))
        return ce + 0.5 * self.alpha * float(np.sum(theta[:, :-1] ** 2))

    def _grad(self, theta: np.ndarray, X1: np.ndarray,
              Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        P = softmax(X1 @ theta.T)
        G = (P - Y).T @ X1 / len(X1)
        G[:, :-1] += self.alpha * theta[:, :-1]
        return G, P

    def _grad_hess(self, theta: np.ndarray, X1: np.ndarray,
                   Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, d = X1.shape
        K = theta.shape[0]
        P = softmax(X1 @ theta.T)
        G = (P - Y).T @ X1 / n
        G[:, :-1] += self.alpha * theta[:, :-1]
        B = (P[:, :, None] * X1[:, None, :]).reshape(n, K * d)
        H = -(B.T @ B) / n
        for k in range(K):
            H[k * d:(k + 1) * d, k * d:(k + 1) * d] += (X1 * P[:, k:k + 1]).T @ X1 / n
        if self.alpha > 0:
            idx = np.arange(K * d).reshape(K, d)[:, :-1].ravel()
            H[idx, idx] += self.alpha
        return G, H, P

    def _newton_step(self, H: np.ndarray, g: np.ndarray, K: int, d: int) -> np.ndarray:
        """Solve H s = -g on the complement of H's null space. The softmax's shift invariance
        (adding one vector to every class's parameters) makes H singular along 1_K (x) v, for every
        v when alpha = 0 and for the bias only when alpha > 0; the gradient has no component
        there, so adding curvature along those directions changes nothing else. A relative ridge
        of 1e-12 covers constant features; an eigen-decomposition (pseudo-inverse) is the
        fallback for anything worse. With alpha > 0 the shift curvature and the ridge of the
        biases are scaled to the biases' own curvature, so that a large alpha (weights' curvature
        far above the biases') does not swamp the bias steps."""
        h_diag = np.diag(H)
        scale = max(float(np.max(h_diag)), 1e-300)
        D = np.eye(d) if self.alpha == 0 else np.diag(np.r_[np.zeros(d - 1), 1.0])
        shift = scale if self.alpha == 0 else max(float(np.max(h_diag[d - 1::d])), 1e-300)
        A = H + shift * np.kron(np.full((K, K), 1.0 / K), D)
        ridge = np.full(K * d, scale) if self.alpha == 0 else np.tile(np.r_[np.full(
            d - 1, scale), shift], K)
        A[np.diag_indices_from(A)] += 1e-12 * ridge
        try:
            return -cho_solve(cho_factor(A, lower=True, check_finite=False), g,
                              check_finite=False)
        except np.linalg.LinAlgError:
            w, V = np.linalg.eigh(H)
            keep = w > max(w[-1], 0.0) * 1e-12
            return -(V[:, keep] @ ((V[:, keep].T @ g) / w[keep]))

    def _hessp(self, V: np.ndarray, P: np.ndarray, X1: np.ndarray) -> np.ndarray:
        """The Hessian of the objective times a direction V (K, d), without forming it:
        (1/n) sum_i [(diag(p_i) - p_i p_i^T) V x_i] x_i^T + alpha V (weights only)."""
        S = X1 @ V.T
        U = P * (S - np.sum(P * S, axis=1, keepdims=True))
        out = U.T @ X1 / len(X1)
        out[:, :-1] += self.alpha * V[:, :-1]
        return out

    def _cg_step(self, G: np.ndarray, P: np.ndarray, X1: np.ndarray) -> np.ndarray:
        """Inexact Newton step for large K(m+1): conjugate gradients on H s = -g with
        Hessian-vector products (cost O(n K m) each) and a diagonal (Jacobi) preconditioner, plus
        curvature along the softmax's shift directions (as in :meth:`_newton_step`) and a 1e-12
        relative ridge. At most ``cg_max_iter`` CG iterations per Newton step."""
        K, d = G.shape
        cols = slice(None) if self.alpha == 0 else slice(d - 1, d)
        diag = (P * (1 - P)).T @ (X1**2) / len(X1)
        diag[:, :-1] += self.alpha
        scale = max(float(diag.max()), 1e-300)
        shift = scale if self.alpha == 0 else max(float(diag[:, -1].max()), 1e-300)
        ridge = np.full(d, scale)
        ridge[cols] = shift
        diag[:, cols] += shift / K
        diag += 1e-12 * ridge

        def A(v: np.ndarray) -> np.ndarray:
            out = self._hessp(v, P, X1) + 1e-12 * ridge * v
            out[:, cols] += shift * v[:, cols].mean(axis=0, keepdims=True)
            return out

        gnorm = float(np.linalg.norm(G))
        rtol = min(0.5, np.sqrt(gnorm)) * gnorm
        x, r = np.zeros_like(G), -G.copy()
        z = r / diag
        p, rz = z.copy(), float(np.sum(r * z))
        for _ in range(self.cg_max_iter):
            Ap = A(p)
            pAp = float(np.sum(p * Ap))
            if pAp <= 0:
                break
            a = rz / pAp
            x, r = x + a * p, r - a * Ap
            if np.linalg.norm(r) <= rtol:
                break
            z = r / diag
            rz_new = float(np.sum(r * z))
            p, rz = z + (rz_new / rz) * p, rz_new
        return x if np.any(x) else -G

    @staticmethod
    def _separates(theta: np.ndarray, X1: np.ndarray, y: np.ndarray) -> bool:
        S = X1 @ theta.T
        true = S[np.arange(len(y)), y]
        S[np.arange(len(y)), y] = -np.inf
        return bool(np.all(true - S.max(axis=1) > 0))

    # ------------------------------------------------------------------ public API
    @validate(T=Array(ndim=2), y=Labels(n_classes="n_classes"),
              n_classes=Integer(low=2, high=MAX_CLASSES, optional=True),
              init=Instance(("maxent_lib.softmax.SoftmaxRegression",), optional=True))
    def fit(self, T: object, y: object, n_classes: int | None = None, *,
            init: SoftmaxRegression | None = None) -> SoftmaxRegression:
        """Fit W and b on features ``T`` (n, m) and labels ``y`` in 0..K-1 (K = ``n_classes``, or
        max(y) + 1). Returns ``self``. Newton's method starts from W = 0, b = 0, or from the
        parameters of ``init``, a fitted model with the same K and m (a warm start: e.g. the fit
        at a neighbouring penalty; the optimum is the same, it is reached in fewer steps).
        Raises ``ValueError`` on bad shapes, NaN/inf, labels out of range or an ``init`` that
        does not match; warns :class:`SeparableDataWarning` (see the class docstring) or
        :class:`NotConvergedWarning`."""
        # The matrices are small (K(m+1) <= ~1000): one BLAS thread is about as fast and avoids
        # OpenBLAS's threads spinning against each other on a busy laptop or Binder CPU.
        T_arr, y_arr = T, y
        check_same_length("T", T_arr, "y", y_arr)
        theta0 = self._check_init(init, T_arr.shape[1],
                                  n_classes if n_classes is not None else int(y_arr.max()) + 1)
        # Features far from unit scale are rescaled by powers of two (exact): with the penalty
        # adjusted to match (alpha / sigma^2), the fitted model is the same, and the stopping
        # rule max |gradient| <= tol is then measured in units where the features are O(1).
        sigma = _feature_scale(T_arr, per_column=self.alpha == 0)
        alpha = self.alpha
        if alpha > 0 and sigma[0] != 1.0:  # sigma is one number when alpha > 0
            with np.errstate(over="ignore", under="ignore"):
                self.alpha = float(alpha / sigma[0] / sigma[0])
            if not np.isfinite(self.alpha):
                self.alpha = alpha
                raise ValueError(f"T is at scale {sigma[0]:.3g}: with alpha = {alpha:g} the "
                                 "penalty overwhelms the data term beyond float64's range; "
                                 "rescale T (e.g. standardise its columns)")
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                if theta0 is not None:  # the same model in the rescaled features' units
                    theta0[:, :-1] *= sigma
                self._fit(T_arr / sigma, y_arr, n_classes, theta0)
        finally:
            self.alpha = alpha
        self.coef_ = self.coef_ / sigma
        return self

    @staticmethod
    def _check_init(init: object, m: int, K: int) -> np.ndarray | None:
        """``init``'s parameters as one (K, m + 1) array [W | b], or None."""
        if init is None:
            return None
        if not hasattr(init, "coef_"):
            raise ValueError("init is not fitted yet: fit it first, or pass init=None")
        if init.coef_.shape != (K, m):
            raise ValueError(f"init has {init.coef_.shape[0]} classes and "
                             f"{init.coef_.shape[1]} features; this fit has {K} and {m}")
        return np.hstack([init.coef_, init.intercept_[:, None]]).astype(float)

    def _fit(self, T_arr: np.ndarray, y_arr: np.ndarray, n_classes: int | None,
             theta0: np.ndarray | None = None) -> SoftmaxRegression:
        K = int(n_classes) if n_classes is not None else int(y_arr.max()) + 1
        if K < 2:
            raise ValueError("y holds a single class; softmax regression needs at least two")
        n, m = T_arr.shape
        X1 = np.hstack([T_arr, np.ones((n, 1))])
        Y = _one_hot(y_arr, K)
        theta = np.zeros((K, m + 1)) if theta0 is None else theta0
        loss = self._objective(theta, X1, Y)
        history = [loss]
        self.converged_, self.separable_ = False, False
        n_iter = 0
        dense = K * (m + 1) <= self.dense_limit
        while n_iter < self.max_iter:
            if dense:
                G, H, _ = self._grad_hess(theta, X1, Y)
            else:
                G, P = self._grad(theta, X1, Y)
            g = G.ravel()
            if np.max(np.abs(g)) <= self.tol:
                self.converged_ = True
                break
            if dense:
                step = self._newton_step(H, g, K, m + 1).reshape(theta.shape)
            else:
                step = self._cg_step(G, P, X1)
            slope = float(g @ step.ravel())
            if slope >= 0:  # pseudo-inverse lost the descent direction: fall back to gradient
                step, slope = -G, -float(g @ g)
            t = 1.0
            new = theta + step
            new_loss = self._objective(new, X1, Y)
            # near the optimum (tiny Newton decrement) the full step is taken as it is: the loss
            # changes by less than its rounding error there, so a line search would stall
            while -slope > 1e-12 and new_loss > loss + 1e-4 * t * slope and t > 1e-10:
                t *= 0.5
                new = theta + t * step
                new_loss = self._objective(new, X1, Y)
            if -slope > 1e-12 and new_loss > loss:  # no descent possible in float64
                break
            theta, loss, n_iter = new, new_loss, n_iter + 1
            history.append(loss)
            if self.alpha == 0 and self._separates(theta, X1, y_arr):
                self.separable_ = True
                warnings.warn(
                    "the training data are linearly separable and alpha = 0: the cross-entropy "
                    "has no minimiser (it tends to 0 as the weights grow without bound). "
                    f"Stopped after {n_iter} Newton steps at a separating solution; use alpha > 0 "
                    "for a finite optimum.", SeparableDataWarning, stacklevel=3)
                break
        G_final, _ = self._grad(theta, X1, Y)
        self.grad_norm_ = float(np.max(np.abs(G_final)))
        if not self.converged_ and self.grad_norm_ <= self.tol:
            self.converged_ = True
        if not self.converged_ and not self.separable_:
            warnings.warn(f"Newton's method stopped after {n_iter} steps with max |gradient| "
                          f"{self.grad_norm_:.2e} > tol = {self.tol:.0e}", NotConvergedWarning,
                          stacklevel=3)
        theta = theta - theta.mean(axis=0, keepdims=True) if self.alpha == 0 else theta
        theta[:, -1] -= theta[:, -1].mean()
        self.coef_, self.intercept_ = theta[:, :-1].copy(), theta[:, -1].copy()
        self.n_iter_, self.loss_history_ = n_iter, np.asarray(history)
        self.n_classes_, self.n_features_in_ = K, m
        return self

    def _check_fitted(self, T_arr: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise ValueError("this SoftmaxRegression is not fitted yet; call fit(T, y) first")
        if T_arr.shape[1] != self.n_features_in_:
            raise ValueError(f"T must have {self.n_features_in_} columns (as in fit), "
                             f"got {T_arr.shape[1]}")
        return T_arr

    @validate(T=Array(ndim=2))
    def decision_function(self, T: object) -> np.ndarray:
        """The class scores W T(x) + b, shape (n, K)."""
        return self._check_fitted(T) @ self.coef_.T + self.intercept_

    @validate(T=Array(ndim=2))
    def predict_proba(self, T: object) -> np.ndarray:
        """P(y = k | x) = softmax(W T(x) + b)_k, shape (n, K)."""
        return softmax(self.decision_function(T))

    @validate(T=Array(ndim=2))
    def predict(self, T: object) -> np.ndarray:
        """The most probable class for each row of ``T``."""
        return np.argmax(self.decision_function(T), axis=1)

    @validate(T=Array(ndim=2), y=Labels())
    def log_loss(self, T: object, y: object) -> float:
        """Mean cross-entropy of the fitted model on (T, y), in nats (no penalty term)."""
        return mean_cross_entropy(self.predict_proba(T), y)

    @validate(T=Array(ndim=2), y=Labels())
    def objective(self, T: object, y: object) -> float:
        """The penalised objective mean CE + (alpha/2) ||W||^2 on (T, y)."""
        return self.log_loss(T, y) + 0.5 * self.alpha * float(np.sum(self.coef_**2))
