"""maxent_lib.maxent at its boundaries: the most feature columns, a target exactly on the hull
with no tolerance, a constant feature with the wrong target, the Newton step count, the bias
constraints met exactly, the smallest matrix to pair and the default seed."""

from __future__ import annotations

import numpy as np
import pytest

from maxent_lib import maxent

FACES = np.arange(1, 7, dtype=float)


def test_the_most_feature_columns_is_accepted_and_one_more_is_not():
    sol = maxent.solve_maxent(np.zeros((3, maxent.MAX_FEATURES)), np.zeros(maxent.MAX_FEATURES))
    np.testing.assert_allclose(sol.p, np.full(3, 1 / 3), rtol=1e-15)
    assert sol.lambdas.shape == (2000,) and maxent.MAX_FEATURES == 2000
    with pytest.raises(ValueError, match="at most 2000"):
        maxent.solve_maxent(np.zeros((3, 2001)), np.zeros(2001))


def test_a_target_exactly_on_the_hull_is_refused_even_with_no_tolerance():
    with pytest.raises(ValueError, match="boundary"):
        maxent.solve_maxent(np.arange(3.0), 0.0, boundary_tol=0.0)
    with pytest.raises(ValueError, match="boundary"):
        maxent.solve_maxent(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), [0.5, 0.0],
                            boundary_tol=0.0)
    # just inside it is solved
    sol = maxent.solve_maxent(np.arange(3.0), 1e-3, boundary_tol=0.0)
    assert sol.p @ np.arange(3.0) == pytest.approx(1e-3, rel=1e-9)


def test_a_constant_feature_needs_its_constant_as_target():
    F = np.c_[FACES, np.full(6, 2.0)]
    with pytest.raises(ValueError, match="feature 1 is constant"):
        maxent.solve_maxent(F, [3.5, 2.5])
    sol = maxent.solve_maxent(F, [3.5, 2.0])
    np.testing.assert_allclose(sol.p, np.full(6, 1 / 6), rtol=1e-12)
    assert sol.lambdas[1] == 0.0


def test_newton_steps_are_counted_from_zero():
    assert maxent.solve_maxent(FACES, 3.5).n_iter == 0  # the uniform die: no step needed
    one = maxent.solve_maxent(FACES, 4.5)
    assert 1 <= one.n_iter <= 20
    with pytest.raises(RuntimeError, match="after 1 steps"):
        maxent.solve_maxent(FACES, 5.9, max_iter=1)


def test_bias_constraints_met_exactly_pass_with_zero_tolerance():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(6, 2))
    y = np.array([0, 1, 2, 0, 1, 1])
    P = np.eye(3)[y]  # the labels themselves: class totals met exactly
    gap = maxent.penalised_duality_gap(T, y, P, np.zeros((3, 2)), np.zeros(3), 1.0, tol=0.0)
    assert np.isfinite(gap)
    Q = P.copy()
    Q[0] = [0.9, 0.1, 0.0]
    with pytest.raises(ValueError, match="bias constraints"):
        maxent.penalised_duality_gap(T, y, Q, np.zeros((3, 2)), np.zeros(3), 1.0, tol=0.0)


