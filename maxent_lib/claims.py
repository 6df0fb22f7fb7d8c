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

Verdicts, their tables and sentences are in :mod:`maxent_lib.verdicts`. Introduced in
lesson 05 (the claims of the shortcut grid); lesson 07 gathers them all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._checks import InputTypeError, check_number
from .ablation.summaries import TRAINED_AT, did_not_train, paired_effects
from .stats import (
    QUANTIFIERS,
    FamilyResult,
    _check_direction_margin,
    family_tests,
)
from .store.files import read_records as load_results
from .validation import (
    Anything,
    Choice,
    Dict,
    Flag,
    Instance,
    Integer,
    Items,
    PathArg,
    Real,
    Text,
    validate,
)

#: Margins at the test set's resolution: 0.01 of accuracy is 10 of the 1000 test points;
#: cross-entropies and entropies in nats.
MARGINS: dict[str, float] = {"test_acc": 0.01, "gen_gap": 0.01, "test_loss": 0.02,
                             "test_loss_calibrated": 0.02, "test_entropy": 0.02}


#: Two nets "fit their training data comparably" if their mean training accuracies differ by at
#: most this much; otherwise a difference in test accuracy is about optimisation. Lessons report
#: the verdicts at :data:`FIT_TOLERANCES` too.
FIT_TOLERANCE = 0.05


#: Other reasonable values of the filters that can decide a verdict (None: no filter).
FIT_TOLERANCES: tuple[float | None, ...] = (0.03, 0.05, 0.10, None)


TRAINED_ATS: tuple[float | None, ...] = (1.5, 2.0, 3.0, None)

_ALPHA = Real(low=0.0, high=1.0, low_open=True, high_open=True)
_FILTER = Real(low=0.0, optional=True)
_RECORDS = Items(Dict())
_FIELD = Text(empty=False)
_VALUE = Anything("a value of a record's field, of any type (compared with ==)")
_STATUSES = ("empirical", "theorem", "by construction")


@validate(key=Text(), lesson=Text(), statement=Text(), metric=Text(),
          direction=Integer(low=-1, high=1), margin=Real(low=0.0), status=Choice(_STATUSES),
          quantifier=Choice(QUANTIFIERS), per=Text(optional=True), caveat=Text())
@dataclass(frozen=True)
class Claim:
    """A claim of the paper, made testable: the metric, the predicted sign, the margin, and its
    status: "empirical" (judged by the verdict rule of :mod:`maxent_lib.stats`), "theorem"
    (proved in a lesson and checked numerically: true by construction, no evidence) or "by
    construction".

    How the claim is worded decides how it is judged: ``per`` names the field whose values are
    the claim's items (e.g. "arm": "every regulariser ..." is judged per regulariser, each its
    own family), and ``quantifier`` says how a family's settings combine: "universal" (the claim
    says every setting: supported only when every setting is for it) or "existential" (some
    setting for it, none against). ``caveat``: what a verdict on the claim does not show."""

    key: str
    lesson: str
    statement: str
    metric: str
    direction: int
    margin: float = 0.0
    status: str = "empirical"
    quantifier: str = "universal"
    per: str | None = None
    caveat: str = ""

    def __post_init__(self) -> None:
        _check_direction_margin(self.direction, self.margin)  # the fields are declared


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
    item: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.claim, Claim):
            raise InputTypeError(f"claim must be a Claim, got {type(self.claim).__name__}")
        for name in ("source", "note", "item"):
            if not isinstance(getattr(self, name), str):
                raise InputTypeError(f"{name} must be a string, got "
                                     f"{type(getattr(self, name)).__name__}")
        for name in ("settings", "effects", "excluded"):
            if not isinstance(getattr(self, name), list):
                raise InputTypeError(f"{name} must be a list, got "
                                     f"{type(getattr(self, name)).__name__}")

    @validate(alpha=_ALPHA)
    def judge(self, alpha: float = 0.05) -> FamilyResult | None:
        """The family's :func:`family_tests` (None when no setting is left)."""
        if not isinstance(self.claim, Claim):
            raise InputTypeError(f"the family's claim must be a Claim, got "
                                 f"{type(self.claim).__name__}")
        if not self.effects:
            return None
        return family_tests(self.effects, self.claim.direction, margin=self.claim.margin,
                            alpha=alpha, settings=self.settings,
                            quantifier=self.claim.quantifier)


