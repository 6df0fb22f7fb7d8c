"""Lesson 06's answer checks: the right answer passes, a wrong one fails with a hint, the
placeholder is 'not answered'."""

import numpy as np
import torch
import torch.nn.functional as F

from maxent_lib import exercises
from maxent_lib.exercises import lesson06

Z = np.array([1.5, -0.3, 0.8, 0.0, -1.2])


def test_label_smoothing_loss():
    right = float(F.cross_entropy(torch.tensor(Z).unsqueeze(0), torch.tensor([2]),
                                  label_smoothing=0.2))
    assert lesson06.check_label_smoothing_loss(Z, 2, 0.2, right).correct is True
    lp = Z - np.log(np.exp(Z).sum())
    k_minus_1 = 0.8 * -lp[2] + 0.2 / 4 * -(lp.sum() - lp[2])
    fb = lesson06.check_label_smoothing_loss(Z, 2, 0.2, k_minus_1)
    assert fb.correct is False and "K-1" in fb.message
    fb = lesson06.check_label_smoothing_loss(Z, 2, 0.2, -lp[2])  # smoothing forgotten
    assert fb.correct is False and "smoothed target" in fb.message
    assert lesson06.check_label_smoothing_loss(Z, 2, 0.2, exercises.placeholder()).correct is None


def test_ece():
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([0, 1, 1, 0, 0, 0])
    # bins of width 0.2: (0.4,0.6] holds 0.55, 0.6 (both right: |1 - 0.575|);
    # (0.6,0.8] holds 0.8 (wrong), 0.7 (right), 0.8 (wrong): |1/3 - 0.7667|;
    # (0.8,1] holds 0.9 (right)
    by_hand = (2 * abs(1 - 0.575) + 3 * abs(1 / 3 - 2.3 / 3) + 1 * abs(1 - 0.9)) / 6
    assert lesson06.check_ece(p, y, 5, by_hand).correct is True
    fb = lesson06.check_ece(p, y, 5, 0.0)
    assert fb.correct is False and "confidence" in fb.message
    assert lesson06.check_ece(p, y, 5, exercises.placeholder()).correct is None


def test_decay_factor():
    assert lesson06.check_decay_factor(0.01, 5.0, 100, 0.95**100).correct is True
    fb = lesson06.check_decay_factor(0.01, 5.0, 100, np.exp(-5.0))
    assert fb.correct is False and "continuous" in fb.message
    fb = lesson06.check_decay_factor(0.01, 5.0, 100, 0.5)
    assert fb.correct is False and "1 - lr * wd" in fb.message
    assert lesson06.check_decay_factor(0.01, 5.0, 100, exercises.placeholder()).correct is None
