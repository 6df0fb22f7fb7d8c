"""Exact feature-condition gaps (lesson 03): quadrature against independent computations,
the KL decomposition, no dependence on the seed, and the soft-label linear read-out."""

import numpy as np
import pytest
from scipy import integrate
from scipy.special import expit
from scipy.stats import norm

from maxent_lib import conditions as C
from maxent_lib import data, quadrature


def binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-300, 1 - 1e-16)
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


def two_gaussians(shift: float = 1.5) -> data.GaussianMixtureTask:
    eye = np.eye(2)
    return data.GaussianMixtureTask([[(1.0, [-shift, 0.0], eye)], [(1.0, [shift, 0.0], eye)]])


def bayes_ce_1d(delta2: float) -> float:
    """H(Y|X) of two equally likely Gaussian classes with one shared covariance, as a 1-D
    integral over the log-odds lambda ~ N(+-delta2/2, delta2) (scipy's adaptive quadrature)."""
    s = np.sqrt(delta2)

    def f(lam: float) -> float:
        dens = 0.5 * (norm.pdf(lam, delta2 / 2, s) + norm.pdf(lam, -delta2 / 2, s))
        return float(dens * binary_entropy(expit(lam)))

    value, _ = integrate.quad(f, -delta2 / 2 - 12 * s, delta2 / 2 + 12 * s, epsabs=1e-12,
                              epsrel=1e-12, limit=200)
    return value


def test_dropped_coordinate_matches_scipy_quad():
    """Means (-1.5, 0) and (1.5, 0), unit covariance: Delta^2 = 9; T = x2 keeps nothing."""
    e = C.exact_condition_gaps(two_gaussians(), keep=[1])
    h_x = bayes_ce_1d(9.0)
    assert e["method"] == "quadrature"
    assert abs(e["ce_bayes_input"] - h_x) < 1e-6
    assert abs(e["ce_bayes_features"] - np.log(2)) < 1e-9
    assert abs(e["fc1_gap"] - (np.log(2) - h_x)) < 1e-6
    assert abs(e["fc2_gap"]) < 1e-6 and e["accuracy"] < 1e-6


def test_shared_covariance_two_classes_matches_scipy_quad():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(2, 2))
    cov = A @ A.T + 0.3 * np.eye(2)
    mu0, mu1 = np.array([0.4, -0.2]), np.array([-0.5, 0.9])
    task = data.GaussianMixtureTask([[(1.0, mu0, cov)], [(1.0, mu1, cov)]])
    delta2 = float((mu1 - mu0) @ np.linalg.solve(cov, mu1 - mu0))
    e = C.exact_condition_gaps(task)
    assert abs(e["ce_bayes_input"] - bayes_ce_1d(delta2)) < 1e-6
    assert abs(e["fc2_gap"]) < 1e-6  # FC2 holds: the best linear read-out is the truth


def test_xor_best_linear_readout_is_the_prior():
    """By symmetry the best softmax regression on T = x for XOR is constant (1/2, 1/2), so
    CE_lin* = log 2 exactly; the fitted population read-out must find it."""
    e = C.exact_condition_gaps(data.xor_task())
    assert abs(e["ce_linear_best"] - np.log(2)) < 1e-7
    assert abs(e["fc2_gap"] - (np.log(2) - e["ce_bayes_input"])) < 1e-7


def test_quadrature_agrees_with_monte_carlo_within_its_error():
    task = data.class_covariance_gaussians(seed=0)
    e = C.exact_condition_gaps(task)
    X, _ = task.sample(200_000, seed=11)
    P = task.posterior(X)
    per_point = -(P * np.log(np.clip(P, 1e-300, None))).sum(1)
    se = per_point.std() / np.sqrt(len(per_point))
    assert abs(e["ce_bayes_input"] - per_point.mean()) < 4 * se
    assert e["accuracy"] < 1e-4


def test_results_do_not_move_with_seed():
    task = data.class_covariance_gaussians(seed=0)
    runs = [C.exact_condition_gaps(task, seed=s) for s in (0, 7)]
    for key in ("ce_bayes_input", "ce_linear_best", "fc1_gap", "fc2_gap"):
        values = [r[key] for r in runs]
        assert max(values) - min(values) < 1e-3
    mc = [C.exact_condition_gaps(task, method="monte_carlo", n_eval=10_000, n_population=10_000,
                                 seed=s) for s in (0, 7)]
    assert all(m["method"] == "monte_carlo" for m in mc)
    for m in mc:  # the same quantity, within the Monte Carlo method's own error estimate
        assert abs(m["fc2_gap"] - runs[0]["fc2_gap"]) < 2 * m["accuracy"]
    assert mc[0]["fc2_gap"] != mc[1]["fc2_gap"]  # Monte Carlo does move with the seed


