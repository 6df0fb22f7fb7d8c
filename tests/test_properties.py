"""Property-based tests (hypothesis) of the mathematical core: information measures, the discrete
max-ent solver, softmax and softmax regression, the evaluation metrics, the feature conditions
(exact gaps, probes, intervals), the claims' verdict rule and the summaries over seeds. Each
property is a statement of the lessons that must hold for every input hypothesis draws,
including inputs at extreme scales where the library rescales or works in the log domain."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from maxent_lib import ablation, conditions, data, info, maxent, metrics, quadrature, stats
from maxent_lib._checks import as_finite_array, check_labels
from maxent_lib.softmax import (
    SoftmaxRegression,
    log_softmax,
    mean_cross_entropy,
    moment_residuals,
    softmax,
)

FAST = settings(max_examples=40, deadline=None)
SLOW = settings(max_examples=15, deadline=None)


@st.composite
def distributions(draw, k=None, batch=None):
    """Probability vectors (or a batch of them), some with zero entries."""
    k = draw(st.integers(1, 7)) if k is None else k
    shape = (k,) if batch is None else (batch, k)
    w = draw(arrays(np.float64, shape, elements=st.floats(0, 1)))
    w = np.where(w < 0.2, 0.0, w)  # zeros, to exercise 0 log 0 = 0
    w[..., 0] += 1e-3
    return w / w.sum(axis=-1, keepdims=True)


@st.composite
def joints(draw):
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    return draw(distributions(rows * cols)).reshape(rows, cols)


@st.composite
def interior_problems(draw):
    """(F, target, q): features of K states, a target F^T q with q in the simplex's interior."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    K, m = int(rng.integers(2, 9)), int(rng.integers(1, 4))
    F = rng.normal(size=(K, m))
    q = rng.dirichlet(np.ones(K) * 2)
    return F, F.T @ q, q


# ------------------------------------------------------------------------------ info

@FAST
@given(st.data())
def test_cross_entropy_is_entropy_plus_kl_and_kl_is_nonnegative(data):
    k = data.draw(st.integers(1, 7))
    p, q = data.draw(distributions(k)), data.draw(distributions(k))
    kl = info.kl_divergence(p, q)
    assert kl >= 0
    if np.isfinite(kl):
        assert info.cross_entropy(p, q) == pytest.approx(info.entropy(p) + kl, abs=1e-10)
    assert info.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


@FAST
@given(distributions(), st.randoms(use_true_random=False))
def test_entropy_is_permutation_invariant_and_bounded(p, rnd):
    perm = list(range(len(p)))
    rnd.shuffle(perm)
    assert info.entropy(p[perm]) == pytest.approx(info.entropy(p), abs=1e-12)
    assert -1e-12 <= info.entropy(p) <= np.log(len(p)) + 1e-12


@FAST
@given(st.integers(1, 5), st.integers(2, 6), st.data())
def test_batched_measures_equal_row_by_row(n, k, data):
    P, Q = data.draw(distributions(k, batch=n)), data.draw(distributions(k, batch=n))
    np.testing.assert_allclose(info.entropy(P), [info.entropy(p) for p in P], atol=1e-12)
    np.testing.assert_allclose(info.kl_divergence(P, Q),
                               [info.kl_divergence(p, q) for p, q in zip(P, Q, strict=True)])


@FAST
@given(joints())
def test_mutual_information_bounds_and_symmetry(joint):
    mi = info.mutual_information(joint)
    hx, hy = info.entropy(joint.sum(1)), info.entropy(joint.sum(0))
    assert -1e-12 <= mi <= min(hx, hy) + 1e-10
    assert info.mutual_information(joint.T) == pytest.approx(mi, abs=1e-10)


@FAST
@given(st.data())
def test_independent_variables_have_zero_mutual_information(data):
    px, py = data.draw(distributions()), data.draw(distributions())
    assert info.mutual_information(np.outer(px, py)) == pytest.approx(0.0, abs=1e-10)


# ------------------------------------------------------------------------------ maxent

