"""Lesson 07 exercise checkers: the right answer passes, each common mistake gets its own
message, the placeholder says only what to give."""

import math

import numpy as np
import pytest
from scipy import stats

from maxent_lib import exercises
from maxent_lib.exercises import lesson07


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_exercise_1():
    right = np.array([1, 0, 1, -1])
    assert lesson07.exercise_1(right).correct is True
    assert lesson07.exercise_1([1, 0, 1, -1]).correct is True
    cases = [(np.array([0, 0, 0, 0]), "Hint 1"), (np.array([1, 0, -1, -1]), "sign of each"),
             (-right, "flipped"), (np.array([1, 0.5, 1, -1]), "whole numbers"),
             (["supported", "inconclusive", "supported", "contradicted"], "as numbers"),
             (np.array([1, 0, 1]), "shape")]
    for answer, words in cases:
        fb = lesson07.exercise_1(answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson07.exercise_1(exercises.placeholder((4,)))
    assert blank.correct is None and "side" not in blank.message


def test_exercise_2():
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    d = b - a
    n = len(d)
    t = stats.t.ppf(0.975, n - 1)
    half = t * d.std(ddof=1) / math.sqrt(n)
    m = d.mean()
    assert lesson07.exercise_2([m, m - half, m + half], a, b).correct is True
    unpaired = t * math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    z = 1.959964 * d.std(ddof=1) / math.sqrt(n)
    cases = [([m, m - 1, m + 1], "Hint 1"), ([m, m - z, m + z], "normal quantile"),
             ([m, m - unpaired, m + unpaired], "unpaired"),
             ([m, m - t * d.std() / math.sqrt(n), m + t * d.std() / math.sqrt(n)], "ddof=1"),
             ([-m, -m - half, -m + half], "wrong way round"),
             ([m - half, m + half, m], "order")]
    for answer, words in cases:
        fb = lesson07.exercise_2(answer, a, b)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    fb = lesson07.exercise_2([m, m - half, m + half], a[:3], b)  # bad data: feedback, no error
    assert fb.correct is False and "data" in fb.message
    assert lesson07.exercise_2(exercises.placeholder((3,)), a, b).correct is None


def test_exercise_3():
    effect, sd = 0.02, 0.03
    n = lesson07.seeds_needed(effect, sd)
    assert lesson07.exercise_3(n, effect, sd).correct is True
    assert stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) < effect
    assert stats.t.ppf(0.975, n - 2) * sd / math.sqrt(n - 1) >= effect
    normal = math.ceil((1.959964 * sd / effect) ** 2)
    assert normal != n
    cases = [(n + 7, "Hint 1"), (normal, "normal-quantile"), (n - 1, "one short"),
             (n + 0.5, "whole number")]
    for answer, words in cases:
        fb = lesson07.exercise_3(answer, effect, sd)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert lesson07.exercise_3(exercises.placeholder(), effect, sd).correct is None
    assert lesson07.exercise_3(3, 0.0, sd).correct is None  # no answer exists


