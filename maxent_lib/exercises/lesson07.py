"""Answer checks for lesson 07 (what holds up). Worked answers:
``notebooks/solutions/07_solutions.ipynb``."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..ablation import t_interval
from ..claims import verdict
from . import Feedback, check_close, is_placeholder

#: Exercise 7.1: four (lo, hi, predicted direction) triples to judge.
EXERCISE_1_INTERVALS: tuple[tuple[float, float, int], ...] = (
    (0.004, 0.031, +1),
    (-0.012, 0.020, +1),
    (-0.045, -0.008, -1),
    (-0.030, -0.002, +1),
)
VERDICT_CODES = {"supported": 1, "inconclusive": 0, "not supported": -1}


def exercise_1(codes: object) -> Feedback:
    """Exercise 7.1: the verdicts of :data:`EXERCISE_1_INTERVALS`, coded +1 (supported),
    0 (inconclusive), -1 (not supported)."""
    expected = np.array([VERDICT_CODES[verdict(lo, hi, d)] for lo, hi, d in EXERCISE_1_INTERVALS],
                        dtype=float)
    return check_close(
        "Exercise 7.1", codes, expected,
        hint="for each interval ask: does it lie wholly on the predicted side of 0 (+1), wholly on "
             "the other side (-1), or does it contain 0 (0)? The predicted side is the sign of "
             "the direction: +1 means 'the effect is positive'.",
        success=f"the codes are {expected.astype(int).tolist()}: only an interval that excludes 0 "
                "decides, and the direction of the claim says which way.", atol=1e-9)


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
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(treatment, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError("baseline and treatment must be 1-D arrays of equal length >= 2 "
                         "(one value per seed)")
    d = b - a
    expected = np.array(t_interval(d))
    hint = ("take the per-seed differences d = treatment - baseline first (the seeds pair the "
            "runs), then mean(d) -+ t * sd(d) / sqrt(n) with the Student-t quantile t for "
            "n - 1 degrees of freedom (scipy.stats.t.ppf(0.975, n - 1)) and sd with ddof=1.")
    if is_placeholder(answer):
        return Feedback("Exercise 7.2", None, "replace the placeholder with [mean, lo, hi]. "
                        + hint)
    got = np.asarray(answer, dtype=float)
    if got.shape == (3,) and np.all(np.isfinite(got)) and not np.allclose(got, expected,
                                                                            rtol=1e-4, atol=1e-6):
        n = len(d)
        z_half = 1.959964 * d.std(ddof=1) / math.sqrt(n)
        if np.allclose(got, [d.mean(), d.mean() - z_half, d.mean() + z_half], atol=1e-5):
            return Feedback("Exercise 7.2", False, "you used the normal quantile 1.96; with "
                            f"{n} seeds the Student-t quantile {stats.t.ppf(0.975, n - 1):.3f} "
                            "is the right one (the sd is estimated from few values).")
        unpaired = math.sqrt(a.var(ddof=1) / n + b.var(ddof=1) / n)
        halves = [stats.t.ppf(0.975, df) * unpaired for df in (n - 1, 2 * n - 2)]
        if any(np.allclose(got, [d.mean(), d.mean() - h, d.mean() + h], atol=1e-5)
               for h in halves):
            return Feedback("Exercise 7.2", False, "your interval is wider than the paired one: "
                            "it looks like an unpaired comparison. Subtract seed by seed first.")
    return check_close("Exercise 7.2", answer, expected, hint=hint,
                       success=f"mean {expected[0]:+.4f}, 95% interval [{expected[1]:+.4f}, "
                               f"{expected[2]:+.4f}] over {len(d)} seeds.")


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
    try:
        expected = seeds_needed(effect, sd)
    except ValueError as exc:
        return Feedback("Exercise 7.3", None, f"these numbers admit no answer ({exc}); try the "
                        "made-up example of exercise 7.2 instead.")
    if not is_placeholder(n):
        try:
            value = float(np.asarray(n, dtype=float))
        except (TypeError, ValueError):
            return Feedback("Exercise 7.3", False, "the answer must be a whole number of seeds")
        if value == math.ceil((1.959964 * sd / abs(effect)) ** 2) and value != expected:
            return Feedback("Exercise 7.3", False, "that is the normal-quantile answer; the t "
                            "quantile is larger for few seeds, so a few more seeds are needed. "
                            "Loop over n and use scipy.stats.t.ppf(0.975, n - 1).")
        if value == expected - 1:
            return Feedback("Exercise 7.3", False, "one short: with that n the half-width is "
                            "still at least |effect|. The condition is strict: "
                            "half-width < |effect|.")
    return check_close(
        "Exercise 7.3", n, float(expected),
        hint="find the smallest n >= 2 with t(0.975, n - 1) * sd / sqrt(n) < |effect|; t changes "
             "with n, so loop over n rather than solving a formula.",
        success=f"{expected} seeds: the half-width "
                f"{stats.t.ppf(0.975, expected - 1) * sd / math.sqrt(expected):.4f} is then below "
                f"|effect| = {abs(effect):.4f}.", atol=1e-9)
