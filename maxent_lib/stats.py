"""Statistics of the course's verdicts (lessons 03-07): numpy and scipy only.

- :func:`t_interval`: mean and Student-t interval over seeds or splits; with ``test_fraction``,
  the corrected repeated-split interval of Nadeau & Bengio (2003);
- :func:`paired_bootstrap_ci`: a percentile interval of a paired mean difference, resampling
  test points;
- :func:`one_sided_pvalues`: one-sided t-tests against +-margin and the TOST p-value;
- :func:`holm`: Holm's step-down rejections (family-wise error control);
- :func:`family_tests` / :func:`family_verdict`: the verdict rule on a family of settings, and
  :func:`verdict`, the reading of one interval (exercise 7.1).

The rule, with a ``margin`` below which an effect counts as negligible:

1. In every setting with n >= 2 seeds, two one-sided t-tests on the mean difference mu:
   "up" (H0: mu <= +margin) and "down" (H0: mu >= -margin), with n - 1 degrees of freedom.
2. Holm's step-down procedure over all 2k one-sided tests of the k settings controls the
   family-wise error at ``alpha``.
3. In every setting, the equivalence test TOST (Schuirmann 1987): mu lies inside
   (-margin, +margin) if both one-sided tests of H0: mu <= -margin and H0: mu >= +margin reject
   at ``alpha``.
4. Each setting is then called **for** the prediction, **against** it, **negligible** (TOST) or
   **unclear**. The verdict of an *existential* family (the claim holds somewhere): **supported**
   if some settings are for the prediction and none against it; **contradicted** if some are
   against it and none for it; **mixed** if both; **negligible** if every setting is
   negligible; **inconclusive** otherwise. A *universal* family (the claim says every setting)
   is **supported** only when every setting is for the prediction; settings for it beside
   settings against it or negligible make it **mixed**; settings against it and none for it,
   **contradicted**. For a "no effect" claim (direction 0) an effect either way is against it.

``tests/test_stats.py`` simulates null families: the rule gives a directional verdict in at most
about ``alpha`` of them, and at a clear effect it says "supported" in at least 90%.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from ._checks import check_int, check_number, check_same_length
from .validation import Anything, Array, Choice, Integer, Items, OneOf, Real, Seed, validate

#: The verdicts of :func:`family_verdict`.
FAMILY_VERDICTS: tuple[str, ...] = ("supported", "contradicted", "mixed", "negligible",
                                    "inconclusive")


#: A setting's call: for or against the prediction (after Holm), negligible (TOST), unclear, or
#: too few seeds. For a "no effect" claim (direction 0) an effect either way is "against".
CALLS: tuple[str, ...] = ("for", "against", "negligible", "unclear", "too few seeds")
#: How a family's settings combine: "universal" (the claim holds in every setting) or
#: "existential" (it holds in some setting and fails in none).
QUANTIFIERS: tuple[str, ...] = ("universal", "existential")


#: The one-interval reading of exercise 7.1 (margin 0, one setting).
VERDICTS: tuple[str, ...] = ("supported", "contradicted", "inconclusive")


def _check_direction_margin(direction: int, margin: float) -> tuple[int, float]:
    direction = check_int(direction, "direction", low=-1, high=1)
    margin = check_number(margin, "margin", low=0.0)
    if direction == 0 and margin == 0:
        raise ValueError("a 'no effect' claim (direction 0) needs a positive margin")
    return direction, margin


_FRACTION = Real(low=0.0, high=1.0, low_open=True, high_open=True)


@validate(values=Array(ndim=1), level=_FRACTION, test_fraction=Real(low=0.0, high=1.0,
                                                                    low_open=True,
                                                                    high_open=True,
                                                                    optional=True))
def t_interval(values: Sequence[float], level: float = 0.95, *,
               test_fraction: float | None = None) -> tuple[float, float, float]:
    """``(mean, lo, hi)``: the mean of ``values`` and its two-sided Student-t interval
    ``mean -+ t_{(1+level)/2, n-1} * sd * c`` with ``c = 1 / sqrt(n)`` for independent values
    (seeds). With ``test_fraction`` the values are estimates from n random train/test splits of
    one sample, which share data, and ``c = sqrt(1/n + r)`` with ``r = test_fraction /
    (1 - test_fraction)`` (the corrected repeated-split interval, Nadeau & Bengio 2003). With
    fewer than two values the bounds are NaN: one value has no spread. Values of any magnitude
    are handled (rescaled when their squares would overflow); an interval beyond the float range
    raises ``ValueError``. Introduced in lesson 03."""
    v = values
    n = len(v)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(v.mean())
        if n < 2:
            return mean, math.nan, math.nan
        quantile = special.stdtrit(n - 1, (1 + level) / 2)  # stats.t.ppf, w/o its overhead
        c = 1 / math.sqrt(n) if test_fraction is None else \
            math.sqrt(1 / n + test_fraction / (1 - test_fraction))
        out = _interval(v, quantile * c)
        if not all(math.isfinite(x) for x in out):  # overflow: compute on rescaled values
            scale = float(np.max(np.abs(v)))
            out = tuple(x * scale for x in _interval(v / scale, quantile * c))
    if not all(math.isfinite(x) for x in out):
        raise ValueError(f"values: the interval ({out[1]:.3g}, {out[2]:.3g}) lies beyond the "
                         "float range (values too large); rescale them")
    return out


def _interval(v: np.ndarray, factor: float) -> tuple[float, float, float]:
    mean, half = float(v.mean()), float(factor * v.std(ddof=1))
    return mean, mean - half, mean + half


@validate(losses_a=Array(ndim=1, max_abs=1e300), losses_b=Array(ndim=1, max_abs=1e300),
          n_bootstrap=Integer(low=1, high=10**7), confidence=_FRACTION, seed=Seed())
def paired_bootstrap_ci(losses_a: Sequence[float], losses_b: Sequence[float], *,
                        n_bootstrap: int = 1000, confidence: float = 0.95, seed: int = 0
                        ) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(losses_a - losses_b)``, resampling test points
    (the same resample for both, so the interval is for the paired difference). Introduced in
    lesson 03."""
    check_same_length("losses_a", losses_a, "losses_b", losses_b)
    diff = losses_a - losses_b
    rng = np.random.default_rng(seed)
    means = np.empty(int(n_bootstrap))
    for start in range(0, int(n_bootstrap), 200):  # chunks keep memory small for large n
        stop = min(start + 200, int(n_bootstrap))
        idx = rng.integers(0, len(diff), size=(stop - start, len(diff)))
        means[start:stop] = diff[idx].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class SettingTest:
    """One setting of a family: seeds, mean effect, 95% t-interval (unadjusted), the one-sided
    p-values (``p_up``, ``p_down``), the TOST p-value and the call after Holm."""

    setting: str
    n: int
    effect: float
    lo: float
    hi: float
    p_up: float
    p_down: float
    p_equiv: float
    call: str