@SLOW
@given(interior_problems(), st.integers(-250, 250), st.floats(-1e3, 1e3))
def test_max_ent_is_invariant_to_units_and_offsets(problem, exponent, shift):
    """Changing the features' units (any power of ten in 1e-250..1e250) or adding an offset
    changes nothing in the max-ent distribution: the solver standardises the features."""
    F, target, _ = problem
    ref = maxent.solve_maxent(F, target)
    s = 10.0**exponent
    moved = maxent.solve_maxent(F * s + shift * s, target * s + shift * s)
    np.testing.assert_allclose(moved.p, ref.p, atol=1e-7)
    if np.linalg.matrix_rank(F - F.mean(0)) == F.shape[1]:  # otherwise lambda is not unique
        np.testing.assert_allclose(moved.lambdas * s, ref.lambdas, rtol=1e-5, atol=1e-6)
    assert moved.entropy == pytest.approx(ref.entropy, abs=1e-8)


@SLOW
@given(interior_problems())
def test_max_ent_beats_every_feasible_distribution_by_exactly_the_kl(problem):
    F, target, q = problem
    sol = maxent.solve_maxent(F, target)
    assert np.max(np.abs(F.T @ sol.p - target)) < 1e-8
    assert info.entropy(q) == pytest.approx(sol.entropy - info.kl_divergence(q, sol.p),
                                            abs=1e-8)


@SLOW
@given(interior_problems(), arrays(np.float64, 3, elements=st.floats(-3, 3)))
def test_weak_duality_dual_is_an_upper_bound_on_the_entropy(problem, lam):
    """For every lambda, D(lambda) = log Z - lambda . target >= H(p*); equality at lambda*."""
    F, target, _ = problem
    lam = lam[: F.shape[1]]
    sol = maxent.solve_maxent(F, target)
    value, grad, hess = maxent.dual(F, target, lam)
    assert value >= sol.entropy - 1e-9
    p, _ = maxent.gibbs(F, lam)
    np.testing.assert_allclose(grad, p @ F - target, atol=1e-10)
    assert np.all(np.linalg.eigvalsh(hess) >= -1e-10)
    assert maxent.dual(F, target, sol.lambdas)[0] == pytest.approx(sol.entropy, abs=1e-8)


@FAST
@given(arrays(np.float64, (5, 2), elements=st.floats(-10, 10)),
       arrays(np.float64, 2, elements=st.floats(-1e200, 1e200)), st.floats(-1e3, 1e3))
def test_gibbs_is_a_distribution_at_any_lambda_and_ignores_constant_shifts(F, lam, c):
    try:
        p, log_z = maxent.gibbs(F, lam)
    except ValueError as exc:  # only when lambda . F overflows float64
        assert "overflow" in str(exc)
        assert not np.all(np.isfinite(F @ lam)) or np.max(np.abs(F @ lam)) > 1e307
        return
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, abs=1e-12) and np.isfinite(log_z)
    if np.max(np.abs(lam)) < 1e3:
        shifted, _ = maxent.gibbs(F + c, lam)  # adds lambda . c to every state's score
        np.testing.assert_allclose(shifted, p, atol=1e-9)


# ------------------------------------------------------------------------------ softmax

@FAST
@given(arrays(np.float64, (4, 5), elements=st.floats(-1e300, 1e300)), st.floats(-1e300, 1e300))
def test_softmax_is_a_distribution_and_shift_invariant(z, c):
    assume(np.all(np.ptp(z, axis=1) < 1e307))
    p = softmax(z)
    assert np.all(p >= 0) and np.allclose(p.sum(axis=1), 1.0)
    assert np.all(p[np.arange(len(z)), z.argmax(axis=1)] >= p.max(axis=1) - 1e-15)
    zc = z + c
    if np.all(np.isfinite(zc)) and np.max(np.abs(z)) < 1e15 and abs(c) < 1e15:
        # z + c is rounded to float64: each score moves by up to eps * |z + c|, and each
        # probability by about as much (times p <= 1)
        rounding = 4 * np.finfo(float).eps * (np.max(np.abs(z)) + abs(c))
        np.testing.assert_allclose(softmax(zc), p, atol=1e-6 + rounding)
    lp = log_softmax(z)
    np.testing.assert_allclose(np.exp(lp), p, atol=1e-12)


