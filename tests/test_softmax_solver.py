"""Tests of SoftmaxRegression's solver internals: the Newton and conjugate-gradient steps, the
line search, the feature scaling and the centring of the fitted parameters. The public tests
(tests/test_softmax.py) check where the solver ends; these check how it gets there, so that a
change which still converges, but by a worse path, is noticed."""

import warnings

import numpy as np
import pytest

from maxent_lib.data import shared_covariance_gaussians
from maxent_lib.softmax import (
    NotConvergedWarning,
    SoftmaxRegression,
    _feature_scale,
    log_softmax,
    mean_cross_entropy,
    moment_residuals,
    softmax,
)


@pytest.fixture(scope="module")
def task():
    gauss = shared_covariance_gaussians(n_classes=3, dim=4, separation=1.0, seed=0)
    return gauss.sample(300, seed=0)


def _counting(model):
    """Wrap the model's Hessian-vector product to count its calls."""
    calls = [0]
    product = model._hessp

    def counted(*args):
        calls[0] += 1
        return product(*args)

    model._hessp = counted
    return calls


def _hessian_at(model, T, y, theta):
    n = len(T)
    X1 = np.hstack([T, np.ones((n, 1))])
    Y = np.eye(theta.shape[0])[y]
    G, H, P = model._grad_hess(theta, X1, Y)
    return X1, Y, G, H, P


def _null_space(K, d, alpha):
    """The directions 1_K (x) v along which the objective is flat: every v when alpha = 0,
    the bias only when alpha > 0."""
    basis = np.eye(d) if alpha == 0 else np.eye(d)[-1:]
    return np.stack([np.tile(v, K) for v in basis], axis=1) / np.sqrt(K)


def _dense_step_at_random_point(task, alpha, seed):
    """A model, the Hessian H and gradient g at random parameters, and the dense Newton step."""
    T, y = task
    model = SoftmaxRegression(alpha=alpha)
    theta = np.random.default_rng(seed).normal(scale=0.3, size=(3, T.shape[1] + 1))
    _, _, G, H, _ = _hessian_at(model, T, y, theta)
    g = G.ravel()
    return model, H, g, model._newton_step(H, g, 3, T.shape[1] + 1)


@pytest.mark.parametrize("alpha", [0.0, 0.05, 3.0])
def test_newton_step_is_the_exact_newton_direction(task, alpha):
    """The dense step s solves H s = -g exactly and has no component along H's null space."""
    T, _ = task
    _, H, g, s = _dense_step_at_random_point(task, alpha, seed=3)
    np.testing.assert_allclose(H @ s, -g, atol=1e-10 * np.abs(g).max())
    N = _null_space(3, T.shape[1] + 1, alpha)
    np.testing.assert_allclose(N.T @ s, 0.0, atol=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.05, 3.0])
def test_pseudo_inverse_fallback_is_the_minimum_norm_newton_step(task, alpha, monkeypatch):
    """When the Cholesky factorisation fails, the eigen-decomposition gives the same step."""
    T, _ = task
    model, H, g, exact = _dense_step_at_random_point(task, alpha, seed=4)

    def fail(*args, **kwargs):
        raise np.linalg.LinAlgError("forced")

    monkeypatch.setattr("maxent_lib.softmax.cho_factor", fail)
    np.testing.assert_allclose(model._newton_step(H, g, 3, T.shape[1] + 1), exact,
                               atol=1e-8 * np.abs(exact).max())


@pytest.mark.parametrize("alpha", [0.0, 0.05, 3.0])
def test_conjugate_gradient_step_is_an_inexact_newton_step(task, alpha):
    """The CG step meets the inexact-Newton forcing condition ||H s + g|| <= min(1/2,
    sqrt||g||) ||g|| and points downhill. (Its component along the flat null space is left to
    CG: the objective does not see it.)"""
    T, y = task
    model = SoftmaxRegression(alpha=alpha)
    theta = np.random.default_rng(5).normal(scale=0.3, size=(3, T.shape[1] + 1))
    X1, _, G, H, P = _hessian_at(model, T, y, theta)
    s = model._cg_step(G, P, X1).ravel()
    g = G.ravel()
    gnorm = np.linalg.norm(g)
    assert np.linalg.norm(H @ s + g) <= min(0.5, np.sqrt(gnorm)) * gnorm * (1 + 1e-9)
    assert g @ s < 0
    # a Hessian-vector product of the solver is H times the direction
    V = np.random.default_rng(6).normal(size=G.shape)
    np.testing.assert_allclose(model._hessp(V, P, X1).ravel(), H @ V.ravel(), atol=1e-12)