@dataclass(frozen=True)
class FamilyResult:
    """The verdict of a family with every setting's test (:func:`family_tests`)."""

    verdict: str
    settings: tuple[SettingTest, ...]
    direction: int
    margin: float
    alpha: float
    quantifier: str

    @validate(call=Choice(CALLS))
    def count(self, call: str) -> int:
        """How many settings got ``call``."""
        return sum(s.call == call for s in self.settings)

    @validate()
    def summary(self) -> str:
        """E.g. "2 for, 0 against, 5 negligible, 3 unclear of 10"."""
        parts = [f"{self.count(c)} {c}" for c in ("for", "against", "negligible", "unclear")]
        few = self.count("too few seeds")
        if few:
            parts.append(f"{few} with too few seeds")
        return ", ".join(parts) + f" of {len(self.settings)}"

    @validate()
    def in_words(self) -> str:
        """The verdict and its settings in a plain sentence, e.g. "inconclusive: 2 of 3
        settings for the prediction, none against, 1 unclear"."""
        n = len(self.settings)
        parts = []
        for call, words in (("for", "for the prediction"), ("against", "against it"),
                            ("negligible", "negligible"), ("unclear", "unclear"),
                            ("too few seeds", "with too few seeds")):
            k = self.count(call)
            if k or call in ("for", "against"):
                parts.append(f"{_number(k, n)} {words}")
        return f"{self.verdict}: " + ", ".join(parts)


_ALPHA = Real(low=0.0, high=1.0, low_open=True, high_open=True)
_DIRECTION = Integer(low=-1, high=1)
_EFFECTS = OneOf((Items(Array(ndim=1), min_len=1), Array(ndim=2)))
_FAMILY = {"effects": _EFFECTS, "direction": _DIRECTION, "margin": Real(low=0.0),
           "alpha": _ALPHA, "quantifier": Choice(QUANTIFIERS)}


