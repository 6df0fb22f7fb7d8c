"""A whole grid, resumably, into a results file (lessons 05-06).

:func:`run_grid` groups the configs by shape, trains each group (in this process or on Ray,
:mod:`maxent_lib.ablation.executors`) and appends each finished group to a JSON-lines file,
keyed by a hash of the canonical config and the data set, so a rerun skips what is done. Beside
``NAME.jsonl``, ``NAME_provenance.json`` records every run (:mod:`maxent_lib.store.provenance`).
A CUDA out-of-memory error splits the group in half and retries.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..runtime import get_device, progress_bar
from ..store import files
from ..store.codehash import code_hash
from ..store.provenance import begin_run, end_run, provenance
from ..validation import (
    Anything,
    Device,
    Dict,
    Flag,
    Instance,
    Integer,
    Items,
    PathArg,
    Text,
    validate,
)
from . import executors
from .configs import (
    ABLATION_CODE,
    CONFIG,
    DEFAULTS,
    METRICS,
    SHAPE_KEYS,
    Dataset,
    canonical_config,
    config_key,
)
from .fit import DATASET, PreparedData, _is_oom, fit_group, prepare_dataset, train_group
from .nets import nets_path, save_nets


@validate(configs=Items(Dict(required=SHAPE_KEYS)))
def group_by_shape(configs: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Canonical configs (:func:`~maxent_lib.ablation.configs.canonical_config`) grouped by
    :data:`SHAPE_KEYS`, in order of first appearance. Used by the library only."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for c in configs:
        groups.setdefault(tuple(c[k] for k in SHAPE_KEYS), []).append(c)
    return list(groups.values())


def _train_records(configs: list[dict[str, Any]], data: PreparedData, dev: torch.device,
                   fast: bool, threads: int | None) -> list[dict[str, Any]]:
    return train_group(configs, data, dev, fast=fast, threads=threads)


def _run_splitting(configs: list[dict[str, Any]], data: PreparedData, dev: torch.device,
                   fast: bool, threads: int | None,
                   sink: Callable[[list[dict[str, Any]]], None]) -> None:
    """Train a group; on CUDA out-of-memory, split it in half and retry each half."""
    try:
        records = _train_records(configs, data, dev, fast, threads)
    except Exception as exc:
        if not _is_oom(exc) or len(configs) == 1:
            raise
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        half = len(configs) // 2
        warnings.warn(f"out of memory with {len(configs)} models; splitting into "
                      f"{half} + {len(configs) - half}", stacklevel=2)
        _run_splitting(configs[:half], data, dev, fast, threads, sink)
        _run_splitting(configs[half:], data, dev, fast, threads, sink)
        return
    sink(records)


def _group_records(configs: list[dict[str, Any]], data: PreparedData, dev: torch.device,
                   fast: bool, threads: int | None) -> list[dict[str, Any]]:
    """Every record of one group, out-of-memory splits included: what one executor task runs."""
    out: list[dict[str, Any]] = []
    _run_splitting(configs, data, dev, fast, threads, out.extend)
    return out


def _group_records_saving_nets(configs: list[dict[str, Any]], data: PreparedData,
                               dev: torch.device, fast: bool, threads: int | None, to: Path,
                               ident: str) -> list[dict[str, Any]]:
    """One group's records, its nets' final weights saved to ``to`` first (no splitting)."""
    fitted = fit_group(configs, data, dev, fast=fast, threads=threads)
    keys = [config_key({k: r[k] for k in DEFAULTS}, ident) for r in fitted.records]
    save_nets(fitted, keys, to)
    return fitted.records


@validate(device=Device(), sequential=Flag(), fast=Flag(),
          threads=Integer(low=1, high=1024, optional=True), progress=Flag(), save_nets=Flag())
@dataclass(frozen=True)
class RunOptions:
    """How :func:`run_grid` trains (none of it changes a record's numbers on the CPU).

    ``device``: see :func:`maxent_lib.runtime.get_device` (None: automatic). ``sequential``:
    one model at a time (the slow reference path) instead of stacks. ``fast``: TF32 and CUDA
    graphs on a GPU. ``threads``: torch threads per group on the CPU (default 1, see
    :func:`maxent_lib.ablation.fit.torch_threads`; None leaves torch's setting). ``progress``:
    show a progress bar. ``save_nets``: keep every net's final weights in ``NAME.pt`` beside the
    results file (:mod:`maxent_lib.ablation.nets`; stacked, in this process only). Checked when
    made. Introduced in lesson 05."""

    device: torch.device | str | None = None
    sequential: bool = False
    fast: bool = True
    threads: int | None = 1
    progress: bool = True
    save_nets: bool = False


def _stored_rows(path: Path, current: str) -> dict[str, dict[str, Any]]:
    """The finished rows of a results file that resume may trust, by key; refuses a file that
    holds results of other code."""
    old = files.read_records(path)
    other = sorted({str(r.get("code_hash")) for r in old if "code_hash" in r} - {current})
    if other:
        raise ValueError(f"{path.name} holds results of other code (code hash {other}, "
                         f"current {current}): move it away or choose another path")
    return {r["key"]: r for r in old if is_trustworthy(r)}


@validate(configs=Items(CONFIG, min_len=1), dataset=DATASET,
          results_path=PathArg(file=True, optional=True),
          options=Instance((RunOptions,), optional=True),
          execution=Instance((executors.Execution,), optional=True),
          command=Text(optional=True), code=Items(Text(empty=False)))
def run_grid(configs: Sequence[dict[str, Any]], dataset: Dataset = "mnist1d", *,
             results_path: str | os.PathLike[str] | None = None,
             options: RunOptions | None = None,
             execution: executors.Execution | None = None,
             command: str | None = None, code: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Train every config and return one record per config, in the given order: the canonical
    config, the metrics of :func:`~maxent_lib.ablation.fit.fit_group`, ``code_hash``,
    ``data_hash``, ``key``, ``dataset``, ``path`` ("stacked" or "sequential"), ``mode``,
    ``device`` and timings (the schema is in ``results/README.md``).

    Configs that share :data:`SHAPE_KEYS` train as one stack; ``options`` (:class:`RunOptions`)
    choose the device, the sequential reference path, threads and the progress bar;
    ``execution`` (:class:`~maxent_lib.ablation.executors.Execution`) runs the groups in this
    process (default) or as Ray tasks. With ``results_path`` every finished group is appended to
    that JSON-lines file and a rerun skips what is done (resume trusts only complete rows with
    valid metrics, :func:`is_trustworthy`); ``NAME_provenance.json`` beside it records the run
    (:mod:`maxent_lib.store.provenance`; its code hash covers
    :data:`~maxent_lib.ablation.configs.ABLATION_CODE` and the entry points ``code``, e.g. the
    grid's definition, :data:`~maxent_lib.ablation.configs.GRID_CODE`), which is marked
    finished only when every config is
    done: a run stopped by Ctrl-C or a failed task is recorded as interrupted or failed, so its
    file is not current. A file written by other code is refused. Bad arguments raise
    ``TypeError``/``ValueError`` before anything trains; a file that cannot be written raises
    :class:`~maxent_lib.store.files.ResultsFileError`. Introduced in lesson 05."""
    options = RunOptions() if options is None else options
    execution = executors.Execution() if execution is None else execution
    dev = get_device(options.device)
    path = files.check_writable(results_path) if results_path is not None else None
    if options.save_nets and (path is None or options.sequential or execution.kind != "local"):
        raise ValueError("save_nets needs a results path, stacked training (not sequential) "
                         "and the local executor")
    data = prepare_dataset(dataset)
    canon = [canonical_config(c, len(data.X_train)) for c in configs]
    ident = f"{data.dataset_id}#{data.data_hash}"
    keys = [config_key(c, ident) for c in canon]
    entry_points = [*ABLATION_CODE, *code]
    current = code_hash(entry_points)
    done = _stored_rows(path, current) if path is not None else {}
    todo = list({k: c for c, k in zip(canon, keys, strict=True) if k not in done}.values())
    stamp = {"dataset": data.dataset_id, "code_hash": current,
             "path": "sequential" if options.sequential else "stacked"}
    run = None
    if path is not None:
        prov = provenance("ablation grid", entry_points, command=command, device=dev)
        run = begin_run(path, prov, len(done))
    status = "failed"
    try:
        _train_todo(todo, data, dev, options, execution, path, done, stamp, ident)
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"
        raise
    finally:
        if path is not None and run is not None:
            end_run(path, run, status, len(done))
    return [done[k] for k in keys]


def _train_todo(todo: list[dict[str, Any]], data: PreparedData, dev: torch.device,
                options: RunOptions, execution: executors.Execution, path: Path | None,
                done: dict[str, dict[str, Any]], stamp: dict[str, Any], ident: str) -> None:
    """Train the configs not yet done, group by group, storing each group as it finishes."""
    bar = progress_bar(total=len(todo), desc="ablation", unit="model", enabled=options.progress)
    groups = group_by_shape(todo)
    tasks = [[c] for g in groups for c in g] if options.sequential else groups
    train = functools.partial(_group_records, data=data, dev=dev, fast=options.fast,
                              threads=options.threads)
    if options.save_nets and path is not None:
        train = functools.partial(_group_records_saving_nets, data=data, dev=dev,
                                  fast=options.fast, threads=options.threads,
                                  to=nets_path(path), ident=ident)
    cost = functools.partial(executors.group_cost, in_dim=data.X_train.shape[1],
                             n_classes=data.n_classes)
    try:
        for records in executors.map_groups(
                tasks, train, execution,
                cpus_per_task=(options.threads or 1) if dev.type == "cpu" else 1,
                gpus_per_task=1 if dev.type == "cuda" else 0, cost=cost):
            out = [{**r, **stamp, "key": config_key({k: r[k] for k in DEFAULTS}, ident)}
                   for r in records]
            if path is not None:
                files.append_records(path, out, trusted=is_trustworthy)
            done.update((r["key"], r) for r in out)
            bar.update(len(out))
    finally:
        bar.close()


@validate(record=Anything("any value: a stored row of any shape is judged, never refused"))
def is_trustworthy(record: dict[str, Any]) -> bool:
    """A stored row that resume trusts: its ``key`` is a string and every metric of
    :data:`METRICS` is a finite number in its range (accuracies, ECE in [0, 1]; losses and
    entropies >= 0; gaps in [-1, 1] for accuracy), or it records a diverged model (``diverged``
    true, metrics None). Any other row (missing, NaN, inf, a string or a boolean where a number
    belongs, a value out of range) is trained again. Introduced in lesson 05."""
    if not isinstance(record, dict) or not isinstance(record.get("key"), str):
        return False
    if record.get("diverged") is True:
        return True
    return all(_valid_metric(name, record.get(name)) for name in METRICS)


#: The range of each stored metric (lower, upper bound).
_METRIC_RANGES: dict[str, tuple[float, float]] = {
    "train_acc": (0.0, 1.0), "val_acc": (0.0, 1.0), "test_acc": (0.0, 1.0),
    "test_ece": (0.0, 1.0), "gen_gap": (-1.0, 1.0)}


def _valid_metric(name: str, value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    lo, hi = _METRIC_RANGES.get(name, (0.0 if name != "loss_gap" else -math.inf, math.inf))
    return math.isfinite(value) and lo <= value <= hi
