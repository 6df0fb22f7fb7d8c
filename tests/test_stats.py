"""maxent_lib.stats: the verdict rule (Holm over one-sided tests, TOST for negligible) simulated on
null and clear families, for existential and universal claims; calls for and against the
prediction; one-sided p-values and Holm against direct implementations; the t interval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from maxent_lib import stats

DIRECTIONAL = {"supported", "contradicted", "mixed"}


def _simulate(k: int, reps: int, mean: float | np.ndarray, margin: float, direction: int = 1,
              seeds: int = 8, sd: float = 1.0, seed: int = 0,
              quantifier: str = "existential") -> dict[str, float]:
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for _ in range(reps):
        eff = rng.normal(mean, sd, size=(seeds, k)).T if np.ndim(mean) == 0 else \
            (rng.normal(0, sd, size=(k, seeds)) + np.asarray(mean)[:, None])
        v = stats.family_verdict(list(eff), direction, margin=margin, quantifier=quantifier)
        counts[v] = counts.get(v, 0) + 1
    return {v: c / reps for v, c in counts.items()}


@pytest.mark.parametrize("quantifier", ["existential", "universal"])
@pytest.mark.parametrize("k", [10, 30])
@pytest.mark.parametrize("margin", [0.0, 0.1])
def test_null_families_rarely_get_a_directional_verdict(k: int, margin: float,
                                                        quantifier: str) -> None:
    """True effect 0 in every setting, 8 seeds: the rule says supported, contradicted or mixed
    in at most about alpha = 5% of families (Monte Carlo: 2000 families, 3 standard errors)."""
    rates = _simulate(k, 2000, 0.0, margin, seed=k, quantifier=quantifier)
    directional = sum(rates.get(v, 0.0) for v in DIRECTIONAL)
    assert directional <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000), rates
    if margin == 0.0:
        assert directional > 0.01  # the test is not vacuous: it does reject sometimes


def test_the_old_rule_would_fail_the_same_simulation() -> None:
    """'Supported as soon as one 95% interval excludes 0' on 30 null settings: far above 5%."""
    rng = np.random.default_rng(1)
    eff = rng.normal(0, 1, size=(2000, 30, 8))
    lo = eff.mean(-1) - scipy_stats.t.ppf(0.975, 7) * eff.std(-1, ddof=1) / np.sqrt(8)
    assert (lo > 0).any(-1).mean() > 0.15  # about 1 - 0.975**30 = 0.53
    e = eff[0, 0]
    assert stats.verdict(lo[0, 0], 2 * e.mean() - lo[0, 0], +1) == (
        "supported" if lo[0, 0] > 0 else "inconclusive" if 2 * e.mean() - lo[0, 0] > 0
        else "contradicted")


@pytest.mark.parametrize("k", [10, 30])
def test_power_at_a_clear_effect(k: int) -> None:
    """Every setting has effect 1.5 sd (margin 0.1 sd), 8 seeds: "supported" in >= 90%."""
    rates = _simulate(k, 400, 1.5, 0.1, seed=100 + k)
    assert rates.get("supported", 0.0) >= 0.9, rates


@pytest.mark.parametrize("k", [3, 10])
def test_a_universal_claim_needs_every_setting(k: int) -> None:
    """A universal claim is harder to support: every setting must be called for it after Holm.
    At a clear effect (3 sd, 8 seeds) in every setting it is supported in >= 90% of families;
    with one setting of no effect among them it is supported in at most about 5% (that
    setting stays unclear), where the existential reading would say "supported"."""
    assert _simulate(k, 400, 3.0, 0.1, seed=20 + k, quantifier="universal").get(
        "supported", 0) >= 0.9
    one_off = np.array([3.0] * (k - 1) + [0.0])
    rates = _simulate(k, 400, one_off, 0.1, seed=30 + k, quantifier="universal")
    assert rates.get("supported", 0) <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 400), rates
    existential = _simulate(k, 400, one_off, 0.1, seed=30 + k)
    assert existential.get("supported", 0) >= 0.8  # the old reading calls it supported


def test_universal_verdict_words() -> None:
    res = stats.family_tests([[0.3, 0.31, 0.29, 0.3], [0.3, 0.32, 0.28, 0.3],
                              [0.1, -0.2, 0.4, -0.1]], +1, margin=0.01,
                             quantifier="universal")
    assert [s.call for s in res.settings] == ["for", "for", "unclear"]
    assert res.verdict == "inconclusive" and res.quantifier == "universal"
    assert res.in_words() == "inconclusive: 2 of 3 for the prediction, none against it, " \
                             "1 of 3 settings unclear"
    tight = stats.family_tests([[0.3, 0.31, 0.29], [0.0, 0.001, -0.001]], +1, margin=0.01,
                               quantifier="universal")
    assert tight.verdict == "mixed"
    against = stats.family_tests([[-0.3, -0.31, -0.29], [0.1, -0.2, 0.4]], +1, margin=0.01,
                                 quantifier="universal")
    assert against.verdict == "contradicted" and against.count("against") == 1
    with pytest.raises(ValueError, match="quantifier"):
        stats.family_tests([[0.1, 0.2]], 1, margin=0.0, quantifier="most")


def test_contradicted_mixed_and_negligible() -> None:
    assert _simulate(10, 200, -1.5, 0.1, seed=5).get("contradicted", 0) >= 0.9
    both = np.array([1.8] * 5 + [-1.8] * 5)
    assert _simulate(10, 200, both, 0.1, seed=6).get("mixed", 0) >= 0.8
    # tight around 0 (sd 0.02) with margin 0.1: negligible, for either direction
    assert _simulate(10, 200, 0.0, 0.1, sd=0.02, seed=7).get("negligible", 0) >= 0.9
    assert _simulate(10, 200, 0.0, 0.1, direction=0, sd=0.02, seed=8).get("negligible",
                                                                          0) >= 0.9
    # wide around 0: no evidence either way
    assert _simulate(10, 200, 0.0, 0.1, sd=1.0, seed=9).get("inconclusive", 0) >= 0.9


def test_effects_below_the_margin_are_never_called() -> None:
    """An effect of 4 test points (0.004) measured very precisely, margin 0.01: negligible, not
    up, however many seeds."""
    rng = np.random.default_rng(2)
    eff = [0.004 + rng.normal(0, 1e-4, 50) for _ in range(3)]
    res = stats.family_tests(eff, +1, margin=0.01)
    assert res.verdict == "negligible" and res.count("for") == 0
    assert stats.family_verdict(eff, +1, margin=0.0) == "supported"  # only without a margin


def test_one_sided_pvalues_match_scipy() -> None:
    v = np.array([0.03, 0.01, 0.05, 0.02, 0.04, 0.0])
    p_up, p_down, p_eq = stats.one_sided_pvalues(v, 0.01)
    assert p_up == pytest.approx(scipy_stats.ttest_1samp(v - 0.01, 0, alternative="greater").pvalue)
    assert p_down == pytest.approx(scipy_stats.ttest_1samp(v + 0.01, 0, alternative="less").pvalue)
    lo = scipy_stats.ttest_1samp(v + 0.01, 0, alternative="greater").pvalue
    hi = scipy_stats.ttest_1samp(v - 0.01, 0, alternative="less").pvalue
    assert p_eq == pytest.approx(max(lo, hi))
    assert all(math.isnan(x) for x in stats.one_sided_pvalues([0.1], 0.0))
    assert stats.one_sided_pvalues([0.25, 0.25, 0.25], 0.125)[:2] == (0.0, 1.0)  # no spread


def test_holm_against_a_direct_implementation() -> None:
    rng = np.random.default_rng(4)
    for _ in range(200):
        p = rng.uniform(0, 0.05, size=rng.integers(1, 12)) ** rng.uniform(0.5, 2)
        order = np.argsort(p)
        want = np.zeros(len(p), bool)
        for i, j in enumerate(order):
            if p[j] <= 0.05 / (len(p) - i):
                want[j] = True
            else:
                break
        np.testing.assert_array_equal(stats.holm(p, 0.05), want)
    assert stats.holm([], 0.05).size == 0


def test_family_tests_details_and_bad_input() -> None:
    res = stats.family_tests([[0.3, 0.31, 0.29, 0.3], [0.0, 0.001, -0.001, 0.0], [0.1]], +1,
                              margin=0.01, settings=["a", "b", "c"])
    assert [s.call for s in res.settings] == ["for", "negligible", "too few seeds"]
    assert res.verdict == "supported" and "1 for" in res.summary()
    down = stats.family_tests([[0.3, 0.31, 0.29, 0.3]], -1, margin=0.01)
    assert down.settings[0].call == "against" and down.verdict == "contradicted"
    assert "1 with too few seeds" in res.summary()
    assert stats.family_verdict([[0.3, 0.31, 0.29]], 0, margin=0.01) == "contradicted"
    with pytest.raises(ValueError, match="empty"):
        stats.family_verdict([], +1, margin=0.01)
    with pytest.raises(ValueError, match="direction"):
        stats.family_verdict([[0.1, 0.2]], 2, margin=0.01)
    with pytest.raises(ValueError, match="margin"):
        stats.family_verdict([[0.1, 0.2]], 0, margin=0.0)
    with pytest.raises(ValueError, match="margin"):
        stats.family_verdict([[0.1, 0.2]], 1, margin=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        stats.family_verdict([[0.1, 0.2]], 1, margin=0.0, alpha=1.5)
    with pytest.raises(ValueError):
        stats.family_verdict([[0.1, np.nan]], 1, margin=0.0)
    with pytest.raises(ValueError, match="names"):
        stats.family_tests([[0.1, 0.2]], 1, margin=0.0, settings=["a", "b"])


@pytest.mark.parametrize(("lo", "hi", "direction", "want"), [
    (0.01, 0.05, +1, "supported"),
    (-0.05, -0.01, +1, "contradicted"),
    (-0.01, 0.05, +1, "inconclusive"),
    (-0.05, -0.01, -1, "supported"),
    (0.01, 0.05, -1, "contradicted"),
    (0.0, 0.05, +1, "inconclusive"),  # touching 0 does not exclude it
])
def test_one_interval_reading(lo: float, hi: float, direction: int, want: str) -> None:
    assert stats.verdict(lo, hi, direction) == want


def test_one_interval_reading_with_a_margin() -> None:
    assert stats.verdict(0.004, 0.031, +1, margin=0.01) == "inconclusive"
    assert stats.verdict(0.012, 0.031, +1, margin=0.01) == "supported"
    assert stats.verdict(-0.005, 0.008, 0, margin=0.01) == "supported"
    assert stats.verdict(0.02, 0.05, 0, margin=0.01) == "contradicted"
    with pytest.raises(ValueError, match="lo is NaN"):  # one value: no interval to read
        stats.verdict(math.nan, math.nan, 1)
    with pytest.raises(ValueError, match="reversed"):
        stats.verdict(0.2, 0.1, +1)




def test_t_interval_for_seeds_and_for_repeated_splits() -> None:
    v = np.array([0.61, 0.64, 0.58, 0.66, 0.6])
    mean, lo, hi = stats.t_interval(v)
    want = scipy_stats.t.interval(0.95, 4, loc=v.mean(), scale=scipy_stats.sem(v))
    assert mean == pytest.approx(v.mean()) and (lo, hi) == pytest.approx(want)
    _, lo2, hi2 = stats.t_interval(v, test_fraction=0.3)
    half = scipy_stats.t.ppf(0.975, 4) * v.std(ddof=1) * math.sqrt(1 / 5 + 0.3 / 0.7)
    assert (lo2, hi2) == pytest.approx((v.mean() - half, v.mean() + half))
    assert math.isnan(stats.t_interval([1.0])[1]) and math.isnan(
        stats.t_interval([1.0], test_fraction=0.3)[2])


def test_paired_bootstrap_interval_contains_the_paired_mean() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(1.0, 0.3, 400)
    lo, hi = stats.paired_bootstrap_ci(a, a - 0.5, n_bootstrap=200)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.5)
    lo, hi = stats.paired_bootstrap_ci(a, np.zeros_like(a), n_bootstrap=500, seed=1)
    assert lo < a.mean() < hi and hi - lo < 0.2
