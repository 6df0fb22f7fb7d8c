"""Answer checks for lesson 06 (regularisation). Worked answers:
``notebooks/solutions/06_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

from ..metrics import expected_calibration_error
from . import Feedback, check_close, is_placeholder

__all__ = ["check_label_smoothing_loss", "check_ece", "check_decay_factor"]


def check_label_smoothing_loss(logits: object, y: int, eps: float, answer: object) -> Feedback:
    """Exercise 1: the label-smoothed cross-entropy (1 - eps)(-log p_y) + eps * mean_k(-log p_k)
    of one example with ``logits`` (K,) and label ``y``."""
    lp = log_softmax(np.asarray(logits, dtype=float))
    k = len(lp)
    expected = (1 - eps) * -lp[y] + eps * -lp.mean()
    name = "Lesson 06, exercise 1"
    other = (1 - eps) * -lp[y] + eps / (k - 1) * -(lp.sum() - lp[y])
    if not is_placeholder(answer) and np.isfinite(answer) and abs(float(answer) - other) < 1e-9:
        return Feedback(name, False, "you spread eps over the K-1 wrong classes only; the "
                        "convention here (and torch's) spreads it uniformly over all K classes.")
    return check_close(
        name, answer, expected, rtol=1e-6, atol=1e-9,
        hint="the smoothed target is q = (1 - eps) onehot(y) + eps / K; the loss is "
             "-sum_k q_k log p_k with log p = log_softmax(logits).",
        success="equal to torch.nn.functional.cross_entropy(..., label_smoothing=eps).")


def check_ece(probs: object, y: object, n_bins: int, answer: object) -> Feedback:
    """Exercise 2: the expected calibration error of ``probs`` (n, K) against ``y`` with
    ``n_bins`` equal-width confidence bins."""
    expected = expected_calibration_error(probs, y, n_bins)
    return check_close(
        "Lesson 06, exercise 2", answer, expected, rtol=1e-6, atol=1e-9,
        hint="confidence c_i = max_k p_ik; bin b holds c in ((b-1)/B, b/B]; sum over bins of "
             "(count/n) * |accuracy in bin - mean confidence in bin|.",
        success="0 would mean every confidence level is exactly as often right as it claims.")


def check_decay_factor(lr: float, wd: float, steps: int, answer: object) -> Feedback:
    """Exercise 3: the factor by which decoupled weight decay (AdamW) shrinks a weight whose
    gradient is zero, after ``steps`` steps with learning rate ``lr`` and rate ``wd``."""
    expected = (1 - lr * wd) ** steps
    name = "Lesson 06, exercise 3"
    if not is_placeholder(answer) and np.isfinite(answer):
        if abs(float(answer) - np.exp(-lr * wd * steps)) < 1e-12:
            return Feedback(name, False, "exp(-lr wd steps) is the continuous-time limit; each "
                            "discrete step multiplies by (1 - lr wd) exactly.")
    return check_close(
        name, answer, expected, rtol=1e-9, atol=0,
        hint="with zero gradient Adam's update is zero, and AdamW multiplies the weight by "
             "(1 - lr * wd) before every step.",
        success="decoupled decay shrinks at a fixed rate per step, whatever the gradient scale.")
