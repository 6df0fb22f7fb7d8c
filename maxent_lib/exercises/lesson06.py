"""Answer checks for lesson 06 (regularisation). Worked answers:
``notebooks/solutions/06_solutions.ipynb``.

Exercises on the idea: weight decay's L2 penalty relaxes the moment constraints to R = -alpha W
(:func:`check_relaxed_moments`), label smoothing's entropy floor H(q), true by construction
(:func:`check_smoothing_entropy`), and a cross-entropy compared only after temperature scaling
fitted on the validation split (:func:`check_calibrated_loss`). Computations: the label-smoothed
loss, the ECE by hand, decoupled weight decay's shrink factor."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import log_softmax, logsumexp, softmax

from ..metrics import expected_calibration_error
from ..softmax import SoftmaxRegression
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder

__all__ = ["check_calibrated_loss", "check_decay_factor", "check_ece",
           "check_label_smoothing_loss", "check_relaxed_moments", "check_smoothing_entropy"]

#: Exercise 1 accepts a residual within this fraction of max |alpha W| of -alpha W (another
#: solver, stopped at another tolerance, gives a slightly different optimum).
RELAXED_TOL = 1e-3
#: Exercise 3 accepts the test cross-entropy at any temperature whose validation cross-entropy
#: is within this many nats of the minimum (any 1-D minimiser gets there); a temperature chosen
#: on the test set lies outside it (unless both splits agree to that precision).
CALIBRATED_SLACK = 1e-6


def check_label_smoothing_loss(logits: object, y: int, eps: float, answer: object) -> Feedback:
    """Exercise 4: the label-smoothed cross-entropy (1 - eps)(-log p_y) + eps * mean_k(-log p_k)
    of one example with ``logits`` (K,) and label ``y``."""
    ex = exercise(
        "Lesson 06, exercise 4", "give the label-smoothed cross-entropy in nats, one number.",
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
    """Exercise 5: the expected calibration error of ``probs`` (n, K) against ``y`` with
    ``n_bins`` equal-width confidence bins."""
    ex = exercise(
        "Lesson 06, exercise 5", "give the ECE, one number between 0 and 1.",
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
    """Exercise 6: the factor by which decoupled weight decay (AdamW) shrinks a weight whose
    gradient is zero, after ``steps`` steps with learning rate ``lr`` and rate ``wd``."""
    expected = (1 - lr * wd) ** steps
    ex = exercise(
        "Lesson 06, exercise 6", "give the shrink factor after all the steps, one number.",
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
                value=(1 - wd) ** steps if wd <= 1 else np.nan, rtol=1e-9, atol=0),
        Mistake("the decay compounds: each step multiplies by (1 - lr wd), it does not subtract "
                "a fixed amount.", value=1 - lr * wd * steps, rtol=1e-9, atol=0),
        Mistake("AdamW decays the weight even when its gradient is zero (the decay is decoupled "
                "from the gradient).", value=1.0, rtol=0, atol=1e-12),
    ]
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-9, atol=0)


def check_relaxed_moments(T: object, y: object, alpha: float, answer: object) -> Feedback:
    """Exercise 1 (on the idea): the moment residual R = model class moments - empirical class
    moments, R[k, j] = (1/n) sum_i (P(k | x_i) - 1[y_i = k]) t_j(x_i), of softmax regression
    fitted on (``T``, ``y``) with the L2 penalty (alpha/2) ||W||^2. At the optimum R = -alpha W
    (lesson 02): the penalty relaxes the max-ent constraints. Any solver is accepted."""
    ex = exercise(
        "Lesson 06, exercise 1",
        "give R, the model's class moments minus the empirical ones, an array of shape "
        "(classes, features).",
        hints=["fit the penalised softmax regression first, then compare two averages over the "
               "examples: the model's class moments and the data's.",
               "R[k, j] = mean over i of (P(k | x_i) - 1[y_i = k]) * T[i, j], with P from the "
               "model fitted with the penalty alpha.",
               "model = SoftmaxRegression(alpha=alpha).fit(T, y); P = model.predict_proba(T); "
               "R = (P - onehot(y)).T @ T / len(T)."],
        success="R = -alpha W: the penalty relaxes every moment constraint by exactly -alpha "
                "times its weight, the max-ent reading of weight decay.")
    try:
        T_arr, y_arr = np.asarray(T, dtype=float), np.asarray(y).astype(int)
        W = SoftmaxRegression(alpha=float(alpha)).fit(T_arr, y_arr).coef_
        expected = -float(alpha) * W
        n, scale = len(T_arr), float(np.abs(expected).max())
        tol = dict(rtol=0.0, atol=RELAXED_TOL * scale)
        if not is_placeholder(answer):
            got = as_numbers(answer)
            if not isinstance(got, str) and got.shape == (W.shape[0], W.shape[1] + 1):
                return ex.wrong("R has one column per feature t_j: leave the bias column out "
                                "(its constraint, the class sizes, is not penalised).", got)
        mistakes = [
            Mistake("that is empirical minus model moments: the sign is flipped. R is the "
                    "model's moments minus the data's (the gradient of the mean cross-entropy).",
                    value=-expected, **tol),
            Mistake("R is (almost) zero: that is the unpenalised fit, where the constraints hold "
                    "exactly. Fit with the penalty alpha.",
                    test=lambda a: a.shape == expected.shape
                    and float(np.abs(a).max()) < 0.05 * scale),
            Mistake("you summed over the examples: moments are averages, so divide by n.",
                    value=n * expected, rtol=RELAXED_TOL, atol=RELAXED_TOL * scale * n),
            Mistake("that is the weight matrix W itself; R is a difference of moments (which "
                    "the theorem says equals -alpha W).", value=W, **tol),
            Mistake("that is -W: the relaxation is -alpha W, alpha times smaller.", value=-W,
                    **tol),
        ]
    except Exception as exc:  # noqa: BLE001 - bad exercise data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    return check(ex, answer, expected, mistakes=mistakes, rtol=0.0, atol=RELAXED_TOL * scale,
                 transpose_message="R has one row per class and one column per feature: "
                                   "shape (classes, features); transpose it.")


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def check_smoothing_entropy(eps: float, n_classes: int, answer: object) -> Feedback:
    """Exercise 2 (on the idea): the predictive entropy, in nats, at the optimum of the
    label-smoothed cross-entropy with ``eps`` and K = ``n_classes``: H(q) for
    q = (1 - eps) e_y + eps / K, which the optimum p = q reaches by construction."""
    k, e = int(n_classes), float(eps)
    q = np.full(k, e / k)
    q[0] += 1 - e
    expected = _entropy(q)
    ex = exercise(
        "Lesson 06, exercise 2", "give the entropy of the optimal prediction in nats, one number.",
        hints=["the label-smoothed loss is a cross-entropy against a target q; which prediction "
               "p minimises -sum_k q_k log p_k?",
               "by Gibbs' inequality the optimum is p = q, so the answer is H(q); q puts "
               "1 - eps + eps/K on the label and eps/K on every other class.",
               "H(q) = -(1 - eps + eps/K) log(1 - eps + eps/K) - (K - 1)(eps/K) log(eps/K)."],
        success="H(q) > 0: the objective itself keeps the predictions this uncertain, so a "
                "higher predictive entropy is true by construction, not evidence.")
    wrong_q = np.full(k, e / k)
    wrong_q[0] = 1 - e
    spread = np.full(k, e / (k - 1))
    spread[0] = 1 - e
    mistakes = [
        Mistake("that is in bits; use natural logarithms (nats).", value=expected / math.log(2)),
        Mistake("the label gets 1 - eps + eps/K, not 1 - eps: the uniform part eps/K goes to "
                "every class, the label included (then q sums to 1).", value=_entropy(wrong_q)),
        Mistake("that spreads eps over the K-1 other classes only; the smoothed target (and "
                "torch's label_smoothing) spreads it over all K classes.",
                value=_entropy(spread)),
        Mistake("log K is the entropy of the uniform distribution, the most any prediction can "
                "have; the smoothed target keeps most of its mass on the label.",
                value=math.log(k)),
        Mistake("0 is the entropy of the one-hot label, the optimum without smoothing; with "
                "eps > 0 the optimum is the smoothed target itself.", value=0.0, rtol=0,
                atol=1e-12),
    ]
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-6, atol=1e-9)


def _ce_at(lp: np.ndarray, y: np.ndarray, t: float) -> float:
    """Cross-entropy of log_softmax(lp / t) on the labels y."""
    z = np.maximum(lp, -1e4) / t
    return float(np.mean(logsumexp(z, axis=1) - z[np.arange(len(y)), y]))


def _fitted_t(lp: np.ndarray, y: np.ndarray) -> float:
    """The temperature of :func:`maxent_lib.metrics.fit_temperature` (bisection of the convex
    loss's slope in b = 1/T on [1e-2, 1e2], in log space), in NumPy."""
    z = np.maximum(lp, -1e4)
    zy = z[np.arange(len(y)), y]
    lo, hi = math.log(1e-2), math.log(1e2)
    for _ in range(60):
        mid = (lo + hi) / 2
        p = softmax(math.exp(mid) * z, axis=1)
        lo, hi = (lo, mid) if float(np.mean((p * z).sum(1) - zy)) > 0 else (mid, hi)
    return 1.0 / math.exp((lo + hi) / 2)


def _band(lv: np.ndarray, yv: np.ndarray, lt: np.ndarray, yt: np.ndarray
          ) -> tuple[float, float, float]:
    """The test cross-entropy at the validation temperature T*, and its range over the
    temperatures whose validation cross-entropy is within :data:`CALIBRATED_SLACK` nats of the
    minimum (what any reasonable minimiser returns)."""
    t_star = _fitted_t(lv, yv)
    floor = _ce_at(lv, yv, t_star) + CALIBRATED_SLACK
    ends = []
    for far in (t_star / 2, t_star * 2):  # bisect in log T for the edge of the slack
        near = t_star
        for _ in range(50):
            mid = math.sqrt(near * far)
            near, far = (mid, far) if _ce_at(lv, yv, mid) <= floor else (near, mid)
        ends.append(near)
    values = [_ce_at(lt, yt, t) for t in (ends[0], t_star, ends[1])]
    return values[1], min(values), max(values)


def check_calibrated_loss(lp_val: object, y_val: object, lp_test: object, y_test: object,
                          answer: object) -> Feedback:
    """Exercise 3 (on the idea): the test cross-entropy (nats) of a model after temperature
    scaling, with the one temperature T fitted on the validation split (``lp_val``, ``y_val``:
    log-probabilities (n, K) and labels) and applied to the test log-probabilities
    ``lp_test``: -mean_i log softmax(lp_test / T)[y_i]. Any minimiser of the validation
    cross-entropy over T is accepted (:data:`CALIBRATED_SLACK`)."""
    ex = exercise(
        "Lesson 06, exercise 3",
        "give the baseline's test cross-entropy after temperature scaling, in nats, one number.",
        hints=["temperature scaling divides the log-probabilities by one number T > 0 and "
               "renormalises; T is chosen on data the model did not train on, and the test set "
               "chooses nothing.",
               "find T minimising the mean cross-entropy of log_softmax(lp_val / T) on the "
               "validation labels (scipy.optimize.minimize_scalar, bounds (0.01, 100), as the "
               "library's); then score log_softmax(lp_test / T) on the test labels.",
               "ce = lambda lp, y, t: -log_softmax(lp / t, axis=1)[np.arange(len(y)), y].mean();"
               " T = minimize_scalar(lambda t: ce(lp_val, y_val, t), bounds=(0.01, 100), "
               "method='bounded').x; answer ce(lp_test, y_test, T)."],
        success="one number fitted on validation data, and not a single prediction changed: "
                "this is the baseline a regulariser's cross-entropy must beat (claim C7c).")
    try:
        lv, lt = (np.asarray(a, dtype=float) for a in (lp_val, lp_test))
        yv, yt = (np.asarray(a).astype(int) for a in (y_val, y_test))
        expected, lo, hi = _band(lv, yv, lt, yt)
        mistakes = [
            Mistake("that is the raw test cross-entropy: fit the temperature on the validation "
                    "split first, then score the rescaled test predictions.",
                    value=_ce_at(lt, yt, 1.0)),
            Mistake("you chose T on the test set: the temperature is fitted on the validation "
                    "split, and the test set only scores it.",
                    value=_ce_at(lt, yt, _fitted_t(lt, yt))),
            Mistake("that is the validation split's cross-entropy at T: score the test set.",
                    value=_ce_at(lv, yv, _fitted_t(lv, yv))),
            Mistake("divide the log-probabilities by T (a temperature above 1 flattens the "
                    "predictions); you multiplied.",
                    value=_ce_at(lt, yt, 1 / _fitted_t(lv, yv)), rtol=0, atol=1e-4),
            Mistake("that is in bits; use natural logarithms (nats).",
                    value=expected / math.log(2), rtol=0, atol=1e-4),
        ]
        mistakes = [m for m in mistakes if not lo - 1e-6 <= float(m.value) <= hi + 1e-6]
    except Exception as exc:  # noqa: BLE001 - bad exercise data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    return check(ex, answer, expected, mistakes=mistakes,
                 accept=lambda a: a.shape == () and lo - 1e-6 <= float(a) <= hi + 1e-6)
