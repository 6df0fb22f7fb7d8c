"""Answer checks for lesson 07 (what holds up). Worked answers:
``notebooks/solutions/07_solutions.ipynb``."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..stats import FAMILY_VERDICTS, _verdict, t_interval, verdict
from . import Feedback, Mistake, check, exercise, is_placeholder, scalar

#: Exercise 7.1: four (lo, hi, predicted direction) triples to judge.
EXERCISE_1_INTERVALS: tuple[tuple[float, float, int], ...] = (
    (0.004, 0.031, +1),
    (-0.012, 0.020, +1),
    (-0.045, -0.008, -1),
    (-0.030, -0.002, +1),
)
VERDICT_CODES = {"supported": 1, "inconclusive": 0, "contradicted": -1}


def exercise_1(codes: object) -> Feedback:
    """Exercise 7.1: the verdicts of :data:`EXERCISE_1_INTERVALS`, coded +1 (supported),
    0 (inconclusive), -1 (contradicted)."""
    expected = np.array([VERDICT_CODES[verdict(lo, hi, d)] for lo, hi, d in EXERCISE_1_INTERVALS],
                        dtype=float)
    n = len(EXERCISE_1_INTERVALS)
    ex = exercise(
        "Exercise 7.1", f"give {n} codes, +1, 0 or -1, one per interval (an array of shape "
                        f"({n},)).",
        hints=["an interval decides only when it excludes 0; then the claim's direction says "
               "which way.",
               "for each interval: wholly on the predicted side of 0 -> +1; wholly on the other "
               "side -> -1; containing 0 -> 0.",
               "the predicted side is the sign of the direction: direction +1 means 'the effect "
               "is positive', -1 'the effect is negative'."],
        success=f"the codes are {expected.astype(int).tolist()}: only an interval that excludes 0 "
                "decides, and the direction of the claim says which way.")
    by_sign = np.array([1.0 if lo > 0 else -1.0 if hi < 0 else 0.0
                        for lo, hi, _ in EXERCISE_1_INTERVALS])
    strings = {"supported", "inconclusive", "contradicted"}
    if isinstance(codes, list | tuple | np.ndarray) and any(
            isinstance(c, str) and c in strings for c in np.ravel(np.asarray(codes, dtype=object))):
        return Feedback(ex.name, False, "code the verdicts as numbers: +1 supported, "
                                        "0 inconclusive, -1 contradicted.")
    mistakes = [
        Mistake("those codes give the sign of each interval; a code says whether the interval "
                "agrees with the claim's direction: a negative effect supports a claim that "
                "predicts a decrease (+1), a negative effect against a predicted increase is "
                "-1.", value=by_sign),
        Mistake("the signs are flipped: +1 means supported (the interval lies on the predicted "
                "side), -1 contradicted.", value=-expected),
        Mistake("codes are whole numbers: +1, 0 or -1.",
                test=lambda g: bool(np.any(np.abs(g - np.round(g)) > 1e-9))),
    ]
    return check(ex, codes, expected, mistakes=mistakes, rtol=0, atol=1e-9)


#: Exercise 7.2's fallback data (used only when no shortcut results are stored): made-up
#: per-seed test accuracies, labelled as such wherever they are shown.
EXAMPLE_BASELINE = np.array([0.61, 0.64, 0.60, 0.63, 0.62])
EXAMPLE_TREATMENT = np.array([0.64, 0.66, 0.62, 0.67, 0.63])


def exercise_2_data(records: list[dict] | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Per-seed test accuracies of the plain and residual MLP at the second-shallowest depth of
    stored shortcut-grid records (where the effect is small: a real question for an interval),
    sorted by seed, with a description; the made-up example arrays when there are none."""
    mine = [r for r in records or [] if r.get("kind") == "mlp"]
    if mine:
        depths = sorted({r["depth"] for r in mine})
        depth = depths[1] if len(depths) > 1 else depths[0]
        acc = {(r["arm"], r["seed"]): float(r["test_acc"]) for r in mine if r["depth"] == depth}
        seeds = sorted(s for a, s in acc if a == "plain" and ("residual", s) in acc)
        if len(seeds) >= 2:
            return (np.array([acc[("plain", s)] for s in seeds]),
                    np.array([acc[("residual", s)] for s in seeds]),
                    f"stored results: MLP of depth {depth}, seeds {seeds}")
    return EXAMPLE_BASELINE.copy(), EXAMPLE_TREATMENT.copy(), "made-up example numbers"


