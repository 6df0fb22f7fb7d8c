"""maxent_lib.stats at its boundaries: two values (the fewest with an interval), p-values and
intervals exactly at the margin, Holm's thresholds met exactly and its step-down stop, the
count words of a verdict, "no effect" claims with an effect either way, values near the float
range, and the bootstrap's resampling in chunks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from maxent_lib import claims, stats, verdicts


def test_t_interval_of_two_values_and_its_exact_bounds():
    mean, lo, hi = stats.t_interval([1.0, 2.0])
    half = sps.t.ppf(0.975, 1) * np.std([1.0, 2.0], ddof=1) / math.sqrt(2)
    assert (mean, lo, hi) == pytest.approx((1.5, 1.5 - half, 1.5 + half), rel=1e-12)
    v = np.array([0.3, 0.1, 0.5, 0.2, 0.4])
    mean, lo, hi = stats.t_interval(v, 0.9)
    half = sps.t.ppf(0.95, 4) * v.std(ddof=1) / math.sqrt(5)
    assert (mean, lo, hi) == pytest.approx((0.3, 0.3 - half, 0.3 + half), rel=1e-12)
    mean, lo, hi = stats.t_interval(v, test_fraction=0.2)
    half = sps.t.ppf(0.975, 4) * v.std(ddof=1) * math.sqrt(1 / 5 + 0.2 / 0.8)
    assert (mean, lo, hi) == pytest.approx((0.3, 0.3 - half, 0.3 + half), rel=1e-12)
    one = stats.t_interval([4.0])
    assert one[0] == 4.0 and math.isnan(one[1]) and math.isnan(one[2])


def test_t_interval_rescales_values_near_the_float_range():
    v = np.array([1e307, 2e307, 3e307])
    want = np.array(stats.t_interval(v / 1e300)) * 1e300
    np.testing.assert_allclose(stats.t_interval(v), want, rtol=1e-12)
    # a zero among them: the scale is the largest magnitude, not the smallest
    w = np.array([0.0, 1.2e307, -1.2e307, 0.6e307])
    want = np.array(stats.t_interval(w / 1e300)) * 1e300
    np.testing.assert_allclose(stats.t_interval(w), want, rtol=1e-12)


def test_one_sided_pvalues_of_two_values_and_at_the_margin():
    p_up, p_down, p_eq = stats.one_sided_pvalues(np.array([0.2, 0.4]), 0.1)
    se = np.std([0.2, 0.4], ddof=1) / math.sqrt(2)
    assert p_up == pytest.approx(sps.t.sf((0.3 - 0.1) / se, 1), rel=1e-12)
    assert p_down == pytest.approx(sps.t.cdf((0.3 + 0.1) / se, 1), rel=1e-12)
    assert p_eq == pytest.approx(sps.t.sf((0.1 - 0.3) / se, 1), rel=1e-12)
    assert all(math.isnan(p) for p in stats.one_sided_pvalues(np.array([0.2]), 0.1))
    # no spread, mean exactly at +margin: H0 mu <= margin cannot be rejected (p = 1)
    p_up, p_down, p_eq = stats.one_sided_pvalues(np.array([0.25, 0.25, 0.25]), 0.25)
    assert (p_up, p_down, p_eq) == (1.0, 1.0, 1.0)
    p_up, p_down, p_eq = stats.one_sided_pvalues(np.array([0.5, 0.5]), 0.25)
    assert (p_up, p_down, p_eq) == (0.0, 1.0, 1.0)
    p_up, p_down, p_eq = stats.one_sided_pvalues(np.array([-0.25, -0.25]), 0.25)
    assert (p_up, p_down, p_eq) == (1.0, 1.0, 1.0)


def test_one_sided_pvalues_do_not_change_when_rescaled_near_the_float_range():
    v = np.array([1.0e308, 1.4e308, 1.7e308])
    small = stats.one_sided_pvalues(v / 1e300, 2e7)
    np.testing.assert_allclose(stats.one_sided_pvalues(v, 2e307), small, rtol=1e-9)
    # a margin larger than every value sets the scale
    w = np.array([1.0e306, -1.0e306, 5.0e305])
    small = stats.one_sided_pvalues(w / 1e300, 1.5e8)
    np.testing.assert_allclose(stats.one_sided_pvalues(w, 1.5e308), small, rtol=1e-9)


def test_holm_thresholds_met_exactly_and_its_step_down_stop():
    np.testing.assert_array_equal(stats.holm([0.025, 0.05], 0.05), [True, True])
    np.testing.assert_array_equal(stats.holm([0.05, 0.025], 0.05), [True, True])
    # 0.03 > 0.05 / 2 stops the procedure: 0.04 <= 0.05 is not rejected after it
    np.testing.assert_array_equal(stats.holm([0.04, 0.03], 0.05), [False, False])
    np.testing.assert_array_equal(stats.holm([0.0, 1.0], 0.05), [True, False])
    assert stats.holm([], 0.05).shape == (0,)
    for bad in ([-0.1, 0.5], [0.5, 1.1], [-0.1]):
        with pytest.raises(ValueError, match="lie in"):
            stats.holm(bad)


def test_count_words():
    def res(calls):
        rows = tuple(stats.SettingTest(f"s{i}", 3, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, c)
                     for i, c in enumerate(calls))
        return stats.FamilyResult("inconclusive", rows, 1, 0.01, 0.05, "existential")

    assert res(["for", "for", "for"]).in_words() == \
        "inconclusive: all for the prediction, none against it"
    assert res(["for", "for", "against"]).in_words() == \
        "inconclusive: 2 of 3 for the prediction, 1 of 3 settings against it"
    assert res(["unclear", "negligible", "too few seeds"]).in_words() == (
        "inconclusive: none for the prediction, none against it, 1 of 3 settings negligible, "
        "1 of 3 settings unclear, 1 of 3 settings with too few seeds")
    assert res(["against"]).in_words() == \
        "inconclusive: none for the prediction, the one setting against it"
    assert res(["for", "too few seeds", "unclear"]).summary() == \
        "1 for, 0 against, 0 negligible, 1 unclear, 1 with too few seeds of 3"
    assert res(["for", "unclear"]).summary() == "1 for, 0 against, 0 negligible, 1 unclear of 2"
    assert res(["for", "for"]).count("for") == 2
    with pytest.raises(ValueError):
        res(["for"]).count("maybe")


def test_no_effect_claims_call_an_effect_either_way_against():
    up = np.array([0.5, 0.52, 0.49, 0.51])
    for effects in ([up], [-up]):
        res = stats.family_tests(effects, 0, margin=0.1)
        assert res.settings[0].call == "against" and res.verdict == "contradicted"
    res = stats.family_tests([up, -up], 1, margin=0.1)
    assert [s.call for s in res.settings] == ["for", "against"] and res.verdict == "mixed"
    res = stats.family_tests([up, -up], -1, margin=0.1)
    assert [s.call for s in res.settings] == ["against", "for"]
    with pytest.raises(ValueError, match="positive margin"):
        stats.family_tests([up], 0, margin=0.0)
    assert stats.family_tests([up], 1, margin=0.0).verdict == "supported"


def test_family_tests_names_settings_and_tests_two_seeds():
    res = stats.family_tests([np.array([0.5, 0.6]), np.array([0.5]), np.array([0.5, 0.52])], 1,
                             margin=0.0)
    assert [s.setting for s in res.settings] == ["setting 1", "setting 2", "setting 3"]
    assert [s.n for s in res.settings] == [2, 1, 2]
    assert res.settings[1].call == "too few seeds"
    assert res.settings[0].call != "too few seeds" and not math.isnan(res.settings[0].p_up)
    # Holm runs over the two one-sided p-values of the testable settings only
    p = [stats.one_sided_pvalues(np.array(a), 0.0)[:2] for a in ([0.5, 0.6], [0.5, 0.52])]
    rej = stats.holm([p[0][0], p[0][1], p[1][0], p[1][1]], 0.05)
    assert [s.call == "for" for s in (res.settings[0], res.settings[2])] == [rej[0], rej[2]]
    with pytest.raises(ValueError, match="at least"):
        stats.family_tests([], 1, margin=0.0)
    with pytest.raises(ValueError, match="names"):
        stats.family_tests([[0.1, 0.2]], 1, margin=0.0, settings=["a", "b"])


def test_family_rows_and_holm_use_the_up_and_down_pvalues_of_each_setting():
    # setting 1 is clearly up, setting 2 clearly down: with direction +1, 1 is for, 2 against
    a, b = np.array([1.0, 1.1, 0.9, 1.05]), np.array([-1.0, -1.1, -0.9, -1.05])
    res = stats.family_tests([a, b], 1, margin=0.1, settings=["a", "b"])
    assert [(s.setting, s.call) for s in res.settings] == [("a", "for"), ("b", "against")]
    res = stats.family_tests([b, a], 1, margin=0.1, settings=["b", "a"])
    assert [(s.setting, s.call) for s in res.settings] == [("b", "against"), ("a", "for")]


@pytest.mark.parametrize("lo, hi, direction, margin, want", [
    (-0.1, 0.1, 0, 0.1, "supported"),       # on the margin: inside
    (0.1, 0.3, 0, 0.1, "inconclusive"),     # touches +margin: not wholly outside
    (-0.3, -0.1, 0, 0.1, "inconclusive"),
    (0.11, 0.3, 0, 0.1, "contradicted"),
    (-0.3, -0.11, 0, 0.1, "contradicted"),
    (0.1, 0.3, 1, 0.1, "inconclusive"),     # lo on +margin: not wholly beyond it
    (-0.3, -0.1, 1, 0.1, "inconclusive"),
    (0.1, 0.3, -1, 0.1, "inconclusive"),
    (-0.3, -0.1, -1, 0.1, "inconclusive"),
    (-0.3, -0.11, -1, 0.1, "supported"),
    (0.11, 0.3, -1, 0.1, "contradicted"),
    (0.2, 0.2, 1, 0.0, "supported"),        # a zero-width interval is allowed
    (0, 1, 1, 0.0, "inconclusive"),         # integers are numbers
])
def test_one_interval_reading_at_the_margin(lo, hi, direction, margin, want):
    assert stats.verdict(lo, hi, direction, margin) == want


def test_one_interval_reading_refuses_nan_and_reversed_bounds():
    with pytest.raises(ValueError, match="lo is NaN"):
        stats.verdict(math.nan, 0.1, 1)
    with pytest.raises(ValueError, match="hi is NaN"):
        stats.verdict(0.1, math.nan, 1)
    with pytest.raises(ValueError, match="reversed"):
        stats.verdict(0.3, 0.2, 1)


def test_paired_bootstrap_resamples_in_chunks_of_200():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=40), rng.normal(size=40) + 0.3
    diff = a - b

    def reference(n, conf, seed):
        r = np.random.default_rng(seed)
        means = []
        for start in range(0, n, 200):
            stop = min(start + 200, n)
            means.extend(diff[r.integers(0, 40, size=(stop - start, 40))].mean(axis=1))
        tail = 100 * (1 - conf) / 2
        return tuple(np.percentile(means, [tail, 100 - tail]))

    for n, conf in ((1, 0.95), (450, 0.9), (1000, 0.95)):
        got = stats.paired_bootstrap_ci(a, b, n_bootstrap=n, confidence=conf, seed=3)
        assert got == pytest.approx(reference(n, conf, 3), rel=1e-12)
    with pytest.raises(ValueError):
        stats.paired_bootstrap_ci(a, b[:39])


def test_lists_and_alphas_are_checked_where_no_declaration_does():
    fam = claims.Family(claims.claim("C7"), "q", settings=["s"],
                        effects=[np.array([0.1, 0.2, 0.3])], item="x")
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            fam.judge(bad)
    assert fam.judge(0.999).alpha == 0.999
    for bad in (set(), "abc", {"a": fam}, (fam, 1)):
        with pytest.raises(TypeError):
            verdicts.item_verdicts(bad)
    assert list(verdicts.item_verdicts((fam,))) == [("C7", "x")]