@st.composite
def classification_data(draw):
    """Overlapping classes (so the unpenalised optimum is finite): (T, y, K)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n, m, K = int(rng.integers(30, 80)), int(rng.integers(1, 4)), int(rng.integers(2, 4))
    y = np.r_[np.arange(K), np.arange(K), rng.integers(0, K, n - 2 * K)]
    T = rng.normal(size=(n, m)) + 0.5 * y[:, None]
    T[: 2 * K] = 0.0  # every class sits at the same point twice: never separable
    return T, y, K


@SLOW
@given(classification_data(), st.integers(-120, 120))
def test_softmax_regression_meets_the_moments_at_any_feature_scale(problem, exponent):
    """The max-ent constraints hold at the optimum (model moments = empirical moments), and the
    fitted probabilities do not depend on the features' units."""
    T, y, K = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SoftmaxRegression().fit(T, y, n_classes=K)
        scaled = SoftmaxRegression().fit(T * 10.0**exponent, y, n_classes=K)
    assume(ref.converged_ and not ref.separable_)
    P = ref.predict_proba(T)
    assert np.max(np.abs(moment_residuals(T, y, P))) < 1e-8
    np.testing.assert_allclose(scaled.predict_proba(T * 10.0**exponent), P, atol=1e-6)


@SLOW
@given(classification_data(), st.floats(1e-3, 1e8))
def test_penalised_residuals_are_minus_alpha_w(problem, alpha):
    T, y, K = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SoftmaxRegression(alpha=alpha).fit(T, y, n_classes=K)
    assert model.converged_
    R = moment_residuals(T, y, model.predict_proba(T))
    np.testing.assert_allclose(R, -alpha * model.coef_, atol=1e-8)


@SLOW
@given(classification_data(), st.randoms(use_true_random=False))
def test_relabelling_classes_permutes_the_model(problem, rnd):
    T, y, K = problem
    perm = list(range(K))
    rnd.shuffle(perm)
    perm = np.array(perm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = SoftmaxRegression(alpha=1e-3).fit(T, y, n_classes=K).predict_proba(T)
        b = SoftmaxRegression(alpha=1e-3).fit(T, perm[y], n_classes=K).predict_proba(T)
    np.testing.assert_allclose(b[:, perm], a, atol=1e-7)


# ------------------------------------------------------------------------------ metrics

@st.composite
def predictions(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    M, N, K = int(rng.integers(1, 4)), int(rng.integers(5, 60)), int(rng.integers(2, 5))
    logits = rng.normal(size=(M, N, K)) * draw(st.sampled_from([0.1, 1.0, 10.0, 1e3]))
    return torch.log_softmax(torch.as_tensor(logits), -1), torch.as_tensor(
        rng.integers(0, K, N))


@FAST
@given(predictions(), st.integers(1, 30))
def test_stacked_metrics_ranges_and_agreement_with_single_models(pred, n_bins):
    lp, y = pred
    out = metrics.stacked_metrics(lp, y, n_bins)
    K = lp.shape[2]
    assert np.all((out["acc"] >= 0) & (out["acc"] <= 1))
    assert np.all(out["loss"] >= 0)
    assert np.all((out["entropy"] >= -1e-12) & (out["entropy"] <= np.log(K) + 1e-12))
    assert np.all((out["ece"] >= 0) & (out["ece"] <= 1))
    for m in range(lp.shape[0]):
        probs = lp[m].exp().numpy()
        probs = probs / probs.sum(1, keepdims=True)
        assert out["ece"][m] == pytest.approx(
            metrics.expected_calibration_error(probs, y.numpy(), n_bins), abs=1e-9)
        nll = -lp[m, torch.arange(len(y)), y].double().mean().item()
        assert out["loss"][m] == pytest.approx(nll, rel=1e-12, abs=1e-12)
        if np.all(probs[np.arange(len(y)), y.numpy()] > 0):
            assert out["loss"][m] == pytest.approx(mean_cross_entropy(probs, y.numpy()),
                                                   rel=1e-9, abs=1e-9)
        one = metrics.stacked_metrics(lp[m:m + 1], y, n_bins)
        assert one["acc"][0] == out["acc"][m] and one["ece"][0] == pytest.approx(out["ece"][m])


@FAST
@given(predictions(), st.randoms(use_true_random=False))
def test_metrics_do_not_depend_on_the_order_of_examples(pred, rnd):
    lp, y = pred
    order = list(range(len(y)))
    rnd.shuffle(order)
    a = metrics.stacked_metrics(lp, y)
    b = metrics.stacked_metrics(lp[:, order], y[order])
    for k in a:
        np.testing.assert_allclose(a[k], b[k], atol=1e-12)


# ------------------------------------------------------------------------------ validation

@FAST
@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)),
              elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_finite_arrays_pass_unchanged(x):
    np.testing.assert_array_equal(as_finite_array(x, "X", ndim=2), x)
    if np.max(np.abs(x)) < 3e38:  # representable in float32
        np.testing.assert_array_equal(as_finite_array(x.astype(np.float32), "X"),
                                      x.astype(np.float32).astype(np.float64))


