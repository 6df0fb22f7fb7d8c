"""Coverage of the feature-condition intervals, checked by simulation (lesson 03).

An interval is only as good as its coverage: how often it contains the truth over repeated
samples. On synthetic tasks the population gaps are known (:func:`conditions.exact_condition_gaps`,
by quadrature), so draw many independent samples, measure the gaps on each, and count how often
each interval contains the exact gap. Two intervals are compared:

- ``refit``: :func:`conditions.repeated_split_gaps` (repeated sample splitting with probe refits
  and the corrected t interval), on the whole sample;
- ``test points``: :func:`conditions.feature_condition_gaps` on one train/test split of the same
  sample (the paired bootstrap over test points, probes held fixed).

Run it from the command line; records are appended as they are made (one JSON line per case and
sample, so an interrupted run resumes) and a provenance file is written beside them::

    python -m maxent_lib coverage --samples 40 --out results/fc_gap_coverage.jsonl

Introduced in lesson 03.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import data
from ..runtime import progress_bar
from ..store import files
from ..store.codehash import code_hash
from ..store.provenance import begin_run, end_run, provenance
from ..validation import (
    Choice,
    Dict,
    Flag,
    Integer,
    Items,
    PathArg,
    Real,
    Seed,
    Text,
    Tuple,
    validate,
)
from ._common import FRACTION
from .exact import exact_condition_gaps
from .measured import feature_condition_gaps
from .refit import repeated_split_gaps

__all__ = ["CASES", "COVERAGE_CODE", "GAPS", "coverage_comparison", "coverage_record",
           "coverage_table", "simulate_coverage"]

GAPS: tuple[str, ...] = ("fc1_gap", "fc2_gap", "total_gap")


def _dropped() -> data.GaussianMixtureTask:
    eye = np.eye(2)
    return data.GaussianMixtureTask([[(1.0, [-1.5, 0.0], eye)], [(1.0, [1.5, 0.0], eye)]],
                                    name="informative x1, keep x2")


#: name: (task factory, kept coordinates or None, transform of the kept ones or None)
CASES: dict[str, tuple[Callable[[], data.SyntheticTask], list[int] | None,
                       Callable[[np.ndarray], np.ndarray] | None]] = {
    "shared cov, T=x": (lambda: data.shared_covariance_gaussians(seed=0), None, None),
    "class cov, T=x": (lambda: data.class_covariance_gaussians(seed=0), None, None),
    "class cov, T=quad(x)": (lambda: data.class_covariance_gaussians(seed=0), None,
                             data.quadratic_features),
    "dropped x1, T=x2": (_dropped, [1], None),
}
#: The function that computes a coverage record: its code hash covers what it reaches.
COVERAGE_CODE: tuple[str, ...] = ("maxent_lib.conditions.coverage:coverage_record",)


def _features(X: np.ndarray, keep: list[int] | None,
              transform: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    T = X if keep is None else X[:, keep]
    return T if transform is None else transform(T)


@functools.cache
def _exact(case: str) -> dict[str, Any]:
    factory, keep, transform = CASES[case]
    return exact_condition_gaps(factory(), keep, transform)


@validate(case=Choice(tuple(CASES)), sample=Seed(), n_points=Integer(low=20, high=10**7),
          n_splits=Integer(low=1, high=10_000), test_fraction=FRACTION, seed=Seed())
def coverage_record(case: str, sample: int, n_points: int = 2000, n_splits: int = 10,
                    test_fraction: float = 0.3, seed: int = 0) -> dict[str, Any]:
    """One sample of the simulation: ``n_points`` points of case ``case`` drawn with seed
    ``[seed, sample]``; the exact gaps, the refit estimates and intervals (``n_splits`` splits)
    and the test-point intervals of one split (the first split's sizes). Introduced in
    lesson 03."""
    factory, keep, transform = CASES[case]
    task = factory()
    X, y = task.sample(int(n_points), seed=int(np.random.default_rng([seed, sample])
                                               .integers(2**31)))
    T = _features(X, keep, transform)
    refit = repeated_split_gaps(T, y, X, n_splits=n_splits, test_fraction=test_fraction,
                                seed=sample, priors=task.priors)
    n_te = int(round(test_fraction * len(y)))
    perm = np.random.default_rng([seed, sample, 1]).permutation(len(y))
    te, tr = perm[:n_te], perm[n_te:]
    single = feature_condition_gaps(T[tr], y[tr], T[te], y[te], X[tr], X[te], n_bootstrap=500,
                                    seed=sample, n_classes=task.n_classes)
    rec: dict[str, Any] = {"case": case, "sample": sample, "n_points": int(n_points),
                           "n_splits": int(n_splits), "test_fraction": float(test_fraction),
                           "seed": int(seed)}
    for g in GAPS:
        rec[f"exact_{g}"] = _exact(case)[g]
        rec[f"refit_{g}"] = refit[g]
        rec[f"refit_{g}_ci"] = list(refit[g + "_ci"])
        rec[f"test_points_{g}"] = single[g]
        rec[f"test_points_{g}_ci"] = list(single[g + "_ci"])
    rec["mlp_chosen"] = refit["mlp_chosen"]
    return rec


@validate(cases=Items(Choice(tuple(CASES)), optional=True),
          n_samples=Integer(low=1, high=100_000), n_points=Integer(low=20, high=10**7),
          n_splits=Integer(low=1, high=10_000), test_fraction=FRACTION, seed=Seed(),
          out=PathArg(file=True, optional=True), progress=Flag(), command=Text(optional=True))
def simulate_coverage(cases: Sequence[str] | None = None, n_samples: int = 40,
                      n_points: int = 2000, n_splits: int = 10, test_fraction: float = 0.3,
                      seed: int = 0, out: str | os.PathLike[str] | None = None,
                      progress: bool = True, command: str | None = None
                      ) -> list[dict[str, Any]]:
    """:func:`coverage_record` for each case of :data:`CASES` (default all) and each of
    ``n_samples`` samples; every record carries the code hash of :data:`COVERAGE_CODE`. With
    ``out`` (a JSON-lines file) records already there with the same settings and code are read
    back, new ones are appended as they are made, and the provenance is written beside it
    (:mod:`maxent_lib.store.provenance`; the run is marked finished only when it completes).
    Introduced in lesson 03."""
    names = list(CASES) if cases is None else list(cases)
    settings = {"n_points": n_points, "n_splits": n_splits, "test_fraction": test_fraction,
                "seed": seed}
    path = None if out is None else files.check_writable(out)
    stamp = {**settings, "code_hash": code_hash(COVERAGE_CODE)}
    done = {} if path is None else {
        (r["case"], r["sample"]): r for r in files.read_records(path)
        if all(r.get(k) == v for k, v in stamp.items()) and isinstance(r.get("case"), str)
        and isinstance(r.get("sample"), int)}
    run = None if path is None else begin_run(
        path, provenance("coverage simulation", COVERAGE_CODE, command=command), len(done))
    records, status = [], "failed"
    try:
        jobs = [(c, s) for c in names for s in range(n_samples)]
        for case, s in progress_bar(jobs, desc="coverage samples", enabled=progress):
            rec = done.get((case, s)) or {**coverage_record(case, s, **settings), **stamp}
            if path is not None and (case, s) not in done:
                files.append_records(path, [rec])
            records.append(rec)
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if path is not None and run is not None:
            end_run(path, run, status, len(files.read_records(path)))
    return records


#: A coverage record's fields that :func:`coverage_table` reads.
_TABLE_FIELDS = {
    **{f"{kind}{g}": Real() for g in GAPS for kind in ("exact_", "refit_", "test_points_")},
    **{f"{kind}{g}_ci": Tuple((Real(), Real())) for g in GAPS
       for kind in ("refit_", "test_points_")}}


@validate(records=Items(Dict(fields=_TABLE_FIELDS, required=("case", *_TABLE_FIELDS)),
                        min_len=1))
def coverage_table(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per case, gap and interval: ``covered`` (how many intervals contain the exact gap),
    ``samples``, ``coverage`` (their ratio), ``mean_width``, ``bias`` (mean estimate minus the
    exact gap) and ``sd`` (of the estimates over samples). Introduced in lesson 03."""
    rows = []
    for case in dict.fromkeys(r["case"] for r in records):
        mine = [r for r in records if r["case"] == case]
        for g in GAPS:
            truth = mine[0][f"exact_{g}"]
            for method in ("refit", "test_points"):
                est = np.array([r[f"{method}_{g}"] for r in mine])
                ci = np.array([r[f"{method}_{g}_ci"] for r in mine])
                hit = (ci[:, 0] <= truth) & (truth <= ci[:, 1])
                rows.append({"case": case, "gap": g, "interval": method.replace("_", " "),
                             "exact": float(truth), "covered": int(hit.sum()),
                             "samples": len(mine), "coverage": float(hit.mean()),
                             "mean_width": float(np.mean(ci[:, 1] - ci[:, 0])),
                             "bias": float(est.mean() - truth), "sd": float(est.std(ddof=1))
                             if len(est) > 1 else 0.0})
    return rows


@validate(records=Items(Dict(required=("case",)), min_len=1))
def coverage_comparison(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The two intervals of :func:`coverage_table` side by side: one row per case and gap (in
    the records' order of cases, then :data:`GAPS`), matched by case and gap (never by the
    position of a row), with ``case``, ``gap``, ``exact``, ``refit`` and ``test_points`` (the
    two rows of :func:`coverage_table`) and ``by_construction``: True where the estimate and
    the interval are 0 in every sample of both methods (FC1 for T = x: the read-outs on T and
    on X are the same fit), so the gap is 0 by construction and its coverage says nothing.
    Introduced in lesson 03."""
    table = {(r["case"], r["gap"], r["interval"]): r for r in coverage_table(records)}
    out = []
    for case, gap, interval in table:
        if interval != "refit":
            continue
        refit, test = table[(case, gap, "refit")], table[(case, gap, "test points")]
        trivial = all(r["sd"] == 0 and r["mean_width"] == 0 for r in (refit, test))
        out.append({"case": case, "gap": gap, "exact": refit["exact"], "refit": refit,
                    "test_points": test, "by_construction": trivial})
    return out
