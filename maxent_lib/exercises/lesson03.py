"""Answer checks for lesson 03 (the two feature conditions). Worked answers:
``notebooks/solutions/03_solutions.ipynb``."""

from __future__ import annotations

import numpy as np

from ..data import GaussianMixtureTask
from . import Feedback, Mistake, check, exercise, is_placeholder

__all__ = ["check_fc1_gap", "check_log_odds_weights", "check_poisson_log_odds",
           "fc1_gap_estimates"]

#: Exercise 2 accepts an answer within this many standard errors of a correct estimate.
FC1_GAP_SE = 3.0
#: The exact FC1 gap of exercise 2 by quadrature, with its error estimate (computed once per
#: task and kept).
_EXACT: dict[tuple[str, tuple[int, ...]], tuple[float, float]] = {}


def _shared_gaussian_parts(task: GaussianMixtureTask) -> tuple[np.ndarray, np.ndarray]:
    means = np.stack([np.asarray(comps[0][1], dtype=float) for comps in task.components])
    cov = np.asarray(task.components[0][0][2], dtype=float)
    return means, cov


def check_log_odds_weights(task: GaussianMixtureTask, answer: object) -> Feedback:
    """Exercise 1: for shared-covariance Gaussian classes, the matrix D of shape (K-1, d) whose
    row k-1 is the coefficient vector of x in log P(y=k|x) - log P(y=0|x), k = 1..K-1."""
    means, cov = _shared_gaussian_parts(task)
    diff = means[1:] - means[0]
    expected = np.linalg.solve(cov, diff.T).T
    K, d = means.shape
    ex = exercise(
        "Lesson 03, exercise 1",
        f"give D, an array of shape ({K - 1}, {d}): row k-1 holds the coefficients of x in "
        "log P(y=k|x) - log P(y=0|x).",
        hints=["write log P(x | y=k) for a Gaussian and subtract class 0's: which terms cancel "
               "because the covariance is shared?",
               "what is left is linear in x: (mu_k - mu_0)^T Sigma^-1 x plus a constant.",
               "D = np.linalg.solve(cov, (means[1:] - means[0]).T).T, with means stacked from "
               "task.components."],
        success="the log-odds are affine in x with weights Sigma^-1 (mu_k - mu_0): FC2 holds for "
                "T = x, which is why softmax regression is exactly right here.")
    mistakes = [
        Mistake("that is mu_k - mu_0 without Sigma^-1: the weights are Sigma^-1 (mu_k - mu_0) "
                "(use np.linalg.solve(cov, ...)).", value=diff),
        Mistake("the sign is flipped: the log-odds of class k against class 0 have weights "
                "Sigma^-1 (mu_k - mu_0), not (mu_0 - mu_k).", value=-expected),
        Mistake("that multiplies by Sigma; the weights need its inverse, Sigma^-1 (mu_k - mu_0) "
                "(np.linalg.solve(cov, ...)).", value=diff @ cov),
        Mistake("there is no factor 1/2: the cross term of -(x - mu)^T Sigma^-1 (x - mu) / 2 is "
                "x^T Sigma^-1 mu.", value=0.5 * expected),
        Mistake("np.linalg.solve(cov, B) solves for the columns of B: pass the differences as "
                "columns (transpose them) and transpose the result back.",
                value=np.linalg.solve(cov, diff) if diff.shape[0] == d else np.full(1, np.nan)),
    ]
    if not is_placeholder(answer) and np.shape(_answer_or_none(answer)) == (K, d):
        return ex.wrong(f"one row per class k = 1..{K - 1}, each against class 0: drop class "
                        f"0's own row, D has shape ({K - 1}, {d}).")
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-6, atol=1e-8,
                 transpose_message=f"rows and columns are swapped: D has one row per class "
                                   f"k = 1..{K - 1} and one column per coordinate of x.")


def _answer_or_none(answer: object) -> object:
    try:
        return np.asarray(answer, dtype=float)
    except Exception:  # noqa: BLE001 - only used for its shape
        return 0.0


def fc1_gap_estimates(task: GaussianMixtureTask, keep: list[int], X: np.ndarray,
                      y: np.ndarray) -> dict[str, tuple[float, float]]:
    """Correct answers to exercise 2 with their standard errors, {name: (value, se)}: three
    estimates on the sample, the mean-log-loss (label) form, the label-free KL form
    mean_i KL(P(.|x_i) || P(.|t_i)) and the entropy form mean_i H(P(.|t_i)) - mean_i H(P(.|x_i))
    (each with its standard error over the sample's points), and ``"exact"``: the population gap
    by quadrature (:func:`maxent_lib.conditions.exact_condition_gaps`, no labels sampled), with
    its quadrature error estimate in place of a standard error. Introduced in lesson 03."""
    def parts(Z: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
        px = np.clip(task.posterior(Z), 1e-300, 1)
        pt = np.clip(task.marginal(keep).posterior(Z[:, keep]), 1e-300, 1)
        idx = np.arange(len(labels))
        return {
            "label form": np.log(px[idx, labels]) - np.log(pt[idx, labels]),
            "KL form": np.sum(px * (np.log(px) - np.log(pt)), axis=1),
            "entropy form": np.sum(px * np.log(px), axis=1) - np.sum(pt * np.log(pt), axis=1),
        }

    X = np.asarray(X, dtype=float)
    y = np.asarray(y).astype(int)
    out = {name: (float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))))
           for name, v in parts(X, y).items()}
    key = (repr(task.components), tuple(keep))
    if key not in _EXACT:
        from ..conditions import exact_condition_gaps

        ex = exact_condition_gaps(task, keep=list(keep))
        _EXACT[key] = (float(ex["fc1_gap"]), float(ex["accuracy"]))
    out["exact"] = _EXACT[key]
    return out


