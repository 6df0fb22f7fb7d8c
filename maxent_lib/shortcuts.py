"""Lesson 05's measurements: shortcuts on the running example, and the shortcut grid's verdicts
drawn only where they hold up.

**Why shortcuts should help.** A layer is a function of the layer below, so by the
data-processing inequality I(T_l; Y) <= I(T_{l-1}; Y): the FC1 gap of lesson 03 can only grow
with depth. A residual layer

    T_l = T_{l-1} + g(T_{l-1})

starts from what it was given; when it can be undone (for instance when the branch g is a
contraction) it keeps I(T_l; Y) = I(T_{l-1}; Y), and only has to make the features easier to
read out linearly (FC2).

- :func:`train_arms`: plain and residual MLPs of one shape, one per seed, from the same initial
  weights and batch orders (:class:`maxent_lib.models.StackedMLP`), e.g. on XOR;
- :func:`arm_layer_gaps`: per (arm, seed) the FC1 and FC2 gaps of every layer on points the
  nets never saw, both arms of a seed sharing the probes' splits and the probe on X (the
  format of :func:`maxent_lib.layerwise.summarise_runs`, so
  :func:`~maxent_lib.layerwise.layer_values` and :func:`~maxent_lib.layerwise.stuck_seeds`
  read it);
- :func:`judge_grid` (:class:`GridVerdicts`): the claims C5 and C6 of a stored shortcut grid,
  judged only when the file is current, its budget file (the same grid, or a sample of it,
  with twice the epochs) is current and the **budget check** passes; with the verdicts at every
  value of the filters that can decide them (the fit tolerance, the "did not train" threshold);
- :func:`sensitivity_rows`: those verdicts as table rows;
- :func:`c6_split`: C6's contrast of test accuracy split into fit and generalisation, exact
  since test accuracy = training accuracy - generalisation gap for every net;
- :func:`null_simulation`: the verdict rule run on simulated families with a known effect;
- figures: :func:`accuracy_by_depth` (training and test accuracy of each arm against depth),
  :func:`effect_by_depth` (paired effects with their intervals against depth, the margin
  shaded) and :func:`interval_rows` (one effect and interval per row, e.g. the budget check's
  moves).

Introduced in lesson 05.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import plots
from ._checks import InputTypeError
from .ablation.budget import BudgetCheck, budget_check
from .ablation.summaries import TRAINED_AT
from .claims import (
    FIT_TOLERANCE,
    FIT_TOLERANCES,
    TRAINED_ATS,
    Family,
    interaction_values,
    shortcut_families,
)
from .stats import FAMILY_VERDICTS, QUANTIFIERS, family_tests, t_interval
from .store.provenance import StoredResults
from .validation import (
    Array,
    Choice,
    Device,
    Dict,
    Flag,
    Instance,
    Integer,
    Items,
    Labels,
    Real,
    Seed,
    Text,
    validate,
)
from .verdicts import (
    GRID_ITEMS,
    filter_sensitivity,
    found_sentences,
    grid_verdicts,
    sensitivity_notes,
)

__all__ = ["ARMS", "FILTERS", "XOR_PROBE", "GridVerdicts", "accuracy_by_depth",
           "arm_layer_gaps", "c6_split", "effect_by_depth", "interval_rows", "judge_grid",
           "null_simulation", "sensitivity_rows", "train_arms"]

#: The two arms of the shortcut ablation: the same net without and with shortcuts.
ARMS: tuple[str, ...] = ("plain", "residual")
#: Settings of the flexible probes on XOR's few features: small MLPs, stopped early (the
#: course's probe, :class:`maxent_lib.conditions.StackedProbes`, with a narrower net and a
#: shorter patience; on 2-D inputs it reaches the same gaps, at a fraction of the cost).
XOR_PROBE: dict[str, Any] = {"width": 16, "max_epochs": 100, "patience": 5}
#: The filters that can decide a verdict of the shortcut grid: keyword of
#: :func:`maxent_lib.claims.shortcut_families`, its values, its default, its name in words.
FILTERS: tuple[tuple[str, tuple[float | None, ...], float, str], ...] = (
    ("fit_tolerance", FIT_TOLERANCES, FIT_TOLERANCE, "fit tolerance"),
    ("trained_at", TRAINED_ATS, TRAINED_AT, "did-not-train threshold"),
)
#: Config fields whose values a budget file may cover only in part (a sample).
_SAMPLED = ("kind", "depth", "arm", "seed")


@validate(X=Array(ndim=2, min_len=2), y=Labels(), width=Integer(low=1, high=65_536),
          depth=Integer(low=2, high=1_024), seeds=Items(Seed(), min_len=1, unique=True),
          epochs=Integer(low=1, high=10**6), lr=Real(low=0.0, low_open=True),
          batch_size=Integer(low=1, high=10**8), device=Device(), progress=Flag())
def train_arms(X: np.ndarray, y: np.ndarray, *, width: int, depth: int, seeds: Sequence[int],
               epochs: int, lr: float, batch_size: int, device: Any = None,
               progress: bool = False) -> dict[str, tuple[Any, dict[str, np.ndarray]]]:
    """The shortcut ablation on one data set: ReLU MLPs with ``depth`` hidden layers of ``width``
    units, one per seed, trained end to end by Adam for ``epochs`` epochs
    (:func:`maxent_lib.models.train_stacked`), in two arms:

    - "plain": T_l = relu(A_l T_{l-1} + c_l) for every layer;
    - "residual": T_l = T_{l-1} + relu(A_l T_{l-1} + c_l) for l = 2..depth (layer 1 maps the
      input to ``width`` units and has no shortcut).

    The two nets of a seed start from the same weights (He initialisation) and see the batches
    in the same order: they differ only in the shortcuts. Returns ``{arm: (StackedMLP,
    history)}`` (history as :func:`~maxent_lib.models.train_stacked` gives it: ``loss``, the
    mean training cross-entropy of every epoch, shape (seeds, epochs)). Introduced in
    lesson 05."""
    from . import models

    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
    shape = (X.shape[1], width, depth, int(y.max()) + 1)
    out = {}
    for arm in ARMS:
        net = models.StackedMLP(*shape, list(seeds), "relu", arm == "residual")
        hist = models.train_stacked(net, X, y, epochs=epochs, lr=lr, batch_size=batch_size,
                                    device=device, progress=progress)
        out[arm] = (net, hist)
    return out


def _check_nets(nets: dict[str, Any]) -> list[int]:
    """The seeds of ``nets`` (as :func:`train_arms` returns them), after checking that every
    arm's net has the same seeds and depth."""
    from .models import StackedMLP

    if any(not isinstance(v, tuple) or len(v) != 2 or not isinstance(v[0], StackedMLP)
           for v in nets.values()):
        raise ValueError("nets must map each arm to (StackedMLP, history), as train_arms "
                         "returns it")
    first = next(iter(nets.values()))[0]
    for arm, (net, _) in nets.items():
        if list(net.seeds) != list(first.seeds) or net.depth != first.depth:
            raise ValueError(f"the nets of {arm!r} have other seeds or depth than the first "
                             "arm's: they cannot be paired")
    return list(first.seeds)


