"""Ablation grids: many configurations, trained stacked by shape, with resumable results
(introduced in lesson 05, used again in lesson 06).

A *config* is a dict with the keys of :data:`DEFAULTS` (missing ones take the default):
``kind`` ("mlp" or "cnn"), ``width``, ``depth``, ``shortcut``, ``weight_decay`` (decoupled,
AdamW), ``dropout``, ``label_smoothing``, ``confidence_penalty`` (beta of ``loss - beta H(p)``),
``seed``, ``epochs``, ``batch_size``, ``lr``, ``n_train`` (the first n_train training examples;
None = all), ``stop_fraction`` (early stopping: report the model as it was after
``ceil(stop_fraction * epochs)`` epochs) and ``arm`` (a free label for summaries).

:func:`run_grid` groups the configs by :data:`SHAPE_KEYS` (what must be equal to stack them) and
trains each group as one :class:`maxent_lib.ensemble.StackedNet`; ``sequential=True`` trains the
same configs one model at a time from the same initialisation and batches (the reference and the
benchmark baseline). Results go to a JSON-lines file group by group (each write atomic: a temporary
file, fsync, rename), keyed by a hash of the canonical config and the data set, so a rerun skips
what is done and an interrupt loses no finished group. A CUDA out-of-memory error splits the group
in half and retries.

Summaries: :func:`t_interval` (mean and 95% t-interval over seeds), :func:`summarize` (per arm),
:func:`paired_effects` (arm minus baseline, paired by seed).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats

from . import data as data_mod
from . import ensemble
from ._checks import as_finite_array, check_labels, check_same_length
from .metrics import stacked_metrics
from .runtime import by_profile, get_device

DEFAULTS: dict[str, Any] = {
    "kind": "mlp", "width": 64, "depth": 2, "shortcut": False, "weight_decay": 0.0,
    "dropout": 0.0, "label_smoothing": 0.0, "confidence_penalty": 0.0, "seed": 0,
    "epochs": 20, "batch_size": 128, "lr": 1e-3, "n_train": None, "stop_fraction": 1.0,
    "arm": "",
}
SHAPE_KEYS: tuple[str, ...] = ("kind", "width", "depth", "epochs", "batch_size", "lr", "n_train")
METRICS: tuple[str, ...] = ("train_acc", "test_acc", "train_loss", "test_loss", "test_entropy",
                            "test_ece", "gen_gap", "loss_gap")
Dataset = str | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


# ---------------------------------------------------------------------- configs and data

def canonical_config(config: dict[str, Any], n_available: int | None = None) -> dict[str, Any]:
    """``config`` with defaults filled in, types normalised and values checked; ``n_train=None``
    becomes ``n_available`` when that is given. Raises ``ValueError`` on unknown keys or bad values.
    Introduced in lesson 05."""
    if not isinstance(config, dict):
        raise ValueError(f"a config must be a dict, got {type(config).__name__}")
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; known keys: {sorted(DEFAULTS)}")
    c = {**DEFAULTS, **config}
    if c["kind"] not in ensemble.KINDS:
        raise ValueError(f"kind must be one of {ensemble.KINDS}, got {c['kind']!r}")
    for k in ("width", "depth", "epochs", "batch_size"):
        v = c[k]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{k} must be a positive integer, got {v!r}")
        c[k] = int(v)
    if isinstance(c["seed"], bool) or not isinstance(c["seed"], (int, np.integer)) or c["seed"] < 0:
        raise ValueError(f"seed must be a non-negative integer, got {c['seed']!r}")
    c["seed"] = int(c["seed"])
    if c["shortcut"] not in (0, 1, True, False):
        raise ValueError(f"shortcut must be True or False, got {c['shortcut']!r}")
    c["shortcut"] = bool(c["shortcut"])
    ranges = {"weight_decay": (0, math.inf, False), "dropout": (0, 1, True),
              "label_smoothing": (0, 1, True), "confidence_penalty": (0, math.inf, False),
              "lr": (0, math.inf, False), "stop_fraction": (0, 1, False)}
    for k, (lo, hi, open_hi) in ranges.items():
        try:
            v = float(c[k])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{k} must be a number, got {c[k]!r}") from exc
        bad = not math.isfinite(v) or v < lo or v > hi or (open_hi and v >= hi)
        if bad or (k in ("lr", "stop_fraction") and v <= 0):
            raise ValueError(f"{k} = {v} is out of range")
        c[k] = v
    if c["n_train"] is None and n_available is not None:
        c["n_train"] = int(n_available)
    if c["n_train"] is not None:
        v = c["n_train"]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
            raise ValueError(f"n_train must be an integer >= 2, got {v!r}")
        if n_available is not None and v > n_available:
            raise ValueError(f"n_train = {v} but the training set has only {n_available} examples")
        c["n_train"] = int(v)
    c["arm"] = str(c["arm"])
    return c


def config_key(config: dict[str, Any], dataset_id: str) -> str:
    """A 16-hex-digit hash of the canonical config and the data set: the resume key."""
    payload = json.dumps({"config": config, "dataset": dataset_id}, sort_keys=True)
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PreparedData:
    """Standardised float32 arrays of a data set and its identity string."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    dataset_id: str


