"""Lesson 07 exercise checkers: the right answer passes, each common mistake gets its own
message, the placeholder says only what to give."""

import math

import numpy as np
import pytest
from scipy import stats

from maxent_lib import exercises
from maxent_lib.exercises import lesson07


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_exercise_1():
    right = np.array([1, 0, 1, -1])
    assert lesson07.exercise_1(right).correct is True
    assert lesson07.exercise_1([1, 0, 1, -1]).correct is True
    cases = [(np.array([0, 0, 0, 0]), "Hint 1"), (np.array([1, 0, -1, -1]), "sign of each"),
             (-right, "flipped"), (np.array([1, 0.5, 1, -1]), "whole numbers"),
             (["supported", "inconclusive", "supported", "contradicted"], "as numbers"),
             (np.array([1, 0, 1]), "shape")]
    for answer, words in cases:
        fb = lesson07.exercise_1(answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson07.exercise_1(exercises.placeholder((4,)))
    assert blank.correct is None and "side" not in blank.message


def test_exercise_2():
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    d = b - a
    n = len(d)
    t = stats.t.ppf(0.975, n - 1)
    half = t * d.std(ddof=1) / math.sqrt(n)
    m = d.mean()
    assert lesson07.exercise_2([m, m - half, m + half], a, b).correct is True
    unpaired = t * math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    z = 1.959964 * d.std(ddof=1) / math.sqrt(n)
    cases = [([m, m - 1, m + 1], "Hint 1"), ([m, m - z, m + z], "normal quantile"),
             ([m, m - unpaired, m + unpaired], "unpaired"),
             ([m, m - t * d.std() / math.sqrt(n), m + t * d.std() / math.sqrt(n)], "ddof=1"),
             ([-m, -m - half, -m + half], "wrong way round"),
             ([m - half, m + half, m], "order")]
    for answer, words in cases:
        fb = lesson07.exercise_2(answer, a, b)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    fb = lesson07.exercise_2([m, m - half, m + half], a[:3], b)  # bad data: feedback, no error
    assert fb.correct is False and "data" in fb.message
    assert lesson07.exercise_2(exercises.placeholder((3,)), a, b).correct is None


def test_exercise_3():
    effect, sd = 0.02, 0.03
    n = lesson07.seeds_needed(effect, sd)
    assert lesson07.exercise_3(n, effect, sd).correct is True
    assert stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) < effect
    assert stats.t.ppf(0.975, n - 2) * sd / math.sqrt(n - 1) >= effect
    normal = math.ceil((1.959964 * sd / effect) ** 2)
    assert normal != n
    cases = [(n + 7, "Hint 1"), (normal, "normal-quantile"), (n - 1, "one short"),
             (n + 0.5, "whole number")]
    for answer, words in cases:
        fb = lesson07.exercise_3(answer, effect, sd)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert lesson07.exercise_3(exercises.placeholder(), effect, sd).correct is None
    assert lesson07.exercise_3(3, 0.0, sd).correct is None  # no answer exists
