"""Is a grid trained long enough? The budget-sensitivity check (lessons 05-07). No torch.

A verdict drawn from nets stopped before their test accuracy settles can flip with a longer
budget. The check retrains the grid's models with **twice the epochs** (the whole schedule
stretched: the cosine learning rate decays over the longer run, so this is not more steps at
the low-rate tail) and compares, setting by setting (every config field except the seed and
the budget), the mean test accuracy over the same seeds:

- ``move``: mean test accuracy at twice the budget minus at the budget;
- the grid **passes** when no setting moves by more than ``tolerance`` (0.01: ten of the
  1000 test points) and, when a ``verdicts`` function is given, no claim's verdict computed
  from the longer runs differs from the verdict computed from the grid's runs of the same seeds.

A grid that fails is trained again with a larger budget (:mod:`maxent_lib.ablation.configs`
holds the budgets each profile needed); lessons draw no verdict from a grid that fails.

With ``item_key`` the check also reports, per item of the claims (an architecture, a
regulariser), whether the item's part of the grid would pass on its own: its settings (those
whose ``item_key`` field is the item, plus the ``shared`` ones such as the baseline) and its
verdicts. This says where a failing grid fails; it does not change whether the grid passes.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..stats import t_interval
from ..tables import format_table
from ..validation import Dict, Flag, Function, Instance, Integer, Items, Real, Seed, Text, validate
from .configs import DEFAULTS
from .summaries import _RECORDS, _value

__all__ = ["BudgetCheck", "at_best_validation", "budget_check", "budget_configs", "budget_path",
           "budget_path_lines", "chance_of_failing_on_noise", "format_budget_check"]

#: Config fields that do not define a setting of the check: the seed (averaged over) and the
#: budget (compared).
_NOT_SETTING = ("seed", "epochs", "profile")


@validate(configs=Items(Dict()), multiple=Real(low=0.0, low_open=True, high=1000.0),
          seeds=Integer(low=1, optional=True))
def budget_configs(configs: Sequence[dict[str, Any]], multiple: float = 1.0,
                   seeds: int | None = None) -> list[dict[str, Any]]:
    """``configs`` with ``epochs`` multiplied by ``multiple`` (rounded, at least 1: the whole
    learning-rate schedule stretched over the longer run) and, with ``seeds``, only the first
    ``seeds`` seeds (in increasing order) of each setting. ``multiple=1`` and no ``seeds``
    return copies of the configs unchanged. Introduced in lesson 05."""
    if seeds is not None:
        kept = sorted({c.get("seed", DEFAULTS["seed"]) for c in configs})[:seeds]
        configs = [c for c in configs if c.get("seed", DEFAULTS["seed"]) in kept]
    out = []
    for c in configs:
        c = dict(c)
        if multiple != 1.0:
            c["epochs"] = max(1, round(c.get("epochs", DEFAULTS["epochs"]) * multiple))
        out.append(c)
    return out


@dataclass
class BudgetCheck:
    """The result of :func:`budget_check`: per setting, the seeds compared, the mean test
    accuracy at the budget and at twice the budget, and the move; the verdicts at both budgets;
    whether the grid passes, and why."""

    rows: list[dict[str, Any]]
    tolerance: float
    max_move: float
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)
    unmatched: int = 0
    items: dict[str, bool] = field(default_factory=dict)

    @property
    def accuracy_ok(self) -> bool:
        """No setting's mean test accuracy moved by more than the tolerance."""
        return self.max_move <= self.tolerance

    @property
    def verdicts_ok(self) -> bool:
        """No claim's verdict changed with the longer budget."""
        return all(a == b for a, b in self.verdicts.values())

    @property
    def passed(self) -> bool:
        """The grid counts as trained: accuracy settled and verdicts unchanged."""
        return bool(self.rows) and self.accuracy_ok and self.verdicts_ok

    @validate()
    def summary(self) -> str:
        """One sentence: passed or failed, the largest move and where, the verdicts."""
        if not self.rows:
            return "budget check FAILED: no setting was compared."
        worst = max(self.rows, key=lambda r: abs(r["move"]))
        where = ", ".join(f"{k} {v}" for k, v in worst["setting"].items())
        changed = [f"{c}: {a} -> {b}" for c, (a, b) in self.verdicts.items() if a != b]
        ns = sorted({r["n"] for r in self.rows})
        seeds = f"{ns[0]}" if len(ns) == 1 else f"{ns[0]} to {ns[-1]}"
        text = (f"budget check {'passed' if self.passed else 'FAILED'}: {len(self.rows)} "
                f"settings retrained with twice the epochs ({seeds} seeds each); largest "
                f"move of mean test accuracy {worst['move']:+.3f} ({where}; tolerance "
                f"{self.tolerance:.2f})")
        if self.verdicts:
            text += ("; every verdict unchanged" if not changed else
                     "; verdicts changed: " + "; ".join(changed))
        if self.items and not self.passed:
            text += "; by item: " + ", ".join(f"{item} {'passes' if ok else 'fails'}"
                                              for item, ok in self.items.items())
        return text + "."


