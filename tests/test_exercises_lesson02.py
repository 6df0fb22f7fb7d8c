"""Tests for the lesson 02 exercise checkers: each common mistake gets its own message."""

import numpy as np
import pytest

from maxent_lib import exercises
from maxent_lib.exercises import lesson02
from maxent_lib.softmax import SoftmaxRegression, conditional_entropy, moment_residuals, softmax


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(0)
    T, y = rng.normal(size=(50, 3)), rng.integers(0, 4, size=50)
    P = softmax(T @ rng.normal(size=(4, 3)).T + rng.normal(size=4))
    return T, y, P


def test_exercise_1(toy):
    T, y, P = toy
    R = moment_residuals(T, y, P)
    Y = np.eye(4)[y]
    assert lesson02.exercise_1(R, T, y, P).correct is True
    blank = lesson02.exercise_1(exercises.placeholder((4, 3)), T, y, P)
    assert blank.correct is None and "one-hot" not in blank.message
    n = len(T)
    cases = [(R + 0.1, "Hint 1"), (R + 0.1, "Hint 1"), (R + 0.2, "Hint 2"),  # same answer: same
             (-R, "sign"), (R.T, "transpose"), (n * R, "factor n"), (-n * R, "factor -n"),
             (P.T @ T / n, "model's moment alone"), (Y.T @ T / n, "empirical moment alone"),
             (-Y.T @ T / n, "minus the empirical")]
    for answer, words in cases:
        fb = lesson02.exercise_1(answer, T, y, P)
        assert fb.correct is False and words in fb.message, (words, fb.message)


def test_exercise_1_square_transpose():
    rng = np.random.default_rng(3)
    T, y = rng.normal(size=(40, 3)), rng.integers(0, 3, size=40)
    P = softmax(T @ rng.normal(size=(3, 3)).T)
    R = moment_residuals(T, y, P)
    fb = lesson02.exercise_1(R.T, T, y, P)
    assert fb.correct is False and "transpose" in fb.message


def test_exercise_2():
    rng = np.random.default_rng(1)
    T, y = rng.normal(size=(200, 3)), rng.integers(0, 3, size=200)
    model = SoftmaxRegression(alpha=0.05).fit(T, y)
    ce, w2 = model.log_loss(T, y), np.sum(model.coef_**2)
    right = ce + 0.05 * w2
    assert np.isclose(right, conditional_entropy(model.predict_proba(T)))
    assert lesson02.exercise_2(right, model, T, y).correct is True
    assert lesson02.exercise_2([right], model, T, y).correct is True  # a size-1 list is fine
    cases = [(ce + 0.025 * w2, "1/2"), (ce, "cross-entropy alone"), (ce - 0.05 * w2, "sign"),
             (ce + 0.05 * (w2 + np.sum(model.intercept_**2)), "biases"),
             (right / np.log(2), "bits"), (np.array([right, right]), "one number"),
             ("1.5", "numbers"), (right + 1, "Hint")]
    for answer, words in cases:
        fb = lesson02.exercise_2(answer, model, T, y)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert lesson02.exercise_2(np.nan, model, T, y).correct is None


def test_exercise_3():
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    w, c = W[1] - W[0], b[1] - b[0]
    assert lesson02.exercise_3(w, c, W, b).correct is True
    assert lesson02.exercise_3(w, np.array([c]), W, b).correct is True
    cases = [((-w, -c), "swap"), ((W[1], c), "difference of two rows"),
             ((w, b[1]), "intercepts"), ((w, "c"), "numbers"), ((w, b), "one number"),
             ((w[:2], c), "shape"), ((w, c + 1), "c is not"), ((w + 1, c), "Hint")]
    for (ww, cc), words in cases:
        fb = lesson02.exercise_3(ww, cc, W, b)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    fb = lesson02.exercise_3(exercises.placeholder((3,)), exercises.placeholder(), W, b)
    assert fb.correct is None and "W[1]" not in fb.message and "exp" not in fb.message


def test_exercise_3_names_the_part_that_is_wrong():
    rng = np.random.default_rng(2)
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    w, c = W[1] - W[0], b[1] - b[0]
    assert lesson02.exercise_3("w", c, W, b).message.startswith("w: ")
    assert lesson02.exercise_3(w, "c", W, b).message.startswith("c: ")
    for ww, cc in ((np.r_[w[:2], np.inf], c), (w, np.inf)):
        fb = lesson02.exercise_3(ww, cc, W, b)
        assert fb.correct is False and "NaN or inf" in fb.message
    # swapped w with a right c is not "swap the order": only both flipped are
    assert "swap" not in lesson02.exercise_3(-w, c, W, b).message
    # each row of W and each intercept is recognised, not only the first
    assert "not a row of W" in lesson02.exercise_3(W[0], c, W, b).message
    assert "intercepts" in lesson02.exercise_3(w, b[0], W, b).message


def test_exercise_3_that_cannot_be_checked_says_so(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("numbers down")

    monkeypatch.setattr(lesson02, "as_numbers", broken)
    fb = lesson02.exercise_3(np.ones(3), 1.0, np.ones((2, 3)), np.ones(2))
    assert fb.correct is False and fb.message.startswith(
        "this answer could not be checked (numbers down)")


def test_exercise_1_tolerance_is_relative():
    rng = np.random.default_rng(3)
    T, y = rng.normal(size=(20, 2)), rng.integers(0, 3, size=20)
    P = softmax(T @ rng.normal(size=(3, 2)).T)
    right = moment_residuals(T, y, P)
    assert lesson02.exercise_1(right * (1 + 1e-7), T, y, P).correct is True
    assert lesson02.exercise_1(right * 1.5, T, y, P).correct is False
