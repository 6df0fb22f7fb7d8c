"""The paper's claims against the course's measurements, with verdicts a statistician would sign
(lesson 07).

A claim predicts the sign of an effect: ``direction = +1`` (positive, e.g. shortcuts raise test
accuracy), ``-1`` (negative) or ``0`` (no effect). It is tested in a *family* of settings (an
architecture and depth, an arm and a training-set size, ...); in each setting the evidence is a
set of per-seed paired differences ``d_s`` (treatment minus baseline, same seed: same
initialisation, batch order, training subset and validation split).

Each claim is judged by the verdict rule of :mod:`maxent_lib.stats` (Holm over the settings'
one-sided tests, TOST for "negligible").

What an interval over seeds covers: the randomness that varies with the seed (initialisation,
batch order, dropout masks, the training subset and the validation split drawn from the
4000-example pool), not the fixed 1000-example test set nor the pool itself. Claims true by
construction (theorems, identities, a regulariser whose objective rewards entropy) are labelled
so and counted as no evidence. Evidence comes from stored results files made by the current
code (:func:`maxent_lib.store.provenance.load_stored`); stale files give no verdict.

Introduced in lesson 07.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._checks import (
    InputTypeError,
    check_flag,
    check_int,
    check_number,
    check_path,
)
from .ablation.summaries import did_not_train, paired_effects
from .stats import (  # CROSS
    FamilyResult,
    _check_alpha,
    _check_direction_margin,
    _check_list,
    family_tests,
)
from .store.files import read_records as load_results

#: Margins at the test set's resolution: 0.01 of accuracy is 10 of the 1000 test points;
#: cross-entropies and entropies in nats.
MARGINS: dict[str, float] = {"test_acc": 0.01, "gen_gap": 0.01, "test_loss": 0.02,
                             "test_loss_calibrated": 0.02, "test_entropy": 0.02}


#: Two nets "fit their training data comparably" if their mean training accuracies differ by at
#: most this much; otherwise a difference in test accuracy is about optimisation.
FIT_TOLERANCE = 0.05


def _check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InputTypeError(f"{name} must be a string, got {value!r}")
    return value


@dataclass(frozen=True)
class Claim:
    """A claim of the paper, made testable: the metric, the predicted sign, the margin, and its
    status: "empirical" (judged by :func:`family_verdict`), "theorem" (proved in a lesson and
    checked numerically: true by construction, no evidence) or "by construction"."""

    key: str
    lesson: str
    statement: str
    metric: str
    direction: int
    margin: float = 0.0
    status: str = "empirical"

    def __post_init__(self) -> None:
        for name in ("key", "lesson", "statement", "metric"):
            _check_str(getattr(self, name), name)
        _check_direction_margin(self.direction, self.margin)
        if not isinstance(self.status, str):
            raise InputTypeError(f"status must be a string, got {self.status!r}")
        if self.status not in ("empirical", "theorem", "by construction"):
            raise ValueError(f"status must be empirical, theorem or by construction, "
                             f"got {self.status!r}")


@dataclass
class Family:
    """The evidence for one claim: per setting, the per-seed paired differences; settings left
    out (e.g. "did not train") with the reason; where the records came from."""

    claim: Claim
    source: str
    settings: list[str] = field(default_factory=list)
    effects: list[np.ndarray] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.claim, Claim):
            raise InputTypeError(f"claim must be a Claim, got {type(self.claim).__name__}")
        _check_str(self.source, "source")
        _check_str(self.note, "note")
        for name in ("settings", "effects", "excluded"):
            if not isinstance(getattr(self, name), list):
                raise InputTypeError(f"{name} must be a list, got "
                                     f"{type(getattr(self, name)).__name__}")

    def judge(self, alpha: float = 0.05) -> FamilyResult | None:
        """The family's :func:`family_tests` (None when no setting is left)."""
        alpha = _check_alpha(alpha)
        if not isinstance(self.claim, Claim):
            raise InputTypeError(f"the family's claim must be a Claim, got "
                                 f"{type(self.claim).__name__}")
        if not self.effects:
            return None
        return family_tests(self.effects, self.claim.direction, margin=self.claim.margin,
                            alpha=alpha, settings=self.settings)


