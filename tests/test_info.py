"""Tests for maxent_lib.info: entropy, cross-entropy, KL divergence, mutual information."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from maxent_lib.info import cross_entropy, entropy, kl_divergence, mutual_information

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def distributions(draw, k=None):
    k = draw(st.integers(1, 8)) if k is None else k
    w = draw(arrays(np.float64, k, elements=st.floats(0, 10)))
    zero_mask = draw(arrays(np.bool_, k))
    w = np.where(zero_mask, 0.0, w)
    if w.sum() == 0:
        w[0] = 1.0
    return w / w.sum()


@st.composite
def pairs(draw):
    k = draw(st.integers(1, 8))
    return draw(distributions(k)), draw(distributions(k))


@SETTINGS
@given(distributions())
def test_entropy_between_zero_and_log_k(p):
    h = entropy(p)
    assert -1e-12 <= h <= np.log(len(p)) + 1e-12


@SETTINGS
@given(st.integers(1, 50))
def test_entropy_of_uniform_is_log_k(k):
    assert entropy(np.full(k, 1.0 / k)) == pytest.approx(np.log(k), abs=1e-12)


def test_zero_log_zero_is_zero():
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    assert entropy([0.5, 0.5, 0.0]) == pytest.approx(np.log(2))
    assert kl_divergence([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(np.log(2))


@SETTINGS
@given(pairs())
def test_kl_nonnegative_and_ce_decomposes(pq):
    p, q = pq
    kl = kl_divergence(p, q)
    ce = cross_entropy(p, q)
    assert kl >= 0
    if np.isfinite(kl):
        assert ce == pytest.approx(entropy(p) + kl, abs=1e-9)
    else:
        assert np.isinf(ce) and np.any((q == 0) & (p > 0))


@SETTINGS
@given(distributions())
def test_kl_to_itself_is_zero(p):
    assert kl_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


def test_known_values():
    p, q = np.array([0.5, 0.5]), np.array([0.9, 0.1])
    expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-12)
    assert cross_entropy(p, q) == pytest.approx(-0.5 * np.log(0.9) - 0.5 * np.log(0.1), rel=1e-12)


def test_infinite_where_q_is_zero_and_p_is_not():
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0


def test_batches_over_leading_axes():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=(3, 4))
    q = rng.dirichlet(np.ones(5), size=(3, 4))
    h, kl = entropy(p), kl_divergence(p, q)
    assert h.shape == (3, 4) and kl.shape == (3, 4)
    assert kl[1, 2] == pytest.approx(kl_divergence(p[1, 2], q[1, 2]))
    assert kl_divergence(p, q[0, 0]).shape == (3, 4)  # broadcasting one q


def test_mutual_information():
    independent = np.outer([0.3, 0.7], [0.2, 0.5, 0.3])
    assert mutual_information(independent) == pytest.approx(0.0, abs=1e-12)
    copy = np.diag([0.25, 0.25, 0.5])  # Y = X
    assert mutual_information(copy) == pytest.approx(entropy([0.25, 0.25, 0.5]))


@pytest.mark.parametrize("bad, match", [
    ([0.5, 0.6], "sum to one"),
    ([1.5, -0.5], "negative"),
    ([np.nan, 1.0], "NaN"),
    ([np.inf, 0.0], "NaN or inf"),
    ([], "empty"),
    (0.5, "scalar"),
    ("abc", "array of numbers"),
])
def test_entropy_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        entropy(bad)


def test_pairs_reject_mismatched_outcomes():
    with pytest.raises(ValueError, match="same number of outcomes"):
        kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="broadcast"):
        cross_entropy(np.full((2, 2), 0.5), np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="sum to one"):
        cross_entropy([0.5, 0.5], [0.5, 0.6])


def test_mutual_information_rejects_bad_tables():
    with pytest.raises(ValueError, match="2 dimension"):
        mutual_information([0.5, 0.5])
    with pytest.raises(ValueError, match="sum to one"):
        mutual_information([[0.5, 0.5], [0.5, 0.5]])


def test_the_toolbox_identities_of_lesson_01():
    """cross-entropy = H + KL; I(X;Y) = H(Y) - H(Y|X) = KL(joint || product of marginals)."""
    rng = np.random.default_rng(3)
    joint = rng.dirichlet(np.ones(12)).reshape(3, 4)
    px, py = joint.sum(1), joint.sum(0)
    h_y_given_x = px @ entropy(joint / px[:, None])
    mi = mutual_information(joint)
    assert mi == pytest.approx(entropy(py) - h_y_given_x, abs=1e-12)
    assert mi == pytest.approx(kl_divergence(joint.ravel(), np.outer(px, py).ravel()), abs=1e-12)
    assert mutual_information(np.outer(px, py)) == pytest.approx(0.0, abs=1e-12)
    p, q = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    assert cross_entropy(p, q) == pytest.approx(entropy(p) + kl_divergence(p, q), abs=1e-12)
