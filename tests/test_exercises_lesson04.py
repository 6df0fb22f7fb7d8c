"""Lesson 04 exercise checkers: right answers pass, wrong ones get a hint, placeholders are
"not answered"."""

import numpy as np
import torch

from maxent_lib import exercises, models
from maxent_lib.exercises import lesson04

W_UNIT, C_UNIT = np.array([1.5, -2.0, 0.5]), 0.3


def test_softmax_from_sigmoid():
    zero_row = (np.stack([np.zeros(3), W_UNIT]), np.array([0.0, C_UNIT]))
    assert lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, zero_row).correct is True
    shifted = (zero_row[0] + 7.0, zero_row[1] - 2.0)  # shift-invariance: also right
    assert lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, shifted).correct is True
    swapped = (zero_row[0][::-1], zero_row[1][::-1])
    fb = lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, swapped)
    assert fb.correct is False and "swap" in fb.message
    fb = lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, (zero_row[0], np.zeros(2)))
    assert fb.correct is False and "b_1 - b_0" in fb.message
    fb = lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, (np.zeros((3, 3)), np.zeros(2)))
    assert fb.correct is False and "shape" in fb.message
    blank = (exercises.placeholder((2, 3)), exercises.placeholder((2,)))
    assert lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, blank).correct is None


def test_residual_layer():
    torch.manual_seed(0)
    net = models.MLP(2, 4, 2, 2, activation="tanh", shortcut=True)
    t1 = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    A = net.layers[1].weight.detach().numpy()
    c = net.layers[1].bias.detach().numpy()
    assert lesson04.check_residual_layer(net, t1, t1 + np.tanh(t1 @ A.T + c)).correct is True
    fb = lesson04.check_residual_layer(net, t1, np.tanh(t1 @ A.T + c))  # no shortcut
    assert fb.correct is False and "shortcut" in fb.message
    assert lesson04.check_residual_layer(net, t1, exercises.placeholder((5, 4))).correct is None
