"""Lesson 05's answer checks: the right answer passes, a wrong one fails with a hint, the
placeholder is 'not answered'."""

import numpy as np
from scipy import stats

from maxent_lib import ensemble, exercises
from maxent_lib.exercises import lesson05

ACCS = np.array([0.612, 0.598, 0.641, 0.623, 0.605])


def test_t_interval():
    n = len(ACCS)
    half = stats.t.ppf(0.975, n - 1) * ACCS.std(ddof=1) / np.sqrt(n)
    right = [ACCS.mean(), ACCS.mean() - half, ACCS.mean() + half]
    assert lesson05.check_t_interval(ACCS, right).correct is True
    z = 1.96 * ACCS.std(ddof=1) / np.sqrt(n)
    fb = lesson05.check_t_interval(ACCS, [ACCS.mean(), ACCS.mean() - z, ACCS.mean() + z])
    assert fb.correct is False and "Student-t" in fb.message
    assert lesson05.check_t_interval(ACCS, exercises.placeholder((3,))).correct is None


def test_residual_inverse():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(8, 8))
    W /= np.linalg.norm(W, 2)
    z = np.linspace(-1, 1, 8)
    x = z.copy()
    for _ in range(80):
        x = z - 0.5 * np.tanh(W @ x)
    assert lesson05.check_residual_inverse(W, z, x).correct is True
    fb = lesson05.check_residual_inverse(W, z, z)  # forgetting the branch
    assert fb.correct is False and "iteration" in fb.message
    assert lesson05.check_residual_inverse(W, z, exercises.placeholder((8,))).correct is None


def test_param_count():
    net = ensemble.StackedNet("mlp", 40, 10, 128, 4, list(range(64)))
    count = sum(p.numel() for p in net.params)
    assert lesson05.check_stacked_param_count(40, 128, 4, 10, 64, count).correct is True
    fb = lesson05.check_stacked_param_count(40, 128, 4, 10, 64, count // 64)
    assert fb.correct is False and "one model" in fb.message
    fb = lesson05.check_stacked_param_count(40, 128, 4, 10, 64, count + 1)
    assert fb.correct is False and "weights and biases" in fb.message
    assert lesson05.check_stacked_param_count(40, 128, 4, 10, 64, np.nan).correct is None
