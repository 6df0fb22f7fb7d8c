"""Lesson 07 exercise checkers at their edges: the example data have the properties the lesson
states, the rules' boundaries are where the lesson puts them (two seeds are enough, the seeds'
condition is strict, "above 0" means above), a named mistake is told only when it is made, and
the numbers in the success messages are the right ones."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from maxent_lib import exercises
from maxent_lib import stats as course_stats
from maxent_lib.evidence import c6_split
from maxent_lib.exercises import lesson07

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def _t_interval(values) -> tuple[float, float, float]:
    """The 95% Student-t interval of the mean, computed here with scipy (not the course's)."""
    v = np.asarray(values, dtype=float)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    return float(v.mean()), float(lo), float(hi)


def _near_misses(value) -> list[np.ndarray]:
    """Answers close to a mistake's value but not it: every entry half as large again, and
    every entry moved by 0.001 (far beyond the checkers' tolerances)."""
    v = np.asarray(value, dtype=float)
    return [1.5 * v, v + 1e-3]


# ----------------------------------------------------------------------------- exercise 7.1
def test_exercise_1_intervals_are_the_worked_solutions():
    """The solutions notebook reads the four intervals by their ends: the data must be those."""
    nb = json.loads((ROOT / "notebooks/solutions/07_solutions.ipynb").read_text())
    text = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"
                and "Exercise 7.1" in "".join(c["source"]))
    ends = [(float(a), float(b)) for a, b in re.findall(r"\$\[(-?[\d.]+), (-?[\d.]+)\]\$", text)]
    assert ends == [(lo, hi) for lo, hi, _ in lesson07.EXERCISE_1_INTERVALS]
    codes = [lesson07.VERDICT_CODES[course_stats.verdict(lo, hi, d)]
             for lo, hi, d in lesson07.EXERCISE_1_INTERVALS]
    assert codes == [1, 0, 1, -1]  # the worked solution's codes
    assert lesson07.exercise_1(np.array(codes)).message.startswith("the codes are [1, 0, 1, -1]")


def test_exercise_1_wrong_whole_numbers_get_a_hint_not_the_whole_number_message():
    # interval 3 read as inconclusive: whole numbers, none of the named mistakes
    fb = lesson07.exercise_1(np.array([1, 0, 0, -1]))
    assert fb.correct is False and fb.message.startswith("Hint 1"), fb.message
    fb = lesson07.exercise_1(np.array([1.0, 0.0, 1.0, -0.5]))
    assert fb.correct is False and "whole numbers" in fb.message


# ----------------------------------------------------------------------------- exercise 7.2
def test_exercise_2_example_accuracies_are_fractions_with_a_small_paired_gain():
    """The made-up example stands in for per-seed test accuracies: fractions in [0, 1], with a
    small gain of the residual net (the question "does the interval exclude 0?" is a real one)."""
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    for arr in (a, b):
        assert arr.shape == (5,) and np.all((arr >= 0) & (arr <= 1))
    assert 0 < np.mean(b - a) < 0.1


def _records(depth_gain: dict[int, float], seeds=(0, 1, 2), plain_only=(), residual_only=()):
    recs = []
    for depth, gain in depth_gain.items():
        for seed in seeds:
            for arm in ("plain", "residual"):
                if (arm == "plain" and seed in residual_only) or \
                        (arm == "residual" and seed in plain_only):
                    continue
                acc = 0.6 + 0.01 * seed + (gain if arm == "residual" else 0.0)
                recs.append({"kind": "mlp", "depth": depth, "arm": arm, "seed": seed,
                             "test_acc": acc})
    return recs


def test_exercise_2_data_reads_the_second_shallowest_depth_only():
    recs = _records({8: 0.05, 2: 0.01, 4: 0.02})
    a, b, what = lesson07.exercise_2_data(recs)
    assert what == "stored results: MLP of depth 4, seeds [0, 1, 2]"
    np.testing.assert_allclose(a, [0.60, 0.61, 0.62])
    np.testing.assert_allclose(b - a, 0.02)


