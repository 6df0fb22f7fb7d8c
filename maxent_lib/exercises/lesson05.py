"""Answer checks for lesson 05 (shortcuts, stacked training). Worked answers:
``notebooks/solutions/05_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..ablation import t_interval
from . import Feedback, check_close, is_placeholder

__all__ = ["check_t_interval", "check_residual_inverse", "check_stacked_param_count",
           "residual_map"]


def check_t_interval(values: object, answer: object) -> Feedback:
    """Exercise 1: (mean, lo, hi), the mean of ``values`` and its two-sided 95% Student-t
    interval mean -+ t_{0.975, n-1} * sd / sqrt(n) (sd with ddof=1)."""
    v = np.asarray(values, dtype=float)
    expected = np.array(t_interval(v))
    name = "Lesson 05, exercise 1"
    if not is_placeholder(answer):
        try:
            got = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            got = None
        if got is not None and got.shape == (3,) and np.all(np.isfinite(got)):
            n, m = len(v), v.mean()
            z_half = 1.96 * v.std(ddof=1) / np.sqrt(n)
            ddof0 = stats.t.ppf(0.975, n - 1) * v.std(ddof=0) / np.sqrt(n)
            if np.allclose(got, [m, m - z_half, m + z_half], rtol=1e-4):
                return Feedback(name, False, "that is the normal (z = 1.96) interval; with only "
                                f"{n} seeds use the Student-t quantile stats.t.ppf(0.975, n - 1), "
                                "which is wider.")
            if np.allclose(got, [m, m - ddof0, m + ddof0], rtol=1e-4):
                return Feedback(name, False, "use the sample standard deviation with ddof=1 "
                                "(np.std(values, ddof=1)); ddof=0 underestimates the spread.")
    return check_close(
        name, answer, expected, rtol=1e-6, atol=1e-9,
        hint="mean = values.mean(); half-width = stats.t.ppf(0.975, n - 1) * "
             "values.std(ddof=1) / sqrt(n); answer (mean, mean - half, mean + half).",
        success="this is the interval every table of lessons 05-07 reports over seeds.")


def residual_map(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The residual layer f(x) = x + 0.5 * tanh(W x) used in exercise 2."""
    return x + 0.5 * np.tanh(W @ x)


def check_residual_inverse(W: object, z: object, answer: object) -> Feedback:
    """Exercise 2: the x with f(x) = x + 0.5 tanh(W x) = z (unique when ||W||_2 <= 1, since the
    residual branch is then a contraction)."""
    W, z = np.asarray(W, dtype=float), np.asarray(z, dtype=float)
    name = "Lesson 05, exercise 2"
    if is_placeholder(answer):
        return Feedback(name, None, "replace the placeholder with your x. Hint: iterate "
                        "x <- z - 0.5 * tanh(W @ x) from x = z.")
    try:
        x = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return Feedback(name, False, "the answer must be a numeric vector")
    if x.shape != z.shape or not np.all(np.isfinite(x)):
        return Feedback(name, False, f"expected a finite vector of shape {z.shape}")
    err = float(np.max(np.abs(residual_map(W, x) - z)))
    if err < 1e-6:
        return Feedback(name, True, f"f(x) = z to {err:.1e}: the residual layer lost no "
                        "information, since its input can be recovered from its output.")
    return Feedback(name, False, f"f(x) misses z by {err:.2e}. The branch g(x) = 0.5 tanh(Wx) "
                    "has Lipschitz constant <= 0.5, so x <- z - g(x) converges: run it for "
                    "about 50 iterations.")


def check_stacked_param_count(in_dim: int, width: int, depth: int, n_classes: int, models: int,
                              answer: object) -> Feedback:
    """Exercise 3: the number of trainable numbers in a StackedNet("mlp", in_dim, n_classes,
    width, depth, seeds) with ``models`` seeds."""
    per_model = (in_dim * width + width + (depth - 1) * (width * width + width)
                 + width * n_classes + n_classes)
    name = "Lesson 05, exercise 3"
    if not is_placeholder(answer) and np.isfinite(answer) and float(answer) == per_model:
        return Feedback(name, False, "that is one model; the stack holds `models` of them.")
    return check_close(
        name, answer, models * per_model, rtol=0, atol=0.5,
        hint="count weights and biases of every layer: in_dim->width, (depth-1) times "
             "width->width, width->n_classes; then multiply by the number of models.",
        success="the whole grid is one set of tensors with a leading model dimension.")
