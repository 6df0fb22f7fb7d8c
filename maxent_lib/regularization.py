"""Lesson 06's measurements: regularisers read in max-ent terms, and the regularisation grid
judged per regulariser.

**Entropy by construction.** Label smoothing trains against q = (1 - eps) e_y + eps / K; by
Gibbs' inequality the loss -sum_k q_k log p_k is smallest at p = q, whose entropy

    H(q) = -(1 - eps + eps/K) log(1 - eps + eps/K) - (K - 1) (eps/K) log(eps/K)

is a floor under the predictive entropy at the training points
(:func:`smoothed_target_entropy`). The confidence penalty's loss -log p_y - beta H(p) is, by
symmetry, smallest at a distribution with a on the label and (1 - a)/(K - 1) on every other
class; a is found by a bounded one-dimensional minimisation (:func:`penalty_optimum_entropy`).
Both entropies grow with eps or beta: what the objective asks for, not evidence.

**When a grid may give verdicts** (:func:`grid_state`): its results file is current (made by
the code now, last run finished: :func:`maxent_lib.store.provenance.load_stored`), and the same
configs trained with twice the epochs (``NAME_budget.jsonl``) move no setting's mean test
accuracy by more than 0.01 and change no verdict (:func:`maxent_lib.ablation.budget_check`).
Otherwise the lesson shows the numbers and draws no verdict.

**Per regulariser.** Claims C7, C7c, C8, C9 and C10 say "every regulariser ... at every size";
:func:`maxent_lib.claims.regularization_families` builds one family per regulariser, and
:func:`claim_table` shows one row per regulariser (its effect at each size, the call, and the
verdict in words); :func:`found_lines` writes the "What we found" sentences (C8b, true by
construction, is labelled so and counted as no evidence).

- :func:`paired_rows`: each regulariser's paired effect against the baseline per size, as rows
  for :func:`maxent_lib.plots.arm_intervals`;
- :func:`training_health`: runs that did not train, diverged, or still gained accuracy late;
- :func:`retrain`: configs of a stored grid trained again, with the keys of the stored rows
  (the live check: :func:`maxent_lib.ablation.compare_records`);
- :func:`fc_gap_rows`: the FC gaps of the last hidden layer of a fitted group, per arm.

Introduced in lesson 06.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from .ablation.budget import (
    BudgetCheck,
    at_best_validation,
    budget_check,
    chance_of_failing_on_noise,
)
from .ablation.summaries import TRAINED_AT, did_not_train, paired_effects
from .claims import PAPER_CLAIMS, Family, regularization_families
from .stats import t_interval
from .store.provenance import StoredResults
from .tables import format_table
from .validation import (
    Choice,
    Dict,
    Flag,
    Instance,
    Integer,
    Items,
    Labels,
    Probabilities,
    Real,
    Text,
    validate,
)
from .verdicts import GRID_ITEMS, found_sentences, grid_verdicts

__all__ = ["BEST_EPOCH_CLAIMS", "FOUND_CLAIMS", "MNIST1D_REFERENCES", "READINGS", "GridState",
           "best_epoch_verdicts", "claim_table", "failed_check_lines", "fc_gap_rows",
           "found_lines", "grid_state", "paired_rows", "penalty_optimum_entropy",
           "read_at_best_epoch", "reliability_bins", "retrain", "smoothed_target_entropy",
           "split_log_probs", "state_families", "training_health", "verdict_summary"]

#: Published MNIST-1D test accuracies (Greydanus 2020), trained on all 4000 training examples.
MNIST1D_REFERENCES: dict[str, float] = {"logistic": 0.32, "MLP": 0.68, "CNN": 0.94}

#: The claims of lesson 06's "What we found" cell (C8b, by construction, is added as such).
FOUND_CLAIMS: tuple[str, ...] = ("C7", "C7c", "C8", "C9", "C10")

#: How a grid's nets are read: at the end of training (their stored metrics), or at each net's
#: best validation epoch (:func:`read_at_best_epoch`).
READINGS: tuple[str, ...] = ("last epoch", "best validation epoch")

#: The regularisation grid's claims on test accuracy: the only metric a net stores at every
#: evaluation, so the only claims that can be judged at each net's best validation epoch
#: without training again (C7c, C8 and C9 read metrics stored at the last epoch only).
BEST_EPOCH_CLAIMS: tuple[str, ...] = tuple(
    c.key for c in PAPER_CLAIMS if c.lesson == "06" and c.metric == "test_acc")

_RECORDS = Items(Dict(required=("arm", "n_train", "seed")), min_len=1)
_FAMILIES = Items(Instance((Family,)))
_CLAIM_KEYS = ("C7", "C7c", "C8", "C8b", "C9", "C10")


@validate(eps=Real(low=0.0, high=1.0, high_open=True), n_classes=Integer(low=2, high=10_000))
def smoothed_target_entropy(eps: float, n_classes: int) -> float:
    """H(q) in nats of the label-smoothed target q = (1 - eps) e_y + eps / K (K = ``n_classes``):
    the optimum of the label-smoothed cross-entropy, so the entropy its predictions reach at a
    training point (0 for eps = 0). Introduced in lesson 06."""
    top, rest = 1.0 - eps + eps / n_classes, eps / n_classes
    return float(-top * math.log(top) - (n_classes - 1) * (rest * math.log(rest) if rest else 0))


def _spread_entropy(a: float, k: int) -> float:
    """Entropy of a on one class and (1 - a)/(k - 1) on each of the others."""
    rest = (1.0 - a) / (k - 1)
    return -(a * math.log(a) + ((k - 1) * rest * math.log(rest) if rest > 0 else 0.0))


@validate(beta=Real(low=0.0, high=1e6), n_classes=Integer(low=2, high=10_000))
def penalty_optimum_entropy(beta: float, n_classes: int) -> float:
    """The predictive entropy (nats) at the optimum of the confidence-penalty loss
    -log p_y - beta H(p) over distributions p on K = ``n_classes`` classes. By symmetry the
    optimum puts a on the label and (1 - a)/(K - 1) on each other class, and

        a* = argmin_{1/K < a < 1}  -log a - beta H(a),

    found by bounded minimisation (to 1e-12 in a). beta = 0 has no optimum (the infimum is
    p_y -> 1): its entropy 0 is returned. The entropy grows with beta toward log K.
    Introduced in lesson 06."""
    if beta == 0:
        return 0.0
    k = n_classes
    res = minimize_scalar(lambda a: -math.log(a) - beta * _spread_entropy(a, k),
                          bounds=(1.0 / k + 1e-12, 1.0 - 1e-12), method="bounded",
                          options={"xatol": 1e-12})
    return float(_spread_entropy(float(res.x), k))


@validate(probs=Probabilities(ndim=2), y=Labels(), n_bins=Integer(low=1, high=1000))
def reliability_bins(probs: np.ndarray, y: np.ndarray, n_bins: int = 10
                     ) -> dict[str, np.ndarray]:
    """The reliability diagram of predictions ``probs`` (n, K) with labels ``y``: per non-empty
    confidence bin b = ((b-1)/B, b/B] of B = ``n_bins`` (the bins of
    :func:`maxent_lib.metrics.expected_calibration_error`), the mean ``confidence`` c = max_k p_k,
    the ``accuracy`` of the predicted class and the ``share`` of the predictions, so that

        ECE = sum_b share_b |accuracy_b - confidence_b|.

    A calibrated model's points lie on the diagonal accuracy = confidence; an over-confident
    model's lie below it. Introduced in lesson 06."""
    if len(probs) != len(y):
        raise ValueError(f"probs has {len(probs)} rows but y has {len(y)}; they must match")
    if y.max() >= probs.shape[1]:
        raise ValueError(f"y holds labels out of range for {probs.shape[1]} classes")
    conf, right = probs.max(1), (probs.argmax(1) == y).astype(float)
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins).astype(float)
    used = count > 0
    return {"confidence": (np.bincount(bins, conf, n_bins)[used] / count[used]),
            "accuracy": (np.bincount(bins, right, n_bins)[used] / count[used]),
            "share": count[used] / len(y)}


