"""Lesson 06 exercise checkers at their edges: the ECE's mistakes computed here by hand (not
with the checker's own helper), bins at their ends, a named mistake told by its own message
(not by a hint that uses the same words), and the documented tolerances (RELAXED_TOL,
CALIBRATED_SLACK) at work."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from test_exercises_lesson06 import (  # the same data as the lesson's own tests
    _calibration_data,
    _relaxed_data,
)

from maxent_lib import exercises
from maxent_lib.exercises import lesson06
from maxent_lib.softmax import SoftmaxRegression, moment_residuals


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def _ece_by_hand(probs, y, n_bins, *, weighted=True, true_class=False, left_closed=False):
    """The ECE written out bin by bin: bin b (0-based) holds the confidences in
    (b/B, (b+1)/B] (or [b/B, (b+1)/B) when left_closed), the first and last bins also what
    falls below or above them."""
    probs, y = np.asarray(probs, float), np.asarray(y)
    conf = probs[np.arange(len(y)), y] if true_class else probs.max(1)
    right = probs.argmax(1) == y
    gaps, weights = [], []
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        if left_closed:
            inside = ((conf >= lo) | (b == 0)) & ((conf < hi) | (b == n_bins - 1))
        else:
            inside = ((conf > lo) | (b == 0)) & ((conf <= hi) | (b == n_bins - 1))
        if inside.any():
            gaps.append(abs(right[inside].mean() - conf[inside].mean()))
            weights.append(inside.mean())
    return float(np.dot(weights, gaps)) if weighted else float(np.mean(gaps))


#: 5 classes, 3 bins: confidences at the bins' ends (2/3 and 1), and below the first bin's top
P5 = np.array([[0.30, 0.20, 0.20, 0.15, 0.15],
               [0.25, 0.30, 0.15, 0.15, 0.15],
               [2 / 3, 1 / 12, 1 / 12, 1 / 12, 1 / 12],
               [0.10, 0.60, 0.10, 0.10, 0.10],
               [1.00, 0.00, 0.00, 0.00, 0.00],
               [0.00, 0.00, 1.00, 0.00, 0.00],
               [0.05, 0.05, 0.80, 0.05, 0.05],
               [0.40, 0.35, 0.10, 0.10, 0.05]])
Y5 = np.array([1, 2, 1, 1, 0, 1, 2, 0])


def test_ece_mistakes_computed_by_hand_get_their_messages():
    check = lesson06.check_ece
    right = _ece_by_hand(P5, Y5, 3)
    assert check(P5, Y5, 3, right).correct is True
    cases = {"weight each bin": _ece_by_hand(P5, Y5, 3, weighted=False),
             "not that of the true class": _ece_by_hand(P5, Y5, 3, true_class=True),
             "closed on the right": _ece_by_hand(P5, Y5, 3, left_closed=True),
             "percentage": 100 * right}
    assert len({round(v, 9) for v in [right, *cases.values()]}) == 5  # all different
    for words, answer in cases.items():
        fb = check(P5, Y5, 3, answer)
        assert fb.correct is False and words in fb.message and "Hint" not in fb.message, \
            (words, fb.message)


def test_ece_on_the_lessons_example_by_hand():
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8], [0.6, 0.4]])
    y = np.array([0, 1, 1, 0, 0, 0])
    for kw, words in (({"true_class": True}, "predicted"),
                      ({"left_closed": True}, "closed on the right")):
        fb = lesson06.check_ece(p, y, 5, _ece_by_hand(p, y, 5, **kw))
        assert fb.correct is False and words in fb.message and "Hint" not in fb.message


def test_smoothing_entropy_mistakes_get_their_own_message():
    """Hint 2 of this exercise names "1 - eps + eps/K" too: each mistake must be told by its
    own message, not by the next hint."""
    check = lesson06.check_smoothing_entropy
    eps, k = 0.1, 10

    def h(q):
        q = np.asarray(q, float)
        return float(-(q[q > 0] * np.log(q[q > 0])).sum())

    label_only = [1 - eps] + [eps / k] * (k - 1)                 # q does not sum to 1
    other_classes = [1 - eps] + [eps / (k - 1)] * (k - 1)
    right = h([1 - eps + eps / k] + [eps / k] * (k - 1))
    for words, answer in (("the label gets 1 - eps + eps/K", h(label_only)),
                          ("K-1 other classes", h(other_classes)),
                          ("bits", right / np.log(2)), ("uniform", np.log(k))):
        for _ in range(2):  # a second wrong answer must not turn the message into a hint
            fb = check(eps, k, answer)
            assert fb.correct is False and words in fb.message and "Hint" not in fb.message
        fb = check(eps, k, answer * 1.01)
        assert "Hint" in fb.message


def test_smoothing_entropy_without_smoothing_is_zero():
    """eps = 0 (no smoothing) is the edge of the exercise: the optimum is the one-hot label,
    entropy 0 (0 log 0 = 0)."""
    fb = lesson06.check_smoothing_entropy(0.0, 10, 0.0)
    assert fb.correct is True, fb.message


def test_relaxed_moments_tolerance_is_relaxed_tol_of_the_largest_entry():
    """RELAXED_TOL: a residual within RELAXED_TOL * max |alpha W| of -alpha W (every entry) is
    accepted, one at twice that is not; the sum over the examples of an accepted residual is
    told "summed", the sum of a rejected one is not."""
    T, y = _relaxed_data()
    alpha, n = 0.1, len(T)
    W = SoftmaxRegression(alpha=alpha).fit(T, y).coef_
    R = -alpha * W
    scale = np.abs(R).max()
    assert 0 < scale < 0.5 and np.abs(R).min() < 0.1 * scale  # the entries differ in size
    check = lesson06.check_relaxed_moments
    near = R + 0.5 * lesson06.RELAXED_TOL * scale
    far = R + 2 * lesson06.RELAXED_TOL * scale
    assert check(T, y, alpha, near).correct is True
    fb = check(T, y, alpha, far)
    assert fb.correct is False and "Hint" in fb.message
    fb = check(T, y, alpha, n * near)
    assert fb.correct is False and "summed" in fb.message
    fb = check(T, y, alpha, -near)
    assert fb.correct is False and "sign is flipped" in fb.message
    fb = check(T, y, alpha, -far)
    assert fb.correct is False and "sign is flipped" not in fb.message
    fb = check(T, y, alpha, n * (R + 10 * lesson06.RELAXED_TOL * scale))
    assert fb.correct is False and "summed" not in fb.message


def test_relaxed_moments_half_the_penalty_is_not_the_unpenalised_fit():
    T, y = _relaxed_data()
    half = SoftmaxRegression(alpha=0.05).fit(T, y)
    R_half = moment_residuals(T, y, half.predict_proba(T))
    fb = lesson06.check_relaxed_moments(T, y, 0.1, R_half)
    assert fb.correct is False and "unpenalised" not in fb.message


def _ce(lp, y, t):
    return float(-log_softmax(lp / t, axis=1)[np.arange(len(y)), y].mean())


def test_calibrated_loss_accepts_any_temperature_within_the_slack():
    """CALIBRATED_SLACK: any temperature whose validation cross-entropy is within that many
    nats of the minimum is as good as the minimiser; one 20 times further is not."""
    lv, yv, lt, yt = _calibration_data()
    best = minimize_scalar(lambda t: _ce(lv, yv, t), bounds=(0.05, 20), method="bounded",
                           options={"xatol": 1e-10})
    t0, floor = best.x, best.fun
    slack = lesson06.CALIBRATED_SLACK

    def temperature_at(excess, side):
        """The temperature on one side of t0 whose validation CE is floor + excess."""
        lo, hi = (t0, t0 * 1.5) if side > 0 else (t0 / 1.5, t0)
        for _ in range(100):
            mid = (lo + hi) / 2
            above = _ce(lv, yv, mid) - floor > excess
            if side > 0:
                lo, hi = (lo, mid) if above else (mid, hi)
            else:
                lo, hi = (mid, hi) if above else (lo, mid)
        return (lo + hi) / 2

    check = lesson06.check_calibrated_loss
    for side in (+1, -1):
        inside = _ce(lt, yt, temperature_at(0.5 * slack, side))
        outside = _ce(lt, yt, temperature_at(20 * slack, side))
        assert abs(outside - _ce(lt, yt, t0)) > 1e-5  # the test CE moves with T
        assert check(lv, yv, lt, yt, inside).correct is True, side
        fb = check(lv, yv, lt, yt, outside)
        assert fb.correct is False, side


def test_calibrated_loss_accepts_the_ends_of_the_band():
    """The band's ends are what a minimiser stopped at the edge of the slack returns: both
    are accepted, and the test cross-entropy at T* (the middle value) lies between them."""
    lv, yv, lt, yt = _calibration_data()
    mid, lo, hi = lesson06._band(lv, yv, lt, yt)
    assert lo <= mid <= hi and lo < hi
    check = lesson06.check_calibrated_loss
    for answer in (lo, hi, mid):
        assert check(lv, yv, lt, yt, answer).correct is True, answer


def test_calibrated_loss_near_a_mistake_is_not_that_mistake():
    lv, yv, lt, yt = _calibration_data()
    t = minimize_scalar(lambda s: _ce(lv, yv, s), bounds=(0.05, 20), method="bounded").x
    check = lesson06.check_calibrated_loss
    for words, value in (("multiplied", _ce(lt, yt, 1 / t)),
                         ("bits", _ce(lt, yt, t) / np.log(2))):
        assert words in check(lv, yv, lt, yt, value).message
        fb = check(lv, yv, lt, yt, value + 0.5)
        assert fb.correct is False and "Hint" in fb.message, (words, fb.message)


def test_fitted_temperature_is_the_courses_fit_temperature():
    """_fitted_t is documented as metrics.fit_temperature in NumPy: the same T on ordinary
    data, on separable data (T clipped to the low end, 1e-2) and where labels have
    probability 0 (-inf log-probabilities: T clipped to the high end, 1e2)."""
    import torch

    from maxent_lib.metrics import fit_temperature

    lv, yv, _, _ = _calibration_data()
    separable = log_softmax(np.array([[2.0, 0.0], [0.0, 3.0], [1.0, -1.0]]), axis=1)
    y_sep = np.array([0, 1, 0])
    with np.errstate(divide="ignore"):
        zero = np.log(np.array([[0.7, 0.3, 0.0], [0.0, 0.4, 0.6], [0.2, 0.0, 0.8],
                                [0.5, 0.5, 0.0]]))
    y_zero = np.array([0, 1, 1, 2])  # the last two labels have probability 0
    for lp, y in ((lv, yv), (separable, y_sep), (zero, y_zero)):
        want = float(fit_temperature(torch.tensor(lp)[None], torch.tensor(y))[0])
        assert lesson06._fitted_t(lp, y) == pytest.approx(want, rel=1e-9)
    assert lesson06._fitted_t(separable, y_sep) == pytest.approx(1e-2, rel=1e-9)
    assert lesson06._fitted_t(zero, y_zero) == pytest.approx(1e2, rel=1e-9)