@validate(nets=Dict(min_len=1), X_probe=Array(ndim=2, min_len=20), y_probe=Labels(),
          n_splits=Integer(low=2, high=1000), probe=Dict(optional=True), progress=Flag())
def arm_layer_gaps(nets: dict[str, Any], X_probe: np.ndarray, y_probe: np.ndarray, *,
                   n_splits: int = 2, probe: dict[str, Any] | None = None,
                   progress: bool = False) -> dict[tuple[str, int], dict[str, Any]]:
    """Per (arm, seed) of ``nets`` (from :func:`train_arms`), on points the nets never saw
    (``X_probe``, ``y_probe``): ``test_ce`` and ``test_acc`` of the net itself on them,
    ``train_ce`` (the last epoch's mean training cross-entropy) and ``gaps``, for l = 0..L
    (layer 0 is the input X) the gaps of :func:`maxent_lib.conditions.
    layerwise_repeated_split_gaps`, each the mean over ``n_splits`` refit splits (seed
    ``[seed, j]``):

        FC2 gap = CE_lin(T_l) - CE_flex(T_l),   FC1 gap = CE_flex(T_l) - CE_flex(X),
        total gap = CE_lin(T_l) - CE_flex(X)    (nats).

    Both arms of a seed share the splits and the one flexible probe on X, so their gaps are
    paired. ``probe``: settings of the flexible probes (e.g. :data:`XOR_PROBE`; default the
    course's). The format is :func:`maxent_lib.layerwise.summarise_runs`'s.
    Introduced in lesson 05."""
    from . import models
    from .conditions import layerwise_repeated_split_gaps
    from .runtime import progress_bar

    seeds = _check_nets(nets)
    if len(X_probe) != len(y_probe):
        raise ValueError(f"X_probe has {len(X_probe)} rows but y_probe has {len(y_probe)}")
    depth = next(iter(nets.values()))[0].depth
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    for i, seed in enumerate(progress_bar(seeds, desc="held-out probes", enabled=progress)):
        plain = {arm: net.unstack(i) for arm, (net, _) in nets.items()}
        feats = [X_probe] + [t for net in plain.values()
                             for t in models.layer_features(net, X_probe)]
        res = layerwise_repeated_split_gaps(feats, y_probe, X_probe, n_splits=n_splits,
                                            seed=seed, probe=probe)
        for k, (arm, net) in enumerate(plain.items()):
            probs = models.predict_proba(net, X_probe)
            p_true = np.clip(probs[np.arange(len(y_probe)), y_probe], 1e-300, 1.0)
            runs[arm, seed] = {"test_ce": float(-np.mean(np.log(p_true))),
                               "test_acc": float(np.mean(probs.argmax(1) == y_probe)),
                               "train_ce": float(nets[arm][1]["loss"][i, -1]),
                               "gaps": [res[0]] + res[1 + k * depth:1 + (k + 1) * depth]}
    return runs