def _setting(record: dict[str, Any]) -> tuple:
    return tuple((k, record.get(k)) for k in DEFAULTS if k not in _NOT_SETTING)


def _naming_fields(settings: list[tuple]) -> list[str]:
    """The fields that name a setting in the check's rows: those that vary across the settings,
    less those the arm already fixes (a regulariser's strength, the shortcut flag), so a row
    reads "n_train 1000, arm baseline", not every field of the config."""
    values = [dict(s) for s in settings]
    varying = [k for k in DEFAULTS if k not in _NOT_SETTING
               and len({v.get(k) for v in values}) > 1]
    if "arm" not in varying:
        return varying or ["arm"]
    by_arm: dict[str, set] = {}
    for k in varying:
        for v in values:
            by_arm.setdefault(k, set()).add((v.get("arm"), v.get(k)))
    arms = len({v.get("arm") for v in values})
    return [k for k in varying if k == "arm" or len(by_arm[k]) > arms]


@validate(records=_RECORDS, longer=_RECORDS, tolerance=Real(low=0.0),
          verdicts=Function("a function of the records that returns {claim: verdict}",
                            optional=True),
          item_key=Text(optional=True), shared=Text(optional=True))
def budget_check(records: Sequence[dict[str, Any]], longer: Sequence[dict[str, Any]], *,
                 tolerance: float = 0.01,
                 verdicts: Callable[[list[dict[str, Any]]], dict[str, str]] | None = None,
                 item_key: str | None = None, shared: str | None = None) -> BudgetCheck:
    """Compare a grid's ``records`` with ``longer``, the same configs (or the first seeds of
    each setting) trained with twice the epochs: per setting, the mean test accuracy over the
    seeds present in both, at the budget and at twice it, and the move (see the module
    docstring). ``verdicts(records) -> {claim: verdict}`` is applied to the grid's records of
    the compared seeds and to ``longer``; a changed verdict fails the check. Records of models
    that diverged or did not train count with their test accuracy (None is skipped); a longer
    record with no partner at half its epochs is counted in ``unmatched``. With ``item_key``
    (e.g. "kind", or "arm" with ``shared="baseline"``), ``items`` says for each value of that
    field (other than ``shared``) whether its part of the grid, with the ``shared`` records,
    passes on its own (its verdicts are those whose key ends with the item: "C5 mlp").
    Raises ``ValueError`` when nothing pairs. Introduced in lesson 05."""
    base = {(_setting(r), r.get("seed")): r for r in records}
    pairs: dict[tuple, list[tuple[float, float]]] = {}
    matched, unmatched = [], 0
    for r in longer:
        partner = base.get((_setting(r), r.get("seed")))
        if partner is None or r.get("epochs") != 2 * partner.get("epochs", 0):
            unmatched += 1
            continue
        a, b = _value(partner, "test_acc"), _value(r, "test_acc")
        matched.append(partner)
        if a is not None and b is not None:
            pairs.setdefault(_setting(r), []).append((a, b))
    if not pairs:
        raise ValueError("no record of `longer` pairs with a record of the grid at half its "
                         "epochs: give the grid's configs trained with twice the epochs")
    varying = _naming_fields(list(pairs))
    rows = []
    for setting, ab in pairs.items():
        at, twice = (sum(x[i] for x in ab) / len(ab) for i in (0, 1))
        diffs = [b - a for a, b in ab]
        _, lo, hi = t_interval(diffs)
        se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else math.nan
        rows.append({"setting": {k: v for k, v in setting if k in varying},
                     "n": len(ab), "test_acc": at, "test_acc_twice": twice,
                     "move": twice - at, "move_lo": lo, "move_hi": hi, "move_se": se})
    out = BudgetCheck(rows, tolerance, max(abs(r["move"]) for r in rows), unmatched=unmatched)
    if verdicts is not None:
        before, after = verdicts(matched), verdicts(list(longer))
        out.verdicts = {c: (before[c], after.get(c, "missing")) for c in before}
    if item_key is not None:
        out.items = _item_passes(records, longer, tolerance, verdicts, item_key, shared)
    return out