def exercise_2(answer: object, baseline: object, treatment: object) -> Feedback:
    """Exercise 7.2: ``[mean, lo, hi]`` of the paired 95% t-interval of treatment - baseline."""
    ex = exercise(
        "Exercise 7.2", "give [mean, lo, hi] of residual minus plain, an array of shape (3,).",
        hints=["the seeds pair the runs: work with the per-seed differences.",
               "take d = treatment - baseline seed by seed, then the 95% Student-t interval of "
               "the mean of d.",
               "mean(d) -+ scipy.stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / sqrt(n)."])
    try:
        a = np.asarray(baseline, dtype=float)
        b = np.asarray(treatment, dtype=float)
        if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
            return Feedback(ex.name, False, "the exercise's data must be two 1-D arrays of equal "
                                            "length >= 2 (one value per seed): re-run the cell "
                                            "that makes them.")
        d = b - a
        n = len(d)
        expected = np.array(t_interval(d))
        ex.success = (f"mean {expected[0]:+.4f}, 95% interval [{expected[1]:+.4f}, "
                      f"{expected[2]:+.4f}] over {n} seeds.")
        m, sd = float(d.mean()), float(d.std(ddof=1))
        t = stats.t.ppf(0.975, n - 1)

        def interval(half: float, mean: float = m) -> list[float]:
            return [mean, mean - half, mean + half]

        unpaired = math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
        mistakes = [
            Mistake(f"you used the normal quantile 1.96; with {n} seeds the Student-t quantile "
                    f"{t:.3f} is the right one (the sd is estimated from few values).",
                    value=interval(1.959964 * sd / math.sqrt(n)), rtol=0, atol=1e-5),
            Mistake("your interval is wider than the paired one: it looks like an unpaired "
                    "comparison. Subtract seed by seed first.",
                    value=interval(t * unpaired), rtol=0, atol=1e-5),
            Mistake("your interval is wider than the paired one: it looks like an unpaired "
                    "comparison. Subtract seed by seed first.",
                    value=interval(stats.t.ppf(0.975, 2 * n - 2) * unpaired), rtol=0, atol=1e-5),
            Mistake("use the sample standard deviation, ddof=1.",
                    value=interval(t * d.std(ddof=0) / math.sqrt(n)), rtol=0, atol=1e-5),
            Mistake("the difference is the wrong way round: residual minus plain "
                    "(treatment - baseline).", value=interval(t * sd / math.sqrt(n), -m),
                    rtol=0, atol=1e-5),
            Mistake("the order is [mean, lo, hi].",
                    value=[m - t * sd / math.sqrt(n), m + t * sd / math.sqrt(n), m],
                    rtol=0, atol=1e-5),
        ]
    except Exception as exc:  # noqa: BLE001 - bad exercise data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-4, atol=1e-6)