def test_conjugate_gradient_step_at_the_optimum_falls_back_to_the_gradient(task):
    """A zero CG solution (a zero gradient) is replaced by -G, never returned as a zero step
    that the line search could not use."""
    T, y = task
    model = SoftmaxRegression()
    theta = np.zeros((3, T.shape[1] + 1))
    X1, _, G, _, P = _hessian_at(model, T, y, theta)
    np.testing.assert_array_equal(model._cg_step(np.zeros_like(G), P, X1), np.zeros_like(G))
    model.cg_max_iter = 0
    np.testing.assert_array_equal(model._cg_step(G, P, X1), -G)


@pytest.mark.parametrize("alpha", [0.0, 1e-2, 1.0])
def test_newton_converges_in_a_few_steps_with_a_monotone_loss(task, alpha):
    """Newton's method with a backtracking line search converges quadratically from W = 0: at
    most 6 steps here (measured: 4-5 dense, 6 with conjugate gradients), each one lowering the
    objective."""
    T, y = task
    for dense_limit in (1000, 0):
        model = SoftmaxRegression(alpha=alpha)
        model.dense_limit = dense_limit
        model.fit(T, y)
        assert model.converged_ and model.grad_norm_ <= model.tol
        assert model.n_iter_ <= 6
        assert len(model.loss_history_) == model.n_iter_ + 1
        assert np.all(np.diff(model.loss_history_) < 0)
        np.testing.assert_allclose(model.loss_history_[-1], model.objective(T, y), atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 1e-2, 1.0])
def test_preconditioned_conjugate_gradients_stay_cheap(task, alpha):
    """The whole large-problem fit costs at most 40 Hessian-vector products here (measured:
    19-36; without the Jacobi preconditioner and the shift curvature it costs more)."""
    T, y = task
    model = SoftmaxRegression(alpha=alpha)
    model.dense_limit = 0
    calls = _counting(model)
    model.fit(T, y)
    assert model.converged_
    assert 0 < calls[0] <= 40


def test_the_dense_path_is_used_up_to_dense_limit(task, monkeypatch):
    """K (m + 1) parameters at or below ``dense_limit`` use the dense Newton step; above it,
    conjugate gradients."""
    T, y = task
    n_params = 3 * (T.shape[1] + 1)
    at_limit = SoftmaxRegression()
    at_limit.dense_limit = n_params
    calls = _counting(at_limit)
    at_limit.fit(T, y)
    assert calls[0] == 0
    above = SoftmaxRegression()
    above.dense_limit = n_params - 1
    calls = _counting(above)
    above.fit(T, y)
    assert calls[0] > 0


def test_line_search_halves_a_step_that_overshoots(task):
    """A step that raises the objective is halved until it satisfies the Armijo condition,
    so a deliberately quadrupled Newton step still converges, monotonically."""
    T, y = task

    class Overshooting(SoftmaxRegression):
        def _newton_step(self, H, g, K, d):
            return 4.0 * super()._newton_step(H, g, K, d)

    model = Overshooting(alpha=1e-2).fit(T, y)
    assert model.converged_
    # downhill at every step, up to rounding near the optimum (where the full step is taken)
    assert np.all(np.diff(model.loss_history_) < 1e-11)
    assert np.all(np.diff(model.loss_history_)[:4] < -1e-3)
    reference = SoftmaxRegression(alpha=1e-2).fit(T, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-8)


@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_an_uphill_step_falls_back_to_the_gradient(task, scale):
    """A step with a non-negative slope is replaced by steepest descent, with the same line
    search: the fit still lowers the objective at every step, also where a full gradient step
    would overshoot (features at scale 50, large gradients)."""
    T, y = task
    T = T * scale

    class Uphill(SoftmaxRegression):
        def _newton_step(self, H, g, K, d):
            return -super()._newton_step(H, g, K, d)

    model = Uphill(alpha=1e-1, max_iter=30)
    with pytest.warns(Warning):
        model.fit(T, y)
    assert model.n_iter_ == 30
    assert np.all(np.diff(model.loss_history_) < 0)


@pytest.mark.parametrize("alpha", [0.0, 1e-2])
def test_fitted_parameters_are_centred(task, alpha):
    """The reported intercepts sum to zero over the classes (and so do the weights, at the
    optimum and by the centring when alpha = 0): changing no probability."""
    T, y = task
    model = SoftmaxRegression(alpha=alpha).fit(T, y)
    np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0.0, atol=1e-9)
    # centring moved the intercepts, not the probabilities
    S = T @ model.coef_.T + model.intercept_
    np.testing.assert_allclose(model.predict_proba(T), softmax(S), atol=1e-15)