@validate(values=Array(ndim=1), margin=Real(low=0.0))
def one_sided_pvalues(values: Sequence[float], margin: float) -> tuple[float, float, float]:
    """``(p_up, p_down, p_equiv)`` of per-seed differences: one-sided t-tests of
    H0: mu <= +margin and H0: mu >= -margin, and the TOST p-value for |mu| < margin (the larger
    of the p-values of H0: mu <= -margin and H0: mu >= +margin). With fewer than 2 values all
    three are NaN (one value has no spread). Values of any magnitude are handled: the p-values
    do not change when the values and the margin are rescaled together, which is done when
    their squares would overflow. Introduced in lesson 07."""
    v = values
    n = len(v)
    if n < 2:
        return math.nan, math.nan, math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        mean, sd = float(v.mean()), float(v.std(ddof=1))
    if not (math.isfinite(mean) and math.isfinite(sd)):
        scale = max(float(np.max(np.abs(v))), margin)
        v, margin = v / scale, margin / scale
        mean, sd = float(v.mean()), float(v.std(ddof=1))
    se, df = sd / math.sqrt(n), n - 1

    def sf(x: float) -> float:  # P(T >= x / se) for a t variable T with df degrees of freedom
        if se == 0:
            return 0.0 if x > 0 else 1.0
        return float(special.stdtr(df, -x / se))

    p_up = sf(mean - margin)          # H0: mu <= +margin
    p_down = sf(-(mean + margin))     # H0: mu >= -margin
    p_above_low = sf(mean + margin)   # H0: mu <= -margin
    p_below_high = sf(margin - mean)  # H0: mu >= +margin
    return p_up, p_down, max(p_above_low, p_below_high)


