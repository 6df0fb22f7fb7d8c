"""Intervals that include probe refits (lesson 03): the stacked probes, repeated sample
splitting, the corrected t interval, and their coverage (a small live simulation here; the large
one is stored in results/ with its provenance)."""

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import t as student_t

from maxent_lib import conditions as C
from maxent_lib import data, stats
from maxent_lib.conditions import coverage, refit
from maxent_lib.conditions.probes import StackedProbes
from maxent_lib.softmax import SoftmaxRegression, log_softmax
from maxent_lib.store.provenance import load_stored

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dropped_sample():
    task = coverage.CASES["dropped x1, T=x2"][0]()
    X, y = task.sample(900, seed=0)
    return task, X, y


def test_repeated_split_t_interval_formula():
    v = np.array([0.1, 0.3, 0.2, 0.25])
    mean, lo, hi = stats.t_interval(v, test_fraction=0.25)
    half = student_t.ppf(0.975, 3) * v.std(ddof=1) * np.sqrt(1 / 4 + 1 / 3)
    assert (mean, lo, hi) == pytest.approx((v.mean(), v.mean() - half, v.mean() + half))
    one = stats.t_interval([0.1], test_fraction=0.3)
    assert one[0] == 0.1 and np.isnan(one[1]) and np.isnan(one[2])


def test_repeated_split_keys_identities_and_determinism(dropped_sample):
    task, X, y = dropped_sample
    kw = {"n_splits": 3, "seed": 1, "probe": {"width": 16}}
    r = C.repeated_split_gaps(X[:, [1]], y, X, priors=task.priors, **kw)
    again = C.repeated_split_gaps(X[:, [1]], y, X, priors=task.priors, **kw)
    assert r["fc1_gap"] == again["fc1_gap"] and r["fc2_gap_ci"] == again["fc2_gap_ci"]
    assert r["n_splits"] == 3 and r["n_test"] == 270 and r["n_train"] == 630
    assert r["entropy_y"] == pytest.approx(np.log(2))
    assert r["mi_lower_bound"] == pytest.approx(np.log(2) - r["ce_flexible"])
    for key in ("fc1_gap", "fc2_gap", "total_gap", "mi_lower_bound"):
        lo, hi = r[key + "_ci"]
        assert lo <= r[key] <= hi
    assert 0.0 <= r["mlp_chosen"] <= 1.0
    one = C.repeated_split_gaps(X[:, [1]], y, X, n_splits=1, probe={"width": 16})
    assert one["fc1_gap_ci"] is None and one["interval"] == "none (one split)"


def test_layerwise_shares_the_input_probe(dropped_sample):
    _, X, y = dropped_sample
    res = C.layerwise_repeated_split_gaps([X, X[:, [1]]], y, X, n_splits=2,
                                          probe={"width": 16})
    assert res[0]["fc1_gap"] == 0.0  # T = X: the same read-out
    np.testing.assert_array_equal(res[0]["splits"]["ce_flexible_input"],
                                  res[1]["splits"]["ce_flexible_input"])
    assert res[1]["fc1_gap"] > 0.3


def test_repeated_split_bad_input(dropped_sample):
    _, X, y = dropped_sample
    with pytest.raises(ValueError, match="features is empty"):
        C.layerwise_repeated_split_gaps([], y)
    with pytest.raises(ValueError, match="rows"):
        C.repeated_split_gaps(X[:10], y)
    with pytest.raises(ValueError, match="n_splits"):
        C.repeated_split_gaps(X, y, n_splits=0)
    with pytest.raises(ValueError, match="test_fraction"):
        C.repeated_split_gaps(X, y, test_fraction=1.0)
    with pytest.raises(ValueError, match="too few"):
        C.repeated_split_gaps(X[:6], y[:6])
    with pytest.raises(ValueError, match="single class"):
        C.repeated_split_gaps(X, np.zeros_like(y))


def test_stacked_probes_padding_and_stacking_change_nothing():
    task = data.class_covariance_gaussians(seed=0)
    X, y = task.sample(600, seed=1)
    Z = (X - X.mean(0)) / X.std(0)
    fit, val = slice(0, 480), slice(480, 600)
    settings = {"width": 16, "max_epochs": 15}
    alone = StackedProbes(**settings).fit(Z[None, fit], y[None, fit], Z[None, val],
                                          y[None, val], 3, [5])
    Zp = np.concatenate([Z, np.zeros((600, 2))], axis=1)  # padded to 4 columns
    both = StackedProbes(**settings).fit(
        np.stack([Zp[fit], Zp[fit]]), np.stack([y[fit]] * 2), np.stack([Zp[val], Zp[val]]),
        np.stack([y[val]] * 2), 3, [9, 5], in_dims=[4, 2])
    a = alone.predict_log_proba(Z[None, val])[0]
    b = both.predict_log_proba(np.stack([Zp[val]] * 2))[1]
    np.testing.assert_allclose(a, b, atol=1e-4)
    assert alone.best_epoch_[0] == both.best_epoch_[1]
    with pytest.raises(ValueError, match="seeds"):
        StackedProbes().fit(Z[None, fit], y[None, fit], Z[None, val], y[None, val], 3, [1, 2])
    with pytest.raises(ValueError, match="not fitted"):
        StackedProbes().predict_log_proba(Z[None])


