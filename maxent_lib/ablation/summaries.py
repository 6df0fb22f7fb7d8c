"""Summaries of ablation records (lessons 05-07), without torch: per-arm means and intervals
(:func:`summarize`), paired effects of an arm against its baseline (:func:`paired_effects`,
which refuses duplicates and mixed profiles or code, and reports records with no partner),
the "did not train" rule, a re-run against the stored rows (:func:`compare_records`) and the
course's one text-table formatter (:func:`format_table`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._checks import (
    InputTypeError,
    check_flag,
    check_int,
    check_number,
)
from ..stats import t_interval
from ..tables import format_table  # noqa: F401  (re-exported: ablation.format_table)
from ..validation import Anything, Choice, Dict, Items, Real, Text, validate
from .configs import DEFAULTS, TREATMENT_KEYS


def _hashable(value: Any, field: str) -> Any:
    try:
        hash(value)
    except TypeError as exc:
        raise InputTypeError(f"field {field!r} holds {value!r}, which cannot be grouped on "
                             "(give numbers, strings or booleans)") from exc
    return value


def _value(record: dict[str, Any], metric: str) -> float | None:
    """A record's metric as a float; None for a diverged model (whose metrics do not exist).
    Refused: a missing or None metric of a model that did not diverge, text, booleans, NaN."""
    v = record.get(metric)
    if v is None:
        if record.get("diverged") is True and metric in record:
            return None
        raise ValueError(f"a record lacks the field {metric!r}" if metric not in record else
                         f"a record has {metric} = None but did not diverge")
    return check_number(v, f"the field {metric!r} of a record")


_RECORDS = Items(Dict())
_NAMES = Items(Text())
_LEVEL = Real(low=0.0, high=1.0, low_open=True, high_open=True)
_TRAINED_AT = Real(low=0.0, optional=True)


@validate(records=Items(Dict(), min_len=1), by=_NAMES, metrics=_NAMES, level=_LEVEL)
def summarize(records: Sequence[dict[str, Any]], by: Sequence[str],
              metrics: Sequence[str] = ("test_acc",), level: float = 0.95
              ) -> list[dict[str, Any]]:
    """One row per distinct value of the fields ``by``: ``n`` (seeds) and, for each metric,
    ``<metric>_mean``, ``_sd``, ``_lo``, ``_hi`` (t-interval over seeds). Records of diverged
    models (``diverged`` true: no metrics) are left out of the statistics and counted in
    ``n_diverged``; a row whose every model diverged has n = 0 and None statistics.
    Introduced in lesson 05."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        missing = [k for k in (*by, *metrics) if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
        groups.setdefault(tuple(_hashable(r[k], k) for k in by), []).append(r)
    rows = []
    for key, rs in groups.items():
        row: dict[str, Any] = dict(zip(by, key, strict=True))
        live = [r for r in rs if r.get("diverged") is not True]
        row["n"] = len(live)
        row["n_diverged"] = len(rs) - len(live)
        for m in metrics:
            if not live:
                row.update({f"{m}_{s}": None for s in ("mean", "sd", "lo", "hi")})
                continue
            vals = [_value(r, m) for r in live]
            mean, lo, hi = t_interval(vals, level)
            row.update({f"{m}_mean": mean, f"{m}_sd": float(np.std(vals, ddof=1))
                        if len(vals) > 1 else float("nan"), f"{m}_lo": lo, f"{m}_hi": hi})
        rows.append(row)
    return rows


#: A model "trained" when its training accuracy reached this multiple of chance (1 / classes).
TRAINED_AT = 2.0


@validate(record=Dict(), trained_at=_TRAINED_AT)
def did_not_train(record: dict[str, Any], trained_at: float | None = TRAINED_AT) -> bool:
    """True when a model did not learn its training data: it diverged (``diverged`` true: no
    metrics), or its training accuracy is below ``trained_at`` times chance (default twice;
    the record's ``trained`` field holds that default). ``trained_at=None`` keeps every model
    that did not diverge (lessons report verdicts at other thresholds too). Such a model enters
    no generalisation verdict. Introduced in lesson 05."""
    if record.get("diverged") is True:
        return True
    if trained_at is None:
        return False
    if trained_at == TRAINED_AT and "trained" in record:
        return not check_flag(record["trained"], "the record's field 'trained'")
    if "train_acc" not in record:
        raise ValueError("record has neither 'trained' nor 'train_acc'")
    acc = check_number(record["train_acc"], "the record's train_acc", low=0.0, high=1.0)
    k = check_int(record.get("n_classes", 10), "the record's n_classes", low=2)
    return acc < trained_at / k