@validate(pvalues=Array(ndim=1, allow_empty=True), alpha=_ALPHA)
def holm(pvalues: Sequence[float], alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down rejections (a boolean array): sort the m p-values, reject the i-th
    smallest (i = 0, 1, ...) while p_(i) <= alpha / (m - i), and stop at the first that is not.
    Controls the family-wise error rate at ``alpha`` (Holm 1979). ``pvalues`` must lie in
    [0, 1] (an empty list gives an empty array). Introduced in lesson 07."""
    p = pvalues
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError(f"pvalues must lie in [0, 1], got values from {p.min():g} to "
                         f"{p.max():g}")
    reject = np.zeros(len(p), dtype=bool)
    for i, j in enumerate(np.argsort(p, kind="stable")):
        if p[j] > alpha / (len(p) - i):
            break
        reject[j] = True
    return reject


def _number(k: int, n: int) -> str:
    if k == 0:
        return "none"
    if k == n:
        return "all" if n > 2 else ("both" if n == 2 else "the one setting")
    return f"{k} of {n} settings" if k == 1 else f"{k} of {n}"


@validate(**_FAMILY, settings=Items(Anything("a setting's name: any value, shown with str"),
                                    optional=True))
def family_tests(effects: Sequence[Sequence[float]], direction: int, *, margin: float,
                 alpha: float = 0.05, settings: Sequence[str] | None = None,
                 quantifier: str = "existential") -> FamilyResult:
    """Every setting's test and the family's verdict by the rule of the module docstring.
    ``effects``: one array of per-seed paired differences per setting; ``settings``: their
    names; ``quantifier``: "existential" (the rule of the module docstring) or "universal" (the
    claim says every setting: supported only when every setting is called for it; a setting
    against it or with a negligible effect beside settings for it makes the verdict "mixed").
    Raises ``ValueError`` on an empty family, NaN/inf, a bad direction, margin, alpha or
    quantifier. Introduced in lesson 07."""
    direction, margin = _check_direction_margin(direction, margin)
    effects = list(effects)
    if len(effects) == 0:
        raise ValueError("effects is empty: a family needs at least one setting")
    names = [str(s) for s in settings] if settings is not None else \
        [f"setting {i + 1}" for i in range(len(effects))]
    if len(names) != len(effects):
        raise ValueError(f"settings has {len(names)} names for {len(effects)} settings")
    arrays = [np.asarray(e, dtype=float) for e in effects]
    ps = [one_sided_pvalues(a, margin) for a in arrays]
    testable = [i for i, a in enumerate(arrays) if len(a) >= 2]
    flat = [p for i in testable for p in ps[i][:2]]
    rej = holm(flat, alpha) if flat else np.zeros(0, dtype=bool)
    up = {i: bool(rej[2 * j]) for j, i in enumerate(testable)}
    down = {i: bool(rej[2 * j + 1]) for j, i in enumerate(testable)}
    rows = []
    for i, a in enumerate(arrays):
        mean, lo, hi = t_interval(a) if len(a) else (math.nan, math.nan, math.nan)
        if len(a) < 2:
            call = "too few seeds"
        elif up[i] or down[i]:
            call = "for" if (up[i] and direction > 0) or (down[i] and direction < 0) \
                else "against"
        elif ps[i][2] <= alpha:
            call = "negligible"
        else:
            call = "unclear"
        rows.append(SettingTest(names[i], len(a), mean, lo, hi, *ps[i], call))
    verdict = _verdict([r.call for r in rows], direction, quantifier)
    return FamilyResult(verdict, tuple(rows), direction, float(margin), float(alpha), quantifier)


def _verdict(calls: list[str], direction: int, quantifier: str) -> str:
    """The family's verdict from its settings' calls (see :func:`family_tests`)."""
    n_for, n_against = calls.count("for"), calls.count("against")
    n_negligible = calls.count("negligible")
    if direction == 0:  # "no effect": negligible everywhere is the prediction
        if n_against:
            return "contradicted"
        return "negligible" if n_negligible == len(calls) else "inconclusive"
    if n_negligible == len(calls):
        return "negligible"
    if quantifier == "universal":
        if n_for == len(calls):
            return "supported"
        if n_for and (n_against or n_negligible):
            return "mixed"
        return "contradicted" if n_against else "inconclusive"
    if n_for and n_against:
        return "mixed"
    if n_for:
        return "supported"
    return "contradicted" if n_against else "inconclusive"


@validate(**_FAMILY)
def family_verdict(effects: Sequence[Sequence[float]], direction: int, *, margin: float,
                   alpha: float = 0.05, quantifier: str = "existential") -> str:
    """The verdict on a claim from a family of settings: ``effects`` is a list of per-setting
    arrays of per-seed paired differences, ``direction`` the predicted sign (+1, -1, or 0 for
    "no effect"), ``margin`` the smallest effect that counts. Returns "supported",
    "contradicted", "mixed", "negligible" or "inconclusive" (see the module docstring: Holm over
    the settings' one-sided tests against +-margin, TOST for "negligible").
    Introduced in lesson 07."""
    return family_tests(effects, direction, margin=margin, alpha=alpha,
                        quantifier=quantifier).verdict


_BOUND = Anything("a bound of the interval: checked in the body, where a NaN bound (the "
                  "interval of one value) gets its own message")


@validate(lo=_BOUND, hi=_BOUND, direction=_DIRECTION, margin=Real(low=0.0))
def verdict(lo: float, hi: float, direction: int, margin: float = 0.0) -> str:
    """The reading of one interval ``[lo, hi]`` (exercise 7.1): for direction +-1 "supported"
    if it lies wholly beyond +margin on the predicted side, "contradicted" if wholly beyond
    -margin on the other side, else "inconclusive"; for direction 0 "supported" if it lies
    inside [-margin, margin], "contradicted" if wholly outside. ``lo`` and ``hi`` must be
    finite numbers: a NaN bound (the interval of a single value, which has no spread) raises
    ``ValueError`` rather than passing for a verdict. For a family of one setting with margin 0
    this is :func:`family_verdict`'s rule at level 95% (two one-sided tests at 2.5% each).
    Introduced in lesson 07."""
    direction, margin = _check_direction_margin(direction, margin)
    for name, x in (("lo", lo), ("hi", hi)):
        if isinstance(x, float) and math.isnan(x):
            raise ValueError(f"{name} is NaN: no interval to read (one value has no interval; "
                             "give at least two)")
    lo = check_number(lo, "lo")
    hi = check_number(hi, "hi")
    if lo > hi:
        raise ValueError(f"the interval is reversed: lo = {lo} > hi = {hi}")
    if direction == 0:
        if -margin <= lo and hi <= margin:
            return "supported"
        if lo > margin or hi < -margin:
            return "contradicted"
        return "inconclusive"
    lo_, hi_ = (lo, hi) if direction > 0 else (-hi, -lo)
    if lo_ > margin:
        return "supported"
    if hi_ < -margin:
        return "contradicted"
    return "inconclusive"