def _pairs(records: Sequence[dict[str, Any]], metric: str, factor: str, baseline: Any,
           treatment: Any, within: Sequence[str]) -> list[dict[str, Any]]:
    keep = [r for r in records if r[factor] in (baseline, treatment)]
    rows = paired_effects(keep, metric, factor, baseline, within=within, unpaired="report")
    return [r for r in rows if r[factor] == treatment]


def _trained_seeds(records: Sequence[dict[str, Any]], where: Callable[[dict[str, Any]], bool],
                   trained_at: float | None) -> set[Any]:
    return {r["seed"] for r in records if where(r) and not did_not_train(r, trained_at)}


@validate(records=_RECORDS, claim=Instance((Claim,)), factor=_FIELD, baseline=_VALUE,
          treatments=Items(_VALUE), within=Items(_FIELD), source=Text(),
          check_fit=Flag(), fit_tolerance=_FILTER, trained_at=_FILTER, item=Text())
def paired_family(records: Sequence[dict[str, Any]], claim: Claim, factor: str, baseline: Any,
                  treatments: Sequence[Any], within: Sequence[str], source: str,
                  check_fit: bool = False, *, fit_tolerance: float | None = FIT_TOLERANCE,
                  trained_at: float | None = TRAINED_AT, item: str = "") -> Family:
    """A family of paired effects of ``claim.metric``: one setting per treatment (a value of
    ``factor``) and combination of the ``within`` fields, paired by seed against ``baseline``
    (:func:`maxent_lib.ablation.paired_effects`). A pair in which either net did not train
    (:func:`maxent_lib.ablation.did_not_train` at ``trained_at`` times chance) is left out; a
    setting left with fewer than two pairs is excluded ("did not train"), and so are records
    with no partner (counted). With ``check_fit``, a setting whose two arms' mean training
    accuracies differ by more than ``fit_tolerance`` is excluded too (not a comparison of
    generalisation; None: no such filter). Introduced in lesson 07."""
    fam = Family(claim, source, item=item)
    for t in treatments:
        for row in _pairs(records, claim.metric, factor, baseline, t, within):
            label = ", ".join([str(t)] * (factor == "arm" and len(treatments) > 1)
                              + [f"{k} {row[k]}" for k in within])
            setting = {k: row[k] for k in within}
            reason = _exclusion(records, row, setting, factor, baseline, t, within,
                                check_fit, fit_tolerance, trained_at)
            if isinstance(reason, str):
                fam.excluded.append((label, reason))
                continue
            fam.settings.append(label)
            fam.effects.append(np.asarray(reason, dtype=float))
    return fam


def _exclusion(records: Sequence[dict[str, Any]], row: dict[str, Any], setting: dict[str, Any],
               factor: str, baseline: Any, treatment: Any, within: Sequence[str],
               check_fit: bool, fit_tolerance: float | None, trained_at: float | None
               ) -> str | list[float]:
    """Why a setting is left out of its family, or its per-seed differences."""
    def here(r: dict[str, Any], value: Any) -> bool:
        return r[factor] == value and all(r[k] == v for k, v in setting.items())

    ok = _trained_seeds(records, lambda r: here(r, baseline), trained_at) & \
        _trained_seeds(records, lambda r: here(r, treatment), trained_at)
    vals = [d for s, d in zip(row["seeds"], row["diffs"], strict=True) if s in ok]
    lonely = f"; {row['n_unpaired']} without a partner" if row.get("n_unpaired") else ""
    if len(vals) < 2:
        total = len(row["diffs"]) + row.get("n_diverged", 0)
        return f"did not train ({total - len(vals)} of {total} pairs){lonely}"
    if check_fit and fit_tolerance is not None:
        fit = _pairs(records, "train_acc", factor, baseline, treatment, within)
        gap = [r for r in fit if all(r[k] == v for k, v in setting.items())][0]
        dtrain = float(np.mean([d for s, d in zip(gap["seeds"], gap["diffs"], strict=True)
                                if s in ok]))
        if abs(dtrain) > fit_tolerance:
            return (f"training accuracy differs by {dtrain:+.3f} (tolerance "
                    f"{fit_tolerance:g}): optimisation, not generalisation{lonely}")
    return vals


@validate(records=_RECORDS, metric=_FIELD, factor=_FIELD, baseline=_VALUE, treatment=_VALUE,
          along=_FIELD, low=_VALUE, high=_VALUE, pair_on=Items(_FIELD),
          trained_only=Flag(), trained_at=_FILTER)