def _pairs(records: Sequence[dict[str, Any]], metric: str, factor: str, baseline: Any,
           treatment: Any, within: Sequence[str]) -> list[dict[str, Any]]:
    keep = [r for r in records if r[factor] in (baseline, treatment)]
    rows = paired_effects(keep, metric, factor, baseline, within=within)
    return [r for r in rows if r[factor] == treatment]


def _trained_seeds(records: Sequence[dict[str, Any]], where: Callable[[dict[str, Any]], bool]
                   ) -> set[Any]:
    return {r["seed"] for r in records if where(r) and not did_not_train(r)}


def paired_family(records: Sequence[dict[str, Any]], claim: Claim, factor: str, baseline: Any,
                  treatments: Sequence[Any], within: Sequence[str], source: str,
                  check_fit: bool = False) -> Family:
    """A family of paired effects of ``claim.metric``: one setting per treatment (a value of
    ``factor``) and combination of the ``within`` fields, paired by seed against ``baseline``
    (:func:`maxent_lib.ablation.paired_effects`). A pair in which either net did not train
    (:func:`maxent_lib.ablation.did_not_train`) is left out; a setting left with fewer than two
    pairs is excluded ("did not train"). With ``check_fit``, a setting whose two arms' mean
    training accuracies differ by more than :data:`FIT_TOLERANCE` is excluded too (not a
    comparison of generalisation). A pair in which a net diverged (no metrics) counts as a pair
    that did not train. Introduced in lesson 07."""
    records = _check_list(records, "records", dict)
    if not isinstance(claim, Claim):
        raise InputTypeError(f"claim must be a Claim, got {type(claim).__name__}")
    treatments = _check_list(treatments, "treatments")
    source = _check_str(source, "source")
    check_flag(check_fit, "check_fit")
    fam = Family(claim, source)
    for t in treatments:
        for row in _pairs(records, claim.metric, factor, baseline, t, within):
            label = ", ".join([str(t)] * (factor == "arm" and len(treatments) > 1)
                              + [f"{k} {row[k]}" for k in within])
            setting = {k: row[k] for k in within}

            def here(r: dict[str, Any], value: Any, s: dict[str, Any] = setting) -> bool:
                return r[factor] == value and all(r[k] == v for k, v in s.items())

            ok = _trained_seeds(records, lambda r, v=baseline: here(r, v)) & \
                _trained_seeds(records, lambda r, v=t: here(r, v))
            vals = [d for s, d in zip(row["seeds"], row["diffs"], strict=True) if s in ok]
            if len(vals) < 2:
                total = len(row["diffs"]) + row.get("n_diverged", 0)
                fam.excluded.append((label, f"did not train ({total - len(vals)} of {total} "
                                            "pairs)"))
                continue
            if check_fit:
                fit = _pairs(records, "train_acc", factor, baseline, t, within)
                gap = [r for r in fit if all(r[k] == v for k, v in setting.items())]
                dtrain = float(np.mean([d for s, d in zip(gap[0]["seeds"], gap[0]["diffs"],
                                                          strict=True) if s in ok]))
                if abs(dtrain) > FIT_TOLERANCE:
                    fam.excluded.append((label, f"training accuracy differs by {dtrain:+.3f}: "
                                                "optimisation, not generalisation"))
                    continue
            fam.settings.append(label)
            fam.effects.append(np.asarray(vals, dtype=float))
    return fam


