"""Tests for maxent_lib.maxent: the discrete max-ent solver and its dual."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import approx_fprime

from maxent_lib.info import entropy, kl_divergence
from maxent_lib.maxent import MaxEntSolution, dual, gibbs, solve_maxent

SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def feasible_problems(draw):
    """Random F (K, m) and target = F^T q for q in the interior of the simplex."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    K, m = int(rng.integers(2, 12)), int(rng.integers(1, 6))
    F = rng.normal(size=(K, m)) * draw(st.sampled_from([0.1, 1.0, 10.0]))
    q = rng.dirichlet(np.ones(K))
    return F, F.T @ q, q


@SETTINGS
@given(feasible_problems())
def test_solution_meets_constraints_and_pythagoras(problem):
    F, target, q = problem
    sol = solve_maxent(F, target)
    assert np.max(np.abs(F.T @ sol.p - target)) < 1e-9
    assert sol.p.sum() == pytest.approx(1.0, abs=1e-12)
    # H(q) = H(p*) - KL(q || p*) for every feasible q, so H(p*) >= H(q)
    assert entropy(q) == pytest.approx(sol.entropy - kl_divergence(q, sol.p), abs=1e-8)
    assert sol.entropy >= entropy(q) - 1e-12
    # strong duality: H(p*) = log Z - lambda . target
    assert sol.entropy == pytest.approx(sol.log_partition - sol.lambdas @ target, abs=1e-8)


def test_jaynes_die_matches_gibbs_form():
    faces = np.arange(1, 7, dtype=float)
    sol = solve_maxent(faces, 4.5)
    assert isinstance(sol, MaxEntSolution)
    assert sol.p @ faces == pytest.approx(4.5, abs=1e-12)
    # Gibbs form: log p_k is affine in the face value, with slope lambda
    np.testing.assert_allclose(np.diff(np.log(sol.p)), sol.lambdas[0], atol=1e-10)
    assert np.all(np.diff(sol.p) > 0)  # a mean above 3.5 tilts towards high faces


def test_no_constraint_beyond_the_mean_of_uniform_gives_uniform():
    faces = np.arange(1, 7, dtype=float)
    sol = solve_maxent(faces, 3.5)
    np.testing.assert_allclose(sol.p, 1 / 6, atol=1e-12)
    assert sol.lambdas[0] == pytest.approx(0.0, abs=1e-12)


def test_dual_gradient_and_hessian():
    rng = np.random.default_rng(1)
    F, lam = rng.normal(size=(7, 3)), rng.normal(size=3)
    target = F.T @ rng.dirichlet(np.ones(7))
    value, grad, hess = dual(F, target, lam)
    numeric = approx_fprime(lam, lambda x: dual(F, target, x)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, atol=1e-5)
    assert np.all(np.linalg.eigvalsh(hess) >= -1e-12)  # convex
    p, log_z = gibbs(F, lam)
    assert value == pytest.approx(log_z - lam @ target)
    np.testing.assert_allclose(grad, p @ F - target)
    # Hessian = Cov_p[f], computed independently as a weighted covariance
    np.testing.assert_allclose(hess, np.cov(F.T, aweights=p, bias=True), atol=1e-12)


def test_redundant_and_collinear_features():
    x = np.arange(6, dtype=float)
    F = np.c_[x, 2 * x, np.ones(6)]  # column 2 = 2 * column 1, column 3 constant
    q = np.array([0.1, 0.1, 0.1, 0.2, 0.2, 0.3])
    sol = solve_maxent(F, F.T @ q)
    plain = solve_maxent(x, x @ q)
    np.testing.assert_allclose(sol.p, plain.p, atol=1e-10)
    assert np.max(np.abs(F.T @ sol.p - F.T @ q)) < 1e-9


def test_outside_hull_is_infeasible():
    with pytest.raises(ValueError, match="infeasible"):
        solve_maxent(np.arange(1, 7.0), 7.0)
    F = np.eye(3)
    with pytest.raises(ValueError, match="infeasible"):
        solve_maxent(F, [0.5, 0.5, 0.5])  # sums to 1.5, no distribution has these means


def test_boundary_of_hull_has_no_finite_lambda():
    with pytest.raises(ValueError, match="boundary.*infinity"):
        solve_maxent(np.arange(1, 7.0), 6.0)
    with pytest.raises(ValueError, match="boundary"):
        solve_maxent(np.eye(3), [0.5, 0.5, 0.0])


