"""Answer checks for the lessons' exercises (one module per lesson: ``lesson01`` ... ``lesson07``).

Every exercise in a lesson has a student stub that already runs: it returns a *placeholder* of
the right shape (:func:`placeholder`, an all-NaN array or ``nan``), so the lesson runs top to
bottom before the student has answered. A checker returns :class:`Feedback`, whatever it is
given (a string, None, a list, the wrong shape, NaN, a tensor: it never raises):

- **not answered yet** (the placeholder): only *what* to give (the quantity and its shape), never
  how to compute it, so a stored notebook does not give the method away;
- **correct**: what the answer shows;
- **a common mistake** (a sign flip, a transpose, a missing Sigma^-1, bits instead of nats, a
  missing prior, ...): a message about that mistake;
- **otherwise wrong**: a hint, more specific with each further wrong answer (:class:`Exercise`
  counts distinct wrong answers per exercise in this kernel; re-running the same answer does not
  reveal more).

Worked solutions are in ``notebooks/solutions/``. Introduced in lesson 01.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``correct`` is True, False, or None (not answered yet)."""

    exercise: str
    correct: bool | None
    message: str

    def __str__(self) -> str:
        mark = {True: "Correct", False: "Not yet", None: "Not answered yet"}[self.correct]
        return f"[{self.exercise}] {mark}: {self.message}"

    def _repr_markdown_(self) -> str:
        icon = {True: "✅", False: "❌", None: "✏️"}[self.correct]
        return f"{icon} **{self.exercise}**: {self.message}"

    def __repr__(self) -> str:
        return str(self)


def placeholder(shape: int | tuple[int, ...] = ()) -> np.ndarray | float:
    """What a stub returns before it is answered: ``nan`` for a scalar, else an all-NaN array."""
    if shape == ():
        return float("nan")
    return np.full(shape, np.nan)


def is_placeholder(answer: object) -> bool:
    """True when ``answer`` is still the stub's placeholder: None, all NaN, or a tuple whose
    parts are all placeholders."""
    if answer is None:
        return True
    if isinstance(answer, tuple) and answer:
        return all(is_placeholder(part) for part in answer)
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return False
    return arr.size > 0 and bool(np.all(np.isnan(arr)))


def as_numbers(answer: object) -> np.ndarray | str:
    """``answer`` as a float array, or a sentence saying why it is not numbers (a string, a
    complex number, a ragged list, ...). Tensors are detached and moved to the CPU."""
    if isinstance(answer, str | bytes):
        return f"the answer must be numbers, not text ({str(answer)[:30]!r})"
    if isinstance(answer, dict):
        return "the answer must be numbers, not a dictionary"
    value = answer
    if hasattr(value, "detach") and callable(value.detach):  # a torch tensor
        try:
            value = value.detach().cpu().numpy()
        except Exception:  # noqa: BLE001 - any tensor that cannot become an array
            return "the answer must be a plain array of numbers (could not read the tensor)"
    try:
        raw = np.asarray(value)
        if raw.dtype.kind == "c":
            return "the answer must be real numbers, not complex ones"
        if raw.dtype.kind in "USO" and raw.dtype.kind != "O":
            return "the answer must be numbers, not text"
        arr = raw.astype(float)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        return (f"the answer must be numbers (an array or a float), got "
                f"{type(answer).__name__}" + (" with rows of different lengths"
                                              if isinstance(answer, list | tuple) else ""))
    return arr


def _key(arr: np.ndarray) -> str:
    """A short fingerprint of an answer, to count distinct attempts."""
    with np.errstate(all="ignore"):
        return f"{arr.shape}:{np.round(arr.ravel()[:64], 9).tobytes().hex()}"


@dataclass(frozen=True)
class Mistake:
    """A common wrong answer: ``value`` (what that mistake gives, same shape as the answer) or
    ``test`` (a predicate on the answer array), and the message for it."""

    message: str
    value: Any = None
    test: Callable[[np.ndarray], bool] | None = None
    rtol: float = 1e-6
    atol: float = 1e-9

    def matches(self, got: np.ndarray) -> bool:
        try:
            if self.test is not None:
                return bool(self.test(got))
            want = np.asarray(self.value, dtype=float)
            return (want.shape == got.shape and bool(np.all(np.isfinite(want)))
                    and bool(np.allclose(got, want, rtol=self.rtol, atol=self.atol)))
        except Exception:  # noqa: BLE001 - a mistake that cannot be tested does not match
            return False


