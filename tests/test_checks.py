"""The shared validation helpers turn every kind of bad input into a plain ValueError."""

import numpy as np
import pytest

from maxent_lib._checks import as_finite_array, check_labels, check_probabilities, check_same_length
from maxent_lib.exercises import Feedback, check_close, is_placeholder, placeholder


def test_as_finite_array_accepts_and_converts():
    arr = as_finite_array([[1, 2], [3, 4]], "X", ndim=2)
    assert arr.dtype == np.float64 and arr.shape == (2, 2)


@pytest.mark.parametrize(
    "value, ndim, message",
    [
        ([1.0, np.nan], 1, "NaN or inf"),
        ([1.0, np.inf], 1, "NaN or inf"),
        ([1.0, 2.0], 2, "dimension"),
        (np.zeros((0, 3)), 2, "empty"),
        ("abc", None, "array of numbers"),
    ],
)
def test_as_finite_array_rejects(value, ndim, message):
    with pytest.raises(ValueError, match=message):
        as_finite_array(value, "X", ndim=ndim)


def test_check_probabilities():
    p = check_probabilities([[0.2, 0.8], [1.0, 0.0]], "p")
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)
    with pytest.raises(ValueError, match="negative"):
        check_probabilities([1.5, -0.5], "p")
    with pytest.raises(ValueError, match="sum to one"):
        check_probabilities([0.2, 0.2], "p")
    with pytest.raises(ValueError, match="scalar"):
        check_probabilities(1.0, "p")


def test_check_labels():
    np.testing.assert_array_equal(check_labels(np.array([0.0, 2.0]), 3), [0, 2])
    with pytest.raises(ValueError, match="out of range"):
        check_labels([0, 3], 3)
    with pytest.raises(ValueError, match="negative"):
        check_labels([-1, 0], 3)
    with pytest.raises(ValueError, match="non-integer"):
        check_labels([0.5, 1.0], 3)
    with pytest.raises(ValueError, match="1-D"):
        check_labels([[0, 1]], 3)
    with pytest.raises(ValueError, match="integer class labels"):
        check_labels(np.array(["a", "b"]), 3)


def test_check_same_length():
    check_same_length("X", np.zeros(3), "y", np.zeros(3))
    with pytest.raises(ValueError, match="3 rows but y has 2"):
        check_same_length("X", np.zeros(3), "y", np.zeros(2))


def test_placeholder_and_check_close():
    assert is_placeholder(placeholder()) and is_placeholder(placeholder((2, 3)))
    assert is_placeholder(None) and not is_placeholder([0.0, np.nan]) and not is_placeholder("x")
    ok = check_close("E1", [1.0, 2.0], [1.0, 2.0], hint="h", success="s")
    assert ok.correct is True and "Correct" in str(ok)
    assert check_close("E1", placeholder(2), [1.0, 2.0], hint="h", success="s").correct is None
    wrong = check_close("E1", [1.0, 3.0], [1.0, 2.0], hint="look at the sign", success="s")
    assert wrong.correct is False and "sign" in wrong.message
    shape = check_close("E1", [1.0], [1.0, 2.0], hint="h", success="s")
    assert shape.correct is False and "shape" in shape.message
    assert isinstance(check_close("E1", "text", 1.0, hint="h", success="s"), Feedback)
    assert "✅" in ok._repr_markdown_()