def test_exercise_2_data_with_one_depth_reads_that_depth():
    a, b, what = lesson07.exercise_2_data(_records({6: 0.03}))
    assert what == "stored results: MLP of depth 6, seeds [0, 1, 2]"
    np.testing.assert_allclose(b - a, 0.03)


def test_exercise_2_data_pairs_only_seeds_that_both_arms_ran():
    recs = _records({2: 0.01, 4: 0.02}, seeds=(0, 1, 2, 3), plain_only=(3,), residual_only=(0,))
    a, b, what = lesson07.exercise_2_data(recs)
    assert what == "stored results: MLP of depth 4, seeds [1, 2]"
    np.testing.assert_allclose(a, [0.61, 0.62])


def test_exercise_2_two_seeds_are_enough():
    """The checker asks for length >= 2 (the least a t interval needs): two seeds are read."""
    a, b = np.array([0.60, 0.62]), np.array([0.63, 0.64])
    m, lo, hi = _t_interval(b - a)
    fb = lesson07.exercise_2([m, lo, hi], a, b)
    assert fb.correct is True, fb.message


def test_exercise_2_success_message_shows_the_interval():
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    m, lo, hi = _t_interval(b - a)
    fb = lesson07.exercise_2([m, lo, hi], a, b)
    assert fb.correct is True
    assert fb.message == f"mean {m:+.4f}, 95% interval [{lo:+.4f}, {hi:+.4f}] over 5 seeds."


def _exercise_2_mistakes(a, b) -> dict[str, list[float]]:
    d = b - a
    n = len(d)
    m, sd = d.mean(), d.std(ddof=1)
    t = stats.t.ppf(0.975, n - 1)
    unpaired = math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
    pooled_t = stats.t.ppf(0.975, 2 * n - 2)  # the df of a two-sample test of 2n values
    half = t * sd / math.sqrt(n)
    return {
        "normal quantile 1.96": [m, m - 1.959964 * sd / math.sqrt(n),
                                 m + 1.959964 * sd / math.sqrt(n)],
        "unpaired comparison": [m, m - t * unpaired, m + t * unpaired],
        "unpaired comparison ": [m, m - pooled_t * unpaired, m + pooled_t * unpaired],
        "sample standard deviation, ddof=1": [m, m - t * d.std() / math.sqrt(n),
                                              m + t * d.std() / math.sqrt(n)],
        "wrong way round": [-m, -m - half, -m + half],
        "the order is [mean, lo, hi]": [m - half, m + half, m],
    }


def test_exercise_2_each_mistake_gets_its_own_message():
    """Each named mistake, made on the example data, gets its message (not a hint that happens
    to use the same words): the unpaired interval with n - 1 or with 2n - 2 degrees of freedom."""
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    for words, answer in _exercise_2_mistakes(a, b).items():
        fb = lesson07.exercise_2(answer, a, b)
        assert fb.correct is False and words.strip() in fb.message, (words, fb.message)
        assert "Hint" not in fb.message


def test_exercise_2_near_a_mistake_is_not_that_mistake():
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    for words, value in _exercise_2_mistakes(a, b).items():
        for answer in _near_misses(value):
            fb = lesson07.exercise_2(answer, a, b)
            assert fb.correct is False and "Hint" in fb.message, (words, answer, fb.message)


def test_exercise_2_data_that_are_not_numbers_get_feedback():
    fb = lesson07.exercise_2([0.0, 0.0, 0.0], ["a", "b"], ["c", "d"])
    assert fb.correct is False and "could not be read" in fb.message


# ----------------------------------------------------------------------------- exercise 7.3
def _half(n: int, sd: float = 1.0) -> float:
    return stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)


