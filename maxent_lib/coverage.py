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

    python -m maxent_lib.coverage --samples 40 --out results/fc_gap_coverage.jsonl

Introduced in lesson 03.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import conditions, data, resultsfile
from ._checks import (
    InputTypeError,
    check_flag,
    check_int,
    check_number,
    check_path,
    check_seed,
)
from .runtime import progress_bar

__all__ = ["CASES", "GAPS", "code_hash", "coverage_table", "load_stored", "provenance",
           "simulate_coverage"]

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
#: how the cases are defined, as text (part of :func:`code_hash`)
CASES_SOURCE = ("shared_covariance_gaussians(seed=0), T=x; class_covariance_gaussians(seed=0), "
                "T=x and T=quadratic_features(x); two unit Gaussians at (-1.5, 0), (1.5, 0), "
                "T=x2")


def _features(X: np.ndarray, keep: list[int] | None,
              transform: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    T = X if keep is None else X[:, keep]
    return T if transform is None else transform(T)


def simulate_coverage(cases: Sequence[str] | None = None, n_samples: int = 40,
                      n_points: int = 2000, n_splits: int = 10, test_fraction: float = 0.3,
                      seed: int = 0, out: str | os.PathLike[str] | None = None,
                      progress: bool = True) -> list[dict[str, Any]]:
    """For each case of :data:`CASES` (default all) and each of ``n_samples`` independent samples
    of ``n_points`` points (seed ``[seed, sample]``): the exact gaps, the refit estimate and
    interval (``n_splits`` splits) and the test-point interval of one split (the first split's
    sizes). Returns one record per (case, sample), each with the :func:`code_hash` of the code
    that made it; with ``out``, records already in that JSON lines file with the same settings
    and code are read back and not recomputed (a damaged line is skipped with a warning), new
    ones are appended as they are made, under a file lock (:mod:`maxent_lib.resultsfile`).
    Introduced in lesson 03."""
    if cases is not None and (isinstance(cases, (str, bytes)) or not isinstance(
            cases, (list, tuple))):
        raise InputTypeError(f"cases must be a list of case names, got {cases!r}")
    names = list(CASES) if cases is None else list(cases)
    unknown = [c for c in names if not isinstance(c, str) or c not in CASES]
    if unknown:
        raise ValueError(f"unknown cases {unknown}; choose from {list(CASES)}")
    n_samples = check_int(n_samples, "n_samples", low=1, high=100_000)
    n_points = check_int(n_points, "n_points", low=20, high=10**7)
    n_splits = check_int(n_splits, "n_splits", low=1, high=10_000)
    test_fraction = check_number(test_fraction, "test_fraction", low=0.0, high=1.0,
                                 low_open=True, high_open=True)
    seed = check_seed(seed)
    progress = check_flag(progress, "progress")
    done: dict[tuple[str, int], dict[str, Any]] = {}
    path = None if out is None else check_path(out, "out")
    settings = {"n_points": int(n_points), "n_splits": int(n_splits),
                "test_fraction": float(test_fraction), "seed": int(seed), "code": code_hash()}
    if path is not None and path.exists():
        for r in resultsfile.read_records(path):
            if all(r.get(k) == v for k, v in settings.items()) and isinstance(
                    r.get("case"), str) and isinstance(r.get("sample"), int):
                done[(r["case"], r["sample"])] = r
    records = []
    jobs = [(c, s) for c in names for s in range(n_samples)]
    exact: dict[str, dict[str, Any]] = {}
    for case, s in progress_bar(jobs, desc="coverage samples", enabled=progress):
        if (case, s) in done:
            records.append(done[(case, s)])
            continue
        factory, keep, transform = CASES[case]
        task = factory()
        if case not in exact:
            exact[case] = conditions.exact_condition_gaps(task, keep, transform)
        X, y = task.sample(int(n_points), seed=int(np.random.default_rng([seed, s])
                                                   .integers(2**31)))
        T = _features(X, keep, transform)
        refit = conditions.repeated_split_gaps(T, y, X, n_splits=n_splits,
                                               test_fraction=test_fraction, seed=s,
                                               priors=task.priors)
        n_te = int(round(test_fraction * len(y)))
        perm = np.random.default_rng([seed, s, 1]).permutation(len(y))
        te, tr = perm[:n_te], perm[n_te:]
        single = conditions.feature_condition_gaps(T[tr], y[tr], T[te], y[te], X[tr], X[te],
                                                   n_bootstrap=500, seed=s,
                                                   n_classes=task.n_classes)
        rec: dict[str, Any] = {"case": case, "sample": s, **settings}
        for g in GAPS:
            rec[f"exact_{g}"] = exact[case][g]
            rec[f"refit_{g}"] = refit[g]
            rec[f"refit_{g}_ci"] = list(refit[g + "_ci"])
            rec[f"test_points_{g}"] = single[g]
            rec[f"test_points_{g}_ci"] = list(single[g + "_ci"])
        rec["mlp_chosen"] = refit["mlp_chosen"]
        records.append(rec)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            resultsfile.append_records(path, [rec])
    return records


def coverage_table(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per case, gap and interval: ``covered`` (how many intervals contain the exact gap),
    ``samples``, ``coverage`` (their ratio), ``mean_width``, ``bias`` (mean estimate minus the
    exact gap) and ``sd`` (of the estimates over samples). Introduced in lesson 03."""
    if isinstance(records, (dict, str, bytes)) or not isinstance(records, (list, tuple)):
        raise InputTypeError(f"records must be a list of coverage records (dicts), got "
                             f"{type(records).__name__}")
    if not records:
        raise ValueError("records is empty")
    need = ["case"] + [f"{kind}{g}{ci}" for g in GAPS for kind in ("exact_", "refit_",
                                                                   "test_points_")
                       for ci in ("", "_ci") if not (kind == "exact_" and ci)]
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise InputTypeError(f"records[{i}] must be a dict, got {type(r).__name__}")
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"records[{i}] lacks the field(s) {missing}")
        for g in GAPS:
            for k in (f"exact_{g}", f"refit_{g}", f"test_points_{g}"):
                check_number(r[k], f"records[{i}][{k!r}]")
            for k in (f"refit_{g}_ci", f"test_points_{g}_ci"):
                ci = r[k]
                if not isinstance(ci, (list, tuple)) or len(ci) != 2:
                    raise ValueError(f"records[{i}][{k!r}] must be an interval [lo, hi]")
                for v in ci:
                    check_number(v, f"records[{i}][{k!r}]")
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


def code_hash() -> str:
    """A hash of the source of the code a coverage record depends on and this course module
    owns: the two estimators with the linear read-out (softmax regression and its penalty
    choice), the exact gaps, the probes, the quadrature and this simulation. The synthetic tasks
    (a shared module) are pinned by the commit in the provenance. A stored record whose hash
    differs from the current one is stale.
    Introduced in lesson 03."""
    from . import probes, quadrature

    parts = [conditions.repeated_split_gaps, conditions.layerwise_repeated_split_gaps,
             conditions.split_t_interval, conditions._one_se_choice, conditions._standardiser,
             conditions._label_surprisal, conditions.point_losses, conditions.linear_probe,
             conditions.feature_condition_gaps, conditions.paired_bootstrap_ci,
             conditions.FlexibleProbe, conditions.exact_condition_gaps, conditions._best_penalty,
             conditions.SoftmaxRegression,
             conditions._exact_values, conditions.soft_label_softmax, probes, quadrature,
             simulate_coverage, _dropped, CASES_SOURCE]
    h = hashlib.sha256()
    for obj in parts:
        h.update(obj.encode() if isinstance(obj, str) else inspect.getsource(obj).encode())
    return h.hexdigest()[:16]


def load_stored(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], dict[str, Any], bool]:
    """The records and provenance of a stored simulation, and whether they are stale (made by
    other code than the current one, by :func:`code_hash`). A damaged line is skipped with a
    warning; a missing or damaged provenance file raises ``ValueError``. Introduced in
    lesson 03."""
    path = check_path(path, "path")
    if not path.is_file():
        raise ValueError(f"no stored coverage simulation at {path}")
    records = resultsfile.read_records(path)
    prov_path = path.with_suffix(".provenance.json")
    try:
        prov = json.loads(prov_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"the coverage simulation at {path} has no provenance file "
                         f"({prov_path.name})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"the provenance file {prov_path.name} is damaged: {exc}") from exc
    if not isinstance(prov, dict):
        raise ValueError(f"the provenance file {prov_path.name} is not a JSON object")
    stale = any(r.get("code") != code_hash() for r in records)
    return records, prov, stale


def provenance(command: str, seconds: float, n_records: int) -> dict[str, Any]:
    """What made a stored result: command, commit, :func:`code_hash` of the code it used,
    versions, machine, date, wall time (of this run; a resumed run counts only its own time).
    Introduced in lesson 03."""
    import scipy
    import torch

    if not isinstance(command, str):
        raise InputTypeError(f"command must be a string, got {type(command).__name__}")
    seconds = check_number(seconds, "seconds", low=0.0)
    n_records = check_int(n_records, "n_records", low=0)

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent, check=False,
                                timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"command": command, "commit": commit, "code": code_hash(),
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "torch": torch.__version__,
            "device": f"CPU ({os.cpu_count()} cores), {torch.get_num_threads()} torch threads",
            "date": dt.date.today().isoformat(), "wall_seconds": round(seconds, 1),
            "records": n_records}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maxent_lib.coverage",
                                     description="Coverage of the FC-gap intervals (lesson 03).")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--cases", nargs="*", default=None)
    parser.add_argument("--out", default="results/fc_gap_coverage.jsonl")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    code = code_hash()
    records = simulate_coverage(args.cases, args.samples, args.points, args.splits,
                                out=args.out)
    prov = provenance("python -m maxent_lib.coverage " + " ".join(sys.argv[1:] if argv is None
                                                                   else argv),
                      time.perf_counter() - start, len(records))
    if prov["code"] != code:
        raise RuntimeError("the library code changed while the simulation ran; run it again")
    Path(args.out).with_suffix(".provenance.json").write_text(json.dumps(prov, indent=1) + "\n")
    for row in coverage_table(records):
        print(f"{row['case']:22s} {row['gap']:9s} {row['interval']:11s} "
              f"{row['covered']:3d}/{row['samples']} width {row['mean_width']:.4f} "
              f"bias {row['bias']:+.4f} sd {row['sd']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
