"""The paper's claims against the course's measurements (lesson 07).

A claim predicts the sign of an effect: ``direction = +1`` (the effect is positive, e.g. shortcuts
raise test accuracy), ``-1`` (negative, e.g. regularisation shrinks the generalisation gap) or
``0`` (no effect, within a stated ``margin``). The evidence for it in one setting (a data set, an
architecture, a depth, a training-set size) is an effect with a 95% interval over seeds
(:func:`maxent_lib.ablation.t_interval` of paired differences), and the verdict is read off the
interval by :func:`verdict`:

- direction +-1: **supported** if the whole interval lies on the predicted side of 0,
  **not supported** if it lies wholly on the other side, **inconclusive** if it contains 0;
- direction 0: **supported** if the interval lies inside [-margin, margin], **not supported** if
  it lies wholly outside it, **inconclusive** otherwise.

Over several settings of one source (one results file, or the re-measurement), :func:`overall`
gives the common verdict when all agree; **mixed** only when the evidence points both ways (some
settings support the claim, others contradict it); and **supported where conclusive** (or **not
supported where conclusive**) when the conclusive settings agree and the rest are inconclusive:
an interval containing 0 is no evidence, so it neither confirms nor weakens a verdict.
Over several sources (the quick and the full profile differ in seeds and sizes),
:func:`verdict_by_source` judges each source on its own and :func:`combined_verdict` gives their
common verdict, or lists them per source (e.g. "supported (full); inconclusive (quick)") when they
differ, so a small run never dilutes a large one. The evidence comes from the stored results
files (``results/*.jsonl``, written by ``python -m maxent_lib ablate``), never from numbers
typed in, or from cheap re-measurements.

Introduced in lesson 07.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._checks import as_finite_array
from .ablation import load_results, paired_effects, t_interval

VERDICTS: tuple[str, ...] = ("supported", "not supported", "inconclusive")
#: The verdicts :func:`overall` can give over several settings.
OVERALL_VERDICTS: tuple[str, ...] = VERDICTS + (
    "supported where conclusive", "not supported where conclusive", "mixed")


@dataclass(frozen=True)
class Claim:
    """A claim of the paper, made testable: the metric, the predicted sign of the effect and,
    for a "no effect" claim, the margin within which an effect counts as none."""

    key: str
    lesson: str
    statement: str
    metric: str
    direction: int
    margin: float = 0.0

    def __post_init__(self) -> None:
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"direction must be -1, 0 or +1, got {self.direction!r}")
        if not math.isfinite(self.margin) or self.margin < 0:
            raise ValueError(f"margin must be a non-negative number, got {self.margin!r}")
        if self.direction == 0 and self.margin == 0:
            raise ValueError("a 'no effect' claim (direction 0) needs a positive margin")


@dataclass(frozen=True)
class Evidence:
    """One setting's measurement for a claim: effect (mean over ``n`` seeds) and its interval."""

    claim: str
    setting: str
    dataset: str
    n: int
    effect: float
    lo: float
    hi: float
    verdict: str
    source: str


def verdict(lo: float, hi: float, direction: int, margin: float = 0.0) -> str:
    """The verdict of an interval ``[lo, hi]`` on a claim that predicts ``direction`` (see the
    module docstring). A NaN interval (one seed: no interval) is "inconclusive".

    Raises ``ValueError`` if ``lo > hi``, an end is infinite, ``direction`` is not -1, 0, +1, or
    ``margin`` is negative (or 0 with direction 0). Introduced in lesson 07.
    """
    if direction not in (-1, 0, 1):
        raise ValueError(f"direction must be -1, 0 or +1, got {direction!r}")
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a non-negative number, got {margin!r}")
    if direction == 0 and margin == 0:
        raise ValueError("a 'no effect' claim (direction 0) needs a positive margin")
    if math.isnan(lo) or math.isnan(hi):
        return "inconclusive"
    if math.isinf(lo) or math.isinf(hi):
        raise ValueError(f"the interval must be finite, got [{lo}, {hi}]")
    if lo > hi:
        raise ValueError(f"the interval is reversed: lo = {lo} > hi = {hi}")
    if direction == 0:
        if -margin <= lo and hi <= margin:
            return "supported"
        if lo > margin or hi < -margin:
            return "not supported"
        return "inconclusive"
    if direction * lo > 0 and direction * hi > 0:
        return "supported"
    if direction * lo < 0 and direction * hi < 0:
        return "not supported"
    return "inconclusive"