@FAST
@given(arrays(np.int64, st.integers(1, 20), elements=st.integers(-3, 12)), st.integers(1, 10))
def test_labels_accepted_exactly_when_in_range(y, k):
    if y.min() >= 0 and y.max() < k:
        np.testing.assert_array_equal(check_labels(y, k), y)
    else:
        with pytest.raises(ValueError, match="label"):
            check_labels(y, k)


# ------------------------------------------------------------------------------ claims

@st.composite
def families(draw, max_settings=5):
    """A family of settings, each with 2-8 per-seed differences around its own mean."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = int(rng.integers(1, max_settings + 1))
    scale = draw(st.sampled_from([1e-3, 1e-2, 0.1]))
    return [rng.normal(rng.normal() * scale * 3, scale, int(rng.integers(2, 9)))
            for _ in range(k)]


_FLIP = {"up": "down", "down": "up"}


@FAST
@given(families(), st.sampled_from([-1, 0, 1]), st.sampled_from([0.0, 0.005, 0.02]))
def test_family_verdict_is_symmetric_under_a_sign_flip(effects, direction, margin):
    """Flipping the sign of every difference and of the predicted direction changes nothing:
    the same verdict, every "up" call becomes "down" and back (the t-distribution is
    symmetric, and Holm does not depend on the order of its hypotheses)."""
    assume(direction != 0 or margin > 0)
    a = stats.family_tests(effects, direction, margin=margin)
    b = stats.family_tests([-e for e in effects], -direction, margin=margin)
    assert a.verdict == b.verdict
    assert [_FLIP.get(s.call, s.call) for s in a.settings] == [s.call for s in b.settings]
    for s, t in zip(a.settings, b.settings, strict=True):
        assert (s.p_up, s.p_down, s.p_equiv) == (t.p_down, t.p_up, t.p_equiv)


@FAST
@given(families(), st.sampled_from([-1, 1]), st.randoms(use_true_random=False))
def test_family_verdict_does_not_depend_on_the_order_of_settings(effects, direction, rnd):
    order = list(range(len(effects)))
    rnd.shuffle(order)
    a = stats.family_tests(effects, direction, margin=0.01)
    b = stats.family_tests([effects[i] for i in order], direction, margin=0.01)
    assert a.verdict == b.verdict
    assert [a.settings[i].call for i in order] == [s.call for s in b.settings]


_RANK = {"contradicted": 0, "inconclusive": 1, "negligible": 1, "supported": 2}


@FAST
@given(families(max_settings=1), st.floats(0.0, 0.05), st.sampled_from([0.0, 0.01]))
def test_one_setting_verdict_is_monotone_in_the_effect(effects, shift, margin):
    """With one setting, "up" is called exactly when p_up <= alpha / 2 (p_up + p_down >= 1, so
    Holm's first step decides), and p_up falls as every difference grows: moving the
    differences up never lowers the verdict (contradicted < inconclusive/negligible <
    supported) for a claim of a positive effect."""
    before = stats.family_verdict(effects, +1, margin=margin)
    after = stats.family_verdict([effects[0] + shift], +1, margin=margin)
    assert _RANK[after] >= _RANK[before]


@FAST
@given(arrays(np.float64, st.integers(1, 12), elements=st.floats(0, 1)),
       arrays(np.float64, 12, elements=st.floats(0, 1)), st.floats(0.001, 0.2))
def test_holm_is_monotone_and_between_bonferroni_and_unadjusted(p, cut, alpha):
    """Holm rejects every hypothesis Bonferroni rejects and only ones with p <= alpha; lowering
    p-values never removes a rejection (it is a closed test of Bonferroni tests)."""
    reject = stats.holm(p, alpha)
    assert np.all(reject[p <= alpha / len(p)])
    assert not np.any(reject[p > alpha])
    lower = p * cut[: len(p)]
    assert np.all(stats.holm(lower, alpha)[reject])


@FAST
@given(st.floats(-1, 1), st.floats(0, 1), st.sampled_from([-1, 0, 1]), st.floats(0, 0.1))
def test_one_interval_reading_is_symmetric(lo, width, direction, margin):
    assume(direction != 0 or margin > 0)
    hi = lo + width
    assert stats.verdict(lo, hi, direction, margin) == stats.verdict(-hi, -lo, -direction,
                                                                       margin)


# ------------------------------------------------------------------------------ summaries

@FAST
@given(arrays(np.float64, st.integers(2, 20), elements=st.floats(-1e3, 1e3)),
       st.floats(1e-3, 1e3), st.floats(-1e3, 1e3), st.floats(0.5, 0.99))
def test_t_interval_moves_with_the_values(v, a, b, level):
    """t_interval(a v + b) = a t_interval(v) + b for a > 0 (an interval of the mean is in the
    values' units), and the interval holds the mean and widens with the level."""
    mean, lo, hi = stats.t_interval(v, level)
    assert lo <= mean <= hi
    m2, lo2, hi2 = stats.t_interval(a * v + b, level)
    tol = 1e-9 * (abs(a) * np.max(np.abs(v)) + abs(b) + 1)
    assert m2 == pytest.approx(a * mean + b, abs=tol)
    assert lo2 == pytest.approx(a * lo + b, abs=tol) and hi2 == pytest.approx(a * hi + b, abs=tol)
    wider = stats.t_interval(v, min(level + 0.005, 0.999))
    assert wider[1] <= lo + 1e-12 and wider[2] >= hi - 1e-12


@FAST
@given(st.integers(2, 6), st.integers(0, 2**32 - 1), st.randoms(use_true_random=False))
def test_paired_effects_do_not_depend_on_the_order_of_records(n_seeds, seed, rnd):
    rng = np.random.default_rng(seed)
    recs = [{"arm": arm, "seed": s, "depth": d, "kind": "mlp", "dataset": "x",
             "test_acc": float(rng.uniform(0.5, 0.9))}
            for arm in ("plain", "residual") for s in range(n_seeds) for d in (2, 4)]
    a = ablation.paired_effects(recs, "test_acc", "arm", "plain", within=("depth",))
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    b = ablation.paired_effects(shuffled, "test_acc", "arm", "plain", within=("depth",))
    key = {r["depth"]: r for r in b}
    for r in a:
        assert r == key[r["depth"]]
        diffs = [x["test_acc"] - y["test_acc"] for x in recs for y in recs
                 if x["arm"] == "residual" and y["arm"] == "plain"
                 and x["seed"] == y["seed"] and x["depth"] == y["depth"] == r["depth"]]
        assert r["diffs"] == pytest.approx(diffs, abs=0) and r["n"] == n_seeds


# ------------------------------------------------------------------------------ conditions

@st.composite
def gaussian_tasks(draw):
    """Two or three Gaussian classes in 2-D with random means, shared or own covariances."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = int(rng.integers(2, 4))
    shared = draw(st.booleans())

    def cov():
        a = rng.normal(size=(2, 2)) * 0.5
        return a @ a.T + np.eye(2) * 0.3

    common = cov()
    comps = [[(1.0, rng.normal(size=2) * 1.5, common if shared else cov())] for _ in range(k)]
    priors = rng.dirichlet(np.ones(k) * 3)
    return data.GaussianMixtureTask(comps, priors=priors, name="random")


@SLOW
@given(gaussian_tasks(), st.sampled_from([None, [0], [1]]))
def test_exact_gaps_are_nonnegative_and_decompose(task, keep):
    """Lesson 03's decomposition, by quadrature: total gap = FC1 gap + FC2 gap, each gap equals
    its KL term (FC1: E_x KL(P(Y|x) || P(Y|T)); FC2: E_T KL(P(Y|T) || q*)) and is >= 0, all
    within the rule's own error estimate."""
    r = conditions.exact_condition_gaps(task, keep, n_nodes=48)
    tol = 10 * r["accuracy"] + 1e-9
    assert r["total_gap"] == pytest.approx(r["kl_fc1"] + r["kl_fc2"], abs=2 * tol)
    assert r["fc1_gap"] == pytest.approx(r["kl_fc1"], abs=tol)
    assert r["fc2_gap"] == pytest.approx(r["kl_fc2"], abs=tol)
    for g in ("fc1_gap", "fc2_gap", "kl_fc1", "kl_fc2"):
        assert r[g] >= -tol, (g, r[g])
    if keep is None:
        assert abs(r["fc1_gap"]) <= tol  # T = x loses nothing
    assert r["mi_features"] <= r["mi_input"] + tol  # data processing


@SLOW
@given(gaussian_tasks(), st.integers(0, 2**32 - 1))
def test_exact_gaps_do_not_change_under_invertible_affine_features(task, seed):
    """T = A x + b with A invertible (a permutation, a rescaling, a rotation) loses nothing
    and leaves the family of affine log-odds unchanged: both gaps stay as they are."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(2, 2))
    assume(abs(np.linalg.det(A)) > 0.3)
    b = rng.normal(size=2)
    ref = conditions.exact_condition_gaps(task, n_nodes=48)
    moved = conditions.exact_condition_gaps(task, transform=lambda T: T @ A.T + b, n_nodes=48)
    swapped = conditions.exact_condition_gaps(task, transform=lambda T: T[:, ::-1] * [3.0, -0.5],
                                              n_nodes=48)
    for g in ("fc1_gap", "fc2_gap", "total_gap"):
        assert moved[g] == pytest.approx(ref[g], abs=1e-7)
        assert swapped[g] == pytest.approx(ref[g], abs=1e-7)


@FAST
@given(classification_data(), st.randoms(use_true_random=False),
       arrays(np.float64, 3, elements=st.sampled_from([-1e3, -2.0, 0.5, 1.0, 1e-3, 7.0])))
def test_linear_probe_ignores_the_order_units_and_signs_of_features(problem, rnd, scales):
    """Softmax regression on standardised features: permuting the features or changing their
    units (scale, sign) changes no probability (the penalty is on standardised weights)."""
    T, y, K = problem
    perm = list(range(T.shape[1]))
    rnd.shuffle(perm)
    s = scales[: T.shape[1]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = conditions.linear_probe(T, y, K)(T)
        moved = conditions.linear_probe(T[:, perm] * s[perm], y, K)(T[:, perm] * s[perm])
    np.testing.assert_allclose(np.exp(moved), np.exp(ref), atol=1e-6)


@FAST
@given(classification_data(), st.floats(-50, 50), st.integers(0, 2**32 - 1))
def test_log_odds_residual_is_invariant_to_row_shifts_and_affine_features(problem, shift, seed):
    T, y, K = problem
    rng = np.random.default_rng(seed)
    lp = log_softmax(rng.normal(size=(len(T), K)) + (T ** 2).sum(1, keepdims=True)
                     * rng.normal(size=K))  # log-odds neither affine nor zero
    A = rng.normal(size=(T.shape[1], T.shape[1])) + 2 * np.eye(T.shape[1])
    ref = conditions.log_odds_affine_residual(T, lp)
    shifted = conditions.log_odds_affine_residual(T @ A + 1.0, lp + shift * rng.normal(
        size=(len(T), 1)))
    assert shifted == pytest.approx(ref, rel=1e-6, abs=1e-9)


@FAST
@given(predictions())
def test_point_losses_are_minus_log_p_and_nonnegative(pred):
    lp, y = pred
    lp0 = lp[0].numpy()
    losses = conditions.point_losses(lp0, y.numpy())
    assert np.all(losses >= 0)
    np.testing.assert_allclose(losses, torch.nn.functional.nll_loss(
        lp[0].double(), y, reduction="none").numpy(), rtol=1e-6, atol=1e-6)


@FAST
@given(arrays(np.float64, st.integers(2, 12), elements=st.floats(-1e3, 1e3)),
       st.floats(1e-3, 1e3), st.floats(-1e3, 1e3), st.floats(0.05, 0.9))
def test_repeated_split_interval_moves_with_the_values(v, a, b, frac):
    lo, hi = stats.t_interval(v, test_fraction=frac)[1:]
    assert lo <= v.mean() <= hi
    lo2, hi2 = stats.t_interval(a * v + b, test_fraction=frac)[1:]
    tol = 1e-9 * (a * np.max(np.abs(v)) + abs(b) + 1)
    assert lo2 == pytest.approx(a * lo + b, abs=tol) and hi2 == pytest.approx(a * hi + b, abs=tol)
    wider = stats.t_interval(v, test_fraction=min(frac + 0.05, 0.95))[1:]  # more test, fewer train
    assert wider[0] <= lo + 1e-12 and wider[1] >= hi - 1e-12


@FAST
@given(gaussian_tasks(), st.integers(8, 40))
def test_quadrature_weights_are_a_distribution_with_the_tasks_moments(task, n):
    X, w = quadrature.quadrature_nodes(task, n)
    assert np.all(w >= 0) and X.shape == (len(w), 2)
    mean = sum(p * m for p, comps in zip(task.priors, task.components, strict=True)
               for _, m, _ in comps)  # every class here has one component
    value, err = quadrature.expectation(task, lambda Z: Z, 8 * n)
    np.testing.assert_allclose(value, mean, atol=10 * err.max() + 1e-9)
