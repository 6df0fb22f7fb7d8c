"""Lesson 06 exercise checkers: the right answer passes, each common mistake gets its own
message, the placeholder says only what to give."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.special import log_softmax

from maxent_lib import exercises
from maxent_lib.exercises import lesson06

Z = np.array([1.5, -0.3, 0.8, 0.0, -1.2])
P_EX = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.55, 0.45], [0.2, 0.8], [0.6, 0.4]])
Y_EX = np.array([0, 1, 1, 0, 0, 0])


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_label_smoothing():
    right = float(F.cross_entropy(torch.tensor(Z)[None], torch.tensor([2]), label_smoothing=0.2))
    check = lesson06.check_label_smoothing_loss
    assert check(Z, 2, 0.2, right).correct is True
    lp = log_softmax(Z)
    p = np.exp(lp)
    cases = [(right + 1, "Hint 1"),
             (0.8 * -lp[2] + 0.2 / 4 * -(lp.sum() - lp[2]), "K-1"),
             (-lp[2], "smoothing (eps) is missing"), (-right, "positive"),
             (0.8 * -p[2] + 0.2 * -p.mean(), "log of the softmax"),
             (right / np.log(2), "bits"), (0.8 * -Z[2] + 0.2 * -Z.mean(), "log_softmax")]
    for answer, words in cases:
        fb = check(Z, 2, 0.2, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(Z, 2, 0.2, exercises.placeholder())
    assert blank.correct is None and "eps / K" not in blank.message


def test_ece():
    check = lesson06.check_ece
    # by hand (the solution's bins): (0.4, 0.6]: 0.55, 0.6 both right; (0.6, 0.8]: 0.8 wrong,
    # 0.7 right, 0.8 wrong; (0.8, 1]: 0.9 right
    right = 2 / 6 * abs(1 - 0.575) + 3 / 6 * abs(1 / 3 - 0.7666666666666667) + 1 / 6 * 0.1
    assert check(P_EX, Y_EX, 5, right).correct is True
    unweighted = (abs(1 - 0.575) + abs(1 / 3 - 0.7666666666666667) + 0.1) / 3
    cases = [(right + 0.3, "Hint 1"), (unweighted, "share"), (100 * right, "percentage")]
    for answer, words in cases:
        fb = check(P_EX, Y_EX, 5, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    true_class = lesson06._ece_variant(P_EX, Y_EX, 5, true_class=True)
    fb = check(P_EX, Y_EX, 5, true_class)
    assert fb.correct is False and "predicted" in fb.message
    left = lesson06._ece_variant(P_EX, Y_EX, 5, left_closed=True)
    assert not np.isclose(left, right)
    fb = check(P_EX, Y_EX, 5, left)
    assert fb.correct is False and "closed on the right" in fb.message
    assert check(P_EX, Y_EX, 5, exercises.placeholder()).correct is None


def test_decay_factor():
    check = lesson06.check_decay_factor
    assert check(0.01, 5.0, 100, 0.95**100).correct is True
    cases = [(0.5, "Hint 1"), (np.exp(-5.0), "continuous-time"), (0.95, "one step"),
             (1 - 5.0, "compounds"), (1.0, "even when its gradient is zero")]
    for answer, words in cases:
        fb = check(0.01, 5.0, 100, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    fb = check(0.01, 0.5, 100, 0.5**100)  # forgot the learning rate
    assert fb.correct is False and "scaled by the learning rate" in fb.message


# ------------------------------------------------------------------- exercises on the idea

def _relaxed_data():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 300)
    T = rng.normal(size=(300, 4))
    T[np.arange(300), y] += 1.5
    return T, y


def test_relaxed_moments():
    from maxent_lib.softmax import SoftmaxRegression, moment_residuals

    T, y = _relaxed_data()
    alpha = 0.1
    model = SoftmaxRegression(alpha=alpha).fit(T, y)
    R = moment_residuals(T, y, model.predict_proba(T))
    check = lesson06.check_relaxed_moments
    assert check(T, y, alpha, R).correct is True
    np.testing.assert_allclose(R, -alpha * model.coef_, atol=1e-8)  # the theorem itself
    # another solver (plain gradient descent, stopped early) is accepted
    W, b = np.zeros((3, 4)), np.zeros(3)
    onehot = np.eye(3)[y]
    for _ in range(3000):
        P = np.exp(T @ W.T + b - np.logaddexp.reduce(T @ W.T + b, axis=1, keepdims=True))
        W -= 0.5 * ((P - onehot).T @ T / len(T) + alpha * W)
        b -= 0.5 * (P - onehot).mean(0)
    P = np.exp(T @ W.T + b - np.logaddexp.reduce(T @ W.T + b, axis=1, keepdims=True))
    assert check(T, y, alpha, (P - onehot).T @ T / len(T)).correct is True
    free = SoftmaxRegression(alpha=0.0).fit(T, y)
    cases = [(R + 0.3, "Hint 1"), (-R, "sign is flipped"),
             (moment_residuals(T, y, free.predict_proba(T)), "unpenalised"),
             (len(T) * R, "summed"), (model.coef_, "weight matrix W"), (-model.coef_, "-W"),
             (R.T, "transpose"), (np.hstack([R, np.zeros((3, 1))]), "bias")]
    for answer, words in cases:
        fb = check(T, y, alpha, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(T, y, alpha, exercises.placeholder((3, 4)))
    assert blank.correct is None and "SoftmaxRegression" not in blank.message
    assert check(T, y, alpha, "R").correct is False
    assert check("bad", y, alpha, R).correct is False  # bad data: an answer, not an exception


def test_smoothing_entropy():
    check = lesson06.check_smoothing_entropy
    q = np.full(10, 0.01)
    q[3] += 0.9
    right = float(-(q * np.log(q)).sum())
    assert check(0.1, 10, right).correct is True
    wrong_q = np.full(10, 0.01)
    wrong_q[0] = 0.9
    spread = np.full(10, 0.1 / 9)
    spread[0] = 0.9
    cases = [(right + 0.4, "Hint 1"), (right / np.log(2), "bits"),
             (float(-(wrong_q * np.log(wrong_q)).sum()), "1 - eps + eps/K"),
             (float(-(spread * np.log(spread)).sum()), "K-1"), (np.log(10), "uniform"),
             (0.0, "one-hot")]
    for answer, words in cases:
        fb = check(0.1, 10, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(0.1, 10, exercises.placeholder())
    assert blank.correct is None and "Gibbs" not in blank.message


def _calibration_data(seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(1600, 5)) * 1.5
    y = np.array([rng.choice(5, p=p) for p in np.exp(log_softmax(z, axis=1))])
    lp = log_softmax(3 * z, axis=1)  # over-confident: the cube of the true probabilities
    return lp[:800], y[:800], lp[800:], y[800:]


def test_calibrated_loss():
    from scipy.optimize import minimize_scalar

    lv, yv, lt, yt = _calibration_data()

    def ce(lp, y, t):
        return float(-log_softmax(lp / t, axis=1)[np.arange(len(y)), y].mean())

    t = minimize_scalar(lambda t: ce(lv, yv, t), bounds=(0.05, 20), method="bounded").x
    assert abs(t - 3) < 0.3
    check = lesson06.check_calibrated_loss
    assert check(lv, yv, lt, yt, ce(lt, yt, t)).correct is True
    t_test = minimize_scalar(lambda s: ce(lt, yt, s), bounds=(0.05, 20), method="bounded").x
    cases = [(ce(lt, yt, t) + 0.3, "Hint 1"), (ce(lt, yt, 1.0), "raw test cross-entropy"),
             (ce(lt, yt, t_test), "on the test set"), (ce(lv, yv, t), "validation split's"),
             (ce(lt, yt, 1 / t), "multiplied"), (ce(lt, yt, t) / np.log(2), "bits")]
    for answer, words in cases:
        fb = check(lv, yv, lt, yt, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert check(lv, yv, lt, yt, exercises.placeholder()).correct is None
    assert check(lv, yv, lt, yt, [1.0, 2.0]).correct is False
    assert check(lv, None, lt, yt, 1.0).correct is False


def test_decay_factor_mistakes_are_told_only_when_made():
    check = lesson06.check_decay_factor
    for lr, wd, steps, answer in ((0.01, 0.5, 100, 0.9), (0.01, 0.5, 1, 0.8),
                                  (0.01, 5.0, 100, -0.5), (0.01, 5.0, 100, -3.5)):
        exercises.reset_attempts()
        fb = check(lr, wd, steps, answer)
        assert fb.correct is False and "Hint" in fb.message, (lr, wd, steps, answer, fb.message)


def test_decay_factor_names_the_missing_learning_rate_up_to_a_rate_of_one():
    # (1 - wd) ** steps is what a learner who forgot the learning rate computes; at wd = 1 it is
    # 0, still that mistake. Above 1 the factor (1 - wd) is negative and the mistake is not named.
    check = lesson06.check_decay_factor
    for wd in (0.5, 1.0):
        exercises.reset_attempts()
        fb = check(0.01, wd, 10, (1 - wd) ** 10)
        assert fb.correct is False and "scaled by the learning rate" in fb.message, (wd, fb.message)
    exercises.reset_attempts()
    fb = check(0.01, 3.0, 2, (1 - 3.0) ** 2)
    assert fb.correct is False and "scaled by the learning rate" not in fb.message


def test_bad_exercise_data_is_said_to_be_unreadable():
    fb = lesson06.check_label_smoothing_loss("logits", 1, 0.1, 1.0)
    assert fb.correct is False and "could not be read" in fb.message
    fb = lesson06.check_ece("probs", [0, 1], 5, 0.1)
    assert fb.correct is False and "could not be read" in fb.message