@validate(factor=Text(), pair_on=_NAMES)
def pairing_fields(factor: str, pair_on: Sequence[str] = ("seed",)) -> list[str]:
    """The fields that must be equal for two records to form a pair when comparing values of
    ``factor``: every config field except ``factor`` and ``pair_on`` (and, when ``factor`` is an
    arm or a treatment field, except every :data:`TREATMENT_KEYS` field and ``arm``), plus the
    data set. Introduced in lesson 05."""
    drop = {factor, *pair_on}
    if factor in (*TREATMENT_KEYS, "arm"):
        drop |= {*TREATMENT_KEYS, "arm"}
    return [k for k in DEFAULTS if k not in drop] + ["dataset", "data_hash"]


@validate(records=_RECORDS, metric=Text(), factor=Text(),
          baseline=Anything("a value of the factor field (any hashable value, compared with "
                            "==; an unhashable one is refused in the body)"),
          within=_NAMES, pair_on=_NAMES, level=_LEVEL, unpaired=Choice(("refuse", "report")))
def paired_effects(records: Sequence[dict[str, Any]], metric: str, factor: str,
                   baseline: Any, within: Sequence[str] = (), pair_on: Sequence[str] = ("seed",),
                   level: float = 0.95, unpaired: str = "refuse") -> list[dict[str, Any]]:
    """Effect of each value of ``factor`` against ``baseline``, paired by ``pair_on`` (the seed).

    A treatment record pairs with the baseline record that agrees with it on every field of
    :func:`pairing_fields` (every config field except the factor, the treatment and the seed)
    and on ``pair_on``. Per setting (the ``within`` fields) and factor value: ``n`` pairs, the
    per-pair differences ``diffs`` (with their ``seeds``), the mean ``effect`` and its
    t-interval (``lo``, ``hi``), ``excludes_zero``, ``n_diverged`` (pairs in which a model
    diverged: no difference) and ``n_unpaired`` (treatment records of the setting with no
    baseline partner). Records without a partner are never dropped silently: with
    ``unpaired="refuse"`` (default) they raise ``ValueError`` with their count; with
    ``unpaired="report"`` they are counted in ``n_unpaired``.

    Raises ``ValueError`` if a record lacks a field it needs; if no record is the baseline; on
    duplicate rows; if the records mix profiles or code hashes; if settings that share the
    ``within`` fields differ in another field. Introduced in lesson 05."""
    _hashable(baseline, "baseline")
    _check_pairable(records, (metric, factor, *within, *pair_on))
    keys = pairing_fields(factor, pair_on)
    setting_of = [tuple(_hashable(r.get(k), k) for k in keys) for r in records]
    _refuse_duplicates(records, setting_of, factor, pair_on)
    base = {(s, tuple(r[k] for k in pair_on)): _value(r, metric)
            for s, r in zip(setting_of, records, strict=True) if r[factor] == baseline}
    if not base:
        raise ValueError(f"no record has {factor} == {baseline!r}")
    groups = _pair_up(records, setting_of, base, metric, factor, baseline, within, pair_on, keys)
    lonely = sum(g["unpaired"] for g in groups.values())
    if lonely and unpaired == "refuse":
        raise ValueError(f"{lonely} record(s) of {factor} != {baseline!r} have no baseline "
                         "partner (same setting and seed): complete the grid, or pass "
                         "unpaired='report' to count them")
    return [_effect_row(label, value, g, within, factor, metric, level)
            for (label, value), g in groups.items()]


def _check_pairable(records: list[dict[str, Any]], need: Sequence[str]) -> None:
    for r in records:
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
    for fld, what in (("profile", "profiles"), ("code_hash", "code hashes")):
        vals = {str(r.get(fld)) for r in records}
        if len(vals) > 1:
            raise ValueError(f"the records mix {what} {sorted(vals)}: compare records "
                             "of one run only")


def _refuse_duplicates(records: list[dict[str, Any]], setting_of: list[tuple], factor: str,
                       pair_on: Sequence[str]) -> None:
    seen: set[tuple] = set()
    for s, r in zip(setting_of, records, strict=True):
        row = (s, _hashable(r[factor], factor), tuple(_hashable(r[k], k) for k in pair_on))
        if row in seen:
            raise ValueError(f"duplicate rows: two records with {factor} = {r[factor]!r}, "
                             + ", ".join(f"{k} = {r[k]!r}" for k in pair_on)
                             + " and the same setting")
        seen.add(row)


