"""Every exercise checker answers anything a student can type with feedback (it never raises),
says only what to give before an answer, and gives hints from general to specific."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from maxent_lib import data, exercises, models
from maxent_lib.exercises import (
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
)
from maxent_lib.softmax import SoftmaxRegression, softmax

RNG = np.random.default_rng(0)
T_TOY, Y_TOY = RNG.normal(size=(30, 3)), RNG.integers(0, 4, size=30)
P_TOY = softmax(T_TOY @ RNG.normal(size=(4, 3)).T)
MODEL = SoftmaxRegression(alpha=0.05).fit(T_TOY, Y_TOY)
W2, B2 = RNG.normal(size=(2, 3)), RNG.normal(size=2)
SHARED = data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0)
DROPPED = data.GaussianMixtureTask([[(1.0, [-1.5, 0.0], np.eye(2))],
                                    [(1.0, [1.5, 0.0], np.eye(2))]])
X_EX, Y_EX = DROPPED.sample(300, seed=5)
torch.manual_seed(0)
NET = models.MLP(2, 4, 2, 2, activation="tanh", shortcut=True)
T1 = RNG.normal(size=(5, 4))
W_INV = RNG.normal(size=(8, 8))
W_INV /= np.linalg.norm(W_INV, 2)
P_ECE = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]])

#: every checker as a function of the student's answer alone
CHECKERS = {
    "1.1": lesson01.exercise_1,
    "1.2": lesson01.exercise_2,
    "1.3": lesson01.exercise_3,
    "2.1": lambda a: lesson02.exercise_1(a, T_TOY, Y_TOY, P_TOY),
    "2.2": lambda a: lesson02.exercise_2(a, MODEL, T_TOY, Y_TOY),
    "2.3 w": lambda a: lesson02.exercise_3(a, 0.5, W2, B2),
    "2.3 c": lambda a: lesson02.exercise_3(W2[1] - W2[0], a, W2, B2),
    "3.1": lambda a: lesson03.check_log_odds_weights(SHARED, a),
    "3.2": lambda a: lesson03.check_fc1_gap(DROPPED, [1], X_EX, Y_EX, a),
    "3.3": lambda a: lesson03.check_poisson_log_odds(3.0, 6.0, 0.25, a),
    "4.1": lambda a: lesson04.check_softmax_from_sigmoid(np.ones(3), 0.3, a),
    "4.2": lambda a: lesson04.check_residual_layer(NET, T1, a),
    "5.1": lambda a: lesson05.check_t_interval([0.6, 0.62, 0.61], a),
    "5.2": lambda a: lesson05.check_residual_inverse(W_INV, np.linspace(-1, 1, 8), a),
    "5.3": lambda a: lesson05.check_stacked_param_count(40, 128, 4, 10, 64, a),
    "6.1": lambda a: lesson06.check_label_smoothing_loss([1.0, 0.0, -1.0], 1, 0.1, a),
    "6.2": lambda a: lesson06.check_ece(P_ECE, [0, 1, 0], 5, a),
    "6.3": lambda a: lesson06.check_decay_factor(0.01, 5.0, 100, a),
    "7.1": lesson07.exercise_1,
    "7.2": lambda a: lesson07.exercise_2(a, lesson07.EXAMPLE_BASELINE,
                                         lesson07.EXAMPLE_TREATMENT),
    "7.3": lambda a: lesson07.exercise_3(a, 0.02, 0.03),
    "7.4": lesson07.exercise_4,
    "7.5": lambda a: lesson07.exercise_5(a, lesson07.EXAMPLE_TRAIN_CONTRAST,
                                         lesson07.EXAMPLE_GAP_CONTRAST),
    "7.5 (b)": lambda a: lesson07.exercise_5_reading(a, lesson07.EXAMPLE_TRAIN_CONTRAST,
                                                     lesson07.EXAMPLE_GAP_CONTRAST),
}

#: what a student might type instead of an answer
JUNK = {
    "text": "0.5", "empty text": "", "None": None, "empty list": [], "ragged": [[1, 2], [3]],
    "nested empty": [[]], "nan": float("nan"), "inf": float("inf"), "-inf": -1e400,
    "bool": True, "complex": 1 + 2j, "dict": {"a": 1}, "tuple of 3": (1, 2, 3),
    "tuple of text": ("W", "b"), "huge": 1e308, "big array": np.ones((50, 50)),
    "int": 3, "list of nan": [float("nan"), 1.0], "tensor": torch.ones(3, requires_grad=True),
    "object": object(), "function": len, "set": {1, 2},
}


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


@pytest.mark.parametrize("name", list(CHECKERS))
@pytest.mark.parametrize("junk", list(JUNK))
def test_checkers_answer_anything(name: str, junk: str) -> None:
    feedback = CHECKERS[name](JUNK[junk])
    assert isinstance(feedback, exercises.Feedback)
    assert feedback.correct in (None, False) and feedback.message
    assert str(feedback) and feedback._repr_markdown_()


#: phrases that give a method away; a not-answered message must contain none of them
METHOD_WORDS = ("np.", "scipy", "solve", "Sigma", "ppf", "ddof", "log_softmax", "one-hot",
                "iterate", "cancel", "Hint", "sum_", "exp(", "difference", "root", "KL")


def _placeholder_for(name: str):
    shapes = {"1.1": (6,), "1.2": (6,), "2.1": (4, 3), "2.3 w": (3,), "3.1": (2, 2),
              "3.3": (2,), "4.1": None, "4.2": (5, 4), "5.1": (3,), "5.2": (8,), "7.1": (4,),
              "7.2": (3,), "7.4": (5, 2), "7.5": (2,)}
    if name == "4.1":
        return exercises.placeholder((2, 3)), exercises.placeholder((2,))
    return exercises.placeholder(shapes.get(name, ()))


@pytest.mark.parametrize("name", list(CHECKERS))
def test_not_answered_says_only_what_to_give(name: str) -> None:
    feedback = CHECKERS[name](_placeholder_for(name))
    assert feedback.correct is None, feedback
    assert feedback.message.startswith("give "), feedback.message
    for word in METHOD_WORDS:
        assert word not in feedback.message, (word, feedback.message)


def test_hints_go_from_general_to_specific() -> None:
    check = CHECKERS["6.3"]  # three hints
    first = check(0.5)
    assert "Hint 1 of 3" in first.message
    assert "Hint 1 of 3" in check(0.5).message  # the same answer again: no new hint
    second, third, fourth = check(0.4).message, check(0.3).message, check(0.2).message
    assert "Hint 2 of 3" in second and "Hint 3 of 3" in third and "Hint 3 of 3" in fourth
    assert len(first.message) < len(third)  # the last hint says most
    assert "(1 - lr * wd)" in third and "(1 - lr * wd)" not in first.message
    assert check(0.95**100).correct is True
    assert "Hint 1 of 3" in check(0.5).message  # a right answer starts the hints again


def test_check_close_keeps_its_contract() -> None:
    fb = exercises.check_close("E", [1.0, 3.0], [1.0, 2.0], hint="look at the sign", success="s")
    assert fb.correct is False and "sign" in fb.message
    blank = exercises.check_close("E", exercises.placeholder(2), [1.0, 2.0], hint="secret",
                                  success="s")
    assert blank.correct is None and "secret" not in blank.message


def test_as_numbers() -> None:
    assert exercises.as_numbers([1, 2]).tolist() == [1.0, 2.0]
    assert exercises.as_numbers(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
    for bad in ("x", [[1], [1, 2]], 1j, {"a": 1}):
        assert isinstance(exercises.as_numbers(bad), str)
    assert exercises.scalar([2.0]) == 2.0 and exercises.scalar([1, 2]) is None
    assert exercises.is_placeholder((np.nan, [np.nan]))
    assert not exercises.is_placeholder((np.nan, 1))


@pytest.mark.parametrize("name", list(CHECKERS))
def test_feedback_names_an_exercise_that_its_lesson_has(name: str) -> None:
    """Feedback carries the exercise's name ("Exercise N.k", "Exercise N.k (b)" for its second
    part, or "Lesson 0N, exercise k"), and the lesson's notebook heads an exercise of that
    number."""
    import json
    import re
    from pathlib import Path

    got = CHECKERS[name](None).exercise
    m = re.fullmatch(r"Exercise (\d)\.(\d)(?: \(b\))?|Lesson 0(\d), exercise (\d)", got)
    assert m, got
    lesson, k = (m[1], m[2]) if m[1] else (m[3], m[4])
    assert lesson == name[0]
    nb = next((Path(__file__).parents[1] / "notebooks").glob(f"0{lesson}_*.ipynb"))
    text = "".join("".join(c["source"]) for c in json.loads(nb.read_text())["cells"]
                   if c["cell_type"] == "markdown")
    assert f"Exercise {k}" in text or f"Exercise {lesson}.{k}" in text, (got, nb.name)
