"""Answer checks for lesson 06 (regularisation). Worked answers:
``notebooks/solutions/06_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

from ..metrics import expected_calibration_error
from . import Feedback, Mistake, check, exercise

__all__ = ["check_label_smoothing_loss", "check_ece", "check_decay_factor"]


def check_label_smoothing_loss(logits: object, y: int, eps: float, answer: object) -> Feedback:
    """Exercise 1: the label-smoothed cross-entropy (1 - eps)(-log p_y) + eps * mean_k(-log p_k)
    of one example with ``logits`` (K,) and label ``y``."""
    ex = exercise(
        "Lesson 06, exercise 1", "give the label-smoothed cross-entropy in nats, one number.",
        hints=["the loss is a cross-entropy against a smoothed target distribution q instead of "
               "the one-hot label.",
               "q = (1 - eps) onehot(y) + eps / K over all K classes; the loss is "
               "-sum_k q_k log p_k with p = softmax(logits).",
               "log p = logits - logsumexp(logits); loss = -(q * log p).sum()."],
        success="equal to torch.nn.functional.cross_entropy(..., label_smoothing=eps).")
    try:
        lp = log_softmax(np.asarray(logits, dtype=float))
        k = len(lp)
        expected = (1 - eps) * -lp[y] + eps * -lp.mean()
        p = np.exp(lp)
        mistakes = [
            Mistake("you spread eps over the K-1 wrong classes only; the convention here (and "
                    "torch's) spreads it uniformly over all K classes.",
                    value=(1 - eps) * -lp[y] + eps / (k - 1) * -(lp.sum() - lp[y])),
            Mistake("that is the plain cross-entropy -log p_y: the smoothing (eps) is missing.",
                    value=-lp[y]),
            Mistake("a loss is positive: it is minus the sum of q_k log p_k.", value=-expected),
            Mistake("use the log of the softmax probabilities, not the probabilities themselves.",
                    value=(1 - eps) * -p[y] + eps * -p.mean()),
            Mistake("that is in bits; use natural logs (nats).", value=expected / np.log(2)),
            Mistake("the logits are not log-probabilities: take log_softmax (subtract "
                    "logsumexp) first.",
                    value=(1 - eps) * -np.asarray(logits, float)[y]
                    + eps * -np.asarray(logits, float).mean()),
        ]
    except Exception as exc:  # noqa: BLE001 - bad exercise data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-6, atol=1e-9)


def _ece_variant(probs: np.ndarray, y: np.ndarray, n_bins: int, *, weighted: bool = True,
                 true_class: bool = False, left_closed: bool = False) -> float:
    conf = probs[np.arange(len(y)), y] if true_class else probs.max(1)
    right = probs.argmax(1) == y
    if left_closed:
        bins = np.clip(np.floor(conf * n_bins).astype(int), 0, n_bins - 1)
    else:
        bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    gaps, weights = [], []
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            gaps.append(abs(right[inside].mean() - conf[inside].mean()))
            weights.append(inside.mean())
    if not gaps:
        return float("nan")
    return float(np.dot(weights, gaps)) if weighted else float(np.mean(gaps))


def check_ece(probs: object, y: object, n_bins: int, answer: object) -> Feedback:
    """Exercise 2: the expected calibration error of ``probs`` (n, K) against ``y`` with
    ``n_bins`` equal-width confidence bins."""
    ex = exercise(
        "Lesson 06, exercise 2", "give the ECE, one number between 0 and 1.",
        hints=["ECE compares, bin by bin, how often the predictions are right with how confident "
               "they are.",
               "confidence c_i = max_k p_ik; bin b holds c in ((b-1)/B, b/B]; in each bin take "
               "|accuracy - mean confidence|.",
               "ECE = sum over bins of (count in bin / n) * |accuracy in bin - mean confidence "
               "in bin|."],
        success="0 would mean every confidence level is exactly as often right as it claims.")
    try:
        P = np.asarray(probs, dtype=float)
        labels = np.asarray(y).astype(int)
        expected = expected_calibration_error(P, labels, n_bins)
        mistakes = [
            Mistake("that is the plain mean over the bins; weight each bin by its share of the "
                    "predictions (count / n).",
                    value=_ece_variant(P, labels, n_bins, weighted=False)),
            Mistake("the confidence is the probability of the *predicted* class, max_k p_ik, not "
                    "that of the true class.",
                    value=_ece_variant(P, labels, n_bins, true_class=True)),
            Mistake("the bins are closed on the right, ((b-1)/B, b/B]: a confidence of exactly "
                    "0.6 belongs to the bin that ends at 0.6.",
                    value=_ece_variant(P, labels, n_bins, left_closed=True)),
            Mistake("that is a percentage; give the ECE as a fraction between 0 and 1.",
                    value=100 * expected),
        ]
    except Exception as exc:  # noqa: BLE001 - bad exercise data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    return check(ex, answer, expected, mistakes=[m for m in mistakes
                                                 if not np.isclose(m.value, expected)],
                 rtol=1e-6, atol=1e-9)


def check_decay_factor(lr: float, wd: float, steps: int, answer: object) -> Feedback:
    """Exercise 3: the factor by which decoupled weight decay (AdamW) shrinks a weight whose
    gradient is zero, after ``steps`` steps with learning rate ``lr`` and rate ``wd``."""
    expected = (1 - lr * wd) ** steps
    ex = exercise(
        "Lesson 06, exercise 3", "give the shrink factor after all the steps, one number.",
        hints=["with zero gradient, what does Adam's own update do? What does the decoupled "
               "decay do?",
               "Adam's update is zero; AdamW multiplies the weight by the same factor before "
               "every step.",
               "the factor per step is (1 - lr * wd); after `steps` steps it is that to the "
               "power `steps`."],
        success="decoupled decay shrinks at a fixed rate per step, whatever the gradient scale.")
    mistakes = [
        Mistake("exp(-lr wd steps) is the continuous-time limit; each discrete step multiplies "
                "by (1 - lr wd) exactly.", value=np.exp(-lr * wd * steps), rtol=1e-12, atol=0),
        Mistake("that is one step; the weight is shrunk like this at every one of the "
                f"{steps} steps.", value=1 - lr * wd, rtol=1e-12, atol=0),
        Mistake("the decay is scaled by the learning rate: the factor per step is 1 - lr * wd.",
                value=(1 - wd) ** steps if wd < 1 else np.nan, rtol=1e-9, atol=0),
        Mistake("the decay compounds: each step multiplies by (1 - lr wd), it does not subtract "
                "a fixed amount.", value=1 - lr * wd * steps, rtol=1e-9, atol=0),
        Mistake("AdamW decays the weight even when its gradient is zero (the decay is decoupled "
                "from the gradient).", value=1.0, rtol=0, atol=1e-12),
    ]
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-9, atol=0)
