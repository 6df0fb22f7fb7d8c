"""Tests for the lesson 01 exercise checkers: right answers pass, wrong ones get a hint,
placeholders are "not answered"."""

import numpy as np
import pytest

from maxent_lib import exercises
from maxent_lib.exercises import lesson01
from maxent_lib.info import entropy
from maxent_lib.maxent import solve_maxent

FACES = np.arange(1, 7, dtype=float)


def test_exercise_1():
    right = solve_maxent(FACES, 2.5).p
    assert lesson01.exercise_1(right).correct is True
    assert lesson01.exercise_1(exercises.placeholder((6,))).correct is None
    # feasible but not max-ent: mean 2.5 from faces 2 and 3 only
    other = np.array([0.0, 0.5, 0.5, 0.0, 0.0, 0.0])
    fb = lesson01.exercise_1(other)
    assert fb.correct is False and "Gibbs form" in fb.message
    fb = lesson01.exercise_1(solve_maxent(FACES, 3.0).p)  # wrong mean
    assert fb.correct is False and "expectations" in fb.message
    fb = lesson01.exercise_1(np.ones(6))
    assert fb.correct is False and "not a probability distribution" in fb.message
    fb = lesson01.exercise_1(np.ones(5) / 5)
    assert fb.correct is False and "shape" in fb.message


def test_exercise_2():
    right = solve_maxent(np.c_[FACES, FACES**2], [4.5, 22.0]).p
    assert lesson01.exercise_2(right).correct is True
    fb = lesson01.exercise_2(solve_maxent(FACES, 4.5).p)  # ignores the second constraint
    assert fb.correct is False and "expectations" in fb.message
    assert lesson01.exercise_2(None).correct is None


def test_exercise_3():
    die = solve_maxent(FACES, 4.5)
    gap = die.entropy - entropy(lesson01.Q_EXERCISE_3)
    assert lesson01.exercise_3(gap).correct is True
    fb = lesson01.exercise_3(-gap)
    assert fb.correct is False and "Pythagorean" in fb.message
    assert lesson01.exercise_3(exercises.placeholder()).correct is None


@pytest.mark.parametrize("check", [lesson01.exercise_1, lesson01.exercise_2, lesson01.exercise_3])
def test_feedback_is_printable(check):
    fb = check(exercises.placeholder((6,)) if check is not lesson01.exercise_3 else np.nan)
    assert "Not answered yet" in str(fb) and fb._repr_markdown_()