def test_objective_is_cross_entropy_plus_half_alpha_squared_weights(task):
    T, y = task
    alpha = 0.3
    model = SoftmaxRegression(alpha=alpha).fit(T, y)
    ce = mean_cross_entropy(model.predict_proba(T), y)
    expected = ce + 0.5 * alpha * np.sum(model.coef_ ** 2)
    np.testing.assert_allclose(model.objective(T, y), expected, rtol=1e-13)
    assert model.objective(T, y) > model.log_loss(T, y)


def test_feature_scale_boundaries():
    """Columns whose largest magnitude lies in [2**-10, 2**10] (ends included), and all-zero
    columns, keep scale 1; others get the power of two just above their largest magnitude."""
    top = np.array([2.0**10, np.nextafter(2.0**10, np.inf), 2.0**-10,
                    np.nextafter(2.0**-10, 0), 0.0, 3.0, -5000.0, 2.0**-30])
    sigma = _feature_scale(top[None, :], per_column=True)
    np.testing.assert_array_equal(sigma, [1.0, 2.0**11, 1.0, 2.0**-10, 1.0, 1.0, 2.0**13,
                                          2.0**-29])
    assert np.all(np.abs(top) / sigma < 2.0**11)
    one = _feature_scale(np.array([[1.0, -5000.0], [2.0, 0.0]]), per_column=False)
    np.testing.assert_array_equal(one, [2.0**13])
    np.testing.assert_array_equal(_feature_scale(np.zeros((2, 2)), per_column=False), [1.0])


@pytest.mark.parametrize("scale", [2.0**-14, 2.0**14])
@pytest.mark.parametrize("alpha", [0.0, 1e-2])
def test_rescaled_features_give_the_same_model(task, scale, alpha):
    """Features multiplied by s, with the penalty alpha s**2: the same probabilities, weights
    divided by s (the fit rescales by powers of two inside and adjusts the penalty to match)."""
    T, y = task
    base = SoftmaxRegression(alpha=alpha).fit(T, y)
    scaled = SoftmaxRegression(alpha=alpha * scale**2).fit(T * scale, y)
    assert scaled.alpha == alpha * scale**2  # the model's own alpha is left as given
    np.testing.assert_allclose(scaled.predict_proba(T * scale), base.predict_proba(T),
                               atol=1e-9)
    np.testing.assert_allclose(scaled.coef_ * scale, base.coef_, atol=1e-7)
    np.testing.assert_allclose(scaled.objective(T * scale, y), base.objective(T, y), atol=1e-12)


