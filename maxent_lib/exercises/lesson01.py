"""Answer checks for lesson 01 (the maximum-entropy principle). Worked answers:
``notebooks/solutions/01_solutions.ipynb``."""

from __future__ import annotations

import numpy as np

from ..info import entropy, kl_divergence
from ..maxent import solve_maxent
from . import Feedback, check_close, is_placeholder

FACES = np.arange(1, 7, dtype=float)
#: the feasible die of exercise 1.3: mean 4.5, but all its mass on faces 3-6
Q_EXERCISE_3 = np.array([0.0, 0.0, 0.25, 0.25, 0.25, 0.25])


def _as_die(exercise: str, answer: object) -> tuple[np.ndarray | None, Feedback | None]:
    if is_placeholder(answer):
        return None, Feedback(exercise, None, "replace the placeholder with a length-6 array of "
                                              "probabilities, one per face.")
    try:
        p = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return None, Feedback(exercise, False, "the answer must be a numeric array")
    if p.shape != (6,):
        return None, Feedback(exercise, False, f"expected 6 probabilities, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1) > 1e-6:
        return None, Feedback(exercise, False, "that is not a probability distribution: the "
                                               "entries must be >= 0 and sum to one")
    return p, None


def _check_die(exercise: str, answer: object, F: np.ndarray, target: np.ndarray,
               form: str) -> Feedback:
    p, early = _as_die(exercise, answer)
    if early is not None:
        return early
    assert p is not None
    best = solve_maxent(F, target)
    means = F.T @ p
    if np.max(np.abs(means - target)) > 1e-6:
        return Feedback(exercise, False, f"your distribution has expectations {np.round(means, 6)}"
                                         f" but the constraints ask for {target}. Adjust lambda "
                                         "until E_p[f] meets them (the dual's gradient is zero).")
    if np.max(np.abs(p - best.p)) > 1e-6:
        return Feedback(exercise, False, f"it meets the constraints, but its entropy "
                                         f"{entropy(p):.6f} is below the maximum: it is not of "
                                         f"Gibbs form ({form}).")
    return Feedback(exercise, True, f"this is the max-ent distribution; its entropy is "
                                    f"{best.entropy:.6f} nats with lambda = "
                                    f"{np.round(best.lambdas, 6)}.")


def exercise_1(p: object) -> Feedback:
    """Exercise 1.1: the max-ent die with mean 2.5 (six probabilities)."""
    return _check_die("Exercise 1.1", p, FACES[:, None], np.array([2.5]),
                      "log p_k must be affine in k, p_k = exp(lambda k) / Z")


def exercise_2(p: object) -> Feedback:
    """Exercise 1.2: the max-ent die with mean 4.5 and second moment E[k^2] = 22."""
    return _check_die("Exercise 1.2", p, np.c_[FACES, FACES**2], np.array([4.5, 22.0]),
                      "log p_k must be quadratic in k, p_k = exp(l1 k + l2 k^2) / Z")


def exercise_3(gap: object) -> Feedback:
    """Exercise 1.3: the entropy gap H(p*) - H(q) for ``Q_EXERCISE_3`` and the mean-4.5 die."""
    best = solve_maxent(FACES, 4.5)
    expected = best.entropy - entropy(Q_EXERCISE_3)
    return check_close(
        "Exercise 1.3", gap, expected,
        hint="compute H(p*) - H(q) with p* the max-ent die of mean 4.5 (solve_maxent) and q the "
             "given distribution; the Pythagorean identity (8) says it equals KL(q || p*). "
             "Mind the order: the gap is positive.",
        success=f"the gap is {expected:.6f} nats, and KL(q || p*) = "
                f"{kl_divergence(Q_EXERCISE_3, best.p):.6f}: the same number, as (8) says.")