def _pair_up(records: list[dict[str, Any]], setting_of: list[tuple], base: dict[tuple, Any],
             metric: str, factor: str, baseline: Any, within: Sequence[str],
             pair_on: Sequence[str], keys: list[str]) -> dict[tuple, dict[str, Any]]:
    """Per (within label, factor value): the pairs' differences, diverged and unpaired counts."""
    groups: dict[tuple, dict[str, Any]] = {}
    label_of: dict[tuple, tuple] = {}
    for s, r in zip(setting_of, records, strict=True):
        if r[factor] == baseline:
            continue
        label = tuple(_hashable(r[k], k) for k in within)
        if label_of.setdefault((label, r[factor]), s) != s:
            varying = [k for k, a, c in zip(keys, label_of[(label, r[factor])], s, strict=True)
                       if a != c]
            raise ValueError(f"records with the same {list(within)} differ in {varying}: add "
                             "them to `within` or filter the records")
        g = groups.setdefault((label, r[factor]), {"pairs": [], "diverged": 0, "unpaired": 0})
        pair = tuple(r[k] for k in pair_on)
        if (s, pair) not in base:
            g["unpaired"] += 1
            continue
        v, b = _value(r, metric), base[(s, pair)]
        if v is None or b is None:
            g["diverged"] += 1
        else:
            g["pairs"].append((pair, v - b))
    return groups


def _effect_row(label: tuple, value: Any, group: dict[str, Any], within: Sequence[str],
                factor: str, metric: str, level: float) -> dict[str, Any]:
    pairs = sorted(group["pairs"], key=lambda t: t[0])
    vals = [x for _, x in pairs]
    mean, lo, hi = t_interval(vals, level) if vals else (None, None, None)
    row = dict(zip(within, label, strict=True))
    row[factor] = value
    row.update(metric=metric, n=len(vals), effect=mean, lo=lo, hi=hi,
               excludes_zero=bool(len(vals) > 1 and (lo > 0 or hi < 0)), diffs=vals,
               seeds=[p[0] if len(p) == 1 else p for p, _ in pairs],
               n_diverged=group["diverged"], n_unpaired=group["unpaired"])
    return row


@validate(rerun=_RECORDS, stored=_RECORDS, metrics=_NAMES)
def compare_records(rerun: Sequence[dict[str, Any]], stored: Sequence[dict[str, Any]],
                    metrics: Sequence[str] = ("train_acc", "test_acc", "test_loss",
                                              "test_loss_calibrated")) -> dict[str, Any]:
    """Match re-run records with stored ones by ``key`` and compare ``metrics``: ``matched``
    (how many), ``missing`` (re-run keys not stored), ``max_diff`` (largest absolute
    difference over the metrics), ``identical`` (every metric equal), ``by_arm`` (per arm: the
    largest difference and whether all were equal). Two records of a diverged model (no
    metrics) are equal; a model that diverged in one run and not in the other differs by
    ``inf``. Introduced in lesson 05."""
    for name, recs in (("rerun", rerun), ("stored", stored)):
        for i, r in enumerate(recs):
            if not isinstance(r.get("key"), str):
                raise ValueError(f"{name}[{i}] has no 'key' (a string): compare records of "
                                 "run_grid")
    by_key = {r["key"]: r for r in stored}
    missing = [r["key"] for r in rerun if r["key"] not in by_key]
    worst, arms = 0.0, {}
    for r in rerun:
        s = by_key.get(r["key"])
        if s is None:
            continue
        d = 0.0
        for m in metrics:
            a, b = _value(r, m), _value(s, m)
            d = max(d, 0.0 if a is None and b is None else
                    math.inf if a is None or b is None else abs(a - b))
        worst = max(worst, d)
        arm = arms.setdefault(r.get("arm", ""), {"n": 0, "max_diff": 0.0})
        arm["n"] += 1
        arm["max_diff"] = max(arm["max_diff"], d)
    for a in arms.values():
        a["identical"] = a["max_diff"] == 0.0
    matched = len(rerun) - len(missing)
    return {"matched": matched, "missing": missing, "max_diff": worst,
            "identical": matched > 0 and worst == 0.0, "by_arm": arms}