_RECORDS = Items(Dict(required=("kind", "depth", "arm", "seed", "test_acc", "train_acc",
                                "gen_gap")), min_len=1)


@validate(records=_RECORDS, trained_at=Real(low=0.0, optional=True))
def c6_split(records: Sequence[dict[str, Any]], trained_at: float | None = TRAINED_AT
             ) -> list[dict[str, Any]]:
    """Per architecture (``kind``), claim C6's per-seed contrast

        d(m) = [m(residual) - m(plain)](deepest depth) - [m(residual) - m(plain)](shallowest)

    (:func:`maxent_lib.claims.interaction_values`; seeds whose four nets trained at
    ``trained_at`` times chance) for m = test accuracy, training accuracy and generalisation
    gap, each with its mean and 95% Student-t interval over seeds
    (:func:`maxent_lib.stats.t_interval`). Since ``gen_gap = train_acc - test_acc`` for every
    net, the split is exact seed by seed: d(test) = d(train) - d(gap), a **fit part** d(train)
    and a **generalisation part** -d(gap). Rows: ``kind``, ``metric``, ``n``, ``effect``,
    ``lo``, ``hi``, ``values`` (per seed), ``depths`` (shallowest, deepest); an architecture
    with one depth, or with no seed whose four nets are there and trained, has none. Raises
    ``ValueError`` when a record's ``gen_gap`` is not its ``train_acc - test_acc`` (to the
    rounding of stored values). Introduced in lesson 05."""
    recs = [r for r in records if r.get("init", "he") == "he" and r["gen_gap"] is not None]
    for r in recs:
        if not math.isclose(r["gen_gap"], r["train_acc"] - r["test_acc"], abs_tol=2e-3):
            raise ValueError(f"a record's gen_gap {r['gen_gap']} is not train_acc - test_acc")
    out = []
    for kind in sorted({r["kind"] for r in recs}):
        mine = [r for r in recs if r["kind"] == kind]
        lo, hi = min(r["depth"] for r in mine), max(r["depth"] for r in mine)
        if lo == hi:
            continue
        try:
            per = {m: interaction_values(mine, m, "arm", "plain", "residual", "depth", lo, hi,
                                         trained_at=trained_at)
                   for m in ("test_acc", "train_acc", "gen_gap")}
        except ValueError:  # no seed has all four nets (an unfinished grid): no row
            continue
        for metric, vals in per.items():
            mean, a, b = t_interval(vals)
            out.append({"kind": kind, "metric": metric, "n": len(vals), "effect": mean,
                        "lo": a, "hi": b, "values": list(vals), "depths": (lo, hi)})
    return out