def overall(verdicts: Sequence[str]) -> str:
    """One verdict over several settings of one source (see the module docstring):

    - all settings agree: that verdict;
    - some "supported" and some "not supported": "mixed" (the evidence points both ways);
    - "supported" and "inconclusive" only: "supported where conclusive" (mirror for
      "not supported"): inconclusive settings add no evidence either way.

    Raises ``ValueError`` on an empty list or an unknown verdict. Introduced in lesson 07."""
    if len(verdicts) == 0:
        raise ValueError("no verdicts to combine")
    unknown = sorted(set(verdicts) - set(VERDICTS))
    if unknown:
        raise ValueError(f"unknown verdict(s) {unknown}; expected one of {VERDICTS}")
    distinct = set(verdicts)
    if len(distinct) == 1:
        return distinct.pop()
    if {"supported", "not supported"} <= distinct:
        return "mixed"
    conclusive = (distinct - {"inconclusive"}).pop()
    return f"{conclusive} where conclusive"


def verdict_by_source(rows: Sequence[Evidence]) -> dict[str, str]:
    """The :func:`overall` verdict of each source of ``rows`` (e.g. "full", "quick",
    "re-measured"), in order of first appearance. Raises ``ValueError`` on no rows.
    Introduced in lesson 07."""
    if len(rows) == 0:
        raise ValueError("no evidence to judge")
    sources = list(dict.fromkeys(e.source for e in rows))
    return {s: overall([e.verdict for e in rows if e.source == s]) for s in sources}


def combined_verdict(by_source: dict[str, str]) -> str:
    """One verdict over sources judged separately (:func:`verdict_by_source`): their common
    verdict if they agree, else each with its source, e.g. "supported (full); inconclusive
    (quick)". Sources are never pooled, so a small inconclusive run cannot turn a large run's
    support into "mixed". Raises ``ValueError`` on no sources or an unknown verdict.
    Introduced in lesson 07."""
    if not by_source:
        raise ValueError("no sources to combine")
    unknown = sorted(set(by_source.values()) - set(OVERALL_VERDICTS))
    if unknown:
        raise ValueError(f"unknown verdict(s) {unknown}; expected one of {OVERALL_VERDICTS}")
    distinct = set(by_source.values())
    if len(distinct) == 1:
        return distinct.pop()
    return "; ".join(f"{v} ({s})" for s, v in by_source.items())


def evidence_from_values(claim: Claim, values: Sequence[float], setting: str, dataset: str,
                         source: str, level: float = 0.95) -> Evidence:
    """Evidence from per-seed effects ``values`` (one number per seed): mean, t-interval, verdict.
    Introduced in lesson 07."""
    v = as_finite_array(values, "values", ndim=1)
    mean, lo, hi = t_interval(v, level)
    return Evidence(claim.key, setting, dataset, len(v), mean, lo, hi,
                    verdict(lo, hi, claim.direction, claim.margin), source)