@dataclass(frozen=True)
class GridState:
    """What a stored grid may say (:func:`grid_state`): its file's ``name``, ``records``,
    whether it is ``current`` and ``why`` (or why not), its budget check (``check``, None when
    it could not be run) and the seeds per setting that check compared, whether it is
    ``judged`` (current and the budget check passed) and, when not, the ``reason`` no verdict
    is drawn; ``reading``: how its nets are read (one of :data:`READINGS`). Introduced in
    lesson 06."""

    name: str
    records: list[dict[str, Any]]
    current: bool
    why: str
    check: BudgetCheck | None
    budget_seeds: int | None
    judged: bool
    reason: str
    reading: str = "last epoch"

    @validate()
    def line(self) -> str:
        """One line: the file, its records, current or not, and whether verdicts are drawn."""
        head = f"{self.name}: {len(self.records)} records, " + \
            ("current" if self.current else "not current")
        if self.judged:
            return head + f"; budget check passed ({self.budget_seeds} seeds per setting " \
                "retrained with twice the epochs): verdicts are drawn"
        return head + f"; no verdict: {self.reason}"


@validate(records=Items(Dict(required=("arm",))))
def read_at_best_epoch(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A regularisation grid's records read at each net's best validation epoch
    (:func:`maxent_lib.ablation.at_best_validation`: ``test_acc`` from the stored curve), the
    early-stopping arm left out: read this way it *is* the baseline (the same nets, read at the
    same epoch; lesson 06 checks it net by net). Only ``test_acc`` changes, so only the claims
    of :data:`BEST_EPOCH_CLAIMS` may be judged from the result. Introduced in lesson 06."""
    return [r for r in at_best_validation(records) if r["arm"] != "early stopping"]


@validate(records=Items(Dict(), min_len=1))
def best_epoch_verdicts(records: Sequence[dict[str, Any]]) -> dict[str, str]:
    """The verdicts of :data:`BEST_EPOCH_CLAIMS` only (``{"C7 dropout 0.3": "supported",
    ...}``) of regularisation-grid records, e.g. read by :func:`read_at_best_epoch`: the
    ``verdicts`` function of the budget check in that reading. Introduced in lesson 06."""
    return {k: v for k, v in grid_verdicts("regularization", records).items()
            if k.split(" ", 1)[0] in BEST_EPOCH_CLAIMS}


@validate(stored=Instance((StoredResults,)), budget=Instance((StoredResults,), optional=True),
          grid=Choice(("regularization", "shortcut")), reading=Choice(READINGS))
def grid_state(stored: StoredResults, budget: StoredResults | None, *,
               grid: str = "regularization", reading: str = "last epoch") -> GridState:
    """Whether the stored grid ``stored`` may give verdicts: it must be current, and its budget
    file ``budget`` (the same configs, or their first seeds, trained with twice the epochs) must
    be current and pass :func:`maxent_lib.ablation.budget_check` with the verdicts of
    :func:`maxent_lib.verdicts.grid_verdicts` (no setting's mean test accuracy moves by more
    than 0.01, no verdict changes). With ``reading="best validation epoch"`` (the
    regularisation grid only) both files are read by :func:`read_at_best_epoch` and only the
    verdicts of :data:`BEST_EPOCH_CLAIMS` are compared: the state's records are the records so
    read, and its verdicts are those claims' only. Never raises on a missing, stale or
    unfinished file: the state says why no verdict is drawn. Introduced in lesson 06."""
    best = reading == "best validation epoch"
    if best and grid != "regularization":
        raise ValueError("reading='best validation epoch' is for the regularisation grid; the "
                         "shortcut grid reads every net at its best validation epoch already")
    name, records = stored.path.name, list(stored.records)
    if best:
        name += " read at the best validation epoch"
    check, seeds, reason = None, None, ""
    if best and records and stored.current:
        records = read_at_best_epoch(records)
    if not records:
        reason = "no results in the file yet"
    elif not stored.current:
        reason = f"the file is not current ({stored.why})"
    elif budget is None or not budget.records:
        reason = "its budget check has no results yet (no records with twice the epochs)"
    elif not budget.current:
        reason = f"its budget file is not current ({budget.why})"
    else:
        longer = read_at_best_epoch(budget.records) if best else budget.records
        try:
            check = budget_check(records, longer,
                                 verdicts=best_epoch_verdicts if best else
                                 (lambda r: grid_verdicts(grid, r)),
                                 item_key=GRID_ITEMS[grid][0], shared=GRID_ITEMS[grid][1])
        except ValueError as exc:
            reason = f"its budget check could not be made ({exc})"
        else:
            seeds = max(r["n"] for r in check.rows)
            if not check.passed:
                reason = f"it failed the budget check ({check.summary()})"
    return GridState(name, records, stored.current, stored.why, check, seeds,
                     check is not None and check.passed and stored.current, reason, reading)


@validate(state=Instance((GridState,)), source=Text())
def state_families(state: GridState, source: str) -> list[Family]:
    """The claims' families (:func:`maxent_lib.claims.regularization_families`) of a
    regularisation grid's state: every claim of the grid when its nets are read at the last
    epoch, only those of :data:`BEST_EPOCH_CLAIMS` when read at the best validation epoch;
    none when the state holds no records. Introduced in lesson 06."""
    if not state.records:
        return []
    return [f for f in regularization_families(state.records, source)
            if state.reading == "last epoch" or f.claim.key in BEST_EPOCH_CLAIMS]


def _interval(effect: float, lo: float, hi: float, digits: int = 3) -> str:
    if not math.isfinite(lo):
        return f"{effect:+.{digits}f}"
    return f"{effect:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


@validate(families=_FAMILIES, key=Choice(_CLAIM_KEYS), judged=Flag(), reason=Text())
def claim_table(families: Sequence[Family], key: str, *, judged: bool = True,
                reason: str = "") -> str:
    """A markdown table of claim ``key`` with one row per regulariser (the families of
    :func:`maxent_lib.claims.regularization_families` for that claim): per setting the mean
    paired effect (regulariser minus baseline, same seed) with its 95% t interval over seeds and,
    when ``judged``, its call (for or against the prediction, negligible, unclear); then the
    verdict in words (:meth:`maxent_lib.stats.FamilyResult.in_words`). A claim true by
    construction reads "by construction (no evidence)"; a grid that is not ``judged`` reads "no
    verdict" (and ``reason``) and its settings show effects without calls. Introduced in
    lesson 06."""
    fams = [f for f in families if f.claim.key == key]
    if not fams:
        raise ValueError(f"families holds no family of claim {key!r}")
    settings: list[str] = []
    rows = []
    for f in fams:
        res = f.judge()
        row = {"regulariser": f.item}
        for s in res.settings if res else ():
            settings += [s.setting] * (s.setting not in settings)
            row[s.setting] = _interval(s.effect, s.lo, s.hi) + (f", {s.call}" if judged else "")
        for label, why in f.excluded:
            settings += [label] * (label not in settings)
            row[label] = f"excluded: {why}"
        if f.claim.status != "empirical":
            row["verdict"] = f"{f.claim.status} (no evidence)"
        elif not judged:
            row["verdict"] = "no verdict" + (f": {reason}" if reason else "")
        else:
            row["verdict"] = res.in_words() if res else "no verdict (every setting excluded)"
        rows.append(row)
    return format_table(rows, ["regulariser", *settings, "verdict"], markdown=True)


@validate(families=_FAMILIES, key=Choice(_CLAIM_KEYS), judged=Flag())
def verdict_summary(families: Sequence[Family], key: str, *, judged: bool = True) -> str:
    """A figure title's account of claim ``key`` over the regularisers: "C7 supported for 1 of
    5 regularisers (dropout 0.3)", "C7 supported for none of the 5 regularisers", or, for a grid
    that is not ``judged``, "C7: no verdict". Introduced in lesson 06."""
    fams = [f for f in families if f.claim.key == key]
    if not fams:
        raise ValueError(f"families holds no family of claim {key!r}")
    if not judged:
        return f"{key}: no verdict"
    if fams[0].claim.status != "empirical":
        return f"{key}: {fams[0].claim.status}"
    yes = [f.item for f in fams if (res := f.judge()) is not None and res.verdict == "supported"]
    if not yes:
        return f"{key} supported for none of the {len(fams)} regularisers"
    return f"{key} supported for {len(yes)} of {len(fams)} regularisers ({', '.join(yes)})"


@validate(families=_FAMILIES, state=Instance((GridState,)), notes=Dict(optional=True))
def found_lines(families: Sequence[Family], state: GridState,
                notes: dict[tuple[str, str], str] | None = None) -> list[str]:
    """The "What we found" sentences of a grid: when ``state`` is judged, one per (claim,
    regulariser) of :data:`FOUND_CLAIMS` (:func:`maxent_lib.verdicts.found_sentences`, with the
    filter ``notes`` of :func:`maxent_lib.verdicts.sensitivity_notes`), and for each C8b family
    a sentence saying it holds by construction and is no evidence; otherwise no verdict, and
    why: for a failed budget check (:func:`failed_check_lines`) in words, else in one sentence.
    Introduced in lesson 06."""
    if not state.judged:
        if state.check is not None and not state.check.passed:
            return failed_check_lines(state)
        return [f"No verdict from {state.name}: {state.reason}."]
    out = []
    for f in families:
        if f.claim.key in FOUND_CLAIMS:
            out += found_sentences([f], notes=notes)
        elif f.claim.status == "by construction":
            out.append(f"{f.claim.key} for {f.item}: true by construction (its objective rewards "
                       "entropy), so it is no evidence.")
    return out


@validate(state=Instance((GridState,)))
def failed_check_lines(state: GridState) -> list[str]:
    """A failed budget check in words, for a lesson's summary: which setting moved and by how
    much against the tolerance, which verdicts changed, which items pass on their own (with
    their verdicts, the same at both budgets) and, when a setting moved too far, how often noise
    alone would fail a check of these seeds
    (:func:`maxent_lib.ablation.chance_of_failing_on_noise`). Raises ``ValueError`` when the
    grid has no failed check. Introduced in lesson 06."""
    check = state.check
    if check is None or check.passed:
        raise ValueError(f"{state.name} has no failed budget check")
    def name(row: dict[str, Any]) -> str:
        return ", ".join(f"{k} {v}" for k, v in row["setting"].items())

    worst = max(check.rows, key=lambda r: abs(r["move"]))
    changed = sum(a != b for a, b in check.verdicts.values())
    ns = sorted({r["n"] for r in check.rows})
    seeds = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]} to {ns[-1]}"
    head = f"No verdict from {state.name}: trained twice as long ({seeds} seeds per setting), "
    first = head + (f"its nets at {name(worst)} moved by {worst['move']:+.3f} in mean test "
                    f"accuracy, more than the {check.tolerance:g} allowed"
                    if not check.accuracy_ok else
                    f"no setting moved by more than {check.tolerance:g}")
    first += (f", and {changed} verdict{'s' * (changed != 1)} changed." if changed else ".")
    out = [first]
    passing = [item for item, ok in check.items.items() if ok]
    failing = [item for item, ok in check.items.items() if not ok]
    if changed:
        out.append("Verdicts that changed with twice the steps: " + "; ".join(
            f"{c} ({a} -> {b})" for c, (a, b) in check.verdicts.items() if a != b) + ".")
    if passing:
        kept = [f"{c} {a}" for c, (a, b) in check.verdicts.items()
                if a == b and c.split(" ", 1)[-1] in passing]
        out.append(f"On their own (each with the baseline), the part{'s' * (len(passing) > 1)} "
                   f"for {', '.join(passing)} pass{'es' * (len(passing) == 1)}"
                   + (f" (the same verdicts at both budgets: {', '.join(kept)})" if kept else "")
                   + "; " + (f"the part{'s' * (len(failing) > 1)} for {', '.join(failing)} "
                             f"do{'es' * (len(failing) == 1)} not." if failing else "."))
    chance = chance_of_failing_on_noise(check)
    if not math.isnan(chance) and not check.accuracy_ok:
        real = [r for r in check.rows if abs(r["move"]) > check.tolerance
                and (r["move_lo"] > 0 or r["move_hi"] < 0)]
        out.append(f"Noise alone would fail a check of these seeds about {chance:.0%} of the "
                   "time, even if no setting truly moved. "
                   + ("Of the moves beyond the tolerance, "
                      + "; ".join(f"{name(r)} {r['move']:+.3f} [{r['move_lo']:+.3f}, "
                                  f"{r['move_hi']:+.3f}]" for r in real)
                      + (" has an interval that excludes zero: that setting is"
                         if len(real) == 1 else
                         " have intervals that exclude zero: those settings are")
                      + " still changing." if real else
                      "No move beyond the tolerance has an interval that excludes zero: the "
                      "failure may be chance; more seeds would tell."))
    return out


@validate(records=_RECORDS, metric=Text(empty=False))
def paired_rows(records: Sequence[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Per training-set size and regulariser, the paired effect on ``metric`` (regulariser minus
    baseline, same seed; :func:`maxent_lib.ablation.paired_effects`) as a row with ``n_train``,
    ``arm``, ``n`` and ``<metric>_mean``, ``_lo``, ``_hi`` (the 95% t interval over seeds), the
    form :func:`maxent_lib.plots.arm_intervals` draws. Runs that diverged have no difference;
    records without a partner are counted, not paired. Introduced in lesson 06."""
    rows = paired_effects(list(records), metric, "arm", "baseline", within=("n_train",),
                          unpaired="report")
    return [{"n_train": r["n_train"], "arm": r["arm"], "n": r["n"],
             f"{metric}_mean": r["effect"], f"{metric}_lo": r["lo"], f"{metric}_hi": r["hi"]}
            for r in rows if r["n"]]


@validate(records=_RECORDS, trained_at=Real(low=0.0, optional=True),
          late_tolerance=Real(low=0.0, high=1.0))
def training_health(records: Sequence[dict[str, Any]], trained_at: float | None = TRAINED_AT,
                    late_tolerance: float = 0.01) -> list[dict[str, Any]]:
    """Per training-set size and arm: ``models``, how many ``did not train``
    (:func:`maxent_lib.ablation.did_not_train` at ``trained_at`` times chance), how many
    ``diverged``, the ``largest late gain`` (the accuracy gained in the last fifth of training,
    the record's ``late_gain``) and how many were ``still improving`` (a late gain above
    ``late_tolerance``: 0.01, ten test points). Introduced in lesson 06."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["n_train"], r["arm"]), []).append(r)
    out = []
    for (n, arm), rs in groups.items():
        late = [float(r["late_gain"]) for r in rs if r.get("late_gain") is not None]
        out.append({"n_train": n, "arm": arm, "models": len(rs),
                    "did not train": sum(did_not_train(r, trained_at) for r in rs),
                    "diverged": sum(r.get("diverged") is True for r in rs),
                    "largest late gain": max(late) if late else None,
                    "still improving": sum(g > late_tolerance for g in late)})
    return out


@validate(configs=Items(Dict(required=("arm", "seed", "n_train")), min_len=1),
          data=Instance(("maxent_lib.ablation.fit.PreparedData",)),
          grid=Choice(("regularization", "shortcut", "init_demo"), optional=True),
          threads=Integer(low=1, high=1024))
def retrain(configs: Sequence[dict[str, Any]], data: Any, *, grid: str | None = "regularization",
            threads: int = 1) -> Any:
    """Train ``configs`` (of one shape: :data:`maxent_lib.ablation.SHAPE_KEYS`) again on the
    CPU, as the grid's command did (:func:`maxent_lib.ablation.fit_group` with ``threads``
    torch threads, 1 by default), and give each record the ``key``, ``dataset``, ``code_hash``
    and ``path`` that :func:`maxent_lib.ablation.run_grid` stores for the predefined ``grid``
    (its code hash covers the grid's definition, :data:`maxent_lib.ablation.GRID_CODE`; None:
    the training code only), so that
    :func:`maxent_lib.ablation.compare_records` can match it with the stored row. Every random
    stream (initialisation, batch order, dropout masks, the data split) is seeded per model, so
    on the machine that made the file the records agree bit for bit. Returns the fitted group
    (:class:`maxent_lib.ablation.GroupResult`). Introduced in lesson 06."""
    from .ablation.configs import ABLATION_CODE, DEFAULTS, GRID_CODE, canonical_config, config_key
    from .ablation.fit import fit_group
    from .store.codehash import code_hash

    canon = [canonical_config(c, len(data.X_train)) for c in configs]
    fitted = fit_group(canon, data, "cpu", threads=threads)
    ident = f"{data.dataset_id}#{data.data_hash}"
    code = [*ABLATION_CODE, *([GRID_CODE[grid]] if grid is not None else [])]
    stamp = {"dataset": data.dataset_id, "code_hash": code_hash(code), "path": "stacked"}
    fitted.records = [{**r, **stamp, "key": config_key({k: r[k] for k in DEFAULTS}, ident)}
                      for r in fitted.records]
    return fitted


@validate(fitted=Instance(("maxent_lib.ablation.fit.GroupResult",)),
          n_splits=Integer(low=2, high=1000), baseline=Text(empty=False))
def fc_gap_rows(fitted: Any, n_splits: int, baseline: str = "baseline") -> list[dict[str, Any]]:
    """The FC1 and FC2 gaps of the last hidden layer of every model of ``fitted`` (one per arm;
    early stopping, which reports another epoch of the baseline's run, is left out), measured
    by :func:`maxent_lib.ablation.heldout_gaps` on the points no model of the group saw, with
    ``n_splits`` refit splits. One row per arm: ``fc1_gap``, ``fc2_gap`` and ``ce_linear``
    (nats, means over the splits), their corrected repeated-split intervals (``fc1_lo``,
    ``fc1_hi``, ``fc2_lo``, ``fc2_hi``, and as text ``fc1_ci``, ``fc2_ci``), and
    ``fc1_minus_baseline``: the arm's FC1 gap minus the ``baseline`` arm's, split by split
    (same splits, same probe on X), with the corrected interval

        mean_j d_j -+ t_{0.975, J-1} s_d sqrt(1/J + n_test/n_fit)   (Nadeau & Bengio 2003).

    ``gaps`` holds the raw measurement of :func:`~maxent_lib.ablation.heldout_gaps`.
    Introduced in lesson 06."""
    from .ablation.heldout import heldout_gaps

    arms = [r["arm"] for r in fitted.records]
    if baseline not in arms:
        raise ValueError(f"baseline {baseline!r} is not an arm of fitted (its arms: {arms})")
    keep = [i for i, r in enumerate(fitted.records) if not r["early_stopping"]]
    models = [fitted.model_of[i] for i in keep]
    top = heldout_gaps(fitted, models, [fitted.model.depth], n_splits=n_splits)
    base = top[keep.index(arms.index(baseline))][0]
    rows = []
    for i, (g,) in zip(keep, top, strict=True):
        d = np.asarray(g["splits"]["fc1_gap"]) - np.asarray(base["splits"]["fc1_gap"])
        mean, lo, hi = t_interval(d, test_fraction=g["n_test"] / g["n_points"])
        rows.append({"arm": arms[i], "fc1_gap": g["fc1_gap"], "fc2_gap": g["fc2_gap"],
                     "fc1_lo": g["fc1_gap_ci"][0], "fc1_hi": g["fc1_gap_ci"][1],
                     "fc2_lo": g["fc2_gap_ci"][0], "fc2_hi": g["fc2_gap_ci"][1],
                     "fc1_ci": "[{:+.3f}, {:+.3f}]".format(*g["fc1_gap_ci"]),
                     "fc2_ci": "[{:+.3f}, {:+.3f}]".format(*g["fc2_gap_ci"]),
                     "ce_linear": g["ce_linear"],
                     "fc1_minus_baseline": _interval(mean, lo, hi), "gaps": g})
    return rows


@validate(fitted=Instance(("maxent_lib.ablation.fit.GroupResult",)), arm=Text(empty=False))
def split_log_probs(fitted: Any, arm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """``(lp_val, y_val, lp_test, y_test)``: the log-probabilities (n, K) that the model of
    ``arm`` in a fitted group gives its own validation split and the test set (final weights, no
    dropout), with their labels: what its temperature is fitted on (:func:`maxent_lib.metrics.
    fit_temperature`, on the validation split) and scored on (the test set). Introduced in
    lesson 06."""
    import torch

    from .ablation.training import predict_log_proba

    arms = [r["arm"] for r in fitted.records]
    if arm not in arms:
        raise ValueError(f"arm {arm!r} is not an arm of fitted (its arms: {arms})")
    m = fitted.model_of[arms.index(arm)]
    d, val = fitted.data, fitted.splits[m][1]
    dev = fitted.model.params[0].device
    with torch.no_grad():
        lp_val = predict_log_proba(fitted.model, torch.as_tensor(d.X_train[val], device=dev))[m]
        lp_test = predict_log_proba(fitted.model, torch.as_tensor(d.X_test, device=dev))[m]
    return (lp_val.double().cpu().numpy(), np.asarray(d.y_train[val]),
            lp_test.double().cpu().numpy(), np.asarray(d.y_test))