def test_seeds_needed_condition_is_strict():
    """The lesson's condition is half-width < |effect|: an effect exactly equal to the
    half-width at n is not enough at n. (The effect is computed as seeds_needed computes its
    half-widths, over one array, so that it equals the n-th to the last bit.)"""
    n_arr = np.arange(2, 1001, dtype=float)
    halves = stats.t.ppf((1 + 0.95) / 2, n_arr - 1) * 1.0 / np.sqrt(n_arr)
    effect = float(halves[10 - 2])  # the half-width at n = 10
    assert lesson07.seeds_needed(effect, 1.0) == 11
    fb = lesson07.exercise_3(10, effect, 1.0)
    assert fb.correct is False and "one short" in fb.message


def test_seeds_needed_searches_up_to_and_including_n_max():
    """n_max is the most seeds searched ("more than n_max would be needed" otherwise); the
    answers 1000 and 1001 sit at the end and the start of the search's chunks."""
    for n in (1000, 1001):
        effect = (_half(n - 1) + _half(n)) / 2  # n is enough, n - 1 is not
        assert lesson07.seeds_needed(effect, 1.0) == n
        assert lesson07.seeds_needed(effect, 1.0, n_max=n) == n
        with pytest.raises(ValueError, match=f"more than {n - 1} seeds"):
            lesson07.seeds_needed(effect, 1.0, n_max=n - 1)


def test_seeds_needed_refuses_what_has_no_answer_with_its_reason():
    for bad in ((0.0, 0.1), (np.nan, 0.1), (0.1, np.inf), (0.1, 0.0)):
        with pytest.raises(ValueError, match="non-zero and sd positive"):
            lesson07.seeds_needed(*bad)
    first = next(k for k in range(2, 100) if _half(k) < 1.0)
    assert lesson07.seeds_needed(1.0, 1.0) == first  # an effect of 1 is an effect like any other


def test_exercise_3_success_message_shows_the_half_width():
    effect, sd = -0.02, 0.03
    n = lesson07.seeds_needed(effect, sd)
    fb = lesson07.exercise_3(n, effect, sd)
    assert fb.correct is True
    assert fb.message == (f"{n} seeds: the half-width {_half(n, sd):.4f} is then below "
                          f"|effect| = 0.0200.")
    assert _half(n, sd) < 0.02


def test_exercise_3_normal_answer_off_by_one():
    """The normal-quantile answer +-1 gets its message when it is more than one seed from the
    right answer; two seeds short is not "one short"."""
    effect, sd = 0.02, 0.03
    n = lesson07.seeds_needed(effect, sd)
    normal = math.ceil((1.959964 * sd / effect) ** 2)
    assert (n, normal) == (12, 9)
    for g in (normal - 1, normal + 1):
        fb = lesson07.exercise_3(g, effect, sd)
        assert fb.correct is False and "plus or minus one" in fb.message, (g, fb.message)
    fb = lesson07.exercise_3(n - 2, effect, sd)
    assert fb.correct is False and "one short" not in fb.message
    for g in (n + 1, n + 3):  # more than needed, not the normal answer +-1: a hint
        fb = lesson07.exercise_3(g, effect, sd)
        assert fb.correct is False and "Hint" in fb.message, (g, fb.message)


# ----------------------------------------------------------------------------- exercise 7.4
def test_exercise_4_calls_are_the_courses_call_words():
    for family in lesson07.EXERCISE_4_CALLS:
        assert family and set(family) <= set(course_stats.CALLS), family


@pytest.mark.parametrize("pair", [("inconclusive", "contradicted"),
                                  ("contradicted", "inconclusive")])
def test_exercise_4_family_4_read_as_inconclusive_in_either_column(pair):
    want = lesson07.exercise_4_expected()
    fb = lesson07.exercise_4([*want[:3], pair, want[4]])
    assert fb.correct is False and "family 4" in fb.message


def test_exercise_4_negligible_read_as_against_for_some_setting():
    want = lesson07.exercise_4_expected()
    fb = lesson07.exercise_4([*want[:2], ("mixed", "contradicted"), *want[3:]])
    assert fb.correct is False and "not against the prediction" in fb.message