def interaction_values(records: Sequence[dict[str, Any]], metric: str, factor: str,
                       baseline: Any, treatment: Any, along: str, low: Any, high: Any,
                       pair_on: Sequence[str] = ("seed",), trained_only: bool = True,
                       trained_at: float | None = TRAINED_AT) -> list[float]:
    """Per seed, (treatment - baseline at ``along = high``) - (treatment - baseline at
    ``along = low``): does the effect grow along ``along`` (depth, training-set size)? Seeds in
    which one of the four nets did not train are left out (``trained_only``). Raises
    ``ValueError`` if a record lacks a field, on duplicate rows, or if no seed has all four.
    A diverged net (no metrics) did not train; with ``trained_only=False`` it raises
    ``ValueError``. Introduced in lesson 07."""
    for r in records:
        missing = [k for k in (metric, factor, along, *pair_on) if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
    table: dict[tuple, float] = {}
    for r in records:
        if r[factor] in (baseline, treatment) and r[along] in (low, high):
            if trained_only and "train_acc" in r and did_not_train(r, trained_at):
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
          "move the features toward FC1 and FC2; measured as: every trained layer lowers the "
          "excess CE_lin(T) - CE_flex(X) of the linear read-out more than the same layer at "
          "initialisation (probes on held-out data)",
          "change of total gap per layer (nats)", -1, margin=0.02,
          caveat="It shows that training makes each layer's features easier for a linear "
          "read-out than the same random layer's; it does not tell the max-ent account from "
          "the plainer one that training makes features linearly readable, since both predict "
          "the same sign, and the probes' own bias is in every gap"),
    Claim("C1", "02", "Softmax regression trained by cross-entropy meets the max-ent moment "
          "constraints; with an L2 penalty they are relaxed by exactly -alpha W",
          "max |R + alpha W|", 0, margin=1e-6, status="theorem"),
    Claim("C2", "03", "Under FC1 and FC2 (shared-covariance Gaussians) softmax regression "
          "recovers P(Y|X): no FC2 gap", "fc2_gap (nats)", 0, margin=5e-3, status="theorem"),
    Claim("C3", "03", "When FC2 fails (class-specific covariances) the linear read-out is "
          "biased: FC2 gap > 0", "fc2_gap (nats)", +1, status="theorem"),
    Claim("C4", "03", "When FC1 fails (a coordinate dropped) information is lost: FC1 gap > 0",
          "fc1_gap (nats)", +1, status="theorem"),
    Claim("C5", "05", "Shortcuts improve generalisation of deep nets: in every architecture, "
          "residual minus plain test accuracy > 0 at every depth above the shallowest (both "
          "nets trained, comparable fit)", "test_acc", +1, margin=MARGINS["test_acc"],
          per="kind", caveat="Judged only where both arms fit their training data comparably "
          "(a filter; the verdict at other tolerances is reported)"),
    Claim("C6", "05", "The benefit of shortcuts grows with depth: in every architecture, the "
          "residual gain at the deepest depth exceeds the gain at the shallowest",
          "test_acc", +1, margin=MARGINS["test_acc"], per="kind",
          caveat="One contrast per architecture (deepest vs shallowest); a larger test-accuracy "
          "gain can come from a better fit as much as from better generalisation (lesson 05 "
          "splits it)"),
    Claim("C7", "06", "Regularisation improves generalisation: every regulariser raises test "
          "accuracy above the unregularised baseline at every training-set size", "test_acc",
          +1, margin=MARGINS["test_acc"], per="arm"),
    Claim("C7c", "06", "Regularisation improves the predicted probabilities beyond calibration: "
          "every regulariser lowers test cross-entropy below the baseline's, both after "
          "temperature scaling, at every size", "test_loss_calibrated", -1,
          margin=MARGINS["test_loss_calibrated"], per="arm"),
    Claim("C8", "06", "Weight decay raises the predictive entropy (the max-ent direction) at "
          "every training-set size", "test_entropy", +1, margin=MARGINS["test_entropy"],
          per="arm"),
    Claim("C8b", "06", "Label smoothing and the confidence penalty raise the predictive entropy",
          "test_entropy", +1, margin=MARGINS["test_entropy"], status="by construction",
          per="arm"),
    Claim("C9", "06", "Regularisation shrinks the generalisation gap (train minus test "
          "accuracy): every regulariser, at every size", "gen_gap", -1,
          margin=MARGINS["gen_gap"], per="arm"),
    Claim("C10", "06", "Regularisation helps most with little data: every regulariser's "
          "test-accuracy gain is larger at the smallest training set than at the largest",
          "test_acc", +1, margin=MARGINS["test_acc"], per="arm",
          caveat="One contrast per regulariser (smallest vs largest size)"),
)