def test_length_mismatch_messages_name_both_arrays(task):
    T, y = task
    with pytest.raises(ValueError, match=r"^T has 299 rows but y has 300"):
        SoftmaxRegression().fit(T[:-1], y)
    probs = np.full((300, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"^T has 299 rows but y has 300"):
        moment_residuals(T[:-1], y, probs)
    with pytest.raises(ValueError, match=r"^T has 300 rows but probs has 299"):
        moment_residuals(T, y, probs[:-1])
    with pytest.raises(ValueError, match=r"^probs has 299 rows but y has 300"):
        mean_cross_entropy(probs[:-1], y)


def test_log_softmax_axes_and_overflow():
    """The default axis is the last one (a 1-D vector works); an axis out of range is a
    ValueError; one overflowing row among finite ones is refused."""
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(log_softmax(v), v - np.log(np.exp(v).sum()), atol=1e-15)
    Z = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(np.exp(log_softmax(Z, axis=0)).sum(axis=0), 1.0, atol=1e-15)
    np.testing.assert_allclose(log_softmax(Z, axis=-2), log_softmax(Z, axis=0), atol=0)
    np.testing.assert_allclose(log_softmax(Z, axis=1), log_softmax(Z), atol=0)
    for bad in (2, -3):
        with pytest.raises(ValueError, match="axis"):
            log_softmax(Z, axis=bad)
    wide = np.array([[0.0, 1.0], [-1.7e308, 1.7e308]])
    with pytest.raises(ValueError, match="overflow"):
        log_softmax(wide)


def test_newton_lands_on_the_optimum_from_close_by(task):
    """From a start very near the optimum the full Newton step (no line search there) lands on
    it: one or two steps, not an oscillation around it."""
    T, y = task
    fitted = SoftmaxRegression(alpha=1e-2).fit(T, y)
    near = SoftmaxRegression(alpha=1e-2).fit(T, y)
    near.coef_ = near.coef_ + 1e-6 * np.random.default_rng(7).normal(size=near.coef_.shape)
    again = SoftmaxRegression(alpha=1e-2).fit(T, y, init=near)
    assert again.converged_ and again.n_iter_ <= 2
    np.testing.assert_allclose(again.coef_, fitted.coef_, atol=1e-9)


def test_no_possible_descent_stops_at_once(task):
    """When no step lowers the objective (here: every point but the start costs one more), the
    fit stops after the line search gives up, keeps the start and warns."""
    T, y = task

    class Stuck(SoftmaxRegression):
        def _objective(self, theta, X1, Y):
            return super()._objective(theta, X1, Y) + float(np.any(theta))

    model = Stuck()
    with pytest.warns(NotConvergedWarning):
        model.fit(T, y)
    assert model.n_iter_ == 0 and len(model.loss_history_) == 1 and not model.converged_
    np.testing.assert_array_equal(model.coef_, 0.0)


def test_converged_when_the_last_allowed_step_reaches_the_optimum(task):
    """A fit whose last allowed Newton step reaches the optimum is converged (its gradient is
    checked after the loop), and does not warn."""
    T, y = task
    free = SoftmaxRegression(alpha=1e-2).fit(T, y)
    capped = SoftmaxRegression(alpha=1e-2, max_iter=free.n_iter_)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        capped.fit(T, y)
    assert capped.converged_ and capped.n_iter_ == free.n_iter_
    one_short = SoftmaxRegression(alpha=1e-2, max_iter=free.n_iter_ - 1)
    with pytest.warns(NotConvergedWarning):
        one_short.fit(T, y)
    assert not one_short.converged_


def test_a_warm_start_shifted_along_the_null_space_is_centred(task):
    """Adding one vector to every class's weights changes no probability; a fit started there
    (alpha = 0) still reports weights and intercepts that sum to zero over the classes."""
    T, y = task
    start = SoftmaxRegression().fit(T, y)
    start.coef_ = start.coef_ + np.arange(1.0, T.shape[1] + 1)  # the same model, shifted
    start.intercept_ = start.intercept_ + 3.0
    model = SoftmaxRegression().fit(T, y, init=start)
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0.0, atol=1e-9)
    np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-9)


@pytest.mark.parametrize("alpha", [0.0, 1e-2])
def test_conjugate_gradients_with_an_all_zero_feature(task, alpha):
    """An all-zero feature gives exactly zero entries in the CG step; the step is still used
    (not replaced by the gradient), so the fit converges as fast as with the dense path."""
    T, y = task
    T0 = np.hstack([T, np.zeros((len(T), 1))])
    dense = SoftmaxRegression(alpha=alpha).fit(T0, y)
    krylov = SoftmaxRegression(alpha=alpha)
    krylov.dense_limit = 0
    krylov.fit(T0, y)
    assert krylov.converged_ and krylov.n_iter_ <= 6
    np.testing.assert_allclose(krylov.predict_proba(T0), dense.predict_proba(T0), atol=1e-8)
    np.testing.assert_array_equal(krylov.coef_[:, -1], 0.0)


def test_separates_means_every_margin_positive():
    """The separation test: every point's true-class score above every other class's."""
    X1 = np.array([[1.0, 1.0], [-1.0, 1.0]])
    y = np.array([0, 1])
    theta = np.array([[0.25, 0.0], [-0.25, 0.0]])  # margins 0.5: separated
    assert SoftmaxRegression._separates(theta, X1, y)
    assert not SoftmaxRegression._separates(-theta, X1, y)
    assert not SoftmaxRegression._separates(np.zeros((2, 2)), X1, y)  # ties do not separate


@pytest.mark.parametrize("scale", [1.0, 2.0**14])
def test_warm_start_at_the_optimum_needs_no_step(task, scale):
    """Started at its own optimum (features rescaled inside the fit or not), a fit takes at
    most one step and stays there."""
    T, y = task
    alpha = 1e-2 * scale**-2
    fitted = SoftmaxRegression(alpha=alpha).fit(T * scale, y)
    again = SoftmaxRegression(alpha=alpha).fit(T * scale, y, init=fitted)
    assert again.converged_ and again.n_iter_ <= 1
    np.testing.assert_allclose(again.coef_ * scale, fitted.coef_ * scale, atol=1e-9)
