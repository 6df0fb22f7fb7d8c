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


# ---------------------------------------------------------------- declared constraints

def test_validate_checks_and_converts_before_the_body_runs():
    from maxent_lib.validation import DECLARED, Array, Integer, Labels, validate

    seen = {}

    @validate(T=Array(ndim=2), y=Labels(n_classes="n_classes"),
              n_classes=Integer(low=2, optional=True))
    def fit(T, y, n_classes=None):
        seen.update(T=T, y=y, n_classes=n_classes)
        return "fitted"

    assert fit([[1, 2], [3, 4]], [0, 1], n_classes=np.int64(3)) == "fitted"
    assert seen["T"].dtype == np.float64 and seen["y"].dtype == np.int64
    assert type(seen["n_classes"]) is int
    assert f"{fit.__module__}.{fit.__qualname__}" in DECLARED
    # the labels are checked against n_classes although n_classes comes after them
    with pytest.raises(ValueError, match="out of range for 3 classes"):
        fit([[1, 2], [3, 4]], [0, 5], n_classes=3)
    with pytest.raises(TypeError, match="n_classes"):
        fit([[1, 2]], [0], n_classes=2.0)


def test_validate_refuses_an_undeclared_parameter_at_import_time():
    from maxent_lib.validation import Real, validate

    with pytest.raises(TypeError, match="missing"):
        @validate(a=Real())
        def f(a, b):
            return a

    with pytest.raises(TypeError, match="unknown"):
        @validate(a=Real(), c=Real())
        def g(a):
            return a


def test_validate_declares_a_dataclass_through_its_init():
    from dataclasses import dataclass

    from maxent_lib.validation import DECLARED, Flag, Integer, validate

    @validate(n=Integer(low=1), on=Flag())
    @dataclass
    class Settings:
        n: int
        on: bool = False

    assert Settings(np.int64(3)).n == 3
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        Settings(0)
    with pytest.raises(TypeError, match="on must be True or False"):
        Settings(1, on="False")
    assert any(name.endswith("Settings.__init__") for name in DECLARED)


def test_every_bad_value_of_a_constraint_is_refused_with_its_kind():
    """The bad values a constraint lists (they generate the bad-input suite) are refused by the
    constraint itself, with the kind of error they name."""
    from maxent_lib import validation as V

    examples = [(V.Real(low=0.0, high=1.0), 0.5), (V.Integer(low=1, high=9), 3), (V.Seed(), 3),
                (V.Flag(), True), (V.Choice(("a", "b")), "a"), (V.Text(empty=False), "x"),
                (V.PathArg(file=True), "r.jsonl"), (V.Array(ndim=2, max_abs=1e3), np.ones((3, 2))),
                (V.Array(ndim=1, min_len=2, low=0.0, low_open=True), [1.0, 2.0]),
                (V.Labels(), [0, 1, 2]), (V.Probabilities(ndim=2), np.full((2, 2), 0.5)),
                (V.Items(V.Integer(low=0), min_len=1, unique=True), [0, 1]),
                (V.Tuple((V.Real(), V.Text()), ("x", "s")), (1.0, "a")),
                (V.Dict(fields={"k": V.Integer()}, required=("k",), closed=True), {"k": 1}),
                (V.OneOf((V.Real(low=0.0), V.Items(V.Real(low=0.0), min_len=1))), [0.1]),
                (V.Function(), len), (V.Instance((int,)), 3)]
    for constraint, example in examples:
        constraint.check(example, "arg", {})
        for label, bad, kind in constraint.bad_values(example):
            with pytest.raises(ValueError) as info:
                if bad is None and constraint.optional:
                    raise ValueError("None is accepted")
                constraint.check(bad, "arg", {})
            assert isinstance(info.value, TypeError) == (kind == "type"), (constraint, label)