def test_exercise_4_answers_of_the_wrong_form_are_told_the_form():
    task = ("give 5 pairs (universal verdict, existential verdict), one per family, each a "
            "verdict word such as 'supported'.")
    for answer in ("supported", b"supported", 5, {"a": ("supported", "mixed")}):
        assert lesson07.exercise_4(answer).message == task, answer
    want = lesson07.exercise_4_expected()
    fb = lesson07.exercise_4([*want[:4], ("mixed", "mixed", "mixed")])
    assert fb.correct is False and fb.message == task[:-1] + " (got 5 entries)."
    fb = lesson07.exercise_4([*want[:4], ("mixed", 1)])
    assert fb.correct is False and "as words" in fb.message
    fb = lesson07.exercise_4([*want[:4], ("mixed", "Maybe ")])
    assert fb.correct is False and fb.message.startswith("['maybe'] is not a verdict: use ")
    assert all(w in fb.message for w in course_stats.FAMILY_VERDICTS)


def test_exercise_4_an_answer_that_fails_while_read_gets_feedback():
    def answers():
        yield ("supported", "supported")
        raise KeyError("family 2")  # the student's own code fails half-way

    fb = lesson07.exercise_4(answers())
    assert fb.correct is False and fb.message.startswith("this answer could not be checked")


# ----------------------------------------------------------------------------- exercise 7.5
def test_exercise_5_example_shows_a_growing_gain_in_test_accuracy():
    """C6's example: the test-accuracy contrast d(train) - d(gap) is a gain whose interval
    lies above 0, carried by the fit part (the reading "fit")."""
    t, g = lesson07.EXAMPLE_TRAIN_CONTRAST, lesson07.EXAMPLE_GAP_CONTRAST
    assert t.shape == g.shape == (6,)
    assert _t_interval(t - g)[1] > 0
    assert _t_interval(t)[1] > 0 and _t_interval(-g)[1] <= 0
    assert lesson07.exercise_5_reading("fit", t, g).correct is True


def _c6_records(gains: dict[str, list[float]]) -> list[dict]:
    """Shortcut-grid records whose test-accuracy contrast of architecture k at seed i is
    gains[k][i] (training accuracy 1 everywhere)."""
    recs = []
    for kind, per_seed in gains.items():
        for seed, gain in enumerate(per_seed):
            for depth in (2, 8):
                for arm in ("plain", "residual"):
                    test = 0.6 + (gain if (depth, arm) == (8, "residual") else 0.0)
                    recs.append({"kind": kind, "depth": depth, "arm": arm, "seed": seed,
                                 "n_classes": 10, "train_acc": 1.0, "test_acc": test,
                                 "gen_gap": 1.0 - test})
    return recs


def test_exercise_5_data_with_two_seeds_is_read():
    t, g, origin = lesson07.exercise_5_data(_c6_records({"mlp": [0.02, 0.03]}))
    assert origin == "stored results: MLP, depth 8 vs 2, 2 seeds"
    np.testing.assert_allclose(-g, [0.02, 0.03], atol=1e-9)


def test_exercise_5_data_takes_the_largest_mean_contrast_not_the_highest_lower_end():
    gains = {"mlp": [0.02, 0.021, 0.019], "cnn": [0.05, 0.03, 0.07]}
    rows = {r["kind"]: r for r in c6_split(_c6_records(gains))}
    assert rows["cnn"]["test"][0] > rows["mlp"]["test"][0]
    assert 0 < rows["cnn"]["test"][1] < rows["mlp"]["test"][1]
    t, g, origin = lesson07.exercise_5_data(_c6_records(gains))
    assert origin.startswith("stored results: CNN")
    np.testing.assert_allclose(-g, gains["cnn"], atol=1e-9)