ENTROPY_BY_CONSTRUCTION: tuple[str, ...] = ("label smoothing", "confidence penalty")


@validate(key=Text())
def claim(key: str) -> Claim:
    """The claim of :data:`PAPER_CLAIMS` with this key. Introduced in lesson 07."""
    for c in PAPER_CLAIMS:
        if c.key == key:
            return c
    raise ValueError(f"key {key!r} is not a claim of PAPER_CLAIMS; known: "
                     f"{[c.key for c in PAPER_CLAIMS]}")


_SHORTCUT_FIELDS = ("kind", "depth", "arm", "seed", "test_acc", "train_acc")
_REGULARIZATION_FIELDS = ("arm", "n_train", "seed", "test_acc", "train_acc")


@validate(records=Items(Dict(required=_SHORTCUT_FIELDS), min_len=1), source=Text(),
          fit_tolerance=_FILTER, trained_at=_FILTER)
def shortcut_families(records: Sequence[dict[str, Any]], source: str, *,
                      fit_tolerance: float | None = FIT_TOLERANCE,
                      trained_at: float | None = TRAINED_AT) -> list[Family]:
    """Claims C5 and C6 from the shortcut grid's records (lesson 05), one family per
    architecture (``kind``): C5, residual minus plain test accuracy at every depth above the
    shallowest (nets that trained at ``trained_at`` times chance and fit comparably within
    ``fit_tolerance``); C6, the gain at the deepest minus the shallowest depth.
    Introduced in lesson 05."""
    recs = [r for r in records if r.get("init", "he") == "he"]
    if not recs:
        raise ValueError("records holds no net with He initialisation (init 'he')")
    depths = sorted({r["depth"] for r in recs})
    out = []
    for kind in sorted({r["kind"] for r in recs}):
        mine = [r for r in recs if r["kind"] == kind]
        out.append(paired_family([r for r in mine if r["depth"] > depths[0]], claim("C5"),
                                 "arm", "plain", ["residual"], ("depth",), source,
                                 check_fit=True, fit_tolerance=fit_tolerance,
                                 trained_at=trained_at, item=kind))
        out.append(_growth_family(mine, kind, depths, source, fit_tolerance, trained_at))
    return out


def _growth_family(mine: list[dict[str, Any]], kind: str, depths: list[int], source: str,
                   fit_tolerance: float | None, trained_at: float | None) -> Family:
    """C6 for one architecture: the residual gain at the deepest minus the shallowest depth."""
    c6 = Family(claim("C6"), source, item=kind)
    if len(depths) < 2:
        return c6
    label = f"depth {depths[-1]} vs {depths[0]}"
    fit = [r for r in paired_effects(mine, "train_acc", "arm", "plain", within=("depth",),
                                     unpaired="report") if r["depth"] in (depths[0], depths[-1])]
    worst = max(fit, key=lambda r: abs(r["effect"] or 0.0), default=None)
    if fit_tolerance is not None and worst is not None and worst["effect"] is not None \
            and abs(worst["effect"]) > fit_tolerance:
        c6.excluded.append((label, f"training accuracy differs by {worst['effect']:+.3f} at "
                                   f"depth {worst['depth']} (tolerance {fit_tolerance:g}): "
                                   "optimisation, not generalisation"))
        return c6
    try:
        vals = interaction_values(mine, "test_acc", "arm", "plain", "residual", along="depth",
                                  low=depths[0], high=depths[-1], trained_at=trained_at)
    except ValueError:
        c6.excluded.append((label, "no seed with all four nets present and trained"))
        return c6
    c6.settings.append(label)
    c6.effects.append(np.asarray(vals))
    return c6


@validate(records=Items(Dict(required=_REGULARIZATION_FIELDS), min_len=1), source=Text(),
          trained_at=_FILTER)
