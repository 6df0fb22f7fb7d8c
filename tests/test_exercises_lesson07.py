"""Lesson 07's exercise checkers: right answers pass, wrong ones get a hint, placeholders wait."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from maxent_lib.exercises import lesson07, placeholder

BASE = np.array([0.61, 0.64, 0.60, 0.63, 0.62])
TREAT = np.array([0.64, 0.66, 0.62, 0.67, 0.63])


def test_exercise_1() -> None:
    right = [1, 0, 1, -1]  # worked by hand from EXERCISE_1_INTERVALS and the rules of lesson 07
    assert lesson07.exercise_1(right).correct is True
    wrong = lesson07.exercise_1([1, 0, -1, -1])  # the classic slip: sign of a 'negative' claim
    assert wrong.correct is False and "predicted side" in wrong.message
    assert lesson07.exercise_1(placeholder((4,))).correct is None


def test_exercise_2_right_answer_computed_independently() -> None:
    d = TREAT - BASE
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d))
    right = [d.mean(), d.mean() - half, d.mean() + half]
    assert lesson07.exercise_2(right, BASE, TREAT).correct is True


def test_exercise_2_common_mistakes_get_specific_hints() -> None:
    d = TREAT - BASE
    z = 1.959964 * d.std(ddof=1) / math.sqrt(len(d))
    normal = lesson07.exercise_2([d.mean(), d.mean() - z, d.mean() + z], BASE, TREAT)
    assert normal.correct is False and "Student-t" in normal.message
    n = len(d)
    half = stats.t.ppf(0.975, n - 1) * math.sqrt(BASE.var(ddof=1) / n + TREAT.var(ddof=1) / n)
    unpaired = lesson07.exercise_2([d.mean(), d.mean() - half, d.mean() + half], BASE, TREAT)
    assert unpaired.correct is False and "unpaired" in unpaired.message
    off = lesson07.exercise_2([0.5, 0.4, 0.6], BASE, TREAT)
    assert off.correct is False and "differences" in off.message
    assert lesson07.exercise_2(placeholder((3,)), BASE, TREAT).correct is None
    with pytest.raises(ValueError):
        lesson07.exercise_2([0, 0, 0], BASE, TREAT[:3])


@pytest.mark.parametrize(("effect", "sd"), [(0.01, 0.02), (0.001, 0.02)])  # n small; n > 1000
def test_seeds_needed_against_a_direct_search(effect: float, sd: float) -> None:
    n = lesson07.seeds_needed(effect, sd)
    half = [stats.t.ppf(0.975, k - 1) * sd / math.sqrt(k) for k in (n - 1, n)]
    assert half[0] >= effect > half[1]
    with pytest.raises(ValueError):
        lesson07.seeds_needed(0.0, 0.02)


def test_exercise_3() -> None:
    effect, sd = 0.01, 0.02
    n = lesson07.seeds_needed(effect, sd)
    assert lesson07.exercise_3(n, effect, sd).correct is True
    short = lesson07.exercise_3(n - 1, effect, sd)
    assert short.correct is False and "one short" in short.message
    normal = math.ceil((1.959964 * sd / effect) ** 2)
    if normal != n:
        got = lesson07.exercise_3(normal, effect, sd)
        assert got.correct is False and "normal" in got.message
    far = lesson07.exercise_3(3, effect, sd)
    assert far.correct is False and "loop over n" in far.message
    assert lesson07.exercise_3(placeholder(), effect, sd).correct is None
    assert lesson07.exercise_3(3, 0.0, sd).correct is None  # no answer exists: said so


def test_exercise_2_data_from_records_or_example() -> None:
    recs = [{"kind": "mlp", "depth": d, "arm": a, "seed": s,
             "test_acc": 0.5 + 0.1 * (a == "residual") + 0.01 * s + 0.001 * d}
            for d in (2, 8) for a in ("plain", "residual") for s in (1, 0)]
    base, treat, label = lesson07.exercise_2_data(recs)
    np.testing.assert_allclose(base, [0.508, 0.518])
    np.testing.assert_allclose(treat - base, [0.1, 0.1])
    assert "depth 8" in label and "[0, 1]" in label  # the second-shallowest of depths 2, 8
    base, treat, label = lesson07.exercise_2_data(None)
    assert label == "made-up example numbers" and len(base) == len(treat) == 5