def seeds_needed(effect: float, sd: float, level: float = 0.95, n_max: int = 10**7) -> int:
    """Smallest n >= 2 with t_{(1+level)/2, n-1} * sd / sqrt(n) < |effect|: how many seeds a
    paired interval needs to exclude 0 if the mean and sd of the differences stay as they are."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or sd <= 0 or effect == 0:
        raise ValueError("effect must be non-zero and sd positive (both finite)")
    start = 2
    while start <= n_max:  # search in growing chunks: usually the first chunk has the answer
        stop = min(n_max, max(1000, 10 * start))
        n = np.arange(start, stop + 1, dtype=float)
        ok = stats.t.ppf((1 + level) / 2, n - 1) * sd / np.sqrt(n) < abs(effect)
        if ok.any():
            return int(n[np.argmax(ok)])
        start = stop + 1
    raise ValueError(f"more than {n_max} seeds would be needed")


def exercise_3(n: object, effect: float, sd: float) -> Feedback:
    """Exercise 7.3: the number of seeds for which the interval would exclude 0."""
    ex = exercise(
        "Exercise 7.3", "give the number of seeds, one whole number.",
        hints=["the half-width of the interval shrinks as n grows; you need the first n at which "
               "it drops below |effect|.",
               "the half-width is t(0.975, n - 1) * sd / sqrt(n), and t itself changes with n: "
               "loop over n rather than solving a formula.",
               "the smallest n >= 2 with scipy.stats.t.ppf(0.975, n - 1) * sd / sqrt(n) < "
               "|effect|."])
    try:
        expected = seeds_needed(effect, sd)
    except (ValueError, TypeError) as exc:
        return Feedback(ex.name, None, f"these numbers admit no answer ({exc}); try the made-up "
                                       "example of exercise 7.2 instead.")
    ex.success = (f"{expected} seeds: the half-width "
                  f"{stats.t.ppf(0.975, expected - 1) * sd / math.sqrt(expected):.4f} is then "
                  f"below |effect| = {abs(effect):.4f}.")
    value = scalar(n)
    if value is not None and abs(value - round(value)) > 1e-9:
        return Feedback(ex.name, False, "a number of seeds is a whole number: round up to the "
                                        "first n that is enough.")
    normal = math.ceil((1.959964 * sd / abs(effect)) ** 2)
    mistakes = [
        Mistake("that is the normal-quantile answer; the t quantile is larger for few seeds, so a "
                "few more seeds are needed.",
                test=lambda g: float(g) == normal and normal != expected),
        Mistake("one short: with that n the half-width is still at least |effect|. The condition "
                "is strict: half-width < |effect|.", value=expected - 1, rtol=0, atol=1e-9),
        Mistake("that is the first n whose *normal* half-width 1.96 sd / sqrt(n) is below "
                "|effect|, plus or minus one; use the t quantile with n - 1 degrees of freedom.",
                test=lambda g: abs(float(g) - normal) == 1 and abs(float(g) - expected) > 1),
    ]
    return check(ex, n, float(expected), mistakes=mistakes, rtol=0, atol=1e-9)


#: Exercise 7.4: the calls of five families of settings (one claim each, predicted direction
#: +1). Give each family's verdict twice: read as a universal claim (every setting) and as an
#: existential claim (some setting).
EXERCISE_4_CALLS: tuple[tuple[str, ...], ...] = (
    ("for", "for", "for"),
    ("for", "unclear", "for"),
    ("for", "negligible", "unclear"),
    ("against", "unclear", "negligible"),
    ("for", "against", "unclear"),
)


def exercise_4_expected() -> list[tuple[str, str]]:
    """The verdicts of :data:`EXERCISE_4_CALLS`: (universal, existential) per family, by the
    course's rule (:mod:`maxent_lib.stats`)."""
    return [(_verdict(list(c), 1, "universal"), _verdict(list(c), 1, "existential"))
            for c in EXERCISE_4_CALLS]


def _verdict_pairs(answer: object, n: int) -> list[tuple[str, str]] | str:
    """``answer`` as n (universal, existential) pairs of lower-case words, or what is wrong."""
    form = (f"give {n} pairs (universal verdict, existential verdict), one per family, each a "
            "verdict word such as 'supported'")
    if isinstance(answer, dict) or isinstance(answer, str | bytes):
        return form + "."
    try:
        rows = [tuple(r) for r in answer]
    except TypeError:
        return form + "."
    if len(rows) != n or any(len(r) != 2 for r in rows):
        return form + f" (got {len(rows)} entries)."
    if not all(isinstance(w, str) for r in rows for w in r):
        return "write the verdicts as words (strings): 'supported', 'contradicted', 'mixed', " \
               "'negligible' or 'inconclusive'."
    out = [(a.strip().lower(), b.strip().lower()) for a, b in rows]
    unknown = sorted({w for r in out for w in r} - set(FAMILY_VERDICTS))
    if unknown:
        return f"{unknown} is not a verdict: use {', '.join(FAMILY_VERDICTS)}."
    return out


