"""Answer checks for lesson 02 (softmax regression is the conditional max-ent model). Worked
answers: ``notebooks/solutions/02_solutions.ipynb``."""

from __future__ import annotations

import numpy as np

from ..softmax import SoftmaxRegression, conditional_entropy, moment_residuals
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder


def exercise_1(residuals: object, T: np.ndarray, y: np.ndarray, probs: np.ndarray) -> Feedback:
    """Exercise 2.1: the (K, m) moment residuals, computed by hand for (T, y, probs)."""
    expected = moment_residuals(T, y, probs)
    K, m = expected.shape
    ex = exercise(
        "Exercise 2.1", f"give the moment residuals (6), an array of shape ({K}, {m}).",
        hints=["(6) is the model's class moments minus the empirical ones, averaged over the "
               "sample.",
               "the empirical class moment uses the labels as one-hot vectors: np.eye(K)[y].",
               "R = (probs - np.eye(K)[y]).T @ T / n."],
        success="these are the moment residuals; at the unpenalised optimum they vanish.")
    n = len(T)
    onehot = np.eye(K)[np.asarray(y)]
    probs = np.asarray(probs, dtype=float)
    T = np.asarray(T, dtype=float)
    mistakes = [
        Mistake("the sign is flipped: the residual is the model's moment minus the empirical "
                "one.", value=-expected),
        Mistake("off by a factor n: average over the samples instead of summing.",
                value=n * expected),
        Mistake("off by a factor -n: average over the samples instead of summing, and take the "
                "model's moment minus the empirical one.", value=-n * expected),
        Mistake("that is the model's moment alone; subtract the empirical moment (from the "
                "labels).", value=probs.T @ T / n),
        Mistake("that is the empirical moment alone; the residual is the model's moment minus "
                "it.", value=onehot.T @ T / n),
        Mistake("that is minus the empirical moment alone; add the model's moment (from probs).",
                value=-onehot.T @ T / n),
    ]
    return check(ex, residuals, expected, mistakes=mistakes, rtol=1e-6, atol=1e-12,
                 transpose_message=f"that is the transpose: R has shape ({K}, {m}), one row "
                                   "per class and one column per feature.")


def exercise_2(entropy_value: object, model: SoftmaxRegression, T: np.ndarray,
               y: np.ndarray) -> Feedback:
    """Exercise 2.2: the training conditional entropy from the log-loss and the weights alone."""
    expected = conditional_entropy(model.predict_proba(T))
    ex = exercise(
        "Exercise 2.2", "give the training conditional entropy H(Y|X) in nats, one number.",
        hints=["identity (8b) ties H(Y|X) at the penalised optimum to the training "
               "cross-entropy and the weights.",
               "(8b): H(Y|X) = training cross-entropy + alpha ||W||_F^2; model.log_loss gives "
               "the first term.",
               "model.log_loss(T, y) + model.alpha * np.sum(model.coef_**2)"],
        success=f"H(Y|X) = {expected:.6f} nats, from the log-loss and the weights alone.")
    ce = model.log_loss(T, y)
    w2 = float(np.sum(model.coef_**2))
    b2 = float(np.sum(model.intercept_**2))
    mistakes = [
        Mistake("that is the penalised objective: the identity has alpha ||W||^2, without the "
                "factor 1/2.", value=ce + 0.5 * model.alpha * w2, rtol=1e-8),
        Mistake("that is the cross-entropy alone; with a penalty the entropy is larger "
                "(identity 8b).", value=ce, rtol=1e-8),
        Mistake("the penalty term has the wrong sign: relaxing the constraints raises the "
                "entropy, H = CE + alpha ||W||^2.", value=ce - model.alpha * w2, rtol=1e-8),
        Mistake("the biases are not penalised: leave model.intercept_ out of the norm.",
                value=ce + model.alpha * (w2 + b2), rtol=1e-8),
        Mistake("that is in bits; the course works in nats (natural log).",
                value=expected / np.log(2), rtol=1e-8),
    ]
    return check(ex, entropy_value, expected, mistakes=mistakes, rtol=1e-8, atol=1e-10)


def exercise_3(w: object, c: object, W: np.ndarray, b: np.ndarray) -> Feedback:
    """Exercise 2.3: with K = 2, P(y=1|t) = sigmoid(w . t + c); give w (m,) and c."""
    want_w, want_c = W[1] - W[0], float(b[1] - b[0])
    m = len(want_w)
    ex = exercise(
        "Exercise 2.3", f"give w (an array of shape ({m},)) and c (one number).",
        hints=["write softmax(s)_1 for two scores s_0, s_1 and divide numerator and denominator "
               "by exp(s_1).",
               "P(y=1|t) = sigmoid(s_1 - s_0): w and c come from differences of the two classes' "
               "parameters.",
               "w = W[1] - W[0] and c = b[1] - b[0]."],
        success="w = W[1] - W[0] and c = b[1] - b[0]: a binary logistic unit is the two-class "
                "max-ent model (lesson 04 uses this for sigmoid units).")
    try:
        if is_placeholder(w) or is_placeholder(c):
            return ex.not_answered()
        got_w, got_c = as_numbers(w), as_numbers(c)
        for got, what in ((got_w, "w"), (got_c, "c")):
            if isinstance(got, str):
                return Feedback(ex.name, False, f"{what}: {got}. w must be a numeric array of "
                                                f"shape ({m},) and c one number.")
        if got_w.shape != want_w.shape:
            return Feedback(ex.name, False, f"w must have shape ({m},), got {got_w.shape}.")
        if got_c.size != 1:
            return Feedback(ex.name, False, f"c must be one number, got shape {got_c.shape}.")
        got_c = got_c.reshape(())
        if not (np.all(np.isfinite(got_w)) and np.isfinite(got_c)):
            return Feedback(ex.name, False, "w or c contains NaN or inf.")
        both = np.append(got_w, got_c)
        w_ok = np.allclose(got_w, want_w, rtol=1e-8, atol=1e-10)
        c_ok = np.isclose(got_c, want_c, rtol=1e-8, atol=1e-10)
        if w_ok and c_ok:
            return ex.right()
        if np.allclose(got_w, -want_w) and np.isclose(got_c, -want_c):
            return ex.wrong("those give P(y=0|t): swap the order of the difference (class 1 "
                            "minus class 0).", both)
        if w_ok:
            if np.isclose(got_c, b[1]) or np.isclose(got_c, b[0]):
                return ex.wrong("w is right; c is a difference of the two intercepts too.", both)
            return ex.hint(both, "w is right; c is not.")
        if np.allclose(got_w, W[1]) or np.allclose(got_w, W[0]):
            return ex.wrong("w is not a row of W: it is a difference of two rows of W.", both)
        return ex.hint(both)
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")