def test_exercise_5_two_seeds_are_enough_and_the_message_adds_up():
    t, g = np.array([0.04, 0.05]), np.array([0.01, -0.03])
    fit, gen = t.mean(), -g.mean()
    fb = lesson07.exercise_5([fit, gen], t, g)
    assert fb.correct is True
    test_contrast = np.mean(t - g)  # d(test) = d(train) - d(gap), seed by seed
    assert fb.message == (f"fit part {fit:+.4f}, generalisation part {gen:+.4f}; together the "
                          f"test-accuracy contrast {test_contrast:+.4f}.")


def _exercise_5_mistakes(t, g) -> dict[str, list[float]]:
    fit, gen = t.mean(), -g.mean()
    return {"minus the change": [fit, -gen], "the order is": [gen, fit],
            "training-accuracy contrast alone": [fit + gen, gen],
            "percentages": [100 * fit, 100 * gen]}


def test_exercise_5_near_a_mistake_is_not_that_mistake():
    t, g = lesson07.EXAMPLE_TRAIN_CONTRAST, lesson07.EXAMPLE_GAP_CONTRAST
    for words, value in _exercise_5_mistakes(t, g).items():
        fb = lesson07.exercise_5(value, t, g)
        assert fb.correct is False and words in fb.message, (words, fb.message)
        for answer in _near_misses(value):
            fb = lesson07.exercise_5(answer, t, g)
            assert fb.correct is False and "Hint" in fb.message, (words, answer, fb.message)


def test_exercise_5_last_hint_is_a_formula_that_gives_the_answer():
    t, g = lesson07.EXAMPLE_TRAIN_CONTRAST, lesson07.EXAMPLE_GAP_CONTRAST
    for wrong in ([1.0, 1.0], [2.0, 2.0], [3.0, 3.0]):
        last = lesson07.exercise_5(wrong, t, g).message
    assert last.startswith("Hint 3 of 3: ")
    formula = last.removeprefix("Hint 3 of 3: ").removesuffix(".")
    answer = eval(formula, {}, {"d_train": t, "d_gap": g})  # noqa: S307 - the course's own text
    assert lesson07.exercise_5(answer, t, g).correct is True


@pytest.mark.parametrize("checker", [lesson07.exercise_5, lesson07.exercise_5_reading])
def test_exercise_5_data_that_are_not_numbers_get_feedback(checker):
    fb = checker("fit", ["a", "b"], ["c", "d"])
    assert fb.correct is False and "could not be" in fb.message


#: per-seed contrasts for the four readings of exercise 7.5 (b)
TRAIN = lesson07.EXAMPLE_TRAIN_CONTRAST                                # interval above 0
GAP_SHRINKS = np.array([-0.010, -0.012, -0.009, -0.011, -0.013, -0.010])  # -gap above 0
GAP_UNCLEAR = np.array([0.010, -0.012, 0.004, -0.009, 0.006, -0.002])     # -gap covers 0
TRAIN_UNCLEAR = np.array([0.010, -0.012, 0.004, -0.009, 0.006, 0.004])    # covers 0
GAP_ZERO_MEAN = np.array([0.02, -0.02, 0.01, -0.01, 0.005, -0.005])      # mean exactly 0