def test_refit_intervals_cover_the_exact_gaps():
    """Live coverage check over 20 independent samples with known gaps (FC1 = 0.527 nats,
    FC2 = 0): nominal 95%, at least 17 of 20 (85%) must cover. Small probes and samples keep it
    within CI time; the stored simulation (next test) uses the lesson's sizes."""
    case = "dropped x1, T=x2"
    task = coverage.CASES[case][0]()
    exact = C.exact_condition_gaps(task, keep=[1])
    hits = {g: 0 for g in coverage.GAPS}
    for s in range(20):
        X, y = task.sample(700, seed=100 + s)
        r = C.repeated_split_gaps(X[:, [1]], y, X, n_splits=4, seed=s, priors=task.priors,
                                  probe={"width": 16, "patience": 10})
        for g in hits:
            lo, hi = r[g + "_ci"]
            hits[g] += lo <= exact[g] <= hi
    assert all(h >= 17 for h in hits.values()), hits


def test_stored_coverage_simulation_meets_the_nominal_level():
    path = ROOT / "results" / "fc_gap_coverage.jsonl"
    stored = load_stored(path)
    assert stored.current, f"stale ({stored.why}): rerun python -m maxent_lib coverage"
    records, prov = stored.records, stored.provenance
    assert prov["records"] == len(records) and prov["command"].startswith("python -m")
    rows = coverage.coverage_table(records)
    refit = [r for r in rows if r["interval"] == "refit"]
    assert len({r["case"] for r in refit}) >= 4
    assert all(r["samples"] >= 20 for r in refit)
    assert all(r["coverage"] >= 0.85 for r in refit), [
        (r["case"], r["gap"], r["coverage"]) for r in refit]


def test_penalty_chosen_on_validation_part():
    """With candidate penalties, each split and feature set uses the candidate whose fit on the
    fitting part scores best on the validation part; a single candidate is the fixed penalty."""
    rng = np.random.default_rng(3)
    n, d = 400, 60  # many noisy features for few points: a tiny penalty over-fits
    y = rng.integers(0, 3, n)
    wide = rng.normal(size=(n, d)) + 0.8 * np.eye(3)[y] @ rng.normal(size=(3, d)) / np.sqrt(d)
    kw = {"n_splits": 2, "seed": 0, "select": False, "probe": {"width": 8, "max_epochs": 5}}
    fixed = C.repeated_split_gaps(wide, y, alpha=1e-4, **kw)
    one = C.repeated_split_gaps(wide, y, alpha=[1e-4], **kw)
    assert one["ce_linear"] == fixed["ce_linear"] and one["alpha_chosen"] == [1e-4, 1e-4]
    chosen = C.repeated_split_gaps(wide, y, alpha=[1e-4, 1e-1, 10.0], **kw)
    assert set(chosen["alpha_chosen"]) <= {1e-4, 1e-1, 10.0} and chosen["alpha"] is None
    assert 1e-4 not in chosen["alpha_chosen"]  # the over-fitting penalty loses on validation
    assert chosen["ce_linear"] < fixed["ce_linear"]
    with pytest.raises(ValueError, match="empty"):
        C.repeated_split_gaps(wide, y, alpha=[], **kw)


@pytest.mark.parametrize("alphas", [(1e-4, 1e-3, 1e-2, 1e-1), (1e-1, 1e-4, 10.0, 1e-2), (1e-3,)])
def test_penalty_path_chooses_what_fitting_every_candidate_chooses(alphas):
    """The warm-started path that stops once the validation loss rises picks the candidate (and
    the model) that fitting every candidate from zero picks, on a U-shaped validation curve."""
    rng = np.random.default_rng(5)
    n, d = 500, 40
    y = rng.integers(0, 3, n)
    Z = rng.normal(size=(n, d)) + 0.8 * np.eye(3)[y] @ rng.normal(size=(3, d)) / np.sqrt(d)
    fit, val = slice(0, 350), slice(350, None)
    every = []
    for a in alphas:
        m = SoftmaxRegression(alpha=a).fit(Z[fit], y[fit], n_classes=3)
        every.append(C.point_losses(log_softmax(m.decision_function(Z[val])), y[val]).mean())
    a_best, model, losses = refit._best_penalty(list(alphas), Z[fit], y[fit], Z[val], y[val], 3)
    assert a_best == alphas[int(np.argmin(every))]
    assert abs(losses.mean() - min(every)) < 1e-9 and model.alpha == a_best
    if len(alphas) == 4 and a_best != min(alphas):  # the curve turned: 1e-4 was never fitted
        calls = []
        real_fit = SoftmaxRegression.fit

        def counting_fit(self, *args, **kwargs):
            calls.append(self.alpha)
            return real_fit(self, *args, **kwargs)

        SoftmaxRegression.fit = counting_fit
        try:
            refit._best_penalty(list(alphas), Z[fit], y[fit], Z[val], y[val], 3)
        finally:
            SoftmaxRegression.fit = real_fit
        assert min(alphas) not in calls and calls == sorted(calls, reverse=True)


def test_stacked_probes_refuse_non_zero_padding():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(2, 40, 3))
    y = rng.integers(0, 2, size=(2, 40))
    with pytest.raises(ValueError, match=r"in_dims\[0\] = 2"):
        StackedProbes(max_epochs=1).fit(Z, y, Z, y, 2, [0, 1], in_dims=[2, 3])
    Z[0, :, 2] = 0.0
    StackedProbes(max_epochs=1).fit(Z, y, Z, y, 2, [0, 1], in_dims=[2, 3])