def test_exercise_4():
    want = lesson07.exercise_4_expected()
    assert want == [("supported", "supported"), ("inconclusive", "supported"),
                    ("mixed", "supported"), ("contradicted", "contradicted"),
                    ("mixed", "mixed")]
    assert lesson07.exercise_4(want).correct is True
    assert lesson07.exercise_4([(a.upper(), " " + b) for a, b in want]).correct is True
    assert lesson07.exercise_4(np.array(want)).correct is True
    swapped = [(b, a) for a, b in want]
    existential_twice = [(b, b) for _, b in want]
    unclear_ok = [want[0], ("supported", "supported"), *want[2:]]
    negl_unclear = [*want[:2], ("inconclusive", "supported"), *want[3:]]
    negl_against = [*want[:2], ("mixed", "mixed"), *want[3:]]
    against_unclear = [*want[:3], ("inconclusive", "inconclusive"), want[4]]
    cases = [([*want[:4], ("supported", "mixed")], "Hint 1"),
             (swapped, "swapped"), (existential_twice, "existential rule"),
             (unclear_ok, "family 2"), (negl_unclear, "family 3 has a negligible"),
             (negl_against, "not against"), (against_unclear, "family 4"),
             ([("great", "fine")] * 5, "not a verdict"), (want[:3], "got 3 entries"),
             ([(1, 0)] * 5, "as words"), ("supported", "pairs"), ({"a": 1}, "pairs")]
    for answer, words in cases:
        fb = lesson07.exercise_4(answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = lesson07.exercise_4(exercises.placeholder((5, 2)))
    assert blank.correct is None and "every" not in blank.message
    assert lesson07.exercise_4(None).correct is None


def test_exercise_4_hints_grow():
    want = lesson07.exercise_4_expected()
    first = lesson07.exercise_4([*want[:4], ("supported", "mixed")])
    second = lesson07.exercise_4([*want[:4], ("negligible", "mixed")])
    assert "Hint 1" in first.message and "Hint 2" in second.message


def test_exercise_5():
    t, g = lesson07.EXAMPLE_TRAIN_CONTRAST, lesson07.EXAMPLE_GAP_CONTRAST
    fit, gen = t.mean(), -g.mean()
    assert lesson07.exercise_5([fit, gen], t, g).correct is True
    cases = [([1.0, 1.0], "Hint 1"), ([fit, -gen], "minus the change"), ([gen, fit], "order"),
             ([fit + gen, gen], "training-accuracy contrast alone"),
             ([100 * fit, 100 * gen], "percentages")]
    for answer, words in cases:
        fb = lesson07.exercise_5(answer, t, g)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    assert lesson07.exercise_5(exercises.placeholder((2,)), t, g).correct is None
    fb = lesson07.exercise_5([fit, gen], t[:3], g)  # bad data: feedback, no error
    assert fb.correct is False and "data" in fb.message


def test_exercise_5_reading():
    t, g = lesson07.EXAMPLE_TRAIN_CONTRAST, lesson07.EXAMPLE_GAP_CONTRAST
    assert np.mean(-g) < 0  # the example's gap grows: its generalisation part is negative
    assert lesson07.exercise_5_reading("fit", t, g).correct is True
    assert lesson07.exercise_5_reading(" Fit ", t, g).correct is True
    fb = lesson07.exercise_5_reading("generalisation", t, g)
    assert fb.correct is False and "does not lie above 0" in fb.message
    both_means = np.array([-0.004, 0.012, -0.01, 0.009, -0.002, -0.011])  # -mean > 0, covers 0
    assert -both_means.mean() > 0
    fb = lesson07.exercise_5_reading("fit and generalisation", t, both_means)
    assert fb.correct is False and "lower ends" in fb.message
    fb = lesson07.exercise_5_reading("neither", t, g)
    assert fb.correct is False and "Hint" in fb.message
    assert lesson07.exercise_5_reading("maybe", t, g).correct is False
    assert lesson07.exercise_5_reading(3, t, g).correct is False
    assert lesson07.exercise_5_reading(exercises.placeholder(), t, g).correct is None


def test_exercise_5_data():
    t, g, origin = lesson07.exercise_5_data(None)
    assert origin == "made-up example numbers" and len(t) == len(g)
    recs = []
    for depth in (2, 8):
        for seed in range(4):
            for arm in ("plain", "residual"):
                train = 0.9 + (0.05 if (depth, arm) == (8, "residual") else 0.0) + 0.001 * seed
                test = 0.6 + (0.02 if (depth, arm) == (8, "residual") else 0.0)
                recs.append({"kind": "mlp", "depth": depth, "arm": arm, "seed": seed,
                             "n_classes": 10, "train_acc": train, "test_acc": test,
                             "gen_gap": train - test})
    t, g, origin = lesson07.exercise_5_data(recs)
    assert origin == "stored results: MLP, depth 8 vs 2, 4 seeds"   # the only architecture
    np.testing.assert_allclose(t, 0.05)
    np.testing.assert_allclose(g, 0.03)
    assert lesson07.exercise_5_data([{"kind": "mlp"}])[2] == "made-up example numbers"


def test_exercise_5_data_takes_the_architecture_with_the_largest_contrast():
    recs = []
    for kind, gain in (("mlp", 0.01), ("cnn", 0.04)):
        for depth in (2, 8):
            for seed in range(3):
                for arm in ("plain", "residual"):
                    test = 0.6 + (gain if (depth, arm) == (8, "residual") else 0.0) + 0.001 * seed
                    recs.append({"kind": kind, "depth": depth, "arm": arm, "seed": seed,
                                 "n_classes": 10, "train_acc": 1.0, "test_acc": test,
                                 "gen_gap": 1.0 - test})
    t, g, origin = lesson07.exercise_5_data(recs)
    assert origin.startswith("stored results: CNN")
    np.testing.assert_allclose(t, 0.0, atol=1e-12)
    np.testing.assert_allclose(g, -0.04, atol=1e-9)
    assert lesson07.exercise_5_reading("generalisation", t, g).correct is True


def test_verdict_words_are_asked_as_codes():
    for word in ("supported", "inconclusive", "contradicted"):
        fb = lesson07.exercise_1([word, 0, 0, 0])
        assert fb.correct is False and "code the verdicts as numbers" in fb.message, word


def test_seeds_needed_is_the_first_n_whose_interval_excludes_zero():
    for effect, sd, level in ((0.02, 0.03, 0.95), (-0.01, 0.05, 0.95), (0.5, 0.1, 0.9),
                              (0.003, 0.05, 0.95)):
        n = lesson07.seeds_needed(effect, sd, level)
        half = [stats.t.ppf((1 + level) / 2, k - 1) * sd / np.sqrt(k) for k in (n - 1, n)]
        assert n >= 2 and half[1] < abs(effect)
        assert n == 2 or half[0] >= abs(effect)
    assert lesson07.seeds_needed(10.0, 0.001) == 2             # the smallest n is 2
    for bad in ((0.0, 0.1), (0.1, 0.0), (0.1, -1.0), (np.nan, 0.1), (0.1, np.inf)):
        with pytest.raises(ValueError):
            lesson07.seeds_needed(*bad)
    with pytest.raises(ValueError, match="more than 50 seeds"):
        lesson07.seeds_needed(0.001, 0.1, n_max=50)


def test_exercise_2_data_takes_two_paired_seeds_or_says_it_made_them_up():
    recs = [{"kind": "mlp", "depth": d, "arm": a, "seed": s, "test_acc": 0.5 + 0.01 * s}
            for d in (2, 4) for a in ("plain", "residual") for s in (0, 1)]
    a, b, what = lesson07.exercise_2_data(recs)
    assert what.startswith("stored results: MLP of depth 4") and len(a) == 2
    a, b, what = lesson07.exercise_2_data([r for r in recs if r["seed"] == 0])
    assert what == "made-up example numbers"
    np.testing.assert_array_equal(a, lesson07.EXAMPLE_BASELINE)


def test_exercise_2_refuses_data_that_are_not_paired_seeds():
    for a, b in ((np.ones((2, 2)), np.ones((2, 2))), (np.ones(1), np.ones(1)),
                 (np.ones(3), np.ones(4))):
        fb = lesson07.exercise_2([0.0, 0.0, 0.0], a, b)
        assert fb.correct is False and "two 1-D arrays" in fb.message
