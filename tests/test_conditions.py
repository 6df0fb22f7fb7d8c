"""Tests for maxent_lib.conditions: the FC1/FC2 gaps, their intervals, the exact versions, and
the "done when" check (the gaps separate the three synthetic cases at several sizes and seeds)."""

import numpy as np
import pytest

from maxent_lib import conditions as C
from maxent_lib import data, stats


def dropped_coordinate_task() -> data.GaussianMixtureTask:
    """Two unit-covariance Gaussian classes apart along x0 only: T = x1 loses everything."""
    eye = np.eye(2)
    return data.GaussianMixtureTask([[(1.0, [-1.5, 0.0], eye)], [(1.0, [1.5, 0.0], eye)]])


@pytest.fixture(scope="module")
def shared_split():
    return data.shared_covariance_gaussians(seed=0).split(600, 600, seed=0)


# ---------------------------------------------------------------- "done when"

@pytest.mark.parametrize("n", [1000, 3000])
@pytest.mark.parametrize("seed", [0, 1])
def test_gaps_separate_the_three_cases(n, seed):
    # both conditions hold: shared covariance, T = X
    s = data.shared_covariance_gaussians(seed=seed).split(n, 2000, seed=seed)
    r = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, s.X_train, s.X_test,
                                 n_bootstrap=200, seed=seed)
    assert abs(r["fc1_gap"]) < 0.05 and abs(r["fc2_gap"]) < 0.05, r
    # FC2 fails: XOR, T = X
    s = data.xor_task().split(n, 2000, seed=seed)
    r = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, n_bootstrap=200,
                                 seed=seed)
    assert r["fc2_gap"] > 0.3 and r["fc2_gap_ci"][0] > 0.3, r
    assert r["fc1_gap"] is None and r["fc1_gap_ci"] is None
    # FC1 fails: T drops the informative coordinate
    s = dropped_coordinate_task().split(n, 2000, seed=seed)
    r = C.feature_condition_gaps(s.X_train[:, [1]], s.y_train, s.X_test[:, [1]], s.y_test,
                                 s.X_train, s.X_test, n_bootstrap=200, seed=seed)
    assert r["fc1_gap"] > 0.3 and r["fc1_gap_ci"][0] > 0.3, r
    assert abs(r["fc2_gap"]) < 0.05, r


def test_dropped_coordinate_task_has_true_fc1_gap_above_0_3():
    e = C.exact_condition_gaps(dropped_coordinate_task(), keep=[1], n_eval=20_000,
                               n_population=5000)
    assert e["fc1_gap"] > 0.3
    assert abs(e["fc2_gap"]) < 0.01  # P(y | x1) is constant: affine in x1


def test_probe_is_close_to_the_exact_gaps():
    task = data.class_covariance_gaussians(seed=0)
    s = task.split(2000, 3000, seed=3)
    r = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, n_bootstrap=100)
    e = C.exact_condition_gaps(task, X_test=s.X_test, y_test=s.y_test)
    assert e["method"] == "points" and e["n_eval"] == 3000
    assert abs(r["ce_flexible"] - e["ce_bayes_input"]) < 0.03
    assert abs(r["fc2_gap"] - e["fc2_gap"]) < 0.05
    assert e["fc2_gap"] > 0.3


# ---------------------------------------------------------------- identities and API

def test_identities_and_keys(shared_split):
    s = shared_split
    r = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, s.X_train, s.X_test,
                                 n_bootstrap=100)
    assert r["fc1_gap"] + r["fc2_gap"] == pytest.approx(r["total_gap"])
    assert r["mi_lower_bound"] == pytest.approx(r["entropy_y"] - r["ce_flexible"])
    freq = np.bincount(s.y_test) / len(s.y_test)  # H(Y) on the same points as the CEs
    assert r["entropy_y"] == pytest.approx(-(freq * np.log(freq)).sum())
    known = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test,
                                     n_bootstrap=20, priors=np.full(3, 1 / 3))
    assert known["entropy_y"] == pytest.approx(np.log(3))
    for key in ("fc1_gap", "fc2_gap", "total_gap", "mi_lower_bound"):
        lo, hi = r[key + "_ci"]
        assert lo <= r[key] <= hi
    assert r["ce_linear"] == pytest.approx(r["losses"]["linear"].mean())
    assert r["n_test"] == len(s.y_test) == len(r["losses"]["flexible"])