@dataclass
class GridVerdicts:
    """The verdicts of one stored shortcut grid (:func:`judge_grid`): its ``source`` (a name
    such as "quick"), the stored records (``stored``), the same grid or a sample of it trained
    with twice the epochs (``budget``), the budget check (``check``; None when it could not be
    made), which part of the grid the check covers (``sample``: "" for the whole grid, else
    e.g. "depth 2, 8, 32; seed 0, 1"), ``why`` (None when the grid is judged, else why it gives
    no verdict), and, when judged, the claims' ``families`` at the default filters, the
    verdicts rebuilt at every value of each filter (``sensitivity``: filter keyword -> value ->
    (claim, item) -> verdict) and the ``notes`` of the items whose verdict depends on a filter.
    Introduced in lesson 05."""

    source: str
    stored: StoredResults | None
    budget: StoredResults | None
    check: BudgetCheck | None = None
    sample: str = ""
    why: str | None = None
    families: list[Family] = field(default_factory=list)
    sensitivity: dict[str, dict[Any, dict[tuple[str, str], str]]] = field(default_factory=dict)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def judged(self) -> bool:
        """True when the grid gives verdicts: current, settled by its budget check."""
        return self.why is None

    @validate()
    def sentences(self) -> list[str]:
        """What the grid found, one sentence per (claim, item) from
        :func:`maxent_lib.verdicts.found_sentences` (a verdict that depends on a filter reads
        so, with its verdict at every value), or one sentence saying why there is no
        verdict."""
        if not self.judged:
            return [f"The {self.source} grid gives no verdict: {self.why}."]
        return [f"{self.source}: {s}" for s in found_sentences(self.families, notes=self.notes)]


def _sample(records: list[dict[str, Any]], longer: list[dict[str, Any]]) -> str:
    """The fields whose values the longer runs cover only in part, e.g. "seed 0, 1"."""
    parts = []
    for key in _SAMPLED:
        have, got = {r.get(key) for r in records}, {r.get(key) for r in longer}
        if got < have:
            parts.append(f"{key} " + ", ".join(str(v) for v in sorted(got, key=str)))
    return "; ".join(parts)


def _why_not(stored: StoredResults | None, budget: StoredResults | None,
             check: BudgetCheck | None, error: str = "") -> str | None:
    if stored is None or not stored.records:
        return "its results file has not been made"
    if not stored.current:
        return f"its results file is not current ({stored.why})"
    if budget is None or not budget.records:
        return "its budget check has not been made (no budget file)"
    if not budget.current:
        return f"its budget file is not current ({budget.why})"
    if check is None:
        return f"its budget check could not be made ({error})"
    if not check.passed:
        return check.summary().rstrip(".")
    return None


_STORED = Instance((StoredResults,), optional=True)
_AXES = Instance(("matplotlib.axes.Axes",))