def _require_fields(records: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    """Raise ``ValueError`` naming the fields a record lacks."""
    for r in records:
        missing = [k for k in fields if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")


def paired_evidence(records: Sequence[dict[str, Any]], claim: Claim, factor: str, baseline: Any,
                    treatment: Any, within: Sequence[str] = (), source: str = "",
                    where: Callable[[dict[str, Any]], bool] | None = None,
                    level: float = 0.95) -> list[Evidence]:
    """Effect of ``treatment`` against ``baseline`` (values of the field ``factor``) on
    ``claim.metric``, paired by seed, one row per combination of the ``within`` fields (via
    :func:`maxent_lib.ablation.paired_effects`). ``where`` keeps only some records.
    Raises ``ValueError`` if a record lacks a field or no pair is found.
    Introduced in lesson 07."""
    recs = [r for r in records if where is None or where(r)]
    if not recs:
        raise ValueError("no records left to compare")
    _require_fields(recs, (factor, claim.metric, *within))
    keep = [r for r in recs if r[factor] in (baseline, treatment)]
    rows = paired_effects(keep, claim.metric, factor, baseline, within=within, level=level)
    rows = [r for r in rows if r[factor] == treatment]
    if not rows:
        raise ValueError(f"no {factor} = {treatment!r} record pairs with {baseline!r} by seed")
    datasets = sorted({str(r.get("dataset", "?")) for r in keep})
    out = []
    for r in rows:
        setting = ", ".join(f"{k} {r[k]}" for k in within) or "all"
        out.append(Evidence(claim.key, setting, "/".join(datasets), int(r["n"]), float(r["effect"]),
                            float(r["lo"]), float(r["hi"]),
                            verdict(r["lo"], r["hi"], claim.direction, claim.margin), source))
    return out


def interaction_values(records: Sequence[dict[str, Any]], metric: str, factor: str,
                       baseline: Any, treatment: Any, along: str, low: Any, high: Any,
                       pair_on: Sequence[str] = ("seed",)) -> list[float]:
    """Per seed, (treatment - baseline at ``along = high``) - (treatment - baseline at
    ``along = low``): does the effect grow along ``along`` (depth, training-set size)?
    Raises ``ValueError`` if a record lacks a field or no seed has all four records.
    Introduced in lesson 07."""
    _require_fields(records, (metric, factor, along, *pair_on))
    table: dict[tuple, float] = {}
    for r in records:
        if r[factor] in (baseline, treatment) and r[along] in (low, high):
            table[(r[factor], r[along], *(r[k] for k in pair_on))] = float(r[metric])
    seeds = sorted({k[2:] for k in table})
    values = []
    for s in seeds:
        try:
            hi = table[(treatment, high, *s)] - table[(baseline, high, *s)]
            lo = table[(treatment, low, *s)] - table[(baseline, low, *s)]
        except KeyError:
            continue
        values.append(hi - lo)
    if not values:
        raise ValueError(f"no seed has {factor} in {{{baseline!r}, {treatment!r}}} at both "
                         f"{along} = {low!r} and {high!r}")
    return values


def find_results_dir(start: str | Path | None = None) -> Path | None:
    """The course's ``results/`` folder: in ``start`` (default: the working folder) or a parent,
    else next to the installed package; ``None`` if there is none. Introduced in lesson 07."""
    here = (Path.cwd() if start is None else Path(start)).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        if (folder / "results").is_dir() and (folder / "maxent_lib").exists():
            return folder / "results"
        if folder.name == "results" and folder.is_dir():
            return folder
    return None


def load_grid(results_dir: str | Path, grid: str) -> dict[str, list[dict[str, Any]]]:
    """The stored records of one ablation grid, by profile: ``{"full": [...], "quick": [...]}``
    from ``<grid>_full.jsonl`` and ``<grid>_quick.jsonl`` (a missing file gives no entry).
    Introduced in lesson 07."""
    folder = Path(results_dir)
    if not folder.is_dir():
        raise ValueError(f"results folder not found: {folder}")
    out = {}
    for profile in ("full", "quick"):
        records = load_results(folder / f"{grid}_{profile}.jsonl")
        if records:
            out[profile] = records
    return out


def load_provenance(results_dir: str | Path, grid: str, profile: str) -> dict[str, Any] | None:
    """The provenance of a stored grid (``<grid>_<profile>_provenance.json``: command, device,
    versions, date), or ``None`` if there is none. Introduced in lesson 07."""
    import json

    path = Path(results_dir) / f"{grid}_{profile}_provenance.json"
    if not path.is_file():
        return None
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise ValueError(f"{path.name} is not a JSON object: {exc}") from exc


def format_evidence(rows: Sequence[Evidence], digits: int = 3) -> str:
    """The evidence as a markdown table: claim, setting, data set, seeds, effect, 95% interval,
    verdict, source. Introduced in lesson 07."""
    lines = ["| claim | setting | data | seeds | effect | 95% interval | verdict | source |",
             "|---|---|---|---|---|---|---|---|"]
    def num(x: float) -> str:
        return f"{x:+.1e}" if x != 0 and abs(x) < 10 ** -digits else f"{x:+.{digits}f}"

    for e in rows:
        if np.isnan(e.lo):
            interval = "n/a (one seed)"
        elif e.n == 1 and e.lo == e.hi:
            interval = "exact (one fit)"
        else:
            interval = f"[{num(e.lo)}, {num(e.hi)}]"
        setting, dataset = (x.replace("|", "\\|") for x in (e.setting, e.dataset))
        lines.append(f"| {e.claim} | {setting} | {dataset} | {e.n} | {num(e.effect)} "
                     f"| {interval} | {e.verdict} | {e.source} |")
    return "\n".join(lines)


def format_claims(claims: Sequence[Claim]) -> str:
    """The claims as a markdown table: key, lesson, statement, metric, predicted effect.
    Introduced in lesson 07."""
    sign = {1: "> 0", -1: "< 0", 0: "= 0 (within +-{m:g})"}
    lines = ["| claim | lesson | statement | metric | predicted effect |", "|---|---|---|---|---|"]
    for c in claims:
        pred = sign[c.direction].format(m=c.margin)
        statement, metric = (x.replace("|", "\\|") for x in (c.statement, c.metric))
        lines.append(f"| {c.key} | {c.lesson} | {statement} | {metric} | {pred} |")
    return "\n".join(lines)


def summarize_claims(claims: Sequence[Claim], rows: Sequence[Evidence]) -> str:
    """One markdown row per claim: its statement, the sources and data sets of its evidence, how
    many settings were measured and how many support it, the range of the effects, the verdict
    of each source (:func:`verdict_by_source`, with its count of supporting settings) and the
    combined verdict (:func:`combined_verdict`; "not measured" without evidence).
    Introduced in lesson 07."""
    lines = ["| claim | lesson | statement | evidence | settings | supported in | effects "
             "| by source | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for c in claims:
        mine = [e for e in rows if e.claim == c.key]
        n_sup = sum(e.verdict == "supported" for e in mine)
        statement = c.statement.replace("|", "\\|")
        where = "; ".join(sorted({f"{e.source}: {e.dataset}" for e in mine})) or "-"
        if mine:
            lo, hi = min(e.effect for e in mine), max(e.effect for e in mine)
            effects = f"{lo:+.3g}" if lo == hi else f"{lo:+.3g} to {hi:+.3g}"
            by = verdict_by_source(mine)
            counts = {s: (sum(e.verdict == "supported" for e in mine if e.source == s),
                          sum(e.source == s for e in mine)) for s in by}
            per_source = "; ".join(f"{s}: {v} ({counts[s][0]}/{counts[s][1]})"
                                   for s, v in by.items())
            final = combined_verdict(by)
        else:
            effects, per_source, final = "-", "-", "not measured"
        lines.append(f"| {c.key} | {c.lesson} | {statement} | {where} | {len(mine)} | {n_sup} "
                     f"| {effects} | {per_source} | {final} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the paper's claims

#: The paper's claims as the course states them, with the lesson that derives each one.
PAPER_CLAIMS: tuple[Claim, ...] = (
    Claim("C1", "02", "Softmax regression trained by cross-entropy meets the max-ent moment "
          "constraints; with an L2 penalty they are relaxed by exactly -alpha W",
          "max |R + alpha W|", 0, margin=1e-6),
    Claim("C2", "03", "Under FC1 and FC2 (shared-covariance Gaussians) softmax regression "
          "recovers P(Y|X): no FC2 gap", "fc2_gap (nats)", 0, margin=5e-3),
    Claim("C3", "03", "When FC2 fails (class-specific covariances) the linear read-out is "
          "biased: FC2 gap > 0", "fc2_gap (nats)", +1),
    Claim("C4", "03", "When FC1 fails (a coordinate dropped) information is lost: FC1 gap > 0",
          "fc1_gap (nats)", +1),
    Claim("C5", "05", "Shortcuts improve generalisation of deep nets: residual minus plain test "
          "accuracy > 0 at the deepest depth", "test_acc", +1),
    Claim("C6", "05", "The benefit of shortcuts grows with depth (deepest minus shallowest)",
          "test_acc", +1),
    Claim("C7", "06", "Regularisation improves generalisation: lower test cross-entropy than "
          "the unregularised baseline", "test_loss", -1),
    Claim("C8", "06", "Weight decay, label smoothing and the confidence penalty raise the "
          "predictive entropy (the max-ent direction)", "test_entropy", +1),
    Claim("C9", "06", "Regularisation shrinks the generalisation gap (train minus test "
          "accuracy)", "gen_gap", -1),
    Claim("C10", "06", "Regularisation helps most with little data: its test-accuracy gain is "
          "larger at the smallest training set than at the largest", "test_acc", +1),
)
ENTROPY_ARMS: tuple[str, ...] = ("weight decay", "label smoothing", "confidence penalty")


def claim(key: str) -> Claim:
    """The claim of :data:`PAPER_CLAIMS` with this key. Introduced in lesson 07."""
    for c in PAPER_CLAIMS:
        if c.key == key:
            return c
    raise ValueError(f"unknown claim {key!r}; known: {[c.key for c in PAPER_CLAIMS]}")


def exact_evidence(c: Claim, value: float, setting: str, dataset: str, source: str) -> Evidence:
    """Evidence from one exact number (no seeds): the "interval" is the point itself.
    Introduced in lesson 07."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"value must be finite, got {value!r}")
    return Evidence(c.key, setting, dataset, 1, v, v, v, verdict(v, v, c.direction, c.margin),
                    source)


def remeasure_exact_claims(seeds: Sequence[int] = range(5), n_population: int = 20_000,
                           n_eval: int = 10_000, alpha: float = 1e-2) -> list[Evidence]:
    """Cheap re-measurements of claims C1-C4 (a few seconds on a CPU).

    C1: softmax regression with penalty ``alpha`` on the 8x8 digits and MNIST-1D; the number is
    max |R + alpha W| with R the moment residuals (zero in exact arithmetic). C2-C4: the exact
    FC gaps (:func:`maxent_lib.conditions.exact_condition_gaps`) on one random task per seed:
    shared-covariance Gaussians (C2), class-specific covariances (C3), and 3-D shared-covariance
    Gaussians with the last coordinate dropped (C4). Introduced in lesson 07.
    """
    from . import conditions, data
    from .softmax import SoftmaxRegression, moment_residuals

    seeds = list(seeds)
    if len(seeds) < 2:
        raise ValueError("give at least two seeds (an interval needs two values)")
    rows = []
    for name in ("digits", "mnist1d"):
        split = data.load(name)
        model = SoftmaxRegression(alpha=alpha).fit(split.X_train, split.y_train)
        R = moment_residuals(split.X_train, split.y_train, model.predict_proba(split.X_train))
        rows.append(exact_evidence(claim("C1"), float(np.max(np.abs(R + alpha * model.coef_))),
                                   f"alpha {alpha:g}", split.name, "re-measured"))
    gaps: dict[str, list[float]] = {"C2": [], "C3": [], "C4": []}
    for s in seeds:
        kw = {"n_population": n_population, "n_eval": n_eval, "seed": s}
        gaps["C2"].append(conditions.exact_condition_gaps(
            data.shared_covariance_gaussians(seed=s), **kw)["fc2_gap"])
        gaps["C3"].append(conditions.exact_condition_gaps(
            data.class_covariance_gaussians(seed=s), **kw)["fc2_gap"])
        gaps["C4"].append(conditions.exact_condition_gaps(
            data.shared_covariance_gaussians(dim=3, seed=s), keep=[0, 1], **kw)["fc1_gap"])
    names = {"C2": "shared-covariance Gaussians", "C3": "class-covariance Gaussians",
             "C4": "3-D Gaussians, x3 dropped"}
    for key, values in gaps.items():
        rows.append(evidence_from_values(claim(key), values, f"{len(seeds)} random tasks",
                                         names[key], "re-measured"))
    return rows


def shortcut_evidence(records: Sequence[dict[str, Any]], source: str,
                      all_depths: bool = False) -> list[Evidence]:
    """Claims C5 and C6 from the shortcut grid's records (lesson 05), per architecture: the
    residual-minus-plain test accuracy at the deepest depth (every depth with ``all_depths``),
    and its growth from the shallowest to the deepest depth, paired by seed.
    Introduced in lesson 07."""
    rows: list[Evidence] = []
    for kind in sorted({r["kind"] for r in records}):
        mine = [r for r in records if r["kind"] == kind]
        depths = sorted({r["depth"] for r in mine})
        keep = mine if all_depths else [r for r in mine if r["depth"] == depths[-1]]
        rows += paired_evidence(keep, claim("C5"), "arm", "plain", "residual",
                                within=("kind", "depth"), source=source)
        if len(depths) > 1:
            values = interaction_values(mine, "test_acc", "arm", "plain", "residual",
                                        along="depth", low=depths[0], high=depths[-1])
            rows.append(evidence_from_values(
                claim("C6"), values, f"kind {kind}, depth {depths[-1]} vs {depths[0]}",
                "/".join(sorted({str(r.get("dataset", "?")) for r in mine})), source))
    return rows


def regularization_evidence(records: Sequence[dict[str, Any]], source: str) -> list[Evidence]:
    """Claims C7-C10 from the regularisation grid's records (lesson 06): every arm against the
    baseline at every training-set size (C7, C9), the entropy-raising arms (C8), and the gain
    at the smallest minus the largest training set (C10), paired by seed.
    Introduced in lesson 07."""
    arms = sorted({r["arm"] for r in records} - {"baseline"})
    sizes = sorted({r["n_train"] for r in records})
    data_name = "/".join(sorted({str(r.get("dataset", "?")) for r in records}))
    rows: list[Evidence] = []
    for key in ("C7", "C8", "C9"):
        for arm in arms:
            if key == "C8" and not arm.startswith(ENTROPY_ARMS):
                continue
            found = paired_evidence(records, claim(key), "arm", "baseline", arm,
                                    within=("n_train",), source=source)
            rows += [Evidence(e.claim, f"{arm}, {e.setting}", e.dataset, e.n, e.effect, e.lo,
                              e.hi, e.verdict, e.source) for e in found]
    if len(sizes) > 1:
        for arm in arms:
            values = interaction_values(records, "test_acc", "arm", "baseline", arm,
                                        along="n_train", low=sizes[-1], high=sizes[0])
            rows.append(evidence_from_values(claim("C10"), values,
                                             f"{arm}, n_train {sizes[0]} vs {sizes[-1]}",
                                             data_name, source))
    return rows


def shortcut_effect_by_depth(records: Sequence[dict[str, Any]]
                             ) -> dict[str, tuple[np.ndarray, ...]]:
    """For plotting C5 depth by depth: per architecture, arrays (depths, effect, lo, hi) of the
    residual-minus-plain test accuracy (95% interval over seeds). Introduced in lesson 07."""
    out = {}
    for kind in sorted({r["kind"] for r in records}):
        rows = paired_evidence([r for r in records if r["kind"] == kind], claim("C5"), "arm",
                               "plain", "residual", within=("depth",))
        rows.sort(key=lambda e: int(e.setting.split()[-1]))
        out[kind] = tuple(np.array(v, dtype=float) for v in zip(
            *[(int(e.setting.split()[-1]), e.effect, e.lo, e.hi) for e in rows], strict=True))
    return out
