"""Tests for maxent_lib.softmax: softmax, softmax regression, moment residuals."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import LogisticRegression

from maxent_lib.data import shared_covariance_gaussians
from maxent_lib.softmax import (
    NotConvergedWarning,
    SeparableDataWarning,
    SoftmaxRegression,
    conditional_entropy,
    log_softmax,
    mean_cross_entropy,
    moment_residuals,
    softmax,
)

SETTINGS = settings(max_examples=40, deadline=None)
scores = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                elements=st.floats(-50, 50))


@SETTINGS
@given(scores, st.floats(-1e3, 1e3))
def test_softmax_is_a_distribution_and_shift_invariant(z, c):
    p = softmax(z)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(p >= 0)
    np.testing.assert_allclose(softmax(z + c), p, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(z)), p, atol=1e-12)


def test_softmax_is_stable_for_large_scores():
    p = softmax([1000.0, 1000.0, -1000.0])
    np.testing.assert_allclose(p, [0.5, 0.5, 0.0], atol=1e-300)
    with pytest.raises(ValueError, match="scalar"):
        softmax(1.0)
    with pytest.raises(ValueError, match="NaN"):
        softmax([np.nan, 1.0])


def _overlapping(n=300, seed=0):
    task = shared_covariance_gaussians(n_classes=3, dim=4, separation=1.0, seed=seed)
    return task.sample(n, seed=seed)


@pytest.fixture(scope="module")
def overlapping():
    return _overlapping()


def test_unpenalised_optimum_matches_moments(overlapping):
    T, y = overlapping
    model = SoftmaxRegression().fit(T, y)
    assert model.converged_ and not model.separable_
    R = moment_residuals(T, y, model.predict_proba(T))
    assert R.shape == (3, 4)
    assert np.max(np.abs(R)) < 1e-10
    # the class-size constraints (bias features) hold too
    np.testing.assert_allclose(model.predict_proba(T).mean(0), np.bincount(y) / len(y), atol=1e-10)
    assert np.all(np.diff(model.loss_history_) <= 1e-15)  # Newton + line search descends


@pytest.mark.parametrize("alpha", [1e-3, 1e-1])
def test_penalised_residuals_are_minus_alpha_w(overlapping, alpha):
    T, y = overlapping
    model = SoftmaxRegression(alpha=alpha).fit(T, y)
    R = moment_residuals(T, y, model.predict_proba(T))
    np.testing.assert_allclose(R, -alpha * model.coef_, atol=1e-10)
    np.testing.assert_allclose(model.coef_.sum(axis=0), 0.0, atol=1e-10)


@pytest.mark.parametrize("alpha", [1e-3, 1e-1])
def test_matches_scikit_learn(overlapping, alpha):
    T, y = overlapping
    ours = SoftmaxRegression(alpha=alpha).fit(T, y)
    ref = LogisticRegression(C=1.0 / (alpha * len(y)), tol=1e-12, max_iter=10_000).fit(T, y)
    T_new, _ = _overlapping(200, seed=1)
    np.testing.assert_allclose(ours.predict_proba(T_new), ref.predict_proba(T_new), atol=1e-4)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-3)
    assert ours.objective(T, y) <= ours.log_loss(T, y) + alpha / 2 * np.sum(ref.coef_**2) + 1e-9


def test_penalty_raises_training_entropy(overlapping):
    T, y = overlapping
    h = [conditional_entropy(SoftmaxRegression(alpha=a).fit(T, y).predict_proba(T))
         for a in (0.0, 1e-2, 1e-1, 1.0)]
    assert np.all(np.diff(h) > 0)


@pytest.mark.parametrize("alpha", [0.0, 1e-2, 1e-1])
def test_training_entropy_identity(overlapping, alpha):
    """Strong duality: H(Y|X) = CE at the unpenalised optimum (lesson 02, (7)), and
    H(Y|X) = CE + alpha ||W||^2 at the penalised one ((8b))."""
    T, y = overlapping
    model = SoftmaxRegression(alpha=alpha).fit(T, y)
    h = conditional_entropy(model.predict_proba(T))
    assert h == pytest.approx(model.log_loss(T, y) + alpha * np.sum(model.coef_**2), abs=1e-9)
    if alpha > 0:  # the identity is not the penalised objective (which has alpha / 2)
        assert abs(h - model.objective(T, y)) > 1e-6


def test_separable_data_warns_and_stops():
    rng = np.random.default_rng(0)
    T = np.r_[rng.normal(-3, 0.5, size=(30, 2)), rng.normal(3, 0.5, size=(30, 2))]
    y = np.r_[np.zeros(30, int), np.ones(30, int)]
    with pytest.warns(SeparableDataWarning, match="separable"):
        model = SoftmaxRegression().fit(T, y)
    assert model.separable_ and not model.converged_
    assert np.all(model.predict(T) == y)
    # with a penalty there is a finite optimum and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        penalised = SoftmaxRegression(alpha=1e-3).fit(T, y)
    assert penalised.converged_


def test_not_converged_warns(overlapping):
    T, y = overlapping
    with pytest.warns(NotConvergedWarning, match="stopped after 1 steps"):
        model = SoftmaxRegression(max_iter=1).fit(T, y)
    assert model.n_iter_ == 1 and not model.converged_


def test_constant_and_duplicate_features(overlapping):
    T, y = overlapping
    T2 = np.c_[T, T[:, :1], np.zeros(len(T))]  # a duplicated and an all-zero column
    base, dup = SoftmaxRegression().fit(T, y), SoftmaxRegression().fit(T2, y)
    assert dup.converged_
    np.testing.assert_allclose(dup.predict_proba(T2), base.predict_proba(T), atol=1e-8)
    assert np.max(np.abs(moment_residuals(T2, y, dup.predict_proba(T2)))) < 1e-10
    # an all-zero column gets zero weight under the penalty and changes nothing
    pen = SoftmaxRegression(alpha=1e-2).fit(T, y)
    pen0 = SoftmaxRegression(alpha=1e-2).fit(np.c_[T, np.zeros(len(T))], y)
    np.testing.assert_allclose(pen0.coef_[:, :-1], pen.coef_, atol=1e-9)
    np.testing.assert_allclose(pen0.coef_[:, -1], 0.0, atol=1e-12)


def test_n_classes_beyond_the_labels(overlapping):
    T, y = overlapping
    model = SoftmaxRegression(alpha=1e-2).fit(T, y, n_classes=4)
    assert model.coef_.shape == (4, 4) and model.intercept_.shape == (4,)
    assert model.predict_proba(T)[:, 3].max() < 1e-3  # a class never seen gets little mass


def test_metrics():
    probs = np.array([[0.5, 0.5], [0.9, 0.1]])
    assert mean_cross_entropy(probs, [0, 0]) == pytest.approx(-(np.log(0.5) + np.log(0.9)) / 2)
    assert mean_cross_entropy([[1.0, 0.0]], [1]) == np.inf
    h = (np.log(2) - 0.9 * np.log(0.9) - 0.1 * np.log(0.1)) / 2
    assert conditional_entropy(probs) == pytest.approx(h)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": -1.0}, "alpha"), ({"alpha": np.nan}, "alpha"),
    ({"tol": 0.0}, "tol"), ({"max_iter": 0}, "max_iter"),
    ({"alpha": "0.1"}, "alpha"), ({"alpha": None}, "alpha"), ({"tol": "small"}, "tol"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxRegression(**kwargs)


def test_bad_fit_and_predict_input(overlapping):
    T, y = overlapping
    with pytest.raises(ValueError, match="dimension"):
        SoftmaxRegression().fit(T[:, 0], y)
    with pytest.raises(ValueError, match="rows"):
        SoftmaxRegression().fit(T, y[:-1])
    with pytest.raises(ValueError, match="out of range"):
        SoftmaxRegression().fit(T, y, n_classes=2)
    with pytest.raises(ValueError, match="negative label"):
        SoftmaxRegression().fit(T, np.where(y == 0, -1, y))
    with pytest.raises(ValueError, match="NaN"):
        SoftmaxRegression().fit(np.where(T > 1, np.nan, T), y)
    with pytest.raises(ValueError, match="single class"):
        SoftmaxRegression().fit(T, np.zeros(len(T), int))
    with pytest.raises(ValueError, match="n_classes"):
        SoftmaxRegression().fit(T, y, n_classes=1)
    with pytest.raises(ValueError, match="not fitted"):
        SoftmaxRegression().predict_proba(T)
    model = SoftmaxRegression(alpha=1.0).fit(T, y)
    with pytest.raises(ValueError, match="columns"):
        model.predict_proba(T[:, :2])


def test_moment_residuals_bad_input(overlapping):
    T, y = overlapping
    probs = np.full((len(T), 3), 1 / 3)
    with pytest.raises(ValueError, match="sum to one"):
        moment_residuals(T, y, probs * 2)
    with pytest.raises(ValueError, match="out of range"):
        moment_residuals(T, np.full(len(T), 3), probs)
    with pytest.raises(ValueError, match="rows"):
        moment_residuals(T[:-1], y, probs)
    with pytest.raises(ValueError, match=r"probs must have 2 dimension\(s\)"):
        moment_residuals(T, y, probs[0])


@pytest.mark.parametrize("alpha", [0.0, 1e-2])
def test_large_problem_path_agrees_with_dense(overlapping, alpha):
    T, y = overlapping
    dense = SoftmaxRegression(alpha=alpha).fit(T, y)
    krylov = SoftmaxRegression(alpha=alpha)
    krylov.dense_limit = 0  # force conjugate gradients with Hessian-vector products
    krylov.fit(T, y)
    assert krylov.converged_ and krylov.grad_norm_ <= 1e-10
    # inexact (conjugate-gradient) Newton steps cost at most one Newton step more here
    assert krylov.n_iter_ <= dense.n_iter_ + 1
    np.testing.assert_allclose(krylov.predict_proba(T), dense.predict_proba(T), atol=1e-8)
    R = moment_residuals(T, y, krylov.predict_proba(T))
    np.testing.assert_allclose(R, -alpha * krylov.coef_, atol=1e-9)


def test_large_problem_path_detects_separable_data():
    rng = np.random.default_rng(1)
    T = np.r_[rng.normal(-3, 0.5, size=(30, 2)), rng.normal(3, 0.5, size=(30, 2))]
    y = np.r_[np.zeros(30, int), np.ones(30, int)]
    model = SoftmaxRegression()
    model.dense_limit = 0
    with pytest.warns(SeparableDataWarning):
        model.fit(T, y)
    assert model.separable_


@pytest.mark.parametrize("dense_limit", [1000, 0])
@pytest.mark.parametrize("scale", [1.0, 1e6])
def test_warm_start_reaches_the_same_optimum_in_fewer_steps(overlapping, dense_limit, scale):
    """``init`` (a model fitted at a neighbouring penalty) changes where Newton's method starts,
    not where it ends, also when the features are rescaled inside ``fit``."""
    T, y = overlapping
    T = T * scale
    start = SoftmaxRegression(alpha=1e-1 / scale**2).fit(T, y)
    cold, warm = SoftmaxRegression(alpha=1e-3 / scale**2), SoftmaxRegression(alpha=1e-3 / scale**2)
    cold.dense_limit = warm.dense_limit = dense_limit
    cold.fit(T, y)
    warm.fit(T, y, init=start)
    assert cold.converged_ and warm.converged_
    np.testing.assert_allclose(warm.predict_proba(T), cold.predict_proba(T), atol=1e-9)
    assert warm.n_iter_ < cold.n_iter_
    assert warm.loss_history_[0] < cold.loss_history_[0]  # it started from the warm point
    np.testing.assert_array_equal(start.coef_, SoftmaxRegression(alpha=1e-1 / scale**2)
                                  .fit(T, y).coef_)  # init itself is left as it was


def test_warm_start_bad_input(overlapping):
    T, y = overlapping
    with pytest.raises(TypeError, match="init"):
        SoftmaxRegression().fit(T, y, init=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="init is not fitted"):
        SoftmaxRegression().fit(T, y, init=SoftmaxRegression())
    other = SoftmaxRegression(alpha=1e-2).fit(T[:, :3], y)
    with pytest.raises(ValueError, match="init has 3 classes and 3 features"):
        SoftmaxRegression().fit(T, y, init=other)
    with pytest.raises(ValueError, match="init has 3 classes"):
        SoftmaxRegression().fit(T, y, n_classes=4, init=SoftmaxRegression().fit(T, y))