@validate(stored=_STORED, budget=_STORED, source=Text())
def judge_grid(stored: StoredResults | None, budget: StoredResults | None,
               source: str) -> GridVerdicts:
    """Claims C5 and C6 of a stored shortcut grid (``stored``, from
    :func:`maxent_lib.ablation.load_stored`), judged only when they hold up:

    1. the results file is current (made by the code now, its last run finished);
    2. its budget file ``budget`` (the same configs, or a sample of them, trained with twice
       the epochs) is current too;
    3. the budget check passes (:func:`maxent_lib.ablation.budget_check` with the verdicts of
       :func:`maxent_lib.verdicts.grid_verdicts`): no setting's mean test accuracy moves by
       more than 0.01, and no verdict changes, at twice the epochs.

    Otherwise the result says why (``why``) and holds no verdict. When judged: the families of
    :func:`maxent_lib.claims.shortcut_families` at the default filters, and for each filter of
    :data:`FILTERS` the verdicts at every value (:func:`maxent_lib.verdicts.
    filter_sensitivity`) with a note for every item whose verdict changes
    (:func:`maxent_lib.verdicts.sensitivity_notes`; an item that depends on both filters gets
    both, joined by "; and"). None for ``stored`` or ``budget``: the file does not exist.
    Introduced in lesson 05."""
    check, sample, error = None, "", ""
    if stored and stored.current and stored.records and budget and budget.current \
            and budget.records:
        try:
            key, shared = GRID_ITEMS["shortcut"]
            check = budget_check(stored.records, budget.records,
                                 verdicts=lambda r: grid_verdicts("shortcut", r),
                                 item_key=key, shared=shared)
        except ValueError as exc:  # nothing pairs, or the longer runs cannot be judged
            error = str(exc)
        sample = _sample(stored.records, budget.records)
    out = GridVerdicts(source, stored, budget, check, sample,
                       _why_not(stored, budget, check, error))
    if not out.judged:
        return out
    records = stored.records
    out.families = shortcut_families(records, source)
    for name, values, default, words in FILTERS:
        seen = filter_sensitivity(shortcut_families, records, source, name, list(values))
        out.sensitivity[name] = seen
        for key, text in sensitivity_notes(seen, words, default).items():
            rest = text.split(" depends ", 1)[1]
            out.notes[key] = f"{out.notes[key]}; and depends {rest}" if key in out.notes \
                else text
    return out


@validate(sensitivity=Dict(min_len=1))
def sensitivity_rows(sensitivity: dict[Any, dict[tuple[str, str], str]]
                     ) -> list[dict[str, str]]:
    """The verdicts of :func:`maxent_lib.verdicts.filter_sensitivity` (filter value ->
    (claim, item) -> verdict) as table rows: ``claim``, ``item``, one column per filter value
    (its text; ``none`` for no filter) and ``depends`` ("yes" where the verdict is not the same
    at every value). Introduced in lesson 05."""
    keys = list(dict.fromkeys(k for verdicts in sensitivity.values() for k in verdicts))
    rows = []
    for claim, item in keys:
        row = {"claim": claim, "item": item}
        for value, verdicts in sensitivity.items():
            row["none" if value is None else f"{value:g}"] = verdicts.get((claim, item),
                                                                         "no verdict")
        seen = {verdicts.get((claim, item), "no verdict") for verdicts in sensitivity.values()}
        row["depends"] = "yes" if len(seen) > 1 else "no"
        rows.append(row)
    return rows


_FRACTION = Real(low=0.0, high=1.0, low_open=True, high_open=True)


@validate(effect=Real(), sd=Real(low=0.0, low_open=True),
          n_families=Integer(low=1, high=10**6), n_settings=Integer(low=1, high=1000),
          n_seeds=Integer(low=2, high=10**4), margin=Real(low=0.0),
          direction=Integer(low=-1, high=1), quantifier=Choice(QUANTIFIERS), alpha=_FRACTION,
          seed=Seed())