def exercise_4(answer: object) -> Feedback:
    """Exercise 7.4: per family of :data:`EXERCISE_4_CALLS`, the verdict of a universal and of
    an existential claim, as ``[(universal, existential), ...]``."""
    n = len(EXERCISE_4_CALLS)
    want = exercise_4_expected()
    ex = exercise(
        "Exercise 7.4", f"give {n} pairs (universal verdict, existential verdict), one per "
                        "family, e.g. [('supported', 'supported'), ...].",
        hints=["count each family's calls: how many for the prediction, against it, "
               "negligible, unclear.",
               "a universal claim says every setting: it is supported only when every call is "
               "'for'; 'for' beside 'against' or 'negligible' makes it mixed; 'against' and no "
               "'for' makes it contradicted; otherwise (some unclear) inconclusive.",
               "an existential claim says some setting: some 'for' and no 'against' -> "
               "supported; both -> mixed; 'against' and no 'for' -> contradicted; every call "
               "negligible -> negligible; otherwise inconclusive."],
        success="the same calls give different verdicts: a universal claim needs every setting "
                "for it, an existential one needs some for it and none against it.")
    try:
        if answer is None or (not isinstance(answer, list | tuple) and is_placeholder(answer)):
            return ex.not_answered()
        got = _verdict_pairs(answer, n)
        if isinstance(got, str):
            return Feedback(ex.name, False, got)
        key = np.array([[FAMILY_VERDICTS.index(w) for w in r] for r in got], dtype=float)
        if got == want:
            return ex.right()
        return ex.wrong(_mistake_4(got, want), key) if _mistake_4(got, want) else ex.hint(key)
    except Exception as exc:  # noqa: BLE001 - a checker answers, it does not crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")


def _mistake_4(got: list[tuple[str, str]], want: list[tuple[str, str]]) -> str | None:
    """The message for a common mistake of exercise 7.4, or None."""
    if [(b, a) for a, b in got] == want:
        return "the two columns are swapped: first the universal claim (every setting), then " \
               "the existential one (some setting)."
    if [g[0] for g in got] == [w[1] for w in want]:
        return "your universal column follows the existential rule: a claim about every " \
               "setting is supported only when every setting is for it."
    if got[1][0] == "supported":
        return "family 2 has an unclear setting: 'every setting' is not shown there, so the " \
               "universal claim is not supported (inconclusive)."
    if got[2][0] == "inconclusive":
        return "family 3 has a negligible setting beside a setting for the prediction: in that " \
               "setting the effect is shown to be too small, so 'every setting' fails: mixed."
    if got[2][1] in ("mixed", "contradicted"):
        return "a negligible setting is not against the prediction: for a claim about some " \
               "setting, family 3 has a setting for it and none against it: supported."
    if "inconclusive" in (got[3][0], got[3][1]):
        return "family 4 has a setting against the prediction and none for it: contradicted, " \
               "whichever the quantifier."
    return None


#: Exercise 7.5's fallback data (used only when no current shortcut results give a verdict):
#: made-up per-seed contrasts (deepest minus shallowest depth of residual minus plain),
#: labelled as such wherever they are shown.
EXAMPLE_TRAIN_CONTRAST = np.array([0.040, 0.045, 0.038, 0.044, 0.041, 0.043])
EXAMPLE_GAP_CONTRAST = np.array([0.010, 0.002, 0.015, -0.004, 0.008, 0.006])


