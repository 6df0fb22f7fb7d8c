"""Lesson 06 exercise checkers: the right answer passes, each common mistake gets its own
message, the placeholder says only what to give."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import log_softmax

from maxent_lib import exercises
from maxent_lib.exercises import lesson06

Z = np.array([1.5, -0.3, 0.8, 0.0, -1.2])
P_EX = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8], [0.6, 0.4]])
Y_EX = np.array([0, 1, 1, 0, 0, 0])


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_label_smoothing():
    right = float(F.cross_entropy(torch.tensor(Z)[None], torch.tensor([2]), label_smoothing=0.2))
    check = lesson06.check_label_smoothing_loss
    assert check(Z, 2, 0.2, right).correct is True
    lp = log_softmax(Z)
    p = np.exp(lp)
    cases = [(right + 1, "Hint 1"),
             (0.8 * -lp[2] + 0.2 / 4 * -(lp.sum() - lp[2]), "K-1"),
             (-lp[2], "smoothing (eps) is missing"), (-right, "positive"),
             (0.8 * -p[2] + 0.2 * -p.mean(), "log of the softmax"),
             (right / np.log(2), "bits"), (0.8 * -Z[2] + 0.2 * -Z.mean(), "log_softmax")]
    for answer, words in cases:
        fb = check(Z, 2, 0.2, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(Z, 2, 0.2, exercises.placeholder())
    assert blank.correct is None and "eps / K" not in blank.message


def test_ece():
    check = lesson06.check_ece
    # by hand (the solution's bins): (0.4, 0.6]: 0.55, 0.6 both right; (0.6, 0.8]: 0.8 wrong,
    # 0.7 right, 0.8 wrong; (0.8, 1]: 0.9 right
    right = 2 / 6 * abs(1 - 0.575) + 3 / 6 * abs(1 / 3 - 0.7666666666666667) + 1 / 6 * 0.1
    assert check(P_EX, Y_EX, 5, right).correct is True
    unweighted = (abs(1 - 0.575) + abs(1 / 3 - 0.7666666666666667) + 0.1) / 3
    cases = [(right + 0.3, "Hint 1"), (unweighted, "share"), (100 * right, "percentage")]
    for answer, words in cases:
        fb = check(P_EX, Y_EX, 5, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    true_class = lesson06._ece_variant(P_EX, Y_EX, 5, true_class=True)
    fb = check(P_EX, Y_EX, 5, true_class)
    assert fb.correct is False and "predicted" in fb.message
    left = lesson06._ece_variant(P_EX, Y_EX, 5, left_closed=True)
    assert not np.isclose(left, right)
    fb = check(P_EX, Y_EX, 5, left)
    assert fb.correct is False and "closed on the right" in fb.message
    assert check(P_EX, Y_EX, 5, exercises.placeholder()).correct is None


def test_decay_factor():
    check = lesson06.check_decay_factor
    assert check(0.01, 5.0, 100, 0.95**100).correct is True
    cases = [(0.5, "Hint 1"), (np.exp(-5.0), "continuous-time"), (0.95, "one step"),
             (1 - 5.0, "compounds"), (1.0, "even when its gradient is zero")]
    for answer, words in cases:
        fb = check(0.01, 5.0, 100, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    fb = check(0.01, 0.5, 100, 0.5**100)  # forgot the learning rate
    assert fb.correct is False and "scaled by the learning rate" in fb.message