def null_simulation(effect: float, sd: float, *, n_families: int = 2000, n_settings: int = 3,
                    n_seeds: int = 8, margin: float = 0.01, direction: int = 1,
                    quantifier: str = "universal", alpha: float = 0.05,
                    seed: int = 0) -> dict[str, float]:
    """The verdict rule of :mod:`maxent_lib.stats` on ``n_families`` simulated families whose
    truth is known: each family has ``n_settings`` settings, each with ``n_seeds`` per-seed
    differences drawn from N(``effect``, ``sd``^2), judged with the claim's ``direction`` (+1,
    -1, or 0 for "no effect"), ``margin``, ``quantifier`` and ``alpha``
    (:func:`maxent_lib.stats.family_tests`). Returns the share of families given each verdict
    of :data:`maxent_lib.stats.FAMILY_VERDICTS` (the shares sum to 1).

    With ``effect = 0`` (no effect) or ``effect = direction * margin`` (the largest effect the
    claim does not count), Holm keeps the share of "supported" at most ``alpha``; at
    ``effect = margin`` the share of "negligible" is at most ``alpha`` too (TOST). Deterministic
    for a given ``seed``. Introduced in lesson 05."""
    rng = np.random.default_rng(seed)
    draws = rng.normal(effect, sd, size=(n_families, n_settings, n_seeds))
    counts = dict.fromkeys(FAMILY_VERDICTS, 0)
    for fam in draws:
        res = family_tests(list(fam), direction, margin=margin, alpha=alpha,
                           quantifier=quantifier)
        counts[res.verdict] += 1
    return {k: v / n_families for k, v in counts.items()}


# ------------------------------------------------------------------------------- figures

_DEPTH_ROW = Dict(required=("depth",))