def interaction_values(records: Sequence[dict[str, Any]], metric: str, factor: str,
                       baseline: Any, treatment: Any, along: str, low: Any, high: Any,
                       pair_on: Sequence[str] = ("seed",), trained_only: bool = True
                       ) -> list[float]:
    """Per seed, (treatment - baseline at ``along = high``) - (treatment - baseline at
    ``along = low``): does the effect grow along ``along`` (depth, training-set size)? Seeds in
    which one of the four nets did not train are left out (``trained_only``). Raises
    ``ValueError`` if a record lacks a field, on duplicate rows, or if no seed has all four.
    A diverged net (no metrics) did not train; with ``trained_only=False`` it raises
    ``ValueError``. Introduced in lesson 07."""
    records = _check_list(records, "records", dict)
    metric, factor, along = (_check_str(v, n) for v, n in ((metric, "metric"),
                                                             (factor, "factor"),
                                                             (along, "along")))
    pair_on = [_check_str(k, "pair_on") for k in _check_list(pair_on, "pair_on")]
    trained_only = check_flag(trained_only, "trained_only")
    for r in records:
        missing = [k for k in (metric, factor, along, *pair_on) if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
    table: dict[tuple, float] = {}
    for r in records:
        if r[factor] in (baseline, treatment) and r[along] in (low, high):
            if trained_only and "train_acc" in r and did_not_train(r):
                continue
            key = (r[factor], r[along], *(r[k] for k in pair_on))
            if key in table:
                raise ValueError(f"duplicate rows for {key}")
            if r[metric] is None and r.get("diverged") is True:
                raise ValueError(f"a record of {key} diverged in training (no {metric}); leave "
                                 "diverged nets out (trained_only=True)")
            table[key] = check_number(r[metric], f"the field {metric!r} of a record")
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


#: The paper's claims as the course states them, with the lesson that derives each one.
PAPER_CLAIMS: tuple[Claim, ...] = (
    Claim("C0", "04", "The central claim: a DNN is a recursive max-ent solution whose layers "
          "move the features toward FC1 and FC2; measured as: each trained layer lowers the "
          "excess CE_lin(T) - CE_flex(X) of the linear read-out more than the same layer at "
          "initialisation (probes on held-out data)",
          "change of total gap per layer (nats)", -1, margin=0.02),
    Claim("C1", "02", "Softmax regression trained by cross-entropy meets the max-ent moment "
          "constraints; with an L2 penalty they are relaxed by exactly -alpha W",
          "max |R + alpha W|", 0, margin=1e-6, status="theorem"),
    Claim("C2", "03", "Under FC1 and FC2 (shared-covariance Gaussians) softmax regression "
          "recovers P(Y|X): no FC2 gap", "fc2_gap (nats)", 0, margin=5e-3, status="theorem"),
    Claim("C3", "03", "When FC2 fails (class-specific covariances) the linear read-out is "
          "biased: FC2 gap > 0", "fc2_gap (nats)", +1, status="theorem"),
    Claim("C4", "03", "When FC1 fails (a coordinate dropped) information is lost: FC1 gap > 0",
          "fc1_gap (nats)", +1, status="theorem"),
    Claim("C5", "05", "Shortcuts improve generalisation of deep nets: residual minus plain test "
          "accuracy > 0 (depths above the shallowest; both nets trained, comparable fit)",
          "test_acc", +1, margin=MARGINS["test_acc"]),
    Claim("C6", "05", "The benefit of shortcuts grows with depth (deepest minus shallowest)",
          "test_acc", +1, margin=MARGINS["test_acc"]),
    Claim("C7", "06", "Regularisation improves generalisation: higher test accuracy than the "
          "unregularised baseline", "test_acc", +1, margin=MARGINS["test_acc"]),
    Claim("C7c", "06", "Regularisation improves the predicted probabilities beyond calibration: "
          "lower test cross-entropy than the baseline, both after temperature scaling",
          "test_loss_calibrated", -1, margin=MARGINS["test_loss_calibrated"]),
    Claim("C8", "06", "Weight decay raises the predictive entropy (the max-ent direction)",
          "test_entropy", +1, margin=MARGINS["test_entropy"]),
    Claim("C8b", "06", "Label smoothing and the confidence penalty raise the predictive entropy",
          "test_entropy", +1, margin=MARGINS["test_entropy"], status="by construction"),
    Claim("C9", "06", "Regularisation shrinks the generalisation gap (train minus test "
          "accuracy)", "gen_gap", -1, margin=MARGINS["gen_gap"]),
    Claim("C10", "06", "Regularisation helps most with little data: its test-accuracy gain is "
          "larger at the smallest training set than at the largest", "test_acc", +1,
          margin=MARGINS["test_acc"]),
)


ENTROPY_BY_CONSTRUCTION: tuple[str, ...] = ("label smoothing", "confidence penalty")


def claim(key: str) -> Claim:
    """The claim of :data:`PAPER_CLAIMS` with this key. Introduced in lesson 07."""
    _check_str(key, "key")
    for c in PAPER_CLAIMS:
        if c.key == key:
            return c
    raise ValueError(f"key {key!r} is not a claim of PAPER_CLAIMS; known: "
                     f"{[c.key for c in PAPER_CLAIMS]}")


def shortcut_families(records: Sequence[dict[str, Any]], source: str) -> list[Family]:
    """Claims C5 and C6 from the shortcut grid's records (lesson 05): C5, residual minus plain
    test accuracy at every depth above the shallowest, per architecture (nets that trained and
    fit comparably); C6, the gain at the deepest minus the shallowest depth, per architecture.
    Introduced in lesson 07."""
    _check_grid_records(records, ("kind", "depth", "arm", "seed", "test_acc", "train_acc"))
    source = _check_str(source, "source")
    recs = [r for r in records if r.get("init", "he") == "he"]
    if not recs:
        raise ValueError("records holds no net with He initialisation (init 'he')")
    depths = sorted({r["depth"] for r in recs})
    c5 = paired_family([r for r in recs if r["depth"] > depths[0]], claim("C5"), "arm",
                       "plain", ["residual"], ("kind", "depth"), source, check_fit=True)
    c6 = Family(claim("C6"), source)
    if len(depths) > 1:
        for kind in sorted({r["kind"] for r in recs}):
            mine = [r for r in recs if r["kind"] == kind]
            label = f"kind {kind}, depth {depths[-1]} vs {depths[0]}"
            fit = [r for r in paired_effects(mine, "train_acc", "arm", "plain", within=("depth",))
                   if r["depth"] in (depths[0], depths[-1])]
            worst = max(fit, key=lambda r: abs(r["effect"]), default=None)
            if worst is not None and abs(worst["effect"]) > FIT_TOLERANCE:
                c6.excluded.append((label, f"training accuracy differs by {worst['effect']:+.3f} "
                                           f"at depth {worst['depth']}: optimisation, not "
                                           "generalisation"))
                continue
            try:
                vals = interaction_values(mine, "test_acc", "arm", "plain", "residual",
                                          along="depth", low=depths[0], high=depths[-1])
            except ValueError:
                c6.excluded.append((label, "no seed with all four nets present and trained"))
                continue
            c6.settings.append(label)
            c6.effects.append(np.asarray(vals))
    return [c5, c6]


def regularization_families(records: Sequence[dict[str, Any]], source: str) -> list[Family]:
    """Claims C7, C7c, C8, C8b, C9 and C10 from the regularisation grid's records (lesson 06):
    every arm against the baseline at every training-set size, paired by seed (C8: the weight
    decay arms; C8b: the arms whose objective rewards entropy, by construction), and C10 the
    test-accuracy gain at the smallest minus the largest size, per arm.
    Introduced in lesson 07."""
    _check_grid_records(records, ("arm", "n_train", "seed", "test_acc", "train_acc"))
    source = _check_str(source, "source")
    arms = sorted({r["arm"] for r in records} - {"baseline"})
    entropy_arms = [a for a in arms if a.startswith(ENTROPY_BY_CONSTRUCTION)]
    out = [paired_family(records, claim("C7"), "arm", "baseline", arms, ("n_train",), source),
           paired_family(records, claim("C7c"), "arm", "baseline", arms, ("n_train",), source),
           paired_family(records, claim("C8"), "arm", "baseline",
                         [a for a in arms if a.startswith("weight decay")], ("n_train",),
                         source),
           paired_family(records, claim("C8b"), "arm", "baseline", entropy_arms,
                         ("n_train",), source),
           paired_family(records, claim("C9"), "arm", "baseline", arms, ("n_train",), source)]
    sizes = sorted({r["n_train"] for r in records})
    c10 = Family(claim("C10"), source)
    if len(sizes) > 1:
        for arm in arms:
            vals = interaction_values(records, "test_acc", "arm", "baseline", arm,
                                      along="n_train", low=sizes[-1], high=sizes[0])
            c10.settings.append(f"{arm}, n_train {sizes[0]} vs {sizes[-1]}")
            c10.effects.append(np.asarray(vals))
    out.append(c10)
    return out


def _check_grid_records(records: object, fields: Sequence[str]) -> None:
    records = _check_list(records, "records", dict)
    if not records:
        raise ValueError("records is empty")
    for i, r in enumerate(records):
        missing = [f for f in fields if f not in r]
        if missing:
            raise ValueError(f"records[{i}] lacks the field(s) {missing}")


def layer_gap_family(gaps_per_model: Sequence[Sequence[dict[str, Any]]], source: str,
                     names: Sequence[str] | None = None,
                     baseline: Sequence[Sequence[dict[str, Any]]] | None = None) -> Family:
    """Claim C0 from held-out probes (:func:`maxent_lib.ablation.heldout_layer_gaps` with
    ``include_input=True``): for each model, the excess of the linear read-out over the
    flexible probe on the input, ``total_gap = CE_lin(T_l) - CE_flex(X)``, at the input (l = 0)
    and every measured layer; one setting per step l-1 -> l, with one value per model (seed):
    the change of ``total_gap``. Each model's ``total_gap`` is its mean over the probes' refit
    splits (its split-to-split spread is measurement noise that stays inside that value); the
    family's intervals are over the models, so they cover the nets' training seeds as well.
    The claim predicts that every step lowers it (the features move toward FC1 and FC2).
    ``names`` labels the layers (default X, T1, T2, ...).

    ``baseline``: the same gaps of the same models at initialisation
    (:func:`maxent_lib.ablation.at_initialisation`), paired by model; each value is then the
    trained step's change minus the untrained step's change, so a step is credited only with
    what training added to what random features of the layer below already give.
    Introduced in lesson 07."""
    gaps_per_model = _check_list(gaps_per_model, "gaps_per_model")
    source = _check_str(source, "source")
    if not gaps_per_model:
        raise ValueError("no models: give one list of per-layer gaps per model")
    for g in gaps_per_model:
        _check_list(g, "gaps_per_model (each model's layers)", dict)
    lengths = {len(g) for g in gaps_per_model}
    if len(lengths) != 1 or lengths.pop() < 2:
        raise ValueError("every model needs the same layers, the input and at least one more")
    L = len(gaps_per_model[0])
    names = [str(n) for n in _check_list(names, "names")] if names is not None else \
        ["X", *[f"T{i}" for i in range(1, L)]]
    if len(names) != L:
        raise ValueError(f"names has {len(names)} labels for {L} layers")
    for g in gaps_per_model:
        if any(layer.get("total_gap") is None for layer in g):
            raise ValueError("every layer needs its total_gap (fit the probes with the input)")
        for layer in g:
            check_number(layer["total_gap"], "total_gap")
    def steps(models: Sequence[Sequence[dict[str, Any]]]) -> np.ndarray:
        return np.array([[g[i]["total_gap"] - g[i - 1]["total_gap"] for i in range(1, L)]
                         for g in models])

    effects = steps(gaps_per_model)
    if baseline is not None:
        baseline = _check_list(baseline, "baseline")
        for g in baseline:
            _check_list(g, "baseline (each model's layers)", dict)
            if len(g) != L or any(layer.get("total_gap") is None for layer in g):
                raise ValueError(f"baseline must give every model the same {L} layers, each "
                                 "with its total_gap, as gaps_per_model")
            for layer in g:
                check_number(layer["total_gap"], "baseline total_gap")
        if len(baseline) != len(gaps_per_model):
            raise ValueError(f"baseline has {len(baseline)} models, gaps_per_model "
                             f"{len(gaps_per_model)}: pair each model with itself untrained")
        effects = effects - steps(baseline)
    fam = Family(claim("C0"), source)
    for i in range(1, L):
        fam.settings.append(f"{names[i - 1]} -> {names[i]}"
                            + (", trained - untrained" if baseline is not None else ""))
        fam.effects.append(effects[:, i - 1])
    return fam


def verdict_table(families: Sequence[Family], alpha: float = 0.05,
                  claims: Sequence[Claim] = PAPER_CLAIMS,
                  theorem_checks: dict[str, str] | None = None) -> list[dict[str, str]]:
    """One row per claim: key, statement, evidence (source, settings, seeds, exclusions),
    the settings' calls and the verdict: the family verdict for empirical claims, "theorem
    (checked: ...)" or "by construction" otherwise, "not measured" without evidence.
    ``theorem_checks`` maps a theorem's key to its numerical check. Introduced in lesson 07."""
    families = _check_list(families, "families", Family)
    claims = _check_list(claims, "claims", Claim)
    alpha = _check_alpha(alpha)
    if theorem_checks is not None and (not isinstance(theorem_checks, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in theorem_checks.items())):
        raise InputTypeError("theorem_checks must be a dict of claim key -> text, or None")
    rows = []
    for c in claims:
        fams = [f for f in families if f.claim.key == c.key]
        seeds = sorted({len(e) for f in fams for e in f.effects})
        evidence = "; ".join(
            f"{f.source}: {_count(len(f.effects), 'setting')}"
            + (f", {len(f.excluded)} excluded" if f.excluded else "") for f in fams) or "-"
        if seeds:
            evidence += f"; {min(seeds)}-{max(seeds)} seeds" if len(seeds) > 1 \
                else f"; {seeds[0]} seeds"
        results = [(f, f.judge(alpha)) for f in fams]
        calls = "; ".join(f"{f.source}: {res.summary()}" for f, res in results if res) or "-"
        if c.status == "theorem":
            check = (theorem_checks or {}).get(c.key)
            final = "theorem" + (f" (checked: {check})" if check else "")
        elif c.status == "by construction":
            final = "by construction (no evidence)"
        elif not any(res for _, res in results):
            final = "not measured"
        else:
            final = "; ".join(f"{res.verdict} ({f.source})" for f, res in results if res)
            if len({res.verdict for _, res in results if res}) == 1:
                final = next(res.verdict for _, res in results if res)
        rows.append({"claim": c.key, "lesson": c.lesson, "statement": c.statement,
                     "metric": c.metric, "margin": f"{c.margin:g}", "evidence": evidence,
                     "calls": calls, "verdict": final})
    return rows


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def format_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as a markdown table with the given columns (``|`` escaped).
    Introduced in lesson 07."""
    rows = _check_list(rows, "rows", dict)
    columns = [_check_str(c, "columns") for c in _check_list(columns, "columns")]
    if not columns:
        raise ValueError("columns is empty")
    def cell(v: Any) -> str:
        return str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def family_rows(family: Family, alpha: float = 0.05, digits: int = 3) -> list[dict[str, str]]:
    """One row per setting of a family (effect, 95% interval, p-values, call) and one per
    excluded setting. Introduced in lesson 07."""
    if not isinstance(family, Family):
        raise InputTypeError(f"family must be a Family, got {type(family).__name__}")
    digits = check_int(digits, "digits", low=0, high=15)
    res = family.judge(alpha)
    out = []

    def num(x: float) -> str:
        return f"{x:+.{digits}f}" if math.isfinite(x) else "n/a"

    for s in res.settings if res else ():
        out.append({"claim": family.claim.key, "setting": s.setting, "seeds": str(s.n),
                    "effect": num(s.effect), "95% interval": f"[{num(s.lo)}, {num(s.hi)}]",
                    "p up": f"{s.p_up:.2g}", "p down": f"{s.p_down:.2g}",
                    "p equiv": f"{s.p_equiv:.2g}", "call": s.call})
    for label, why in family.excluded:
        out.append({"claim": family.claim.key, "setting": label, "call": f"excluded: {why}"})
    return out


def format_claims(claims: Sequence[Claim]) -> str:
    """The claims as a markdown table: key, lesson, statement, metric, predicted effect, status.
    Introduced in lesson 07."""
    claims = _check_list(claims, "claims", Claim)
    sign = {1: "> +{m:g}", -1: "< -{m:g}", 0: "within +-{m:g}"}
    rows = [{"claim": c.key, "lesson": c.lesson, "statement": c.statement, "metric": c.metric,
             "predicted effect": sign[c.direction].format(m=c.margin), "status": c.status}
            for c in claims]
    return format_rows(rows, ["claim", "lesson", "statement", "metric", "predicted effect",
                              "status"])


def find_results_dir(start: str | Path | None = None) -> Path | None:
    """The course's ``results/`` folder: in ``start`` (default: the working folder) or a parent,
    else next to the installed package; ``None`` if there is none. Introduced in lesson 07."""
    here = (Path.cwd() if start is None else check_path(start, "start")).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        if (folder / "results").is_dir() and (folder / "maxent_lib").exists():
            return folder / "results"
        if folder.name == "results" and folder.is_dir():
            return folder
    return None


def load_grid(results_dir: str | Path, grid: str) -> dict[str, list[dict[str, Any]]]:
    """The stored records of one ablation grid, by profile: ``{"full": [...], "quick": [...]}``
    from ``<grid>_full.jsonl`` and ``<grid>_quick.jsonl`` (a missing file gives no entry),
    whether current or stale (see :func:`maxent_lib.ablation.load_stored`).
    Introduced in lesson 07."""
    folder = check_path(results_dir, "results_dir")
    grid = _check_str(grid, "grid")
    if not grid or any(c in grid for c in "/\\") or grid.startswith("."):
        raise ValueError(f"grid must be a grid name such as 'shortcut', got {grid!r}")
    if not folder.is_dir():
        raise ValueError(f"results folder not found: {folder}")
    out = {}
    for profile in ("full", "quick"):
        records = load_results(folder / f"{grid}_{profile}.jsonl")
        if records:
            out[profile] = records
    return out


@dataclass(frozen=True)
class Check:
    """A numerical check of a theorem: the claim, where, the numbers (mean and range over
    tasks) and whether it came out as the theorem says."""

    claim: str
    setting: str
    n: int
    value: float
    lo: float
    hi: float
    holds: bool


def theorem_summary(checks: Sequence[Check]) -> dict[str, str]:
    """Per theorem, a one-line statement of its numerical checks (for :func:`verdict_table`)."""
    checks = _check_list(checks, "checks", Check)
    out: dict[str, list[str]] = {}
    for c in checks:
        val = f"{c.value:.1e}" if abs(c.value) < 1e-3 else f"{c.value:.3f}"
        out.setdefault(c.claim, []).append(
            f"{c.setting}: {val}" + ("" if c.n == 1 else f" [{c.lo:.3g}, {c.hi:.3g}]")
            + ("" if c.holds else " (FAILS)"))
    return {k: "; ".join(v) for k, v in out.items()}