def exercise_5_data(records: list[dict] | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Per-seed contrasts d(train accuracy) and d(generalisation gap) of claim C6 from stored
    shortcut-grid ``records`` (:func:`maxent_lib.evidence.c6_split`: residual minus plain at the
    deepest depth minus the same at the shallowest), for the architecture whose test-accuracy
    contrast is largest, with a description; the made-up example arrays when there are none."""
    from ..evidence import c6_split

    try:
        rows = [r for r in c6_split(records) if r["n"] >= 2] if records else []
    except ValueError:
        rows = []
    if rows:
        r = max(rows, key=lambda row: abs(row["test"][0]))
        return (np.array(r["values"]["fit"]), -np.array(r["values"]["generalisation"]),
                f"stored results: {r['kind'].upper()}, depth {r['depths'][1]} vs "
                f"{r['depths'][0]}, {r['n']} seeds")
    return EXAMPLE_TRAIN_CONTRAST.copy(), EXAMPLE_GAP_CONTRAST.copy(), "made-up example numbers"


def exercise_5(answer: object, d_train: object, d_gap: object) -> Feedback:
    """Exercise 7.5 (a): ``[fit part, generalisation part]`` of C6's contrast: the means over
    seeds of d(train accuracy) and of -d(generalisation gap)."""
    ex = exercise(
        "Exercise 7.5", "give [fit part, generalisation part], an array of shape (2,).",
        hints=["test accuracy = training accuracy - generalisation gap, for every net and so "
               "for every contrast.",
               "so d(test) = d(train) + (-d(gap)): the first term is the fit part, the second "
               "the generalisation part.",
               "[d_train.mean(), -d_gap.mean()]."])
    try:
        t, g = np.asarray(d_train, dtype=float), np.asarray(d_gap, dtype=float)
        if t.shape != g.shape or t.ndim != 1 or len(t) < 2:
            return Feedback(ex.name, False, "the exercise's data must be two 1-D arrays of equal "
                                            "length >= 2: re-run the cell that makes them.")
        fit, gen = float(t.mean()), float(-g.mean())
        ex.success = (f"fit part {fit:+.4f}, generalisation part {gen:+.4f}; together the "
                      f"test-accuracy contrast {fit + gen:+.4f}.")
        mistakes = [
            Mistake("the generalisation part is minus the change of the gap: a gap that shrinks "
                    "is a gain in test accuracy.", value=[fit, -gen], rtol=0, atol=1e-6),
            Mistake("the order is [fit part, generalisation part].", value=[gen, fit], rtol=0,
                    atol=1e-6),
            Mistake("the fit part is the training-accuracy contrast alone, not the test-accuracy "
                    "contrast.", value=[fit + gen, gen], rtol=0, atol=1e-6),
            Mistake("accuracies are fractions here, not percentages.",
                    value=[100 * fit, 100 * gen], rtol=0, atol=1e-4),
        ]
    except Exception as exc:  # noqa: BLE001 - bad exercise data: still answer
        return Feedback(ex.name, False, f"the exercise's data could not be read ({exc}).")
    return check(ex, answer, np.array([fit, gen]), mistakes=mistakes, rtol=1e-4, atol=1e-6)


READINGS: tuple[str, ...] = ("fit", "generalisation", "fit and generalisation", "neither")


def exercise_5_reading(answer: object, d_train: object, d_gap: object) -> Feedback:
    """Exercise 7.5 (b): which part's 95% t interval over seeds lies above 0: "fit",
    "generalisation", "fit and generalisation" or "neither"."""
    ex = exercise(
        "Exercise 7.5 (b)", f"give one of {', '.join(map(repr, READINGS))}.",
        hints=["a part counts only where its 95% interval over seeds lies above 0, not where "
               "its mean does.",
               "compute t_interval(d_train) and t_interval(-d_gap) (maxent_lib.stats) and look "
               "at their lower ends."])
    try:
        t, g = np.asarray(d_train, dtype=float), np.asarray(d_gap, dtype=float)
        fit, gen = t_interval(t), t_interval(-g)
        shown = [n for n, (_, lo, _) in (("fit", fit), ("generalisation", gen)) if lo > 0]
        want = {0: "neither", 2: "fit and generalisation"}.get(len(shown), shown[0] if shown
                                                                else "neither")
        by_mean = [n for n, (m, _, _) in (("fit", fit), ("generalisation", gen)) if m > 0]
        if answer is None or (not isinstance(answer, str) and is_placeholder(answer)):
            return ex.not_answered()
        if not isinstance(answer, str) or answer.strip().lower() not in READINGS:
            return Feedback(ex.name, False, f"answer with one of {', '.join(map(repr, READINGS))}.")
        word = answer.strip().lower()
        if word == want:
            return ex.right(f"{want}: fit part {fit[0]:+.3f} [{fit[1]:+.3f}, {fit[2]:+.3f}], "
                            f"generalisation part {gen[0]:+.3f} [{gen[1]:+.3f}, {gen[2]:+.3f}].")
        code = np.array([float(READINGS.index(word))])
        if len(by_mean) == 2 and word == "fit and generalisation":
            return ex.wrong("both means are above 0, but a part counts only where its 95% "
                            "interval lies above 0: look at the lower ends.", code)
        if word == "generalisation" and "generalisation" not in shown:
            return ex.wrong("the generalisation part's interval does not lie above 0: C6's "
                            "contrast does not show that shortcuts generalise better with "
                            "depth.", code)
        return ex.hint(code)
    except Exception as exc:  # noqa: BLE001 - a checker answers, it does not crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")