@dataclass
class Exercise:
    """One exercise's texts: ``task`` says what to give (shown before an answer: no method),
    ``hints`` go from general to specific (one more with each distinct wrong answer),
    ``success`` says what a right answer shows."""

    name: str
    task: str
    hints: Sequence[str]
    success: str = ""
    _wrong: set[str] = field(default_factory=set, repr=False)

    def not_answered(self) -> Feedback:
        return Feedback(self.name, None, self.task)

    def right(self, message: str | None = None) -> Feedback:
        self._wrong.clear()
        return Feedback(self.name, True, message if message is not None else self.success)

    def wrong(self, message: str, answer: np.ndarray | None = None) -> Feedback:
        """A targeted message (counts as an attempt)."""
        if answer is not None:
            self._wrong.add(_key(answer))
        return Feedback(self.name, False, message)

    def hint(self, answer: np.ndarray | None, lead: str = "") -> Feedback:
        """The next hint: the k-th distinct wrong answer gets hint k (the last one repeats)."""
        if answer is not None:
            self._wrong.add(_key(answer))
        k = max(len(self._wrong), 1)
        hints = list(self.hints) or ["compare your answer with the exercise's statement."]
        text = hints[min(k, len(hints)) - 1]
        label = f"Hint {min(k, len(hints))} of {len(hints)}: " if len(hints) > 1 else "Hint: "
        return Feedback(self.name, False, (lead + " " if lead else "") + label + text)

    @property
    def attempts(self) -> int:
        """Distinct wrong answers so far (in this kernel)."""
        return len(self._wrong)


_EXERCISES: dict[str, Exercise] = {}


def exercise(name: str, task: str, hints: Sequence[str], success: str = "") -> Exercise:
    """The :class:`Exercise` called ``name`` (made once per kernel, so its attempts count
    across calls); ``task``, ``hints`` and ``success`` are refreshed on every call."""
    ex = _EXERCISES.get(name)
    if ex is None:
        ex = _EXERCISES[name] = Exercise(name, task, list(hints), success)
    else:
        ex.task, ex.hints, ex.success = task, list(hints), success
    return ex


def reset_attempts() -> None:
    """Forget every exercise's wrong attempts (the hints start again from the first)."""
    for ex in _EXERCISES.values():
        ex._wrong.clear()


def _shape_text(shape: tuple[int, ...]) -> str:
    return "one number" if shape == () else f"an array of shape {shape}"


def check(ex: Exercise, answer: object, expected: object, *, mistakes: Sequence[Mistake] = (),
          rtol: float = 1e-6, atol: float = 1e-9,
          accept: Callable[[np.ndarray], bool] | None = None,
          transpose_message: str | None = None) -> Feedback:
    """The common checker: placeholder -> :meth:`Exercise.not_answered`; not numbers, wrong
    shape, NaN or inf -> what is wrong with the form; right (close to ``expected``, or
    ``accept(answer)``) -> success; one of ``mistakes`` -> its message; else the next hint.
    A size-1 answer is accepted for a scalar. Never raises."""
    try:
        if is_placeholder(answer):
            return ex.not_answered()
        got = as_numbers(answer)
        if isinstance(got, str):
            return Feedback(ex.name, False, f"{got}. {ex.task}")
        want = np.asarray(expected, dtype=float)
        if want.shape == () and got.size == 1:
            got = got.reshape(())
        if got.shape != want.shape:
            if want.ndim == 2 and got.shape == want.shape[::-1]:
                return ex.wrong(transpose_message or
                                f"expected shape {want.shape}, got {got.shape}: transpose it "
                                "(rows and columns are swapped).", got)
            return Feedback(ex.name, False, f"expected {_shape_text(want.shape)}, got "
                                            f"{_shape_text(got.shape)}. {ex.task}")
        if not np.all(np.isfinite(got)):
            for m in mistakes:
                if m.matches(got):
                    return ex.wrong(m.message, got)
            return Feedback(ex.name, False, "the answer contains NaN or inf: part of it is still "
                                            "the placeholder, or a log of 0 or a division by 0 "
                                            "crept in.")
        ok = accept(got) if accept is not None else bool(np.allclose(got, want, rtol=rtol,
                                                                       atol=atol))
        if ok:
            return ex.right()
        if (transpose_message and want.ndim == 2 and want.shape[0] == want.shape[1]
                and np.allclose(got, want.T, rtol=rtol, atol=atol)):
            return ex.wrong(transpose_message, got)
        for m in mistakes:
            if m.matches(got):
                return ex.wrong(m.message, got)
        return ex.hint(got)
    except Exception as exc:  # noqa: BLE001 - a checker answers, it does not crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked "
                                        f"({type(exc).__name__}: {str(exc)[:80]}). {ex.task}")


def check_close(exercise_name: str, answer: object, expected: object, *, hint: str,
                success: str, rtol: float = 1e-4, atol: float = 1e-6) -> Feedback:
    """A simple checker with one hint: placeholder -> not answered (what to give); wrong shape
    -> the expected shape; not close -> ``hint``; close -> ``success``. Never raises."""
    want_shape = np.shape(expected) if not isinstance(expected, str) else ()
    ex = exercise(exercise_name, f"give {_shape_text(tuple(want_shape))}.", [hint], success)
    return check(ex, answer, expected, rtol=rtol, atol=atol)


def scalar(answer: object) -> float | None:
    """``answer`` as one finite float, or None (not a number, not one value, or not finite)."""
    got = as_numbers(answer)
    if isinstance(got, str) or got.size != 1:
        return None
    value = float(got.ravel()[0])
    return value if math.isfinite(value) else None
