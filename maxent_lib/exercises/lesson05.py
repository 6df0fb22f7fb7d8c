"""Answer checks for lesson 05 (shortcuts, stacked training). Worked answers:
``notebooks/solutions/05_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..stats import t_interval
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder, scalar

__all__ = ["check_t_interval", "check_residual_inverse", "check_stacked_param_count",
           "residual_map"]


def check_t_interval(values: object, answer: object) -> Feedback:
    """Exercise 1: (mean, lo, hi), the mean of ``values`` and its two-sided 95% Student-t
    interval mean -+ t_{0.975, n-1} * sd / sqrt(n) (sd with ddof=1)."""
    v = np.asarray(values, dtype=float)
    expected = np.array(t_interval(v))
    n, m = len(v), float(v.mean())
    ex = exercise(
        "Lesson 05, exercise 1", "give (mean, lo, hi), an array of shape (3,).",
        hints=["the interval is the mean plus or minus a quantile times the standard error of "
               "the mean.",
               "with few seeds the quantile is Student-t's with n - 1 degrees of freedom, and "
               "the standard error is sd / sqrt(n) with the sample sd (ddof=1).",
               "half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n); answer "
               "(mean, mean - half, mean + half)."],
        success="this is the interval every table of lessons 05-07 reports over seeds.")

    def interval(half: float) -> list[float]:
        return [m, m - half, m + half]

    sd1, sd0 = v.std(ddof=1), v.std(ddof=0)
    t = stats.t.ppf(0.975, n - 1)
    mistakes = [
        Mistake(f"that is the normal (z = 1.96) interval; with only {n} seeds use the Student-t "
                "quantile stats.t.ppf(0.975, n - 1), which is wider.",
                value=interval(1.96 * sd1 / np.sqrt(n)), rtol=1e-4),
        Mistake("use the sample standard deviation with ddof=1 (np.std(values, ddof=1)); ddof=0 "
                "underestimates the spread.", value=interval(t * sd0 / np.sqrt(n)), rtol=1e-4),
        Mistake("the degrees of freedom are n - 1, not n.",
                value=interval(stats.t.ppf(0.975, n) * sd1 / np.sqrt(n)), rtol=1e-4),
        Mistake("that is a 90% interval (quantile 0.95); a two-sided 95% interval uses the "
                "0.975 quantile.", value=interval(stats.t.ppf(0.95, n - 1) * sd1 / np.sqrt(n)),
                rtol=1e-4),
        Mistake("that interval is for one seed's value; the mean's interval divides the sd by "
                "sqrt(n).", value=interval(t * sd1), rtol=1e-4),
        Mistake("the order is (mean, lo, hi).", value=[m - t * sd1 / np.sqrt(n),
                                                       m + t * sd1 / np.sqrt(n), m], rtol=1e-4),
    ]
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-6, atol=1e-9)


def residual_map(W: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The residual layer f(x) = x + 0.5 * tanh(W x) used in exercise 2."""
    return x + 0.5 * np.tanh(W @ x)


def check_residual_inverse(W: object, z: object, answer: object) -> Feedback:
    """Exercise 2: the x with f(x) = x + 0.5 tanh(W x) = z (unique when ||W||_2 <= 1, since the
    residual branch is then a contraction)."""
    W, z = np.asarray(W, dtype=float), np.asarray(z, dtype=float)
    ex = exercise(
        "Lesson 05, exercise 2", f"give x, an array of shape {z.shape}, with "
                                 "x + 0.5 tanh(W x) = z.",
        hints=["there is no closed form; but x = z - 0.5 tanh(W x) is a fixed-point equation.",
               "the branch 0.5 tanh(W x) has Lipschitz constant at most 0.5, so iterating "
               "x <- z - 0.5 tanh(W x) converges.",
               "start from x = z and iterate x = z - 0.5 * np.tanh(W @ x) about 50 times."])
    try:
        if is_placeholder(answer):
            return ex.not_answered()
        x = as_numbers(answer)
        if isinstance(x, str):
            return Feedback(ex.name, False, f"{x}. {ex.task}")
        if x.shape != z.shape:
            return Feedback(ex.name, False, f"expected an array of shape {z.shape}, got "
                                            f"{x.shape}.")
        if not np.all(np.isfinite(x)):
            return Feedback(ex.name, False, "x contains NaN or inf: part of it is still the "
                                            "placeholder, or the iteration diverged.")
        err = float(np.max(np.abs(residual_map(W, x) - z)))
        if err < 1e-6:
            return ex.right(f"f(x) = z to {err:.1e}: the residual layer lost no information, "
                            "since its input can be recovered from its output.")
        if np.allclose(x, z):
            return ex.wrong("that is z itself: it would be the answer if the branch were zero. "
                            f"f(z) misses z by {err:.2e}; iterate.", x)
        if np.max(np.abs(x - 0.5 * np.tanh(W @ x) - z)) < 1e-6:
            return ex.wrong("the sign of the branch is flipped: you solved x - 0.5 tanh(W x) = z; "
                            "the layer is f(x) = x + 0.5 tanh(W x).", x)
        if err < 1e-2:
            return ex.wrong(f"close: f(x) misses z by {err:.2e}. Run more iterations (the error "
                            "halves at least with each).", x)
        return ex.hint(x, f"f(x) misses z by {err:.2e}.")
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")


def check_stacked_param_count(in_dim: int, width: int, depth: int, n_classes: int, models: int,
                              answer: object) -> Feedback:
    """Exercise 3: the number of trainable numbers in a StackedNet("mlp", in_dim, n_classes,
    width, depth, seeds) with ``models`` seeds."""
    weights = in_dim * width + (depth - 1) * width * width + width * n_classes
    biases = width + (depth - 1) * width + n_classes
    per_model = weights + biases
    ex = exercise(
        "Lesson 05, exercise 3", "give the number of trainable numbers, one whole number.",
        hints=["count one model first, layer by layer, then the stack.",
               "one model: the input layer (in_dim -> width), depth - 1 hidden-to-hidden layers "
               "(width -> width) and the head (width -> n_classes), each with weights and "
               "biases.",
               "per model: in_dim*width + width + (depth-1)*(width*width + width) + "
               "width*n_classes + n_classes; then multiply by the number of models."],
        success="the whole grid is one set of tensors with a leading model dimension.")
    per_depth = in_dim * width + width + depth * (width * width + width) + width * n_classes \
        + n_classes
    mistakes = [
        Mistake("that is one model; the stack holds `models` of them.", value=per_model,
                atol=0.5),
        Mistake("the biases are missing (one per output unit of every layer).",
                value=models * weights, atol=0.5),
        Mistake("there are depth - 1 hidden-to-hidden layers, not depth: the first of the "
                "`depth` hidden layers takes the input.", value=models * per_depth, atol=0.5),
        Mistake("the head (width -> n_classes, with its biases) is missing.",
                value=models * (per_model - width * n_classes - n_classes), atol=0.5),
    ]
    value = scalar(answer)
    if value is not None and abs(value - round(value)) > 1e-9:
        return Feedback(ex.name, False, "a count of parameters is a whole number.")
    return check(ex, answer, float(models * per_model), mistakes=mistakes, rtol=0, atol=0.5)