def regularization_families(records: Sequence[dict[str, Any]], source: str, *,
                            trained_at: float | None = TRAINED_AT) -> list[Family]:
    """Claims C7, C7c, C8, C8b, C9 and C10 from the regularisation grid's records (lesson 06),
    one family per regulariser (arm): the arm against the baseline at every training-set size,
    paired by seed (C8: the weight decay arms; C8b: the arms whose objective rewards entropy,
    by construction), and C10 the arm's test-accuracy gain at the smallest minus the largest
    size. Introduced in lesson 06."""
    sizes = sorted({r["n_train"] for r in records})
    out = []
    for arm in sorted({r["arm"] for r in records} - {"baseline"}):
        keys = ["C7", "C7c", "C9"] + ["C8"] * arm.startswith("weight decay") \
            + ["C8b"] * arm.startswith(ENTROPY_BY_CONSTRUCTION)
        for key in keys:
            out.append(paired_family(records, claim(key), "arm", "baseline", [arm],
                                     ("n_train",), source, trained_at=trained_at, item=arm))
        c10 = Family(claim("C10"), source, item=arm)
        if len(sizes) > 1:
            c10.settings.append(f"n_train {sizes[0]} vs {sizes[-1]}")
            c10.effects.append(np.asarray(interaction_values(
                records, "test_acc", "arm", "baseline", arm, along="n_train", low=sizes[-1],
                high=sizes[0], trained_at=trained_at)))
        out.append(c10)
    return sorted(out, key=lambda f: [c.key for c in PAPER_CLAIMS].index(f.claim.key))


_LAYERS = Items(Dict(required=("total_gap",), fields={"total_gap": Real(optional=True)}),
               min_len=2)


@validate(gaps_per_model=Items(_LAYERS, min_len=1), source=Text(),
          names=Items(Text(), optional=True), baseline=Items(_LAYERS, optional=True))
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
    if len({len(g) for g in gaps_per_model}) != 1:
        raise ValueError("gaps_per_model: every model needs the same layers, the input and at "
                         "least one more")
    L = len(gaps_per_model[0])
    names = names if names is not None else ["X", *[f"T{i}" for i in range(1, L)]]
    if len(names) != L:
        raise ValueError(f"names has {len(names)} labels for {L} layers")
    if any(layer["total_gap"] is None for g in gaps_per_model for layer in g):
        raise ValueError("gaps_per_model: every layer needs its total_gap (fit the probes with "
                         "the input)")

    def steps(models: Sequence[Sequence[dict[str, Any]]]) -> np.ndarray:
        return np.array([[g[i]["total_gap"] - g[i - 1]["total_gap"] for i in range(1, L)]
                         for g in models])

    effects = steps(gaps_per_model)
    if baseline is not None:
        for g in baseline:
            if len(g) != L or any(layer["total_gap"] is None for layer in g):
                raise ValueError(f"baseline must give every model the same {L} layers, each "
                                 "with its total_gap, as gaps_per_model")
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


@validate(start=PathArg(optional=True))
def find_results_dir(start: str | Path | None = None) -> Path | None:
    """The course's ``results/`` folder: in ``start`` (default: the working folder) or a parent,
    else next to the installed package; ``None`` if there is none. Introduced in lesson 07."""
    here = (Path.cwd() if start is None else start).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        if (folder / "results").is_dir() and (folder / "maxent_lib").exists():
            return folder / "results"
        if folder.name == "results" and folder.is_dir():
            return folder
    return None


@validate(results_dir=PathArg(), grid=Text())
def load_grid(results_dir: str | Path, grid: str) -> dict[str, list[dict[str, Any]]]:
    """The stored records of one ablation grid, by profile: ``{"full": [...], "quick": [...]}``
    from ``<grid>_full.jsonl`` and ``<grid>_quick.jsonl`` (a missing file gives no entry),
    whether current or stale (see :func:`maxent_lib.ablation.load_stored`).
    Introduced in lesson 07."""
    folder = results_dir
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


@validate(checks=Items(Instance((Check,))))
def theorem_summary(checks: Sequence[Check]) -> dict[str, str]:
    """Per theorem, a one-line statement of its numerical checks (for :func:`verdict_table`)."""
    out: dict[str, list[str]] = {}
    for c in checks:
        val = f"{c.value:.1e}" if abs(c.value) < 1e-3 else f"{c.value:.3f}"
        out.setdefault(c.claim, []).append(
            f"{c.setting}: {val}" + ("" if c.n == 1 else f" [{c.lo:.3g}, {c.hi:.3g}]")
            + ("" if c.holds else " (FAILS)"))
    return {k: "; ".join(v) for k, v in out.items()}
