"""Lesson 01 exercise checkers: right answers pass, placeholders say only what to give, common
mistakes get their own message, other wrong answers get hints."""

import numpy as np
import pytest

from maxent_lib import exercises
from maxent_lib.exercises import lesson01
from maxent_lib.info import entropy
from maxent_lib.maxent import solve_maxent

FACES = np.arange(1, 7, dtype=float)


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_exercise_1():
    right = solve_maxent(FACES, 2.5).p
    assert lesson01.exercise_1(right).correct is True
    blank = lesson01.exercise_1(exercises.placeholder((6,)))
    assert blank.correct is None and "shape (6,)" in blank.message
    other = np.array([0.0, 0.5, 0.5, 0.0, 0.0, 0.0])  # feasible, not max-ent
    fb = lesson01.exercise_1(other)
    assert fb.correct is False and "below the maximum" in fb.message and "Hint 1" in fb.message
    fb = lesson01.exercise_1(solve_maxent(FACES, 3.0).p)  # wrong mean
    assert fb.correct is False and "expectations" in fb.message and "Hint 2" in fb.message


@pytest.mark.parametrize(("answer", "words"), [
    (solve_maxent(FACES, 4.5).p, "sign of lambda"),
    (np.full(6, 1 / 6), "uniform"),
    (np.ones(6), "sum to 6"),
    (100 * solve_maxent(FACES, 2.5).p, "percentages"),
    (np.array([0.5, 0.6, -0.1, 0.0, 0.0, 0.0]), "negative"),
    (np.ones(5) / 5, "shape"),
    ("0.1, 0.2", "numbers"),
])
def test_exercise_1_mistakes(answer, words):
    fb = lesson01.exercise_1(answer)
    assert fb.correct is False and words in fb.message


def test_exercise_2():
    right = solve_maxent(np.c_[FACES, FACES**2], [4.5, 22.0]).p
    assert lesson01.exercise_2(right).correct is True
    fb = lesson01.exercise_2(solve_maxent(FACES, 4.5).p)  # ignores the second constraint
    assert fb.correct is False and "second feature" in fb.message
    assert lesson01.exercise_2(None).correct is None


def test_exercise_3():
    die = solve_maxent(FACES, 4.5)
    gap = die.entropy - entropy(lesson01.Q_EXERCISE_3)
    assert lesson01.exercise_3(gap).correct is True
    assert lesson01.exercise_3(exercises.placeholder()).correct is None
    cases = {gap + 0.3: "Hint 1", -gap: "sign is flipped", gap / np.log(2): "bits",
             die.entropy: "H(p*) alone", entropy(lesson01.Q_EXERCISE_3): "H(q) alone",
             np.inf: "infinite", gap + 0.2: "Hint 3"}  # every wrong attempt counts
    for answer, words in cases.items():
        fb = lesson01.exercise_3(answer)
        assert fb.correct is False and words in fb.message, (answer, fb.message)


@pytest.mark.parametrize("check", [lesson01.exercise_1, lesson01.exercise_2, lesson01.exercise_3])
def test_not_answered_says_only_what_to_give(check):
    fb = check(exercises.placeholder((6,)) if check is not lesson01.exercise_3 else np.nan)
    assert "Not answered yet" in str(fb) and fb._repr_markdown_()
    assert fb.message.startswith("give ")
    for method in ("solve_maxent", "Gibbs", "lambda", "KL", "Pythagorean", "root"):
        assert method not in fb.message


def test_a_die_that_does_not_sum_to_one_is_told_by_how_much() -> None:
    fb = lesson01.exercise_1(np.array([10.0, 20, 30, 20, 10, 10]))
    assert "percentages" in fb.message
    fb = lesson01.exercise_1(np.array([10.0, 20, 30, 20, 10, 10.5]))
    assert "sum to 100.5, not one" in fb.message
    fb = lesson01.exercise_1(np.array([0.5, 0.5, 0.5, 0.0, 0.0, 0.0]))
    assert "sum to 1.5, not one" in fb.message
    fb = lesson01.exercise_1(np.array([np.inf, 0, 0, 0, 0, 0]))
    assert fb.correct is False and "NaN or inf" in fb.message


def test_right_means_right_on_every_face() -> None:
    best = solve_maxent(FACES, 2.5).p
    near = best + np.array([0.0, 1e-3, -1e-3, 0.0, 0.0, 0.0])     # face 1 exact, others not
    assert lesson01.exercise_1(near).correct is False
    fb = lesson01.exercise_1(best)
    lams = fb.message.split("lambda = [")[1].split("]")[0].split()
    assert all(len(x.split(".")[1]) <= 6 for x in lams if "." in x)  # rounded to 6 decimals


def test_every_constraint_must_be_met() -> None:
    # mean 4.5 but E[k^2] = 21.5, not 22: the hint names both expectations
    fb = lesson01.exercise_2(lesson01.Q_EXERCISE_3)
    assert "expectations [ 4.5 21.5]" in fb.message
    fb = lesson01.exercise_2(np.array([1 / 3, 0, 0, 0, 1 / 3, 1 / 3]))
    assert "20.666667]" in fb.message


def test_a_die_that_cannot_be_checked_says_so(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("solver down")

    monkeypatch.setattr(lesson01, "solve_maxent", broken)
    fb = lesson01._check_die(exercises.exercise("Exercise 1.1", "t", ["h"]),
                             np.full(6, 1 / 6), FACES[:, None], np.array([2.5]), [])
    assert fb.correct is False and fb.message.startswith(
        "this answer could not be checked (solver down)")