def _by_depth(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The rows sorted by depth, as arrays of ``depth`` and ``keys`` (None -> NaN)."""
    rs = sorted(rows, key=lambda r: r["depth"])
    out = {"depth": np.array([float(r["depth"]) for r in rs])}
    for k in keys:
        out[k] = np.array([np.nan if r.get(k) is None else float(r[k]) for r in rs])
    return out


@validate(ax=_AXES, rows=Items(_DEPTH_ROW, min_len=1), arms=Items(Text(), min_len=1))
def accuracy_by_depth(ax: Any, rows: Sequence[dict[str, Any]],
                      arms: Sequence[str] = ("plain", "residual")) -> None:
    """Accuracy against depth for each arm of an ablation (lesson 05's plain and residual nets
    of one architecture): the mean test accuracy over seeds with its interval (solid line,
    markers and bars, from ``test_acc_mean``, ``test_acc_lo``, ``test_acc_hi``) and the mean
    training accuracy (dotted line, the same colour, from ``train_acc_mean``), on a log-2 depth
    axis with plain labels. ``rows``: the rows of one architecture from
    :func:`maxent_lib.ablation.summarize` grouped by ("kind", "depth", "arm"), each with
    ``arm``, ``depth`` and those fields. Introduced in lesson 05."""
    keys = ("test_acc_mean", "test_acc_lo", "test_acc_hi", "train_acc_mean")
    missing = sorted({k for r in rows for k in (*keys, "arm") if k not in r})
    if missing:
        raise ValueError(f"rows lack the field(s) {missing}: give the rows of "
                         "ablation.summarize with train_acc and test_acc")
    depths: set[float] = set()
    for c, arm in enumerate(arms):
        mine = [r for r in rows if r["arm"] == arm]
        if not mine:
            raise ValueError(f"rows hold no row of the arm {arm!r}")
        v = _by_depth(mine, keys)
        m = v["test_acc_mean"]
        err = np.nan_to_num(np.stack([m - v["test_acc_lo"], v["test_acc_hi"] - m]))
        color = plots.COLORS[c % len(plots.COLORS)]
        marker = plots.MARKERS[c % len(plots.MARKERS)]
        ax.errorbar(v["depth"], m, yerr=err, marker=marker, color=color, ls="-", capsize=4,
                    label=f"{arm}, test")
        ax.plot(v["depth"], v["train_acc_mean"], marker=marker, mfc="none", color=color,
                ls=":", label=f"{arm}, training")
        depths |= set(v["depth"].tolist())
    ax.set_xscale("log", base=2)
    plots.plain_log_axis(ax, "x", sorted(depths))
    ax.set(xlabel="hidden layers", ylabel="accuracy")


@validate(ax=_AXES, effects=Dict(min_len=1), margin=Real(low=0.0))
def effect_by_depth(ax: Any, effects: dict[str, Sequence[dict[str, Any]]],
                    margin: float = 0.0) -> None:
    """Paired effects against depth, one series per entry of ``effects`` (label -> rows with
    ``depth``, ``effect``, ``lo``, ``hi``, as :func:`maxent_lib.ablation.paired_effects`
    gives them): the mean per-seed difference with its 95% interval as markers and bars,
    series shifted sideways a little so their bars do not hide each other; the line at 0 and,
    with ``margin`` > 0, the band (-margin, +margin) of effects too small to count, shaded.
    Log-2 depth axis with plain labels. Introduced in lesson 05."""
    for label, rows in effects.items():
        if isinstance(rows, (str, bytes, dict)) or not isinstance(rows, Sequence) or not rows \
                or not all(isinstance(r, dict) for r in rows):
            raise InputTypeError(f"effects[{label!r}] must be a non-empty list of rows (dicts)")
        missing = sorted({k for r in rows for k in ("depth", "effect", "lo", "hi")
                          if k not in r})
        if missing:
            raise ValueError(f"effects[{label!r}] lacks the field(s) {missing}")
    if margin > 0:
        ax.axhspan(-margin, margin, color="0.85", zorder=0,
                   label=f"within the margin (+-{margin:g})")
    ax.axhline(0, color="0.4", lw=1)
    depths: set[float] = set()
    k = len(effects)
    for c, (label, rows) in enumerate(effects.items()):
        v = _by_depth(rows, ("effect", "lo", "hi"))
        x = v["depth"] * 2 ** (0.06 * (c - (k - 1) / 2))
        err = np.nan_to_num(np.stack([v["effect"] - v["lo"], v["hi"] - v["effect"]]))
        ax.errorbar(x, v["effect"], yerr=err, fmt=plots.MARKERS[c % len(plots.MARKERS)],
                    color=plots.COLORS[c % len(plots.COLORS)], capsize=4, label=str(label))
        depths |= set(v["depth"].tolist())
    ax.set_xscale("log", base=2)
    plots.plain_log_axis(ax, "x", sorted(depths))
    ax.set_xlabel("hidden layers")


_ROW_VALUES = Array(ndim=1, min_len=1)


@validate(ax=_AXES, labels=Items(Text(), min_len=1), effect=_ROW_VALUES, lo=_ROW_VALUES,
          hi=_ROW_VALUES, band=Real(low=0.0))
def interval_rows(ax: Any, labels: Sequence[str], effect: Any, lo: Any, hi: Any,
                  band: float = 0.0) -> None:
    """One row per label, top to bottom: the ``effect`` as a marker and its interval
    [``lo``, ``hi``] as a horizontal bar (give ``lo = hi = effect`` for a row without an
    interval), the line at 0 and, with ``band`` > 0, the band (-band, +band) shaded: e.g. each
    setting's move of test accuracy at twice the epochs against the budget check's tolerance,
    or the parts of a contrast. Introduced in lesson 05."""
    n = len(labels)
    if not (len(effect) == len(lo) == len(hi) == n):
        raise ValueError(f"labels, effect, lo and hi must have one length, got {n}, "
                         f"{len(effect)}, {len(lo)} and {len(hi)}")
    if (lo > effect).any() or (hi < effect).any():
        raise ValueError("every interval must contain its effect: lo <= effect <= hi")
    y = np.arange(n)[::-1]
    if band > 0:
        ax.axvspan(-band, band, color="0.85", zorder=0, label=f"+-{band:g}")
    ax.axvline(0, color="0.4", lw=1)
    err = np.stack([effect - lo, hi - effect])
    ax.errorbar(effect, y, xerr=err, fmt=plots.MARKERS[0], color=plots.COLORS[0],
                capsize=4, ls="none")
    ax.set_yticks(y, list(labels))
    ax.set_ylim(-0.7, n - 0.3)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(5))  # a few readable ticks