def prepare_dataset(dataset: Dataset) -> PreparedData:
    """Load a named data set (``maxent_lib.data.load``) or check a tuple
    ``(X_train, y_train, X_test, y_test)``; standardise every feature with the training set's mean
    and standard deviation. Introduced in lesson 05."""
    if isinstance(dataset, str):
        split = data_mod.load(dataset)
        Xtr, ytr, Xte, yte = split.as_tuple()
        ident = dataset
    elif isinstance(dataset, (tuple, list)) and len(dataset) == 4:
        Xtr, ytr, Xte, yte = dataset
        ident = None
    else:
        raise ValueError("dataset must be a name (e.g. 'mnist1d') or a tuple "
                         "(X_train, y_train, X_test, y_test)")
    Xtr = as_finite_array(Xtr, "X_train", ndim=2)
    Xte = as_finite_array(Xte, "X_test", ndim=2)
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"X_train has {Xtr.shape[1]} features but X_test has {Xte.shape[1]}")
    ytr, yte = check_labels(ytr, None, "y_train"), check_labels(yte, None, "y_test")
    check_same_length("X_train", Xtr, "y_train", ytr)
    check_same_length("X_test", Xte, "y_test", yte)
    k = int(max(ytr.max(), yte.max())) + 1
    if k < 2:
        raise ValueError("the labels hold a single class; a classifier needs at least two")
    if ident is None:
        h = hashlib.sha1()
        for a in (Xtr, ytr, Xte, yte):
            h.update(np.ascontiguousarray(a).tobytes())
        ident = "arrays:" + h.hexdigest()[:12]
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    f32 = np.float32
    return PreparedData(((Xtr - mu) / sd).astype(f32), ytr, ((Xte - mu) / sd).astype(f32), yte,
                        k, ident)


# ---------------------------------------------------------------------- results file