def _item_passes(records: Sequence[dict[str, Any]], longer: Sequence[dict[str, Any]],
                 tolerance: float, verdicts: Callable | None, item_key: str,
                 shared: str | None) -> dict[str, bool]:
    """Item -> whether the item's part of the grid (its records and the shared ones) passes."""
    items = sorted({str(r.get(item_key)) for r in records} - {shared})
    out = {}
    for item in items:
        def mine(rs: Sequence[dict[str, Any]], item: str = item) -> list[dict[str, Any]]:
            return [r for r in rs if str(r.get(item_key)) in (item, shared)]

        def its_verdicts(rs: list[dict[str, Any]], item: str = item) -> dict[str, str]:
            return {c: v for c, v in verdicts(rs).items() if c.split(" ", 1)[-1] == item}

        try:
            sub = budget_check(mine(records), mine(longer), tolerance=tolerance,
                               verdicts=None if verdicts is None else its_verdicts)
        except ValueError:  # no longer run of this item: it cannot pass
            out[item] = False
            continue
        out[item] = sub.passed
    return out


@validate(runs=Items(_RECORDS, min_len=2))
def budget_path(runs: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The same settings trained with growing budgets (e.g. the grid, its budget check and a
    check at four times the epochs): one row per setting (every config field except the seed
    and the budget) with the seeds whose test accuracy every run holds, ``multiples`` (each
    run's epochs over the first run's), ``test_acc`` (the mean over those seeds, one value per
    run) and ``per_seed`` (an array of shape (seeds, runs)). Settings missing from a run, or
    with no seed common to all runs, have no row. Raises ``ValueError`` when no setting is in
    every run, or when a setting's budgets do not grow from run to run. Introduced in
    lesson 06."""
    by_run = []
    for records in runs:
        table: dict[tuple, dict[Any, tuple[int, float]]] = {}
        for r in records:
            value = _value(r, "test_acc")
            if value is not None:
                table.setdefault(_setting(r), {})[r.get("seed")] = (int(r["epochs"]), value)
        by_run.append(table)
    common = [s for s in by_run[0] if all(s in t for t in by_run[1:])]
    rows = []
    for setting in common:
        seeds = sorted(set.intersection(*(set(t[setting]) for t in by_run)), key=str)
        if not seeds:
            continue
        epochs = [t[setting][seeds[0]][0] for t in by_run]
        if any(b <= a for a, b in zip(epochs, epochs[1:], strict=False)):
            raise ValueError(f"the runs' budgets must grow from run to run; setting "
                             f"{dict(setting)} has epochs {epochs}")
        per_seed = np.array([[t[setting][s][1] for t in by_run] for s in seeds])
        rows.append({"setting": setting, "seeds": len(seeds),
                     "multiples": [e / epochs[0] for e in epochs],
                     "test_acc": per_seed.mean(axis=0).tolist(), "per_seed": per_seed})
    if not rows:
        raise ValueError("no setting has a seed in every run: give the same configs trained "
                         "with growing budgets")
    varying = _naming_fields([r["setting"] for r in rows])
    for r in rows:
        r["setting"] = {k: v for k, v in r["setting"] if k in varying}
    return rows


@validate(records=_RECORDS)
def at_best_validation(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records read as early stopping reads them: each record's ``test_acc`` replaced by its
    test accuracy at its ``best_val_epoch`` (the evaluation with the highest validation
    accuracy, ties to the lower validation loss, which training records for every net), taken
    from its stored ``test_acc_curve``; ``epoch_reported`` becomes that epoch. A control for the
    budget check that needs no training: does a setting still move with the budget when every
    net is read at its best validation epoch? Diverged records are returned unchanged. Raises
    ``ValueError`` for a record without its curve or whose best epoch is not among its
    ``eval_epochs``. Introduced in lesson 06."""
    out = []
    for i, r in enumerate(records):
        if r.get("diverged") is True:
            out.append(dict(r))
            continue
        epochs, curve, best = r.get("eval_epochs"), r.get("test_acc_curve"), \
            r.get("best_val_epoch")
        if not isinstance(epochs, list) or not isinstance(curve, list) \
                or len(epochs) != len(curve) or best not in epochs:
            raise ValueError(f"records[{i}] has no test accuracy at its best validation epoch "
                             "(it needs eval_epochs, test_acc_curve of the same length and "
                             "best_val_epoch among the eval_epochs)")
        out.append({**r, "test_acc": curve[epochs.index(best)], "epoch_reported": best})
    return out


def _name(setting: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in setting.items())


@validate(rows=Items(Dict(), min_len=1), tolerance=Real(low=0.0), steady_only=Flag())
def budget_path_lines(rows: Sequence[dict[str, Any]], tolerance: float = 0.01,
                      steady_only: bool = False) -> list[str]:
    """In words, where the settings of :func:`budget_path` go as the budget grows: one line for
    each setting still moving at the last doubling (its mean test accuracy moved by more than
    ``tolerance``) with its means at every budget: "kept rising" or "kept falling" when every
    doubling moved it that way by more than ``tolerance``, else "moved +0.018 at the last
    doubling"; then one line naming the settings that settled (moved by at most ``tolerance``
    at the last doubling). With ``steady_only`` the settings that did not keep one direction are
    counted in one line instead of listed. Raises ``ValueError`` on a row without its means.
    Introduced in lesson 06."""
    steady, other, settled = [], [], []
    for r in rows:
        if "test_acc" not in r or "setting" not in r or len(r["test_acc"]) < 2:
            raise ValueError("each row needs its setting and its mean test accuracy at two or "
                             "more budgets (the rows of budget_path)")
        acc = [float(a) for a in r["test_acc"]]
        steps = [b - a for a, b in zip(acc, acc[1:], strict=False)]
        if abs(steps[-1]) <= tolerance:
            settled.append(_name(r["setting"]))
            continue
        kept = all(abs(d) > tolerance and (d > 0) == (steps[-1] > 0) for d in steps)
        budgets = ", ".join(f"{m:g}x" for m in r.get("multiples", range(1, len(acc) + 1)))
        where = (f"({', '.join(f'{a:.3f}' for a in acc)} at {budgets} the budget, "
                 f"{r.get('seeds', '?')} seeds)")
        if kept:
            steady.append(f"{_name(r['setting'])} kept "
                          f"{'rising' if steps[-1] > 0 else 'falling'} {where}")
        else:
            other.append(f"{_name(r['setting'])} moved {steps[-1]:+.3f} at the last doubling "
                         f"{where}")
    if steady_only and other:
        other = [f"{len(other)}{' other' * bool(steady)} setting{'s' * (len(other) > 1)} "
                 f"moved by more than "
                 f"{tolerance:g} at the last doubling, not always the same way"]
    tail = (f"settled at the last doubling (moved by at most {tolerance:g}): "
            + ("; ".join(settled) if settled else "none"))
    return [*steady, *other, tail]


@validate(check=Instance((BudgetCheck,)), draws=Integer(low=100, high=10**7), seed=Seed())
def chance_of_failing_on_noise(check: BudgetCheck, draws: int = 20000, seed: int = 0) -> float:
    """How often the accuracy rule would fail **if no setting truly moved**: the share of
    ``draws`` simulated checks in which some setting's mean move exceeds the tolerance, each
    setting's mean move drawn from a normal distribution around zero with the standard error
    its own seeds show (``move_se``: the spread of its seed-for-seed differences over the square
    root of their number). A plug-in estimate (the observed spreads stand in for the true
    ones): it says whether a failing check is read as a real move or as the noise of few
    seeds. NaN when a setting has fewer than two seeds. Introduced in lesson 06."""
    se = np.array([r["move_se"] for r in check.rows], dtype=float)
    if se.size == 0 or not np.isfinite(se).all():
        return math.nan
    moves = np.random.default_rng(seed).normal(size=(draws, se.size)) * se
    return float((np.abs(moves).max(axis=1) > check.tolerance).mean())


@validate(check=Instance((BudgetCheck,)), digits=Integer(low=0, high=15))
def format_budget_check(check: BudgetCheck, digits: int = 3) -> str:
    """The check as a text table (one row per setting) followed by its summary sentence and
    how often noise alone would fail it (:func:`chance_of_failing_on_noise`)."""
    rows = [{"setting": ", ".join(f"{k} {v}" for k, v in r["setting"].items()), "seeds": r["n"],
             "acc": round(r["test_acc"], digits), "acc x2": round(r["test_acc_twice"], digits),
             "move": f"{r['move']:+.{digits}f}",
             "interval": "" if math.isnan(r["move_lo"]) else
             f"[{r['move_lo']:+.{digits}f}, {r['move_hi']:+.{digits}f}]"} for r in check.rows]
    chance = chance_of_failing_on_noise(check)
    noise = ("" if math.isnan(chance) else
             f"\nIf no setting truly moved, noise alone would fail a check of these seeds about "
             f"{100 * chance:.0f}% of the time (simulated from each setting's seed-to-seed "
             "spread).")
    return format_table(rows, ["setting", "seeds", "acc", "acc x2", "move", "interval"]) \
        + "\n" + check.summary() + noise
