"""Answer checks for lesson 02 (softmax regression is the conditional max-ent model). Worked
answers: ``notebooks/solutions/02_solutions.ipynb``."""

from __future__ import annotations

import numpy as np

from ..softmax import SoftmaxRegression, conditional_entropy, moment_residuals
from . import Feedback, check_close, is_placeholder


def exercise_1(residuals: object, T: np.ndarray, y: np.ndarray, probs: np.ndarray) -> Feedback:
    """Exercise 2.1: the (K, m) moment residuals, computed by hand for (T, y, probs)."""
    expected = moment_residuals(T, y, probs)
    if not is_placeholder(residuals):
        got = np.asarray(residuals, dtype=float)
        if got.shape == expected.shape and np.allclose(got, -expected, rtol=1e-6, atol=1e-12):
            return Feedback("Exercise 2.1", False, "the sign is flipped: the residual is the "
                                                   "model's moment minus the empirical one.")
        if got.shape == expected.shape[::-1]:
            return Feedback("Exercise 2.1", False, f"expected shape {expected.shape} (classes, "
                                                   f"features), got {got.shape}: transpose it.")
        n = len(T)
        if got.shape == expected.shape and np.allclose(got, n * expected, rtol=1e-6):
            return Feedback("Exercise 2.1", False, "off by a factor n: average over the samples "
                                                   "instead of summing.")
    return check_close(
        "Exercise 2.1", residuals, expected, rtol=1e-6, atol=1e-12,
        hint="R[k, j] = (1/n) sum_i (probs[i, k] - 1[y_i = k]) T[i, j]: one-hot encode y, "
             "subtract it from probs, and multiply by T.",
        success="these are the moment residuals; at the unpenalised optimum they vanish.")


def exercise_2(entropy_value: object, model: SoftmaxRegression, T: np.ndarray,
               y: np.ndarray) -> Feedback:
    """Exercise 2.2: the training conditional entropy from the log-loss and the weights alone."""
    expected = conditional_entropy(model.predict_proba(T))
    if not is_placeholder(entropy_value):
        try:
            got = np.asarray(entropy_value, dtype=float)
        except (TypeError, ValueError):
            got = np.asarray(np.nan)
        ce = model.log_loss(T, y)
        if got.shape == () and np.isclose(got, ce + 0.5 * model.alpha * np.sum(model.coef_**2),
                                          rtol=1e-8):
            return Feedback("Exercise 2.2", False, "that is the penalised objective: the identity "
                                                   "has alpha ||W||^2, without the factor 1/2.")
        if got.shape == () and np.isclose(got, ce, rtol=1e-8):
            return Feedback("Exercise 2.2", False, "that is the cross-entropy alone; with a "
                                                   "penalty the entropy is larger (identity 8b).")
    return check_close(
        "Exercise 2.2", entropy_value, expected, rtol=1e-8, atol=1e-10,
        hint="use identity (8b): H(Y|X) on the training set = training cross-entropy + "
             "alpha ||W||_F^2 (model.log_loss, model.alpha and model.coef_); one number.",
        success=f"H(Y|X) = {expected:.6f} nats, from the log-loss and the weights alone.")


def exercise_3(w: object, c: object, W: np.ndarray, b: np.ndarray) -> Feedback:
    """Exercise 2.3: with K = 2, P(y=1|t) = sigmoid(w . t + c); give w (m,) and c."""
    want_w, want_c = W[1] - W[0], float(b[1] - b[0])
    if is_placeholder(w) or is_placeholder(c):
        return Feedback("Exercise 2.3", None, "replace both placeholders (w and c). Divide "
                                              "numerator and denominator of softmax by exp(s_1).")
    try:
        got_w, got_c = np.asarray(w, dtype=float), np.asarray(c, dtype=float)
    except (TypeError, ValueError):
        return Feedback("Exercise 2.3", False, "w must be a numeric array of shape "
                                              f"{want_w.shape} and c one number.")
    if (got_w.shape == want_w.shape and got_c.shape == () and np.allclose(got_w, -want_w)
            and np.isclose(got_c, -want_c)):
        return Feedback("Exercise 2.3", False, "those give P(y=0|t): swap the order of the "
                                               "difference (class 1 minus class 0).")
    fb_w = check_close("Exercise 2.3", w, want_w, rtol=1e-8, atol=1e-10,
                       hint="w is a difference of two rows of W.", success="")
    fb_c = check_close("Exercise 2.3", got_c, want_c, rtol=1e-8, atol=1e-10,
                       hint="c is a difference of the two intercepts (one number).", success="")
    if not fb_w.correct:
        return fb_w
    if not fb_c.correct:
        return fb_c
    return Feedback("Exercise 2.3", True, "w = W[1] - W[0] and c = b[1] - b[0]: a binary "
                                          "logistic unit is the two-class max-ent model (lesson "
                                          "04 uses this for sigmoid units).")
