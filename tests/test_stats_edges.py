"""The statistics at their edges: the one-interval verdict's words, intervals and p-values of
values so large that their squares overflow, and the words of a "no effect" family."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from maxent_lib import stats


def test_the_one_interval_verdict_uses_exactly_its_three_words() -> None:
    seen = {stats.verdict(lo, lo + w, d, m)
            for lo, w, d, m in itertools.product((-0.5, -0.02, 0.0, 0.02), (0.0, 0.01, 1.0),
                                                 (-1, 0, 1), (0.01, 0.1))}
    assert seen == set(stats.VERDICTS)


def test_t_interval_rescales_values_whose_squares_overflow() -> None:
    mean, lo, hi = stats.t_interval([1e200, -1e200, 0.0])
    ref = stats.t_interval([1.0, -1.0, 0.0])
    assert mean == 0.0 and math.isfinite(lo) and math.isfinite(hi)
    assert lo == pytest.approx(ref[1] * 1e200) and hi == pytest.approx(ref[2] * 1e200)


def test_one_sided_pvalues_do_not_depend_on_the_unit() -> None:
    big = stats.one_sided_pvalues(np.array([1e200, -0.5e200, 1e-300]), 0.0)
    ref = stats.one_sided_pvalues(np.array([1.0, -0.5, 0.0]), 0.0)
    assert all(math.isfinite(p) for p in big)
    np.testing.assert_allclose(big, ref, rtol=1e-12)


def test_a_no_effect_family_with_an_unclear_setting_is_inconclusive() -> None:
    rng = np.random.default_rng(0)
    flat = [0.001 * rng.normal(size=8) for _ in range(2)]          # negligible, both
    wide = [flat[0], 0.05 * rng.normal(size=3)]                    # one unclear
    assert stats.family_verdict(flat, 0, margin=0.01) == "negligible"
    assert stats.family_verdict(wide, 0, margin=0.01) == "inconclusive"
    against = [flat[0], 0.2 + 0.001 * rng.normal(size=8)]
    assert stats.family_verdict(against, 0, margin=0.01) == "contradicted"