def check_fc1_gap(task: GaussianMixtureTask, keep: list[int], X: np.ndarray, y: np.ndarray,
                  answer: object) -> Feedback:
    """Exercise 2: the FC1 gap H(Y|T) - H(Y|X) for T = x[keep], estimated on the sample (X, y)
    from the exact posteriors. Any correct method is accepted: the difference of the two mean
    Bayes cross-entropies, the label-free mean KL divergence or entropy difference (all sampled),
    or the exact gap by quadrature, each within :data:`FC1_GAP_SE` standard errors of the sample
    estimate (they differ by sampling error)."""
    ex = exercise(
        "Lesson 03, exercise 2", "give the FC1 gap H(Y|T) - H(Y|X) in nats, one number.",
        hints=["both terms are conditional entropies, which you can estimate on the sample from "
               "the exact posteriors.",
               "H(Y|X) is the mean of -log P(y_i | x_i) with task.posterior; H(Y|T) the same with "
               "task.marginal(keep).posterior on X[:, keep].",
               "the gap is the second mean minus the first (or, without labels, the mean of "
               "KL(P(.|x_i) || P(.|t_i)))."])
    try:
        est = fc1_gap_estimates(task, keep, X, y)
    except Exception as exc:  # noqa: BLE001 - bad task data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    label, se = est["label form"]
    tol = FC1_GAP_SE * max(s for _, s in est.values())
    ex.success = (f"on this sample the gap is {label:.4f} nats by the label form and "
                  f"{est['KL form'][0]:.4f} by the label-free KL form (both sampled); the exact "
                  f"gap, by quadrature, is {est['exact'][0]:.4f} nats. They differ by sampling "
                  f"error, about {se:.4f}. No model on T can beat H(Y|T): this gap is lost for "
                  "good, whatever sits on top.")
    X = np.asarray(X, dtype=float)
    idx = np.arange(len(y))
    pt = task.marginal(keep).posterior(X[:, keep])
    px = task.posterior(X)
    h_t = float(-np.mean(np.log(np.clip(pt[idx, np.asarray(y).astype(int)], 1e-300, 1))))
    h_x = float(-np.mean(np.log(np.clip(px[idx, np.asarray(y).astype(int)], 1e-300, 1))))
    near = [v for v, _ in est.values()]
    mistakes = [
        Mistake("the sign is flipped: the features lose information, so H(Y|T) is the larger "
                "one and the gap H(Y|T) - H(Y|X) is positive.",
                test=lambda g: any(abs(float(g) + v) <= tol for v in near)),
        Mistake("that is in bits; the course measures in nats (natural log).",
                test=lambda g: any(abs(float(g) * np.log(2) - v) <= tol * np.log(2)
                                   for v in near)),
        Mistake("that is H(Y|T) alone; subtract H(Y|X).",
                test=lambda g: abs(float(g) - h_t) <= tol),
        Mistake("that is H(Y|X) alone; the gap is H(Y|T) - H(Y|X).",
                test=lambda g: abs(float(g) - h_x) <= tol),
        Mistake("that is a sum over the sample; the conditional entropies are means.",
                test=lambda g: any(abs(float(g) / len(idx) - v) <= tol for v in near)),
    ]
    return check(ex, answer, label, mistakes=mistakes,
                 accept=lambda g: any(abs(float(g) - v) <= tol for v in near))


def check_poisson_log_odds(rate0: float, rate1: float, prior1: float, answer: object) -> Feedback:
    """Exercise 3: with t | y=k ~ Poisson(rate_k) and P(y=1) = prior1, the (slope, intercept) of
    log P(y=1|t) - log P(y=0|t) as a function of the count t."""
    slope = float(np.log(rate1 / rate0))
    logit = float(np.log(prior1 / (1 - prior1)))
    intercept = -(rate1 - rate0) + logit
    ex = exercise(
        "Lesson 03, exercise 3", "give (slope, intercept), an array of shape (2,).",
        hints=["write log P(t | y=k) for a Poisson count and subtract class 0's; Bayes' rule adds "
               "the prior.",
               "log Poisson(t; r) = t log r - r - log t!; the log t! terms cancel in the "
               "difference.",
               "slope = log(r1 / r0); intercept = -(r1 - r0) + log(P(y=1) / P(y=0))."],
        success="t is the Poisson's sufficient statistic, so the log-odds are affine in t: FC2 "
                "holds for any exponential family with t as its sufficient statistic.")
    mistakes = [
        Mistake("the slope is right but the intercept misses the prior log-odds "
                "log(P(y=1) / P(y=0)).", value=[slope, -(rate1 - rate0)]),
        Mistake("the prior log-odds are upside down: class 1 against class 0 adds "
                "log(P(y=1) / P(y=0)).", value=[slope, -(rate1 - rate0) - logit]),
        Mistake("the intercept misses the Poisson's -r term: -(r1 - r0).", value=[slope, logit]),
        Mistake("the sign of the -r term is flipped: the difference of -r1 and -r0 is "
                "-(r1 - r0).", value=[slope, (rate1 - rate0) + logit]),
        Mistake("that is class 0 against class 1: the sign of both numbers is flipped.",
                value=[-slope, -intercept]),
        Mistake("the order is (slope, intercept).", value=[intercept, slope]),
        Mistake("the slope is log(r1 / r0), the coefficient of t in t log r1 - t log r0.",
                value=[rate1 / rate0, intercept]),
        Mistake("these are in bits; use natural logs.",
                value=[slope / np.log(2), intercept / np.log(2)]),
    ]
    return check(ex, answer, np.array([slope, intercept]), mistakes=mistakes, rtol=1e-6,
                 atol=1e-9)
