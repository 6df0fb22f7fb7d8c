"""Answer checks for the lessons' exercises (one module per lesson: ``lesson01`` ... ``lesson07``).

Every exercise in a lesson has a student stub that already runs: it returns a *placeholder* of
the right shape (:func:`placeholder`, an all-NaN array or ``nan``), so the lesson runs top to
bottom before the student has answered. A checker returns :class:`Feedback`: not answered yet,
right (with what it shows), or wrong with a hint that points towards the mistake, never a bare
"wrong".
Worked solutions are in ``notebooks/solutions/``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    """True when ``answer`` is still the stub's placeholder (None, or all NaN)."""
    if answer is None:
        return True
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.size > 0 and bool(np.all(np.isnan(arr)))


def check_close(exercise: str, answer: object, expected: object, *, hint: str,
                success: str, rtol: float = 1e-4, atol: float = 1e-6) -> Feedback:
    """The common checker: placeholder -> not answered; wrong shape -> says which shape is
    expected; not close -> ``hint``; close -> ``success``."""
    if is_placeholder(answer):
        return Feedback(exercise, None, "replace the placeholder with your answer. " + hint)
    try:
        got = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return Feedback(exercise, False, f"the answer must be numeric, got {type(answer).__name__}")
    want = np.asarray(expected, dtype=float)
    if got.shape != want.shape:
        return Feedback(exercise, False, f"expected shape {want.shape}, got {got.shape}. " + hint)
    if not np.all(np.isfinite(got)):
        return Feedback(exercise, False, "the answer contains NaN or inf. " + hint)
    if np.allclose(got, want, rtol=rtol, atol=atol):
        return Feedback(exercise, True, success)
    return Feedback(exercise, False, hint)
