"""Answer checks for lesson 03 (the two feature conditions). Worked answers:
``notebooks/solutions/03_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from ..data import GaussianMixtureTask
from . import Feedback, check_close, is_placeholder

__all__ = ["check_fc1_gap", "check_log_odds_weights", "check_poisson_log_odds"]


def _shared_gaussian_parts(task: GaussianMixtureTask) -> tuple[np.ndarray, np.ndarray]:
    means = np.stack([comps[0][1] for comps in task.components])
    cov = task.components[0][0][2]
    return means, cov


def check_log_odds_weights(task: GaussianMixtureTask, answer: object) -> Feedback:
    """Exercise 1: for shared-covariance Gaussian classes, the matrix D of shape (K-1, d) whose
    row k-1 is the coefficient vector of x in log P(y=k|x) - log P(y=0|x), k = 1..K-1."""
    means, cov = _shared_gaussian_parts(task)
    expected = np.linalg.solve(cov, (means[1:] - means[0]).T).T
    return check_close(
        "Lesson 03, exercise 1", answer, expected, rtol=1e-6, atol=1e-8,
        hint="write log P(x | y=k) for a Gaussian, subtract class 0's: the x^T Sigma^-1 x terms "
             "cancel because Sigma is shared, leaving (mu_k - mu_0)^T Sigma^-1 x. Use "
             "np.linalg.solve(cov, ...) rather than an explicit inverse.",
        success="the log-odds are affine in x with weights Sigma^-1 (mu_k - mu_0): FC2 holds for "
                "T = x, which is why softmax regression is exactly right here.")


def _is_scalar(answer: object) -> bool:
    """True for a finite real number (or a size-1 array holding one), not a placeholder."""
    if is_placeholder(answer):
        return False
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return False
    return arr.size == 1 and bool(np.isfinite(arr).all())


def check_fc1_gap(task: GaussianMixtureTask, keep: list[int], X: np.ndarray, y: np.ndarray,
                  answer: object) -> Feedback:
    """Exercise 2: the exact FC1 gap H(Y|T) - H(Y|X) on the sample (X, y) for T = x[keep],
    as the difference of the two mean Bayes cross-entropies."""
    idx = np.arange(len(y))

    def ce(t: GaussianMixtureTask, Z: np.ndarray) -> float:
        lj = t.log_joint(Z)
        return float(-np.mean((lj - logsumexp(lj, axis=1, keepdims=True))[idx, y]))

    expected = ce(task.marginal(keep), X[:, keep]) - ce(task, X)
    if _is_scalar(answer) and abs(float(np.asarray(answer, float).ravel()[0]) + expected) < 1e-6:
        return Feedback("Lesson 03, exercise 2", False,
                        "the sign is flipped: the features lose information, so the Bayes CE on "
                        "T is the larger one and the gap CE(T) - CE(X) is positive.")
    return check_close(
        "Lesson 03, exercise 2", answer, expected, rtol=1e-6, atol=1e-9,
        hint="average -log P(y_i | x_i) with task.posterior, and -log P(y_i | t_i) with "
             "task.marginal(keep).posterior on X[:, keep]; the gap is the second minus the first.",
        success="no model on T can beat H(Y|T): this gap is lost for good, whatever sits on top.")


def check_poisson_log_odds(rate0: float, rate1: float, prior1: float, answer: object) -> Feedback:
    """Exercise 3: with t | y=k ~ Poisson(rate_k) and P(y=1) = prior1, the (slope, intercept) of
    log P(y=1|t) - log P(y=0|t) as a function of the count t."""
    slope = np.log(rate1 / rate0)
    intercept = -(rate1 - rate0) + np.log(prior1 / (1 - prior1))
    return check_close(
        "Lesson 03, exercise 3", answer, np.array([slope, intercept]), rtol=1e-6, atol=1e-9,
        hint="log Poisson(t; r) = t log r - r - log t!; the log t! terms cancel in the "
             "difference. Do not forget the prior log-odds in the intercept.",
        success="t is the Poisson's sufficient statistic, so the log-odds are affine in t: FC2 "
                "holds for any exponential family with t as its sufficient statistic.")
