"""The exercise checkers' shared machinery, word by word: what a student sees for a right, a
wrong and an unanswered answer, how hints are numbered, and the forms an answer can take."""

from __future__ import annotations

import numpy as np
import pytest

from maxent_lib import exercises as ex
from maxent_lib.exercises import Exercise, Feedback, Mistake, check


def _ex(hints=("first", "second")) -> Exercise:
    return Exercise("Exercise 9.9", "give one number.", list(hints), "well done")


def test_feedback_reads_the_same_in_text_and_in_a_notebook() -> None:
    marks = {True: ("Correct", "✅"), False: ("Not yet", "❌"), None: ("Not answered yet", "✏️")}
    for correct, (word, icon) in marks.items():
        fb = Feedback("Exercise 9.9", correct, "msg")
        assert str(fb) == repr(fb) == f"[Exercise 9.9] {word}: msg"
        assert fb._repr_markdown_() == f"{icon} **Exercise 9.9**: msg"


def test_placeholders() -> None:
    assert np.isnan(ex.placeholder()) and np.isscalar(ex.placeholder())
    assert ex.placeholder(3).shape == (3,) and np.isnan(ex.placeholder((2, 2))).all()
    assert ex.is_placeholder(None) and ex.is_placeholder((np.nan, ex.placeholder(2)))
    assert not ex.is_placeholder(np.array([]))          # an empty answer is an answer
    assert not ex.is_placeholder([np.nan, 1.0])


def test_hints_are_numbered_and_a_lead_comes_first() -> None:
    e = _ex()
    assert e.hint(None).message == "Hint 1 of 2: first"
    assert e.hint(np.array(1.0)).message == "Hint 1 of 2: first"
    assert e.hint(np.array(2.0), lead="Close.").message == "Close. Hint 2 of 2: second"
    assert e.hint(np.array(3.0)).message == "Hint 2 of 2: second"      # the last repeats
    assert e.attempts == 3
    one = _ex(("only",))
    assert one.hint(np.array(1.0)).message == "Hint: only"
    none = _ex(())
    assert none.hint(None).message == "Hint: compare your answer with the exercise's statement."


def test_exercise_defaults_and_registry() -> None:
    e = Exercise("Exercise 9.8", "task", ["h"])
    assert e.success == "" and e.attempts == 0 and e.right().message == ""
    made = ex.exercise("Exercise 9.7", "t", ["h"])
    assert made.success == "" and ex.exercise("Exercise 9.7", "t2", ["h"]) is made


def test_check_tolerances_are_relative_and_absolute() -> None:
    e = _ex()
    assert check(e, 1.0 + 5e-7, 1.0).correct                 # within rtol 1e-6
    assert not check(e, 1.0 + 5e-6, 1.0).correct
    assert check(e, 5e-10, 0.0).correct                      # within atol 1e-9
    assert not check(e, 5e-9, 0.0).correct


def test_check_reads_a_one_element_array_as_a_number_only_for_a_scalar() -> None:
    e = _ex()
    assert check(e, [1.0], 1.0).correct
    fb = check(e, [1.0], [1.0, 2.0])
    assert not fb.correct and "expected an array of shape (2,), got an array of shape (1,)" \
        in fb.message
    fb = check(e, [1.0, 2.0], 1.0)
    assert "expected one number, got an array of shape (2,)" in fb.message


def test_a_partly_infinite_answer_is_refused_as_such() -> None:
    fb = check(_ex(), [1.0, np.inf], [1.0, 2.0])
    assert fb.correct is False and "NaN or inf" in fb.message


def test_a_checker_that_fails_says_so_without_crashing() -> None:
    e = _ex()
    fb = check(e, 1.0, 1.0, accept=lambda g: 1 / 0)
    assert fb.correct is False and fb.message.startswith(
        "this answer could not be checked (ZeroDivisionError: division by zero).")


def test_mistakes_match_by_value_or_by_test() -> None:
    got = np.array([1.0, 2.0])
    assert Mistake("m", value=[1.0, 2.0]).matches(got)
    assert not Mistake("m", value=[1.0, np.nan]).matches(got)          # needs a finite value
    assert not Mistake("m", value=[1.0, 2.5]).matches(got)
    assert not Mistake("m", value=[1.0, 2.0, 3.0]).matches(got)
    assert Mistake("m", test=lambda g: g.sum() == 3).matches(got)
    assert not Mistake("m", test=lambda g: 1 / 0).matches(got)          # cannot test: no match


def test_as_numbers_names_what_is_wrong() -> None:
    long = "x" * 40
    assert ex.as_numbers(long) == f"the answer must be numbers, not text ({'x' * 30!r})"
    assert ex.as_numbers(["a", "b"]) == "the answer must be numbers, not text"
    assert ex.as_numbers([1 + 2j]) == "the answer must be real numbers, not complex ones"
    assert ex.as_numbers(np.array([1.0, 2.0], dtype=object)).tolist() == [1.0, 2.0]
    assert ex.as_numbers([[1, 2], [3]]).endswith("got list with rows of different lengths")
    assert ex.as_numbers(object()) == "the answer must be numbers (an array or a float), got object"


def test_distinct_attempts_are_counted_by_value() -> None:
    e = _ex()
    e.hint(np.arange(70.0))
    e.hint(np.arange(70.0) + (np.arange(70) == 64))         # differs past the 64 compared
    assert e.attempts == 1
    e.hint(np.array(1.0))
    e.hint(np.array(1.0 + 2e-10))                           # the same to 9 decimals
    assert e.attempts == 2


@pytest.mark.parametrize("expected, words", [(1.0, "give one number."),
                                              ([1.0, 2.0], "give an array of shape (2,).")])
def test_check_close_says_what_to_give(expected, words) -> None:
    fb = ex.check_close("Exercise 9.6", None, expected, hint="h", success="s")
    assert fb.correct is None and fb.message == words


def test_a_mistake_with_an_infinite_value_matches_nothing() -> None:
    assert not Mistake("m", value=[1.0, np.inf]).matches(np.array([1.0, np.inf]))


def test_an_exercise_prints_without_its_attempts() -> None:
    e = _ex()
    e.hint(np.array(1.0))
    assert "_wrong" not in repr(e)


def test_a_long_error_is_cut_to_80_characters() -> None:
    def long_error(g):
        raise ValueError("x" * 100)

    fb = check(_ex(), 1.0, 1.0, accept=long_error)
    assert f"(ValueError: {'x' * 80})." in fb.message