def load_results(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records in a JSON-lines results file (empty if it does not exist); a torn or
    malformed line is skipped with a warning. Introduced in lesson 05."""
    from .resultsfile import read_records  # locked, damage-tolerant results files

    return read_records(path)


def append_results(path: str | os.PathLike[str], records: Sequence[dict[str, Any]]) -> None:
    """Append ``records`` as JSON lines atomically: the old contents plus the new lines go to a
    temporary file in the same folder, which is flushed, fsynced and renamed over ``path``."""
    from .resultsfile import append_records  # under a file lock; rows already stored skipped

    append_records(path, records)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Raise ``ValueError`` unless ``path``'s folder exists and a file can be written there."""
    from .resultsfile import check_writable as _check_writable

    return _check_writable(path)


# ---------------------------------------------------------------------- training one group

@dataclass
class GroupResult:
    """A trained stack, its records and the data on the device (for feature diagnostics)."""

    model: ensemble.StackedNet
    records: list[dict[str, Any]]
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Temporarily set torch's CPU thread count (None: leave it). Small stacked models are
    dominated by per-operation overhead; on a busy 2-core machine one thread was measured 5-20x
    faster per step than two (OpenMP synchronisation), so the grids default to one."""
    if n is None:
        yield
        return
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"threads must be a positive integer or None, got {n!r}")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _is_oom(exc: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(exc, oom)) or "out of memory" in str(exc).lower()


def _round(x: float) -> float:
    return float(f"{float(x):.6g}")


def fit_group(configs: Sequence[dict[str, Any]], data: PreparedData,
              device: torch.device | str | None = None, *, fast: bool = True,
              threads: int | None = 1) -> GroupResult:
    """Train canonical configs that share :data:`SHAPE_KEYS` as one stack and return the model,
    one record per config and the device tensors. ``fast`` uses TF32 and a CUDA graph on a GPU
    (falling back to eager if the capture fails); the CPU always runs eager, with ``threads``
    torch threads (default 1, see :func:`torch_threads`). Introduced in lesson 05."""
    if not configs:
        raise ValueError("fit_group needs at least one config")
    first = configs[0]
    for c in configs[1:]:
        if any(c[k] != first[k] for k in SHAPE_KEYS):
            raise ValueError("all configs of a group must share " + ", ".join(SHAPE_KEYS))
    dev = torch.device(device) if device is not None else get_device()
    n = first["n_train"] or len(data.X_train)
    Xtr = torch.as_tensor(data.X_train[:n], device=dev)
    ytr = torch.as_tensor(data.y_train[:n], device=dev)
    Xte = torch.as_tensor(data.X_test, device=dev)
    yte = torch.as_tensor(data.y_test, device=dev)
    col = {k: [c[k] for c in configs] for k in DEFAULTS}
    epochs = first["epochs"]
    stop_at = [max(1, math.ceil(f * epochs - 1e-9)) for f in col["stop_fraction"]]
    use_fast = fast and dev.type == "cuda"

    def build() -> ensemble.StackedNet:
        return ensemble.StackedNet(first["kind"], Xtr.shape[1], data.n_classes, first["width"],
                                   first["depth"], col["seed"], shortcut=col["shortcut"],
                                   dropout=col["dropout"], device=dev)

    def attempt(mode: str) -> tuple[ensemble.StackedNet, dict[int, dict], list[list[float]], str]:
        model = build()
        snaps: dict[int, dict[str, float]] = {}
        curve: list[list[float]] = []

        def on_epoch(e: int) -> None:
            te = stacked_metrics(ensemble.predict_log_proba(model, Xte), yte)
            curve.append(te["acc"].tolist())
            if e in stop_at:
                tr = stacked_metrics(ensemble.predict_log_proba(model, Xtr), ytr)
                for i, s in enumerate(stop_at):
                    if s == e:
                        snaps[i] = {"train_acc": tr["acc"][i], "train_loss": tr["loss"][i],
                                    "test_acc": te["acc"][i], "test_loss": te["loss"][i],
                                    "test_entropy": te["entropy"][i], "test_ece": te["ece"][i],
                                    "train_entropy": tr["entropy"][i]}

        settings = ensemble.TrainSettings(
            epochs=epochs, batch_size=first["batch_size"], lr=first["lr"],
            weight_decay=col["weight_decay"], label_smoothing=col["label_smoothing"],
            confidence_penalty=col["confidence_penalty"], mode=mode, tf32=use_fast)
        trainer = ensemble.train(model, Xtr, ytr, settings, on_epoch=on_epoch)
        return model, snaps, curve, trainer.mode

    start = time.perf_counter()
    with torch_threads(threads if dev.type == "cpu" else None):
        try:
            model, snaps, curve, mode = attempt("graph" if use_fast else "eager")
        except Exception as exc:  # a failed CUDA-graph capture falls back to the eager path
            if not use_fast or _is_oom(exc):
                raise
            warnings.warn(f"CUDA-graph path failed ({exc!s:.120}); using eager", stacklevel=2)
            model, snaps, curve, mode = attempt("eager")
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    curves = np.asarray(curve)  # (epochs, M)
    records = []
    for i, c in enumerate(configs):
        s = snaps[i]
        rec = {**c, **{k: _round(v) for k, v in s.items()}}
        rec["gen_gap"] = _round(s["train_acc"] - s["test_acc"])
        rec["loss_gap"] = _round(s["test_loss"] - s["train_loss"])
        rec["epoch_reported"] = stop_at[i]
        rec["best_epoch"] = int(curves[:, i].argmax()) + 1
        rec["best_test_acc"] = _round(curves[:, i].max())
        rec["test_acc_curve"] = [_round(v) for v in curves[:, i]]
        rec.update(seconds=_round(seconds / len(configs)), group_seconds=_round(seconds),
                   group_size=len(configs), mode=mode, device=str(dev))
        records.append(rec)
    return GroupResult(model, records, Xtr, ytr, Xte, yte)


# ---------------------------------------------------------------------- the grid runner

def group_by_shape(configs: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Canonical configs grouped by :data:`SHAPE_KEYS`, in order of first appearance."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for c in configs:
        groups.setdefault(tuple(c[k] for k in SHAPE_KEYS), []).append(c)
    return list(groups.values())


def _train_records(configs: list[dict[str, Any]], data: PreparedData, dev: torch.device,
                   fast: bool, threads: int | None) -> list[dict[str, Any]]:
    return fit_group(configs, data, dev, fast=fast, threads=threads).records


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


def run_grid(configs: Sequence[dict[str, Any]], dataset: Dataset = "mnist1d", *,
             device: torch.device | str | None = None, sequential: bool = False,
             results_path: str | os.PathLike[str] | None = None, progress: bool = True,
             fast: bool = True, threads: int | None = 1) -> list[dict[str, Any]]:
    """Train every config and return one record per config (in the given order): the canonical
    config plus ``key``, ``dataset``, ``train_acc``, ``test_acc``, ``train_loss``, ``test_loss``
    (cross-entropy, nats), ``test_entropy`` (mean predictive entropy, nats), ``test_ece``,
    ``gen_gap`` (train minus test accuracy), ``loss_gap`` (test minus train loss),
    ``epoch_reported``, ``best_epoch``, ``test_acc_curve`` (per epoch), ``seconds`` (per model),
    ``path`` ("stacked" or "sequential"), ``mode`` and ``device``.

    Configs that share :data:`SHAPE_KEYS` are trained as one stack (``sequential=False``) or one
    at a time with the same initialisation and batches (``sequential=True``). With
    ``results_path`` (JSON lines) finished groups are appended atomically and a rerun skips
    configs already there. ``device="auto"``/None picks CUDA, MPS or the CPU.
    On the CPU, training uses ``threads`` torch threads (default 1, see
    :func:`torch_threads`; None leaves torch's setting). Introduced in lesson 05.
    """
    from .runtime import progress_bar

    if isinstance(configs, dict) or not isinstance(configs, Iterable):
        raise ValueError("configs must be a list of dicts")
    configs = list(configs)
    if not configs:
        raise ValueError("configs is empty")
    dev = get_device(None if device is None else str(device))
    path = check_writable(results_path) if results_path is not None else None
    data = prepare_dataset(dataset)
    canon = [canonical_config(c, len(data.X_train)) for c in configs]
    keys = [config_key(c, data.dataset_id) for c in canon]
    done: dict[str, dict[str, Any]] = {}
    if path is not None:
        done = {r["key"]: r for r in load_results(path) if "key" in r}
    todo, seen = [], set(done)
    for c, k in zip(canon, keys, strict=False):
        if k not in seen:
            seen.add(k)
            todo.append({**c, "_key": k})
    bar = progress_bar(total=len(todo), desc="ablation", unit="model", enabled=progress)

    def sink(records: list[dict[str, Any]]) -> None:
        out = []
        for r in records:
            key = r.pop("_key")
            out.append({**r, "key": key, "dataset": data.dataset_id,
                        "path": "sequential" if sequential else "stacked"})
        if path is not None:
            append_results(path, out)
        for r in out:
            done[r["key"]] = r
        bar.update(len(out))

    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
    try:
        for group in group_by_shape(todo):
            if sequential:
                for c in group:
                    _run_splitting([c], data, dev, fast, threads, sink)
            else:
                _run_splitting(group, data, dev, fast, threads, sink)
    finally:
        bar.close()
    return [done[k] for k in keys]


# ---------------------------------------------------------------------- predefined grids

def shortcut_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 05's grid: plain vs residual, MLP and 1-D CNN, several depths and seeds on
    MNIST-1D. Quick: depths 2-8, 3 seeds; full: depths 2-32, 8 seeds."""
    depths = by_profile((2, 4, 8), (2, 4, 8, 16, 32), profile)
    seeds = range(by_profile(3, 8, profile))
    epochs = by_profile(20, 60, profile)
    widths = {"mlp": by_profile(32, 128, profile), "cnn": by_profile(8, 32, profile)}
    return [{"kind": kind, "width": widths[kind], "depth": d, "shortcut": s, "seed": seed,
             "epochs": epochs, "batch_size": 128, "lr": 1e-3,
             "arm": ("residual" if s else "plain")}
            for kind in ("mlp", "cnn") for d in depths for s in (False, True) for seed in seeds]


REGULARIZATION_ARMS: dict[str, dict[str, float]] = {
    "baseline": {},
    "weight decay 0.5": {"weight_decay": 0.5},
    "dropout 0.3": {"dropout": 0.3},
    "label smoothing 0.1": {"label_smoothing": 0.1},
    "confidence penalty 0.3": {"confidence_penalty": 0.3},
    "early stop at 1/4": {"stop_fraction": 0.25},
}


def regularization_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 06's grid: each regulariser of :data:`REGULARIZATION_ARMS` against the baseline, at
    several training-set sizes and seeds (MLP, 2 hidden layers, 60 epochs). Quick: width 128,
    sizes 250 and 1000, 3 seeds; full: width 256, sizes 250, 1000, 4000, 8 seeds, more arms."""
    arms = dict(REGULARIZATION_ARMS)
    if by_profile(False, True, profile):
        arms.update({"weight decay 0.1": {"weight_decay": 0.1}, "dropout 0.1": {"dropout": 0.1},
                     "label smoothing 0.2": {"label_smoothing": 0.2},
                     "confidence penalty 1": {"confidence_penalty": 1.0},
                     "early stop at 1/2": {"stop_fraction": 0.5}})
    sizes = by_profile((250, 1000), (250, 1000, 4000), profile)
    seeds = range(by_profile(3, 8, profile))
    epochs = 60
    width = by_profile(128, 256, profile)
    return [{"kind": "mlp", "width": width, "depth": 2, "seed": seed, "epochs": epochs,
             "batch_size": 64, "lr": 1e-3, "n_train": n, "arm": arm, **extra}
            for n in sizes for arm, extra in arms.items() for seed in seeds]


GRIDS: dict[str, Callable[[str | None], list[dict[str, Any]]]] = {
    "shortcut": shortcut_grid, "regularization": regularization_grid}
GRID_SUMMARY: dict[str, tuple[str, ...]] = {
    "shortcut": ("kind", "depth", "arm"), "regularization": ("n_train", "arm")}


# ---------------------------------------------------------------------- summaries

def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval ``mean -+ t_{(1+level)/2, n-1} * sd / sqrt(n)``.
    With one value the interval is (nan, nan). Introduced in lesson 05."""
    v = as_finite_array(values, "values", ndim=1)
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    mean = float(v.mean())
    if len(v) < 2:
        return mean, float("nan"), float("nan")
    half = float(stats.t.ppf((1 + level) / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return mean, mean - half, mean + half


def summarize(records: Sequence[dict[str, Any]], by: Sequence[str],
              metrics: Sequence[str] = ("test_acc",), level: float = 0.95
              ) -> list[dict[str, Any]]:
    """One row per distinct value of the fields ``by``: ``n`` (seeds) and, for each metric,
    ``<metric>_mean``, ``_sd``, ``_lo``, ``_hi`` (t-interval over seeds).
    Introduced in lesson 05."""
    if not records:
        raise ValueError("records is empty")
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in records:
        missing = [k for k in (*by, *metrics) if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    rows = []
    for key, rs in groups.items():
        row: dict[str, Any] = dict(zip(by, key, strict=False))
        row["n"] = len(rs)
        for m in metrics:
            vals = [float(r[m]) for r in rs]
            mean, lo, hi = t_interval(vals, level)
            row.update({f"{m}_mean": mean, f"{m}_sd": float(np.std(vals, ddof=1))
                        if len(vals) > 1 else float("nan"), f"{m}_lo": lo, f"{m}_hi": hi})
        rows.append(row)
    return rows


def paired_effects(records: Sequence[dict[str, Any]], metric: str, factor: str,
                   baseline: Any, within: Sequence[str] = (), pair_on: Sequence[str] = ("seed",),
                   level: float = 0.95) -> list[dict[str, Any]]:
    """Effect of each value of ``factor`` against ``baseline``: for every record with
    ``factor != baseline``, the difference of ``metric`` from the baseline record with the same
    ``pair_on`` and ``within`` fields; per (``within``, factor value): ``n`` pairs, mean effect and
    its t-interval (``effect``, ``lo``, ``hi``) and whether the interval excludes 0
    (``excludes_zero``). Raises ``ValueError`` if a record lacks one of these fields or no record
    is the baseline. Introduced in lesson 05."""
    need = (metric, factor, *within, *pair_on)
    for r in records:
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
    base = {}
    for r in records:
        if r[factor] == baseline:
            base[tuple(r[k] for k in (*within, *pair_on))] = float(r[metric])
    if not base:
        raise ValueError(f"no record has {factor} == {baseline!r}")
    diffs: dict[tuple, list[float]] = {}
    for r in records:
        if r[factor] == baseline:
            continue
        b = base.get(tuple(r[k] for k in (*within, *pair_on)))
        if b is not None:
            diffs.setdefault((*(r[k] for k in within), r[factor]), []).append(float(r[metric]) - b)
    rows = []
    for key, d in diffs.items():
        mean, lo, hi = t_interval(d, level)
        row = dict(zip((*within, factor), key, strict=False))
        row.update(metric=metric, n=len(d), effect=mean, lo=lo, hi=hi,
                   excludes_zero=bool(len(d) > 1 and (lo > 0 or hi < 0)))
        rows.append(row)
    return rows


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table of ``rows`` (floats with 3 decimals) for printing."""
    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=False))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(lines)