def test_kl_decomposition_with_both_conditions_failing():
    """T = x1 of class-covariance Gaussians: x2 carries information (FC1 fails) and the log-odds
    in x1 are quadratic (FC2 fails). CE_lin* - H(Y|X) = E KL(P(Y|X)||P(Y|T)) + E KL(P(Y|T)||q*),
    the second term computed over the distribution of T on its own nodes."""
    e = C.exact_condition_gaps(data.class_covariance_gaussians(seed=0), keep=[0])
    assert e["kl_fc1"] > 0.05 and e["kl_fc2"] > 0.05
    tol = max(1e-5, 3 * e["accuracy"])  # two different rules (2-D nodes, 1-D nodes of T)
    assert abs(e["total_gap"] - (e["kl_fc1"] + e["kl_fc2"])) < tol
    assert abs(e["fc1_gap"] - e["kl_fc1"]) < 1e-9   # the same nodes: equal up to rounding
    assert abs(e["fc2_gap"] - e["kl_fc2"]) < tol


def test_quadrature_nodes_integrate_moments_exactly():
    task = data.xor_task(spread=0.5)
    X, w = quadrature.quadrature_nodes(task)
    assert np.all(w >= 0) and w.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(w @ X, [0.0, 0.0], atol=1e-12)
    second = (X * w[:, None]).T @ X  # E[x x^T] = spread^2 I + mean of mu mu^T
    np.testing.assert_allclose(second, 0.25 * np.eye(2) + np.eye(2), atol=1e-10)
    circles = data.CirclesTask(radii=(1.0, 2.0), noise=0.25)
    Xc, wc = quadrature.quadrature_nodes(circles)
    r2 = (Xc**2).sum(1)
    assert wc @ r2 == pytest.approx(0.5 * (1 + 4) + 0.25**2, abs=1e-12)  # E r^2


def test_quadrature_bad_input():
    with pytest.raises(ValueError, match="no quadrature rule"):
        quadrature.quadrature_nodes(data.shared_covariance_gaussians(dim=4))
    with pytest.raises(ValueError, match="integer >= 8"):
        quadrature.quadrature_nodes(data.xor_task(), n=3)
    with pytest.raises(ValueError, match="SyntheticTask"):
        quadrature.quadrature_nodes("xor")
    with pytest.raises(ValueError, match="method"):
        C.exact_condition_gaps(data.xor_task(), method="exact")
    with pytest.raises(ValueError, match="no quadrature rule"):
        C.exact_condition_gaps(data.shared_covariance_gaussians(dim=4), method="quadrature")


def test_soft_label_softmax_recovers_a_softmax_model():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(500, 3))
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    S = T @ W.T + b
    P = np.exp(S - S.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    lq = C.soft_label_softmax(T, P, np.full(500, 1 / 500))(T)
    np.testing.assert_allclose(np.exp(lq), P, atol=1e-7)
    with pytest.raises(ValueError, match="sum to one"):
        C.soft_label_softmax(T, P, np.full(500, 1.0))
    with pytest.raises(ValueError, match="rows"):
        C.soft_label_softmax(T, P[:10], np.full(500, 1 / 500))


def test_error_estimates_compare_with_a_coarser_rule():
    """The error estimate compares the rule with a strictly coarser one; a rule with no coarser
    one (one grid panel) is refused rather than reported with an error of 0."""
    task = data.class_covariance_gaussians(seed=0)
    assert quadrature.coarser_n(task) == (256, 192)
    assert quadrature.coarser_n(task, 23) == (16, 8)  # the grid uses whole panels of 8
    assert quadrature.coarser_n(data.CirclesTask(), 9) == (9, 8)
    for n in (8, 12, 15):
        with pytest.raises(ValueError, match="no coarser rule"):
            quadrature.expectation(task, lambda Z: Z[:, 0], n)
        with pytest.raises(ValueError, match="no coarser rule"):
            C.exact_condition_gaps(task, n_nodes=n)
    value, err = quadrature.expectation(task, lambda Z: Z[:, 0] ** 2, 16)
    exact, _ = quadrature.expectation(task, lambda Z: Z[:, 0] ** 2)
    assert abs(value - exact) <= err  # a coarse rule says it is coarse
