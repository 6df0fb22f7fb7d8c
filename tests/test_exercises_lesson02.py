"""Tests for the lesson 02 exercise checkers."""

import numpy as np
import pytest

from maxent_lib import exercises
from maxent_lib.exercises import lesson02
from maxent_lib.softmax import SoftmaxRegression, conditional_entropy, moment_residuals, softmax


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    T, y = rng.normal(size=(50, 3)), rng.integers(0, 4, size=50)
    P = softmax(T @ rng.normal(size=(4, 3)).T + rng.normal(size=4))
    return T, y, P


def test_exercise_1(toy):
    T, y, P = toy
    R = moment_residuals(T, y, P)
    assert lesson02.exercise_1(R, T, y, P).correct is True
    assert lesson02.exercise_1(exercises.placeholder((4, 3)), T, y, P).correct is None
    fb = lesson02.exercise_1(-R, T, y, P)
    assert fb.correct is False and "sign" in fb.message
    fb = lesson02.exercise_1(R.T, T, y, P)
    assert fb.correct is False and "transpose" in fb.message
    fb = lesson02.exercise_1(len(T) * R, T, y, P)
    assert fb.correct is False and "factor n" in fb.message
    fb = lesson02.exercise_1(R + 0.1, T, y, P)
    assert fb.correct is False and "one-hot" in fb.message


def test_exercise_2():
    rng = np.random.default_rng(1)
    T, y = rng.normal(size=(200, 3)), rng.integers(0, 3, size=200)
    model = SoftmaxRegression(alpha=0.05).fit(T, y)
    ce, w2 = model.log_loss(T, y), np.sum(model.coef_**2)
    right = ce + 0.05 * w2
    assert np.isclose(right, conditional_entropy(model.predict_proba(T)))
    assert lesson02.exercise_2(right, model, T, y).correct is True
    fb = lesson02.exercise_2(ce + 0.025 * w2, model, T, y)
    assert fb.correct is False and "1/2" in fb.message
    fb = lesson02.exercise_2(ce, model, T, y)
    assert fb.correct is False and "cross-entropy alone" in fb.message
    assert lesson02.exercise_2(np.nan, model, T, y).correct is None
    fb = lesson02.exercise_2(np.array([right, right]), model, T, y)  # not one number
    assert fb.correct is False and "shape" in fb.message
    fb = lesson02.exercise_2("1.5", model, T, y)
    assert fb.correct is False and "(8b)" in fb.message


def test_exercise_3():
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    w, c = W[1] - W[0], b[1] - b[0]
    assert lesson02.exercise_3(w, c, W, b).correct is True
    fb = lesson02.exercise_3(-w, -c, W, b)
    assert fb.correct is False and "swap" in fb.message
    fb = lesson02.exercise_3(W[1], c, W, b)
    assert fb.correct is False and "difference of two rows" in fb.message
    fb = lesson02.exercise_3(w, b[1], W, b)
    assert fb.correct is False and "intercepts" in fb.message
    fb = lesson02.exercise_3(exercises.placeholder((3,)), exercises.placeholder(), W, b)
    assert fb.correct is None
    fb = lesson02.exercise_3(w, "c", W, b)
    assert fb.correct is False and "numeric" in fb.message
    fb = lesson02.exercise_3(w, b, W, b)  # c must be one number, not both intercepts
    assert fb.correct is False and "one number" in fb.message
