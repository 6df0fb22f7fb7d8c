"""Answer checks for lesson 01 (the maximum-entropy principle). Worked answers:
``notebooks/solutions/01_solutions.ipynb``."""

from __future__ import annotations

import numpy as np

from ..info import entropy, kl_divergence
from ..maxent import solve_maxent
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder

FACES = np.arange(1, 7, dtype=float)
#: the feasible die of exercise 1.3: mean 4.5, but all its mass on faces 3-6
Q_EXERCISE_3 = np.array([0.0, 0.0, 0.25, 0.25, 0.25, 0.25])
DIE_TASK = "give the six probabilities of the die, one per face (an array of shape (6,))."


def _die(ex, answer: object) -> tuple[np.ndarray | None, Feedback | None]:
    """The answer as a distribution over the six faces, or the feedback on why it is not one."""
    if is_placeholder(answer):
        return None, ex.not_answered()
    p = as_numbers(answer)
    if isinstance(p, str):
        return None, Feedback(ex.name, False, f"{p}; {DIE_TASK}")
    if p.shape != (6,):
        return None, Feedback(ex.name, False, f"expected 6 probabilities (shape (6,)), got shape "
                                              f"{p.shape}.")
    if not np.all(np.isfinite(p)):
        return None, Feedback(ex.name, False, "the answer contains NaN or inf: part of it is still "
                                              "the placeholder, or exp overflowed.")
    if np.any(p < -1e-12):
        return None, ex.wrong("probabilities cannot be negative.", p)
    total = p.sum()
    if abs(total - 100) < 1e-4:
        return None, ex.wrong("these look like percentages (they sum to 100): give "
                              "probabilities that sum to one.", p)
    if abs(total - 1) > 1e-6:
        return None, ex.wrong(f"the probabilities sum to {total:.6g}, not one: divide by the "
                              "normaliser Z.", p)
    return p, None


def _check_die(ex, answer: object, F: np.ndarray, target: np.ndarray,
               mistakes: list[Mistake]) -> Feedback:
    try:
        p, early = _die(ex, answer)
        if early is not None:
            return early
        best = solve_maxent(F, target)
        if np.max(np.abs(p - best.p)) <= 1e-6:
            return ex.right(f"this is the max-ent distribution; its entropy is "
                            f"{best.entropy:.6f} nats with lambda = {np.round(best.lambdas, 6)}.")
        for m in mistakes:
            if m.matches(p):
                return ex.wrong(m.message, p)
        means = F.T @ p
        if np.max(np.abs(means - target)) > 1e-6:
            return ex.hint(p, f"your distribution has expectations {np.round(means, 6)}, but the "
                              f"constraints ask for {target}.")
        return ex.hint(p, f"it meets the constraints, but its entropy {entropy(p):.6f} nats is "
                          f"below the maximum {best.entropy:.6f}: it is not the max-ent die.")
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}); {DIE_TASK}")


def exercise_1(p: object) -> Feedback:
    """Exercise 1.1: the max-ent die with mean 2.5 (six probabilities)."""
    ex = exercise(
        "Exercise 1.1", DIE_TASK,
        hints=["the max-ent die has the Gibbs form (2) with one multiplier, and its mean must be "
               "2.5.",
               "the mean of the Gibbs die grows with lambda; find the lambda whose mean is 2.5 "
               "with a 1-D root finder.",
               "solve gibbs(faces, [lam])[0] @ faces = 2.5 for lam (scipy.optimize.brentq on "
               "[-10, 10]) and return gibbs(faces, [lam])[0]."])
    mirror = solve_maxent(FACES[:, None], np.array([4.5])).p
    mistakes = [
        Mistake("this die has mean 4.5, not 2.5: the sign of lambda is flipped (a mean below 3.5 "
                "needs lambda < 0).", value=mirror),
        Mistake("that is the uniform die (lambda = 0), whose mean is 3.5; the constraint asks for "
                "2.5.", value=np.full(6, 1 / 6)),
    ]
    return _check_die(ex, p, FACES[:, None], np.array([2.5]), mistakes)


def exercise_2(p: object) -> Feedback:
    """Exercise 1.2: the max-ent die with mean 4.5 and second moment E[k^2] = 22."""
    ex = exercise(
        "Exercise 1.2", DIE_TASK,
        hints=["two constraints, two multipliers: which features does this die have?",
               "the features are k and k^2, so log p_k is a quadratic in k.",
               "solve_maxent(np.c_[faces, faces**2], [4.5, 22.0]).p"])
    mean_only = solve_maxent(FACES[:, None], np.array([4.5])).p
    mistakes = [
        Mistake("this die meets the mean 4.5 but not E[k^2] = 22: it is the lesson's "
                "one-constraint die. Add k^2 as a second feature.", value=mean_only),
    ]
    return _check_die(ex, p, np.c_[FACES, FACES**2], np.array([4.5, 22.0]), mistakes)


def exercise_3(gap: object) -> Feedback:
    """Exercise 1.3: the entropy gap H(p*) - H(q) for ``Q_EXERCISE_3`` and the mean-4.5 die."""
    best = solve_maxent(FACES, 4.5)
    h_q = entropy(Q_EXERCISE_3)
    expected = best.entropy - h_q
    ex = exercise(
        "Exercise 1.3", "give the gap in nats, one number.",
        hints=["the gap is the max-ent die's entropy minus q's.",
               "the max-ent die with mean 4.5 comes from solve_maxent; entropy() gives both "
               "entropies.",
               "solve_maxent(faces, 4.5).entropy - entropy(q), which (8) says equals "
               "KL(q || p*)."],
        success=f"the gap is {expected:.6f} nats, and KL(q || p*) = "
                f"{kl_divergence(Q_EXERCISE_3, best.p):.6f}: the same number, as (8) says.")
    mistakes = [
        Mistake("the sign is flipped: the max-ent die has the larger entropy, so the gap "
                "H(p*) - H(q) is positive.", value=-expected),
        Mistake("that is the gap in bits (log base 2); the course measures entropy in nats "
                "(natural log).", value=expected / np.log(2)),
        Mistake("that is H(p*) alone; subtract q's entropy.", value=best.entropy),
        Mistake("that is H(q) alone; the gap is H(p*) - H(q).", value=h_q),
        Mistake("KL(p* || q) is infinite because q gives faces 1 and 2 probability 0; the "
                "identity (8) has the other direction, KL(q || p*).",
                test=lambda g: bool(np.isinf(g).all())),
    ]
    return check(ex, gap, expected, mistakes=mistakes, rtol=1e-6, atol=1e-8)