def test_deterministic_and_input_losses_reuse(shared_split):
    s = shared_split
    a = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, s.X_train, s.X_test,
                                 n_bootstrap=50, seed=4)
    b = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, s.X_train, s.X_test,
                                 n_bootstrap=50, seed=4)
    assert a["fc1_gap"] == b["fc1_gap"] and a["fc2_gap_ci"] == b["fc2_gap_ci"]
    c = C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, n_bootstrap=50,
                                 seed=4, input_losses=a["losses"]["flexible_input"])
    assert c["fc1_gap"] == a["fc1_gap"]


def test_layerwise_fits_input_probe_once(shared_split):
    s = shared_split
    feats_tr, feats_te = [s.X_train, s.X_train[:, :1]], [s.X_test, s.X_test[:, :1]]
    res = C.layerwise_condition_gaps(feats_tr, feats_te, s.y_train, s.y_test, s.X_train,
                                     s.X_test, n_bootstrap=50, progress=False)
    assert len(res) == 2
    assert res[0]["ce_flexible_input"] == res[1]["ce_flexible_input"]
    with pytest.raises(ValueError, match="same length"):
        C.layerwise_condition_gaps(feats_tr, feats_te[:1], s.y_train, s.y_test)


def test_exact_gaps_quadratic_features_repair_fc2():
    task = data.class_covariance_gaussians(seed=0)
    plain = C.exact_condition_gaps(task)
    quad = C.exact_condition_gaps(task, transform=data.quadratic_features)
    assert plain["method"] == quad["method"] == "quadrature"
    assert plain["fc2_gap"] > 0.3
    assert abs(quad["fc2_gap"]) < 1e-6  # quadratic log-odds are affine in (x, xx^T): exact
    assert plain["fc1_gap"] == 0.0 and quad["fc1_gap"] == 0.0
    assert quad["mi_features"] == pytest.approx(quad["mi_input"])
    assert max(plain["accuracy"], quad["accuracy"]) < 1e-4


def test_paired_bootstrap_ci():
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 1.0, 4000)
    lo, hi = stats.paired_bootstrap_ci(a, a - 0.5, n_bootstrap=200)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.5)  # constant difference
    lo, hi = stats.paired_bootstrap_ci(a, np.zeros_like(a), n_bootstrap=500)
    assert lo < a.mean() < hi and hi - lo < 0.1


def test_flexible_probe_near_bayes_on_circles():
    task = data.CirclesTask()
    s = task.split(2000, 2000, seed=0)
    probe = C.FlexibleProbe(seed=0).fit(s.X_train, s.y_train)
    ce = C.point_losses(probe.predict_log_proba(s.X_test), s.y_test).mean()
    bayes = -np.mean(np.log(task.posterior(s.X_test)[np.arange(2000), s.y_test]))
    assert ce - bayes < 0.02
    np.testing.assert_allclose(probe.predict_proba(s.X_test).sum(1), 1.0, atol=1e-12)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "T_test": a["T_test"][:, :1]}, "columns"),
    (lambda a: {**a, "T_train": np.where(a["T_train"] > 2, np.nan, a["T_train"])}, "NaN"),
    (lambda a: {**a, "y_test": a["y_test"] + 5}, "out of range"),
    (lambda a: {**a, "y_train": a["y_train"][:-1]}, "rows"),
    (lambda a: {**a, "y_train": np.zeros_like(a["y_train"])}, "single class"),
    (lambda a: {**a, "X_train": a["T_train"]}, "both X_train and X_test"),
    (lambda a: {**a, "T_train": a["T_train"][:, 0]}, "dimension"),
])
def test_bad_input_raises(shared_split, change, message):
    s = shared_split
    args = {"T_train": s.X_train, "y_train": s.y_train, "T_test": s.X_test, "y_test": s.y_test,
            "n_classes": 3}
    with pytest.raises(ValueError, match=message):
        C.feature_condition_gaps(**change(args))


def test_bad_options_raise(shared_split):
    s = shared_split
    with pytest.raises(ValueError, match="n_bootstrap"):
        C.feature_condition_gaps(s.X_train, s.y_train, s.X_test, s.y_test, n_bootstrap=0)
    with pytest.raises(ValueError, match="not fitted"):
        C.FlexibleProbe().predict_proba(s.X_test)
    with pytest.raises(ValueError, match="val_fraction"):
        C.FlexibleProbe(val_fraction=1.5)
    with pytest.raises(ValueError, match="SyntheticTask"):
        C.exact_condition_gaps("xor")
    with pytest.raises(ValueError, match="keep"):
        C.exact_condition_gaps(data.xor_task(), keep=[5], n_eval=10)
    with pytest.raises(ValueError, match="GaussianMixtureTask"):
        C.exact_condition_gaps(data.CirclesTask(), keep=[0], n_eval=10)


