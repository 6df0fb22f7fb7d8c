"""Lesson 05's answer checks: the right answer passes, each common mistake gets its own
message, the placeholder says only what to give."""

import numpy as np
import pytest
from scipy import stats

from maxent_lib import ablation as ensemble
from maxent_lib import exercises
from maxent_lib.exercises import lesson05

ACCS = np.array([0.612, 0.598, 0.641, 0.623, 0.605])


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_t_interval():
    n, m, sd = len(ACCS), ACCS.mean(), ACCS.std(ddof=1)
    t = stats.t.ppf(0.975, n - 1)
    half = t * sd / np.sqrt(n)
    right = [m, m - half, m + half]
    assert lesson05.check_t_interval(ACCS, right).correct is True

    def iv(h):
        return [m, m - h, m + h]

    cases = [(iv(half / 2), "Hint 1"), (iv(1.96 * sd / np.sqrt(n)), "Student-t"),
             (iv(t * ACCS.std(ddof=0) / np.sqrt(n)), "ddof=1"),
             (iv(stats.t.ppf(0.975, n) * sd / np.sqrt(n)), "n - 1, not n"),
             (iv(stats.t.ppf(0.95, n - 1) * sd / np.sqrt(n)), "90%"),
             (iv(t * sd), "sqrt(n)"), ([m - half, m + half, m], "order"), ([m, half], "shape")]
    for answer, words in cases:
        fb = lesson05.check_t_interval(ACCS, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson05.check_t_interval(ACCS, exercises.placeholder((3,)))
    assert blank.correct is None and "ppf" not in blank.message and "ddof" not in blank.message


def test_residual_inverse():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(8, 8))
    W /= np.linalg.norm(W, 2)
    z = np.linspace(-1, 1, 8)
    x = z.copy()
    for _ in range(80):
        x = z - 0.5 * np.tanh(W @ x)
    assert lesson05.check_residual_inverse(W, z, x).correct is True
    few = z.copy()
    for _ in range(6):
        few = z - 0.5 * np.tanh(W @ few)
    flipped = z.copy()
    for _ in range(80):
        flipped = z + 0.5 * np.tanh(W @ flipped)
    cases = [(z + 5, "Hint 1"), (z, "z itself"), (few, "more iterations"),
             (flipped, "sign of the branch"), (z[:3], "shape"), ([np.nan] * 7 + [1.0], "NaN")]
    for answer, words in cases:
        fb = lesson05.check_residual_inverse(W, z, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson05.check_residual_inverse(W, z, exercises.placeholder((8,)))
    assert blank.correct is None and "iterat" not in blank.message


def test_param_count():
    net = ensemble.StackedNet("mlp", 40, 10, 128, 4, list(range(64)))
    count = sum(p.numel() for p in net.params)
    check = lesson05.check_stacked_param_count
    assert check(40, 128, 4, 10, 64, count).correct is True
    weights = 40 * 128 + 3 * 128 * 128 + 128 * 10
    cases = [(count + 1000, "Hint 1"), (count // 64, "one model"), (64 * weights, "biases"),
             (count + 64 * (128 * 128 + 128), "depth - 1"),
             (count - 64 * (128 * 10 + 10), "head"), (count + 0.5, "whole number")]
    for answer, words in cases:
        fb = check(40, 128, 4, 10, 64, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert check(40, 128, 4, 10, 64, exercises.placeholder()).correct is None