def test_bias_preserving_swap_pairs_two_rows_and_defaults_to_seed_zero():
    P = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    Q = maxent.bias_preserving_swap(P, seed=0)
    np.testing.assert_allclose(Q.sum(axis=0), P.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(Q.sum(axis=1), 1.0, rtol=1e-12)
    rng = np.random.default_rng(7)
    big = rng.dirichlet(np.ones(4), size=9)
    np.testing.assert_array_equal(maxent.bias_preserving_swap(big),
                                  maxent.bias_preserving_swap(big, seed=0))
    assert not np.array_equal(maxent.bias_preserving_swap(big, seed=1),
                              maxent.bias_preserving_swap(big, seed=0))
    with pytest.raises(ValueError, match="two rows"):
        maxent.bias_preserving_swap(P[:1])


def test_a_target_beyond_float64_of_the_features_scale_is_refused_as_such():
    # features 1e-300 apart and a target of 1e308: (target - c) / s overflows
    with pytest.raises(ValueError, match="than float64 can represent"):
        maxent.solve_maxent(np.array([0.0, 1e-300, 0.5e-300]), 1e308)


def test_a_target_at_a_vertex_is_on_the_boundary_not_outside():
    # t' = 1 exactly: the LP decides (boundary), not the shortcut for targets outside [-1, 1]
    for target in (2.0, 0.0):
        with pytest.raises(ValueError, match="lies on the boundary"):
            maxent.solve_maxent(np.arange(3.0), target)
    with pytest.raises(ValueError, match="lies outside the convex hull"):
        maxent.solve_maxent(np.arange(3.0), 2.0 + 1e-6)


def test_one_feature_beyond_float64_is_enough_to_refuse():
    F = np.array([[0.0, 0.0], [1e-300, 1.0], [0.5e-300, 0.5]])
    with pytest.raises(ValueError, match="than float64 can represent"):
        maxent.solve_maxent(F, [1e308, 0.5])


def test_interior_margin_is_the_largest_smallest_probability():
    F = np.array([[-1.0], [0.0], [1.0]])
    assert maxent._interior_margin(F, np.array([0.0])) == pytest.approx(1 / 3, rel=1e-9)
    assert maxent._interior_margin(F, np.array([0.5])) == pytest.approx(1 / 6, rel=1e-9)
    assert maxent._interior_margin(F, np.array([1.5])) is None


def test_overflowing_scores_are_refused_even_when_only_some_overflow():
    with pytest.raises(ValueError, match="overflow"):
        maxent.gibbs(np.array([1e308, 0.0, 1.0]), [10.0])
    with pytest.raises(ValueError, match="F - target overflows"):
        maxent.dual(np.array([1e308, -1e308, 0.0]), [1e308], [1.0])


def test_the_line_search_backtracks_and_still_meets_the_constraints():
    # a problem (found by search) on which full Newton steps overshoot: the step is halved
    F = np.array([[1.0366058772358528, -0.1684098727535861, -1.2992598701307787],
                  [1.265543092596161, 0.4771785779139319, -2.516339715003551],
                  [-0.3131901055298775, 0.14367020328433938, 0.4812468270587883],
                  [0.15215118931163515, -0.6357417972436246, -0.11575904402998716],
                  [0.29480031794360034, -0.26800408561401673, -0.37190071970620736]])
    t = np.array([0.7221318967365609, -0.3295356744178192, -0.8791499063540499])
    calls = []
    real = maxent._dual

    def counting(*args):
        calls.append(1)
        return real(*args)

    maxent._dual = counting
    try:
        sol = maxent.solve_maxent(F, t)
    finally:
        maxent._dual = real
    assert len(calls) > sol.n_iter + 1  # some step was shortened
    np.testing.assert_allclose(sol.p @ F, t, atol=1e-10)
    assert sol.max_constraint_error <= 1e-10
    assert sol.p.sum() == pytest.approx(1.0, abs=1e-12)


def _swap_by_the_docstring(P: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(P))
    half = len(P) // 2
    a, b = rows[:half], rows[half:2 * half]
    k, l_ = rng.integers(0, P.shape[1], size=(2, half))
    d = rng.uniform(0, 1, half) * np.minimum(P[a, l_], P[b, k]) * (k != l_)
    Q = P.copy()
    for i in range(half):
        Q[a[i], k[i]] += d[i]
        Q[a[i], l_[i]] -= d[i]
        Q[b[i], k[i]] -= d[i]
        Q[b[i], l_[i]] += d[i]
    return Q


def test_bias_preserving_swap_is_the_documented_random_move():
    rng = np.random.default_rng(11)
    for n, K in ((2, 3), (9, 4), (10, 2)):
        P = rng.dirichlet(np.ones(K), size=n)
        for seed in (0, 3):
            np.testing.assert_allclose(maxent.bias_preserving_swap(P, seed=seed),
                                       _swap_by_the_docstring(P, seed), rtol=1e-12, atol=1e-15)


def test_a_violation_below_1e9_after_max_iter_steps_is_accepted():
    # four Newton steps leave a violation of about 2e-10 of the half-range: above tol, but
    # within the 1e-9 floor of the final check, so no error
    sol = maxent.solve_maxent(FACES, 2.1, max_iter=4)
    assert sol.n_iter == 4
    assert 4e-12 < sol.max_constraint_error <= 4e-9
    with pytest.raises(RuntimeError, match="after 3 steps"):
        maxent.solve_maxent(FACES, 2.1, max_iter=3)


def test_max_constraint_error_is_the_largest_violation_in_the_features_units():
    F = np.c_[FACES, FACES**2]
    t = np.array([4.5, 22.0])
    sol = maxent.solve_maxent(F, t, tol=1e-3)  # stops early: violations of 2e-3 and 1e-2
    violations = np.abs(sol.p @ F - t)
    assert np.all(violations / np.array([4.0, 32.0]) <= 1e-3)  # the stopping rule, scaled
    assert violations.min() < 0.5 * violations.max()
    assert sol.max_constraint_error == pytest.approx(violations.max(), rel=1e-9)
    # every feature constant: the violation is that of the targets, within isclose's 1e-9
    const = maxent.solve_maxent(np.tile([1.0, 2.0], (3, 1)), [1.0 + 5e-10, 2.0])
    assert const.max_constraint_error == pytest.approx(5e-10, rel=1e-6)
    np.testing.assert_allclose(const.p, np.full(3, 1 / 3), rtol=1e-15)


def test_constant_features_take_no_newton_step():
    """Every feature constant: no constraint binds, the answer is uniform after 0 steps."""
    sol = maxent.solve_maxent(np.full((4, 2), 2.5), [2.5, 2.5])
    assert sol.n_iter == 0
    np.testing.assert_allclose(sol.p, np.full(4, 0.25), rtol=1e-15)


#: two binary features on four states; the uniform distribution meets the first target already
TWO_BITS = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def test_newton_runs_while_any_constraint_is_violated():
    """At lambda = 0 the first constraint holds and the second does not: Newton must go on
    until both hold (the largest violation, not the smallest, decides)."""
    sol = maxent.solve_maxent(TWO_BITS, [0.5, 0.7])
    np.testing.assert_allclose(TWO_BITS.T @ sol.p, [0.5, 0.7], atol=1e-12)
    # independent bits: p = q1(x1) q2(x2) with q1 = (0.5, 0.5), q2 = (0.3, 0.7)
    np.testing.assert_allclose(sol.p, [0.15, 0.15, 0.35, 0.35], atol=1e-12)
    assert sol.lambdas[0] == pytest.approx(0.0, abs=1e-12)
    assert sol.lambdas[1] == pytest.approx(np.log(0.7 / 0.3), abs=1e-12)


def test_the_final_check_reads_the_largest_violation():
    """With no Newton step allowed, one constraint met and one not is a failure."""
    with pytest.raises(RuntimeError, match="did not reach the constraints"):
        maxent.solve_maxent(TWO_BITS, [0.5, 0.7], max_iter=0)


def test_penalised_primal_counts_zero_probabilities_as_no_entropy():
    """0 log 0 = 0: a zero probability adds nothing to the entropy term (computed by hand)."""
    T = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([0, 1, 1])
    P = np.array([[1.0, 0.0], [0.25, 0.75], [0.0, 1.0]])
    h = (0.0 + -(0.25 * np.log(0.25) + 0.75 * np.log(0.75)) + 0.0) / 3
    R = (P - np.eye(2)[y]).T @ T / 3
    expected = h - np.sum(R**2) / (2 * 0.5)
    assert maxent.penalised_primal(T, y, P, 0.5) == pytest.approx(expected, rel=1e-14)
