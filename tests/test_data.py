"""Tests for maxent_lib.data: synthetic tasks with exact posteriors, MNIST-1D, digits, load()."""

import random

import numpy as np
import pytest

from maxent_lib import data


@pytest.mark.parametrize("task", [
    data.shared_covariance_gaussians(n_classes=3, dim=2, seed=0),
    data.class_covariance_gaussians(n_classes=3, dim=2, seed=1),
    data.xor_task(),
    data.CirclesTask(),
], ids=["shared", "class_cov", "xor", "circles"])
def test_posterior_is_a_distribution_and_matches_sampling(task):
    X, y = task.sample(4000, seed=3)
    assert X.shape == (4000, task.dim) and y.shape == (4000,)
    post = task.posterior(X)
    np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)
    # the Bayes classifier's accuracy on a sample matches its expected accuracy E[max_k P(k|x)]
    # (within 4 binomial standard errors), and the labels look calibrated against the posterior
    acc, expected = np.mean(post.argmax(1) == y), np.mean(post.max(1))
    assert abs(acc - expected) < 4 * np.sqrt(expected * (1 - expected) / len(y))
    np.testing.assert_allclose(np.bincount(y, minlength=task.n_classes) / len(y),
                               post.mean(0), atol=0.04)


def test_sampling_is_seeded():
    task = data.xor_task()
    a, b = task.sample(50, seed=1), task.sample(50, seed=1)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], task.sample(50, seed=2)[0])
    split = task.split(30, 20, seed=5)
    assert split.X_train.shape == (30, 2) and split.X_test.shape == (20, 2)
    assert len(split.as_tuple()) == 4


def test_marginal_keeps_exact_posterior_of_kept_coordinates():
    task = data.shared_covariance_gaussians(n_classes=2, dim=3, seed=0)
    sub = task.marginal([0, 2])
    X, _ = task.sample(2000, seed=0)
    post_sub = sub.posterior(X[:, [0, 2]])
    np.testing.assert_allclose(post_sub.sum(1), 1.0)
    # a coarser view cannot be more certain on average: E[H(Y|x_S)] >= E[H(Y|x)] (within noise)
    def h(p):
        return -np.sum(p * np.log(np.clip(p, 1e-300, None)), axis=1).mean()
    assert h(post_sub) >= h(task.posterior(X)) - 0.02
    with pytest.raises(ValueError, match="twice"):
        task.marginal([0, 0])
    with pytest.raises(ValueError, match="distinct coordinates"):
        task.marginal([5])


def test_quadratic_features():
    Q = data.quadratic_features(np.array([[1.0, 2.0]]))
    np.testing.assert_allclose(Q, [[1.0, 2.0, 1.0, 2.0, 4.0]])


def test_task_errors():
    task = data.xor_task()
    with pytest.raises(ValueError, match="columns"):
        task.posterior(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        task.posterior(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        task.sample(0)
    with pytest.raises(ValueError, match="two classes"):
        data.GaussianMixtureTask([[(1.0, [0.0], [[1.0]])]])
    with pytest.raises(ValueError, match="positive definite"):
        data.GaussianMixtureTask([[(1.0, [0.0], [[-1.0]])], [(1.0, [1.0], [[1.0]])]])
    with pytest.raises(ValueError, match="radii"):
        data.CirclesTask(radii=(1.0,))


def test_mnist1d_shapes_rng_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MAXENT_DATA_DIR", str(tmp_path))
    random.seed(123)
    np.random.seed(123)
    py_state, np_state = random.getstate(), np.random.get_state()
    split = data.mnist1d(n_train=180, n_test=20, seed=7)
    assert random.getstate() == py_state
    assert np.array_equal(np.random.get_state()[1], np_state[1])
    assert split.X_train.shape == (180, 40) and split.X_test.shape == (20, 40)
    assert split.n_classes == 10 and set(np.unique(split.y_train)) <= set(range(10))
    assert len(list(tmp_path.glob("mnist1d_*.npz"))) == 1

    import mnist1d.data

    def no_generation(*args, **kwargs):
        raise AssertionError("the cached copy should have been used")

    monkeypatch.setattr(mnist1d.data, "make_dataset", no_generation)
    again = data.mnist1d(n_train=180, n_test=20, seed=7)
    np.testing.assert_array_equal(again.X_train, split.X_train)
    np.testing.assert_array_equal(again.y_test, split.y_test)
    with pytest.raises(ValueError, match="multiple of 10"):
        data.mnist1d(n_train=181, n_test=20)
    with pytest.raises(ValueError, match="n_train must be an integer >= 1"):
        data.mnist1d(n_train=0)


def test_digits():
    split = data.digits()
    assert split.X_train.shape[1] == 64 and len(split.X_train) + len(split.X_test) == 1797
    assert split.X_train.min() >= 0 and split.X_train.max() <= 1
    assert abs(len(split.X_test) / 1797 - 0.25) < 0.01
    with pytest.raises(ValueError, match="test_fraction"):
        data.digits(test_fraction=1.5)


def test_load():
    split = data.load("xor", seed=1)
    assert split.X_train.shape == (2000, 2) and split.name == "XOR"
    with pytest.raises(ValueError, match="name must be one of 'mnist1d'.*got 'nope'"):
        data.load("nope")
