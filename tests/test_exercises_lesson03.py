"""Lesson 03 exercise checkers: right answers pass, wrong ones get a hint, placeholders are
"not answered"."""

import numpy as np

from maxent_lib import data, exercises
from maxent_lib.exercises import lesson03

SHARED = data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0)
DROPPED = data.GaussianMixtureTask([[(1.0, [-1.5, 0.0], np.eye(2))],
                                    [(1.0, [1.5, 0.0], np.eye(2))]])


def _weights(task):
    means = np.stack([c[0][1] for c in task.components])
    return np.linalg.solve(task.components[0][0][2], (means[1:] - means[0]).T).T


def test_log_odds_weights():
    right = lesson03.check_log_odds_weights(SHARED, _weights(SHARED))
    assert right.correct is True
    # a common mistake: forgetting Sigma^-1
    means = np.stack([c[0][1] for c in SHARED.components])
    wrong = lesson03.check_log_odds_weights(SHARED, means[1:] - means[0])
    assert wrong.correct is False and "Sigma" in wrong.message
    blank = lesson03.check_log_odds_weights(SHARED, exercises.placeholder((2, 2)))
    assert blank.correct is None
    shape = lesson03.check_log_odds_weights(SHARED, np.zeros(3))
    assert shape.correct is False and "shape" in shape.message


def test_fc1_gap():
    X, y = DROPPED.sample(500, seed=5)
    idx = np.arange(len(y))
    ce_x = -np.mean(np.log(DROPPED.posterior(X)[idx, y]))
    ce_t = -np.mean(np.log(DROPPED.marginal([1]).posterior(X[:, [1]])[idx, y]))
    assert lesson03.check_fc1_gap(DROPPED, [1], X, y, ce_t - ce_x).correct is True
    flipped = lesson03.check_fc1_gap(DROPPED, [1], X, y, ce_x - ce_t)
    assert flipped.correct is False and "sign" in flipped.message
    wrong = lesson03.check_fc1_gap(DROPPED, [1], X, y, ce_t)
    assert wrong.correct is False and "marginal" in wrong.message
    assert lesson03.check_fc1_gap(DROPPED, [1], X, y, exercises.placeholder()).correct is None


def test_poisson_log_odds():
    answer = [np.log(2.0), -3.0 + np.log(1 / 3)]
    assert lesson03.check_poisson_log_odds(3.0, 6.0, 0.25, answer).correct is True
    no_prior = lesson03.check_poisson_log_odds(3.0, 6.0, 0.25, [np.log(2.0), -3.0])
    assert no_prior.correct is False and "prior" in no_prior.message
    blank = lesson03.check_poisson_log_odds(3.0, 6.0, 0.25, exercises.placeholder((2,)))
    assert blank.correct is None


def test_fc1_gap_odd_answers_get_feedback_not_an_exception():
    X, y = DROPPED.sample(200, seed=5)
    for answer in ("abc", np.array([1.0, 2.0]), [0.3], np.inf):
        feedback = lesson03.check_fc1_gap(DROPPED, [1], X, y, answer)
        assert feedback.correct is False and feedback.message