@pytest.mark.parametrize("F, target, match", [
    (np.ones((3, 2)), [1.0], "target has 1 entries but F has 2"),
    (np.ones((2, 2, 2)), [1.0, 1.0], "dimension"),
    ([[1.0, np.nan], [0.0, 1.0]], [0.5, 0.5], "NaN"),
    ([[1.0, 0.0], [0.0, 1.0]], [np.inf, 0.5], "NaN or inf"),
    (np.ones((0, 2)), [0.5, 0.5], "empty"),
])
def test_bad_input(F, target, match):
    with pytest.raises(ValueError, match=match):
        solve_maxent(F, target)


def test_bad_tol_and_dual_shapes():
    with pytest.raises(ValueError, match="tol"):
        solve_maxent(np.arange(3.0), 1.0, tol=0.0)
    with pytest.raises(ValueError, match="tol"):
        solve_maxent(np.arange(3.0), 1.0, tol="tiny")
    with pytest.raises(ValueError, match="max_iter"):
        solve_maxent(np.arange(3.0), 1.0, max_iter=-1)
    with pytest.raises(ValueError, match="boundary_tol"):
        solve_maxent(np.arange(3.0), 1.0, boundary_tol=-1.0)
    with pytest.raises(ValueError, match="lambdas"):
        dual(np.ones((3, 2)), [1.0, 1.0], [0.0])
    with pytest.raises(ValueError, match="lambdas"):
        gibbs(np.ones((3, 2)), [0.0, 1.0, 2.0])


# ---------------------------------------------------------------- lesson 02: penalised duality

from maxent_lib.maxent import (  # noqa: E402
    bias_preserving_swap,
    penalised_duality_gap,
    penalised_primal,
)
from maxent_lib.softmax import SoftmaxRegression  # noqa: E402


@pytest.fixture(scope="module")
def penalised_fits():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(300, 4))
    y = (T[:, 0] + 0.5 * rng.normal(size=300) > 0).astype(int) + (T[:, 1] > 0.8)
    alpha = 0.05
    best = SoftmaxRegression(alpha=alpha).fit(T, y)
    near = SoftmaxRegression(alpha=1.3 * alpha).fit(T, y)  # a wrong candidate, close by
    return T, y, alpha, best, near


def test_duality_gap_certifies_the_penalised_fit_and_rejects_a_near_candidate(penalised_fits):
    T, y, alpha, best, near = penalised_fits
    P, P_near = best.predict_proba(T), near.predict_proba(T)
    gap = penalised_duality_gap(T, y, P, best.coef_, best.intercept_, alpha)
    assert abs(gap) < 1e-9  # strong duality at the optimum
    value = penalised_primal(T, y, P, alpha)
    assert np.isclose(value, best.log_loss(T, y) + alpha / 2 * np.sum(best.coef_**2), atol=1e-9)
    below = value - penalised_primal(T, y, P_near, alpha)
    assert 0 < below < 0.01  # close to the maximum ...
    own = penalised_duality_gap(T, y, P_near, near.coef_, near.intercept_, alpha)
    assert own > 1e3 * abs(gap) and own >= below - 1e-12  # ... but its certificate fails
    # weak duality: any (W, b) bounds every feasible P from above
    W, b = np.random.default_rng(1).normal(size=best.coef_.shape), np.zeros(3)
    assert penalised_duality_gap(T, y, P_near, W, b, alpha) > 0


def test_random_swaps_cannot_tell_the_optimum_from_a_near_candidate(penalised_fits):
    T, y, alpha, best, near = penalised_fits
    P, P_near = best.predict_proba(T), near.predict_proba(T)
    for seed in range(20):
        Q = bias_preserving_swap(P_near, seed)
        np.testing.assert_allclose(Q.sum(1), 1.0, atol=1e-12)           # rows stay distributions
        np.testing.assert_allclose(Q.sum(0), P_near.sum(0), atol=1e-9)  # class totals kept
        assert Q.min() >= 0
        assert penalised_primal(T, y, Q, alpha) < penalised_primal(T, y, P_near, alpha)
    assert not np.allclose(bias_preserving_swap(P, 0), bias_preserving_swap(P, 1))
    np.testing.assert_array_equal(bias_preserving_swap(P, 3), bias_preserving_swap(P, 3))


def test_penalised_duality_gap_refuses_broken_bias_constraints(penalised_fits):
    T, y, alpha, best, _ = penalised_fits
    P = np.full((len(y), 3), 1 / 3)
    with pytest.raises(ValueError, match="bias constraints"):
        penalised_duality_gap(T, y, P, best.coef_, best.intercept_, alpha)
    with pytest.raises(ValueError, match="shape"):
        penalised_duality_gap(T, y, best.predict_proba(T), best.coef_[:, :2], best.intercept_,
                              alpha)
    with pytest.raises(ValueError, match="classes"):
        penalised_primal(T, y, np.full((len(y), 2), 0.5), alpha)
    with pytest.raises(ValueError):
        penalised_primal(T, y, best.predict_proba(T), 0.0)