def test_feasible_alternative_keeps_the_constraints_and_loses_entropy():
    from maxent_lib import info
    from maxent_lib.softmax import SoftmaxRegression, moment_residuals
    task = data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0)
    X, y = task.sample(2000, seed=0)
    p = SoftmaxRegression(alpha=0.0).fit(X, y).predict_proba(X)
    q = C.feasible_alternative(X, p, step=0.5, seed=0)
    assert q.min() >= 0 and np.allclose(q.sum(axis=1), 1.0)
    np.testing.assert_allclose(q.T @ X, p.T @ X, atol=1e-8)       # same class moments
    np.testing.assert_allclose(q.sum(axis=0), p.sum(axis=0), atol=1e-8)
    assert np.abs(q - p).max() > 1e-3                              # a different distribution
    assert np.abs(moment_residuals(X, y, q)).max() < 1e-8
    assert info.entropy(q).mean() < info.entropy(p).mean()         # the Gibbs form wins
    # every row moved (lesson 03's check): still feasible, and measurably lower entropy
    near = data.shared_covariance_gaussians(n_classes=3, dim=2, separation=1.0, seed=0)
    Xn, yn = near.sample(2000, seed=0)
    pn = SoftmaxRegression(alpha=0.0).fit(Xn, yn).predict_proba(Xn)
    qn = C.feasible_alternative(Xn, pn, step=0.9, seed=0, max_points=len(Xn))
    assert qn.min() >= 0 and np.allclose(qn.sum(axis=1), 1.0)
    np.testing.assert_allclose(qn.T @ Xn, pn.T @ Xn, atol=1e-8)
    assert np.mean(np.abs(qn - pn).max(axis=1) > 1e-6) > 0.5
    assert info.entropy(pn).mean() - info.entropy(qn).mean() > 1e-3


def test_feasible_alternative_bad_input():
    X = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match="sum to one"):
        C.feasible_alternative(X, np.full((50, 2), 0.7))
    with pytest.raises(ValueError, match="negative"):
        C.feasible_alternative(X, np.tile([1.5, -0.5], (50, 1)))
    with pytest.raises(ValueError, match="rows"):
        C.feasible_alternative(X, np.full((40, 2), 0.5))
    with pytest.raises(ValueError, match="step"):
        C.feasible_alternative(X, np.full((50, 2), 0.5), step=1.0)


def test_log_odds_affine_residual_zero_only_for_affine_log_odds():
    T = np.random.default_rng(1).normal(size=(300, 2))
    affine = np.stack([np.zeros(300), T @ [1.0, -2.0] + 0.5], axis=1)
    quadratic = np.stack([np.zeros(300), T[:, 0] ** 2], axis=1)
    assert C.log_odds_affine_residual(T, affine) < 1e-10
    assert C.log_odds_affine_residual(T, quadratic) > 0.5
    with pytest.raises(ValueError, match="two classes"):
        C.log_odds_affine_residual(T, affine[:, :1])


def test_coverage_comparison_pairs_rows_by_case_and_gap_not_by_position():
    from maxent_lib.conditions import coverage

    def record(case, sample, fc1, width):
        rec = {"case": case}
        for g in coverage.GAPS:
            rec[f"exact_{g}"] = 0.0
            for m in ("refit", "test_points"):
                value = fc1 * sample if g == "fc1_gap" else 0.01 * sample
                rec[f"{m}_{g}"] = value
                rec[f"{m}_{g}_ci"] = (value - width, value + width)
        return rec

    records = [record("a", s, 0.0, 0.0) for s in range(3)] + \
        [record("b", s, 0.02, 0.05) for s in range(3)]
    rows = coverage.coverage_comparison(records)
    assert [(r["case"], r["gap"]) for r in rows] == [(c, g) for c in "ab" for g in coverage.GAPS]
    for r in rows:
        assert r["refit"]["interval"] == "refit" and r["test_points"]["interval"] == "test points"
        assert r["refit"]["gap"] == r["test_points"]["gap"] == r["gap"]
    assert rows[0]["by_construction"] and not rows[1]["by_construction"]
    assert not rows[3]["by_construction"]
    # the same answer whatever order the records come in
    again = coverage.coverage_comparison(records[::-1])
    key = {(r["case"], r["gap"]): r["by_construction"] for r in rows}
    assert {(r["case"], r["gap"]): r["by_construction"] for r in again} == key
