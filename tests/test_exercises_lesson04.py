"""Lesson 04 exercise checkers: right answers pass, each common mistake gets its own message,
placeholders say only what to give."""

import numpy as np
import pytest
import torch

from maxent_lib import exercises, models
from maxent_lib.exercises import lesson04

W_UNIT, C_UNIT = np.array([1.5, -2.0, 0.5]), 0.3


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_softmax_from_sigmoid():
    zero_row = (np.stack([np.zeros(3), W_UNIT]), np.array([0.0, C_UNIT]))
    check = lesson04.check_softmax_from_sigmoid
    assert check(W_UNIT, C_UNIT, zero_row).correct is True
    shifted = (zero_row[0] + 7.0, zero_row[1] - 2.0)  # shift-invariance: also right
    assert check(W_UNIT, C_UNIT, shifted).correct is True
    assert check(W_UNIT, C_UNIT, [zero_row[0].tolist(), zero_row[1]]).correct is True
    cases = [
        ((zero_row[0] + np.array([[0.0], [1.0]]), zero_row[1] + 1), "Hint 1"),
        ((zero_row[0][::-1], zero_row[1][::-1]), "swap"),
        ((zero_row[0], np.zeros(2)), "b_1 - b_0"),
        ((zero_row[0] * 2, zero_row[1]), "b is right"),
        ((np.stack([-W_UNIT, W_UNIT]), np.array([-C_UNIT, C_UNIT])), "2w"),
        ((zero_row[0].T, zero_row[1]), "transpose"),
        ((W_UNIT, C_UNIT), "sigmoid's own"),
        ((np.zeros((3, 3)), np.zeros(2)), "shape"),
        (zero_row[0], "tuple"),
        (("W", "b"), "numbers"),
    ]
    for answer, words in cases:
        fb = check(W_UNIT, C_UNIT, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = (exercises.placeholder((2, 3)), exercises.placeholder((2,)))
    fb = check(W_UNIT, C_UNIT, blank)
    assert fb.correct is None and "difference" not in fb.message


def test_residual_layer():
    torch.manual_seed(0)
    net = models.MLP(2, 4, 2, 2, activation="tanh", shortcut=True)
    t1 = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    A = net.layers[1].weight.detach().numpy()
    c = net.layers[1].bias.detach().numpy()
    check = lesson04.check_residual_layer
    assert check(net, t1, t1 + np.tanh(t1 @ A.T + c)).correct is True
    assert check(net, t1, torch.tensor(t1 + np.tanh(t1 @ A.T + c))).correct is True
    cases = [(t1 + 1, "Hint 1"), (np.tanh(t1 @ A.T + c), "shortcut"),
             (t1 + np.tanh(t1 @ A + c), "(out, in)"), (t1 + np.tanh(t1 @ A.T), "bias"),
             (t1 + t1 @ A.T + c, "activation is missing"),
             (t1 + np.maximum(t1 @ A.T + c, 0), "not ReLU"), (t1.T, "shape")]
    for answer, words in cases:
        fb = check(net, t1, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(net, t1, exercises.placeholder((5, 4)))
    assert blank.correct is None and "tanh" not in blank.message