@pytest.mark.parametrize("d_train, d_gap, want", [
    (TRAIN, GAP_SHRINKS, "fit and generalisation"),
    (TRAIN_UNCLEAR, GAP_UNCLEAR, "neither"),
    (TRAIN_UNCLEAR, GAP_SHRINKS, "generalisation"),
    (TRAIN, GAP_UNCLEAR, "fit"),
])
def test_exercise_5_reading_each_reading_and_its_numbers(d_train, d_gap, want):
    fit, gen = _t_interval(d_train), _t_interval(-d_gap)
    readings = {(True, True): "fit and generalisation", (True, False): "fit",
                (False, True): "generalisation", (False, False): "neither"}
    assert want == readings[(fit[1] > 0, gen[1] > 0)]
    # the same reading as evidence.c6_split gives on records with these contrasts
    recs = [{"kind": "mlp", "depth": depth, "arm": arm, "seed": s, "n_classes": 10,
             "train_acc": 0.8 + (tr if (depth, arm) == (8, "residual") else 0.0),
             "test_acc": 0.6 + (tr - gp if (depth, arm) == (8, "residual") else 0.0),
             "gen_gap": 0.2 + (gp if (depth, arm) == (8, "residual") else 0.0)}
            for s, (tr, gp) in enumerate(zip(d_train, d_gap, strict=True))
            for depth in (2, 8) for arm in ("plain", "residual")]
    assert c6_split(recs)[0]["reading"] == want
    fb = lesson07.exercise_5_reading(want, d_train, d_gap)
    assert fb.correct is True
    assert fb.message == (f"{want}: fit part {fit[0]:+.3f} [{fit[1]:+.3f}, {fit[2]:+.3f}], "
                          f"generalisation part {gen[0]:+.3f} [{gen[1]:+.3f}, {gen[2]:+.3f}].")
    for other in lesson07.READINGS:
        if other != want:
            assert lesson07.exercise_5_reading(other, d_train, d_gap).correct is False


def test_exercise_5_reading_both_means_message_only_when_both_means_are_above_0():
    both = "both means are above 0"
    fb = lesson07.exercise_5_reading("fit and generalisation", TRAIN, GAP_UNCLEAR)
    assert np.mean(-GAP_UNCLEAR) > 0 and fb.correct is False and both in fb.message
    fb = lesson07.exercise_5_reading("neither", TRAIN, GAP_UNCLEAR)  # another slip: a hint
    assert fb.correct is False and both not in fb.message and "Hint" in fb.message
    # a mean of exactly 0 is not above 0
    assert np.mean(-GAP_ZERO_MEAN) == 0.0
    fb = lesson07.exercise_5_reading("fit and generalisation", TRAIN, GAP_ZERO_MEAN)
    assert fb.correct is False and both not in fb.message and "Hint" in fb.message


def test_exercise_5_reading_generalisation_message_only_when_its_interval_is_not_above_0():
    fb = lesson07.exercise_5_reading("generalisation", TRAIN, GAP_SHRINKS)  # both shown
    assert fb.correct is False and "does not lie above 0" not in fb.message
    assert "Hint" in fb.message


@pytest.mark.parametrize("answer", ["maybe", 3, ["fit"]])
def test_exercise_5_reading_asks_for_one_of_the_readings(answer):
    fb = lesson07.exercise_5_reading(answer, TRAIN, GAP_UNCLEAR)
    assert fb.correct is False and fb.message.startswith("answer with one of ")
    assert re.findall(r"'([^']*)'", fb.message) == list(lesson07.READINGS)


def test_feedback_names_the_notebooks_exercise():
    """The name in the feedback is the notebook's heading ("Exercise 7.k"); part (b) of 7.5 has
    its own name, so that its wrong answers count apart from part (a)'s."""
    nb = json.loads((ROOT / "notebooks/07_what_holds_up.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    t, g = lesson07.EXAMPLE_TRAIN_CONTRAST, lesson07.EXAMPLE_GAP_CONTRAST
    a, b = lesson07.EXAMPLE_BASELINE, lesson07.EXAMPLE_TREATMENT
    named = {"Exercise 7.1": lesson07.exercise_1(None),
             "Exercise 7.2": lesson07.exercise_2(None, a, b),
             "Exercise 7.3": lesson07.exercise_3(None, 0.02, 0.03),
             "Exercise 7.4": lesson07.exercise_4(None),
             "Exercise 7.5": lesson07.exercise_5(None, t, g),
             "Exercise 7.5 (b)": lesson07.exercise_5_reading(None, t, g)}
    for name, fb in named.items():
        assert fb.exercise == name and f"**{name.removesuffix(' (b)')}" in text
