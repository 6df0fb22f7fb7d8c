"""Ablation grids: many configurations, trained stacked by shape, with resumable results and
provenance (introduced in lesson 05, used again in lessons 06-07).

A *config* is a dict with the keys of :data:`DEFAULTS` (missing ones take the default):
``kind`` ("mlp" or "cnn"), ``width``, ``depth``, ``shortcut``, ``init`` ("he" or "uniform",
see :mod:`maxent_lib.ensemble`), ``weight_decay`` (decoupled, AdamW), ``dropout``,
``label_smoothing``, ``confidence_penalty`` (beta of ``loss - beta H(p)``), ``early_stopping``
(report the model at the epoch of best validation accuracy instead of the last one), ``seed``,
``epochs``, ``batch_size``, ``lr``, ``lr_schedule``, ``n_train`` and ``n_val`` (see below),
``arm`` (a free label for summaries) and ``profile`` (the profile of the grid it belongs to).

Data. The training pool (MNIST-1D: 4000 examples) is split per model by its seed
(:func:`data_split`): ``n_val`` validation examples, then the model's ``n_train`` training
examples, from one permutation drawn from ``numpy.random.default_rng([seed, 2])``. So every seed
trains on its own random subset (and the same seed on the same subset in every arm: paired
comparisons), the validation split never overlaps the training set, and nothing is chosen on
the fixed 1000-example test set: the early-stopping epoch and one softmax temperature per model
(:func:`maxent_lib.metrics.fit_temperature`) are fitted on the validation split.

:func:`run_grid` groups the configs by :data:`SHAPE_KEYS` (what must be equal to stack them) and
trains each group with :func:`train_group`, a pure function of (configs, data, device) that
returns one record per config; ``sequential=True`` trains the same configs one model at a time
(the reference path). Results go to a JSON-lines file group by group, keyed by a hash of the
canonical config and the data set, so a rerun skips what is done; beside ``NAME.jsonl``,
``NAME_provenance.json`` records the commit, the hash of the training code
(:func:`code_hash`), versions, device, command and date. A CUDA out-of-memory error splits the
group in half and retries.

Summaries: :func:`t_interval`, :func:`summarize` (per arm), :func:`paired_effects` (arm minus
baseline, paired by seed; refuses duplicates and mixed profiles or code).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import importlib.metadata
import inspect
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import special

from . import data as data_mod
from . import ensemble, executors, metrics, resultsfile
from ._checks import (
    InputTypeError,
    as_finite_array,
    check_choice,
    check_flag,
    check_int,
    check_labels,
    check_number,
    check_path,
    check_same_length,
    check_seed,
)
from .runtime import by_profile, get_device

# ===== hashed training code: begin (see CODE_HASH_SOURCES) =====
DEFAULTS: dict[str, Any] = {
    "kind": "mlp", "width": 64, "depth": 2, "shortcut": False, "init": "he",
    "weight_decay": 0.0, "dropout": 0.0, "label_smoothing": 0.0, "confidence_penalty": 0.0,
    "early_stopping": False, "seed": 0, "epochs": 20, "batch_size": 128, "lr": 1e-3,
    "lr_schedule": "cosine", "n_train": None, "n_val": 400, "arm": "", "profile": "custom",
}
#: Fields that must be equal for configs to share a stack.
SHAPE_KEYS: tuple[str, ...] = ("kind", "width", "depth", "epochs", "batch_size", "lr",
                               "lr_schedule", "n_train", "n_val")
#: Fields an arm of a grid may set (the treatment); all other config fields describe the setting.
TREATMENT_KEYS: tuple[str, ...] = ("shortcut", "weight_decay", "dropout", "label_smoothing",
                                   "confidence_penalty", "early_stopping")
#: Labels that do not change training.
LABEL_KEYS: tuple[str, ...] = ("arm", "profile")
METRICS: tuple[str, ...] = ("train_acc", "val_acc", "test_acc", "train_loss", "val_loss",
                            "test_loss", "test_loss_calibrated", "test_entropy", "test_ece",
                            "gen_gap", "loss_gap")
#: Test-set curves are evaluated at about this many evenly spaced epochs (and the last one).
EVAL_POINTS = 30
Dataset = str | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def canonical_config(config: dict[str, Any], n_available: int | None = None) -> dict[str, Any]:
    """``config`` with defaults filled in, types normalised and values checked; ``n_train=None``
    becomes ``n_available - n_val`` when ``n_available`` (the training pool's size) is given.
    Raises ``TypeError`` for a value of the wrong type (text where a number is meant, a float
    seed, ``"False"`` for a flag: nothing is converted) and ``ValueError`` on unknown keys or
    values out of range, including a decoupled weight decay with ``lr * weight_decay >= 1``
    (each step would flip or blow up the weights instead of shrinking them).
    Introduced in lesson 05."""
    if not isinstance(config, dict):
        raise InputTypeError(f"a config must be a dict, got {type(config).__name__}")
    if n_available is not None:
        n_available = check_int(n_available, "n_available", low=2)
    unknown = sorted(map(str, set(config) - set(DEFAULTS)))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; known keys: {sorted(DEFAULTS)}")
    c = {**DEFAULTS, **config}
    choices = {"kind": ensemble.KINDS, "init": ensemble.INITS,
               "lr_schedule": ensemble.SCHEDULES}
    for k, allowed in choices.items():
        c[k] = check_choice(c[k], k, allowed)
    highs = {"width": ensemble.MAX_WIDTH, "depth": ensemble.MAX_DEPTH, "epochs": 10**6,
             "batch_size": 10**8, "n_val": 10**8}
    for k, high in highs.items():
        c[k] = check_int(c[k], k, low=1, high=high)
    c["seed"] = check_seed(c["seed"])
    for k in ("shortcut", "early_stopping"):
        c[k] = check_flag(c[k], k)
    ranges = {"weight_decay": (0, math.inf, False), "dropout": (0, 1, True),
              "label_smoothing": (0, 1, True), "confidence_penalty": (0, math.inf, False),
              "lr": (0, math.inf, False)}
    for k, (lo, hi, open_hi) in ranges.items():
        c[k] = check_number(c[k], k, low=lo, low_open=k == "lr",
                            high=None if math.isinf(hi) else hi, high_open=open_hi)
    if c["lr"] * c["weight_decay"] >= 1:
        raise ValueError(f"lr * weight_decay = {c['lr']:g} * {c['weight_decay']:g} >= 1: the "
                         "decoupled decay multiplies the weights by 1 - lr * weight_decay each "
                         "step, which must lie in (0, 1]")
    if n_available is not None and c["n_val"] >= n_available:
        raise ValueError(f"n_val = {c['n_val']} leaves no training examples in a pool of "
                         f"{n_available}")
    if c["n_train"] is None and n_available is not None:
        c["n_train"] = int(n_available) - c["n_val"]
    if c["n_train"] is not None:
        v = c["n_train"] = check_int(c["n_train"], "n_train", low=2, high=10**8)
        if n_available is not None and v + c["n_val"] > n_available:
            raise ValueError(f"n_train + n_val = {v} + {c['n_val']} but the training pool has "
                             f"only {n_available} examples")
    for k in LABEL_KEYS:
        if not isinstance(c[k], str):
            raise InputTypeError(f"{k} must be a string (a label), got {c[k]!r}")
    return c


def config_key(config: dict[str, Any], dataset_id: str) -> str:
    """A 16-hex-digit hash of the canonical config and the data set: the resume key."""
    if not isinstance(config, dict):
        raise InputTypeError(f"config must be a dict, got {type(config).__name__}")
    if not isinstance(dataset_id, str):
        raise InputTypeError(f"dataset_id must be a string, got {type(dataset_id).__name__}")
    try:
        payload = json.dumps({"config": config, "dataset": dataset_id}, sort_keys=True,
                             allow_nan=False)
    except TypeError as exc:
        raise InputTypeError(f"config must hold JSON values only (numbers, strings, "
                             f"booleans, None): {exc}") from exc
    except ValueError as exc:
        raise ValueError(f"config holds NaN or inf, which has no JSON form: {exc}") from exc
    return hashlib.sha1(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PreparedData:
    """Standardised float32 arrays of a data set, its name and a hash of its contents."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    dataset_id: str
    data_hash: str = ""


def _content_hash(*arrays: np.ndarray) -> str:
    h = hashlib.sha1()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:12]


def prepare_dataset(dataset: Dataset) -> PreparedData:
    """Load a named data set (``maxent_lib.data.load``) or check a tuple
    ``(X_train, y_train, X_test, y_test)``; standardise every feature with the training pool's
    mean and standard deviation (inputs only, no labels). ``data_hash`` hashes the raw arrays,
    so records of different data never pair. Introduced in lesson 05."""
    if isinstance(dataset, str):
        split = data_mod.load(dataset)
        Xtr, ytr, Xte, yte = split.as_tuple()
        ident: str | None = dataset
    elif isinstance(dataset, (tuple, list)) and len(dataset) == 4:
        Xtr, ytr, Xte, yte = dataset
        ident = None
    else:
        raise InputTypeError("dataset must be a name (e.g. 'mnist1d') or a tuple "
                             f"(X_train, y_train, X_test, y_test), got {type(dataset).__name__}")
    # beyond 1e150 the squares in the standard deviation overflow float64
    Xtr = as_finite_array(Xtr, "X_train", ndim=2, max_abs=1e150)
    Xte = as_finite_array(Xte, "X_test", ndim=2, max_abs=1e150)
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"X_train has {Xtr.shape[1]} features but X_test has {Xte.shape[1]}")
    ytr, yte = check_labels(ytr, None, "y_train"), check_labels(yte, None, "y_test")
    check_same_length("X_train", Xtr, "y_train", ytr)
    check_same_length("X_test", Xte, "y_test", yte)
    k = int(max(ytr.max(), yte.max())) + 1
    if k < 2:
        raise ValueError("the labels hold a single class; a classifier needs at least two")
    digest = _content_hash(Xtr, ytr, Xte, yte)
    if ident is None:
        ident = "arrays:" + digest
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    f32 = np.float32
    return PreparedData(((Xtr - mu) / sd).astype(f32), ytr, ((Xte - mu) / sd).astype(f32), yte,
                        k, ident, digest)


def data_split(seed: int, n_pool: int, n_train: int, n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """Model ``seed``'s (training rows, validation rows) of a pool of ``n_pool`` examples: one
    permutation from ``numpy.random.default_rng([seed, 2])``; its first ``n_val`` entries are the
    validation split, the next ``n_train`` the training set (so a seed's smaller training sets
    are nested in its larger ones). Introduced in lesson 06."""
    seed = check_seed(seed)
    n_pool = check_int(n_pool, "n_pool", low=2)
    n_train = check_int(n_train, "n_train", low=1)
    n_val = check_int(n_val, "n_val", low=1)
    if n_train + n_val > n_pool:
        raise ValueError(f"n_train + n_val = {n_train} + {n_val} does not fit in a pool of "
                         f"{n_pool}")
    perm = np.random.default_rng([int(seed), 2]).permutation(n_pool)
    return np.sort(perm[n_val:n_val + n_train]), np.sort(perm[:n_val])
# ===== hashed training code: end =====


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

@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Temporarily set torch's CPU thread count (None: leave it). Small stacked models are
    dominated by per-operation overhead; on a busy 2-core machine one thread was measured 5-20x
    faster per step than two (OpenMP synchronisation), so the grids default to one."""
    if n is None:
        yield
        return
    n = check_int(n, "threads (n)", low=1, high=1024)
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def _is_oom(exc: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    return (oom is not None and isinstance(exc, oom)) or "out of memory" in str(exc).lower()


# ===== hashed training code: begin (see CODE_HASH_SOURCES) =====
def _round(x: float) -> float:
    return float(f"{float(x):.6g}")


def eval_epochs(epochs: int) -> list[int]:
    """The epochs after which validation and test accuracy are recorded (and early stopping may
    stop): every ``ceil(epochs / EVAL_POINTS)``-th epoch and the last. Introduced in lesson 06."""
    epochs = check_int(epochs, "epochs", low=1, high=10**6)
    every = max(1, math.ceil(epochs / EVAL_POINTS))
    return sorted(set(range(every, epochs + 1, every)) | {epochs})


def late_gain(curve: Sequence[float], epochs_at: Sequence[int], epochs: int) -> float:
    """Accuracy gained in the last fifth of training: the curve's last value minus its value at
    the last recorded epoch <= 0.8 * epochs (a plateau check: small means trained to a plateau).
    Introduced in lesson 05."""
    curve = as_finite_array(curve, "curve", ndim=1)
    at = as_finite_array(epochs_at, "epochs_at", ndim=1)
    check_same_length("curve", curve, "epochs_at", at)
    if np.any(at != np.round(at)) or np.any(np.diff(at) <= 0):
        raise ValueError("epochs_at must hold increasing whole epoch numbers")
    epochs = check_int(epochs, "epochs", low=1)
    epochs_at = [int(e) for e in at]
    start = [i for i, e in enumerate(epochs_at) if e <= 0.8 * epochs]
    if not start:
        return float("nan")
    return float(curve[-1]) - float(curve[start[-1]])


@dataclass
class GroupResult:
    """A trained stack, its records, the data and each model's (training, validation) rows."""

    model: ensemble.StackedNet
    records: list[dict[str, Any]]
    data: PreparedData
    splits: list[tuple[np.ndarray, np.ndarray]]
    model_of: list[int] = field(default_factory=list)


def _finite_models(*log_probs: torch.Tensor) -> np.ndarray:
    """Per model, True if every one of its log-probabilities (M, N, K) is finite: False for a
    model whose training diverged (NaN or inf parameters or outputs)."""
    ok = torch.ones(log_probs[0].shape[0], dtype=torch.bool, device=log_probs[0].device)
    for lp in log_probs:
        ok &= torch.isfinite(lp).flatten(1).all(1)
    return ok.cpu().numpy()


_METRIC_KEYS: tuple[str, ...] = ("acc", "loss", "entropy", "ece")


def _on_models(fn: Callable[..., Any], ok: np.ndarray, lp: torch.Tensor, *per_model: Any,
               shared: Sequence[Any] = (), keys: Sequence[str] | None = _METRIC_KEYS) -> Any:
    """``fn(lp, *per_model, *shared)`` (a dict of per-model arrays with ``keys``, or one array
    when ``keys`` is None) on the models in ``ok`` only, NaN for the others (their training
    diverged). When every model is in ``ok`` it is exactly ``fn`` on the whole stack, so the
    numbers of a run without divergence do not depend on this function."""
    if ok.all():
        return fn(lp, *per_model, *shared)
    rows = torch.as_tensor(np.flatnonzero(ok), device=lp.device)
    part = fn(lp[rows], *(a[rows] for a in per_model), *shared) if ok.any() else None

    def spread(values: np.ndarray | None) -> np.ndarray:
        full = np.full(len(ok), np.nan)
        if values is not None:
            full[ok] = values
        return full

    if keys is None:
        return spread(part)
    return {k: spread(None if part is None else part[k]) for k in keys}


def _evaluate(model: ensemble.StackedNet, X: torch.Tensor, y: torch.Tensor,
              tr: torch.Tensor, va: torch.Tensor, Xte: torch.Tensor, yte: torch.Tensor
              ) -> dict[str, np.ndarray]:
    """Training, validation and test metrics of every model, and the temperature fitted on the
    validation split with the calibrated test metrics; ``finite`` says which models have
    finite outputs (a diverged model's metrics are NaN here, and None in its record)."""
    out: dict[str, np.ndarray] = {}
    lp_tr = ensemble.predict_log_proba(model, X[tr])
    lp_val = ensemble.predict_log_proba(model, X[va])
    lp_te = ensemble.predict_log_proba(model, Xte)
    ok = _finite_models(lp_tr, lp_val, lp_te)
    m = _on_models(metrics.per_model_metrics, ok, lp_tr, y[tr])
    out.update({f"train_{k}": v for k, v in m.items()})
    out.update({f"val_{k}": v for k, v in
                _on_models(metrics.per_model_metrics, ok, lp_val, y[va]).items()})
    temp = _on_models(metrics.fit_temperature, ok, lp_val, y[va], keys=None)
    out.update({f"test_{k}": v for k, v in
                _on_models(metrics.stacked_metrics, ok, lp_te, shared=(yte,)).items()})
    if ok.all():
        cal = metrics.stacked_metrics(metrics.apply_temperature(lp_te, temp), yte)
    else:
        t = torch.as_tensor(np.where(ok, temp, 1.0))
        cal = _on_models(lambda lp, tt: metrics.stacked_metrics(
            metrics.apply_temperature(lp, tt.numpy()), yte), ok, lp_te, t)
    out.update(temperature=temp, test_loss_calibrated=cal["loss"], test_ece_calibrated=cal["ece"],
               finite=ok)
    return out


def _device(device: torch.device | str | None) -> torch.device:
    """None or "auto": :func:`maxent_lib.runtime.get_device`; else the device asked for."""
    if device is None or (isinstance(device, str) and device.strip().lower() == "auto"):
        return get_device(device)
    dev = ensemble._check_device(device)
    assert dev is not None
    return dev


def fit_group(configs: Sequence[dict[str, Any]], data: PreparedData,
              device: torch.device | str | None = None, *, fast: bool = True,
              threads: int | None = 1) -> GroupResult:
    """Train canonical configs that share :data:`SHAPE_KEYS` as one stack and return the model,
    one record per config and each model's data split. Configs that differ only in
    ``early_stopping`` or in labels share one trained model (early stopping changes what is
    reported, not how the model trains). ``fast`` uses TF32 and a CUDA graph on a GPU when no
    model has dropout (falling back to eager if the capture fails); the CPU always runs eager,
    with ``threads`` torch threads (default 1, see :func:`torch_threads`).

    Every model's record depends only on its own config and the data: on the CPU it is bitwise
    the same whatever else is in the group.

    Diverged models. A model whose outputs become NaN or inf (a loss that blew up) does not stop
    the group: the other models train on unchanged (see :func:`maxent_lib.ensemble.train`), and
    its record says ``diverged: true`` and ``trained: false``, with every metric, the
    temperature, the gaps and ``late_gain`` set to None (null in the results file) and its
    accuracy curves None from the first evaluation at which its outputs were not finite
    (``diverged_epoch``). A record reports the model it reports (with early stopping, the
    best-validation snapshot, which may predate the divergence). Every other record has
    ``diverged: false`` and ``diverged_epoch: None``. Introduced in lesson 05."""
    if isinstance(configs, (dict, str)) or not isinstance(configs, (list, tuple)):
        raise InputTypeError(f"configs must be a list of config dicts, got "
                             f"{type(configs).__name__}")
    if not configs:
        raise ValueError("configs is empty: fit_group needs at least one config")
    if not isinstance(data, PreparedData):
        raise InputTypeError(f"data must be a PreparedData (see prepare_dataset), got "
                             f"{type(data).__name__}")
    fast = check_flag(fast, "fast")
    if threads is not None:
        threads = check_int(threads, "threads", low=1, high=1024)
    configs = [canonical_config(c) for c in configs]
    first = configs[0]
    for c in configs[1:]:
        if any(c[k] != first[k] for k in SHAPE_KEYS):
            raise ValueError("all configs of a group must share " + ", ".join(SHAPE_KEYS))
    dev = _device(device)
    n_pool = len(data.X_train)
    train_fields = [k for k in DEFAULTS if k not in ("early_stopping", *LABEL_KEYS)]
    index: dict[tuple, int] = {}
    models: list[dict[str, Any]] = []
    model_of = []
    for c in configs:
        tk = tuple(c[k] for k in train_fields)
        if tk not in index:
            index[tk] = len(models)
            models.append(c)
        model_of.append(index[tk])
    n_train = first["n_train"] or n_pool - first["n_val"]
    splits = [data_split(c["seed"], n_pool, n_train, c["n_val"]) for c in models]
    X = torch.as_tensor(data.X_train, device=dev)
    y = torch.as_tensor(data.y_train, device=dev)
    Xte = torch.as_tensor(data.X_test, device=dev)
    yte = torch.as_tensor(data.y_test, device=dev)
    tr = torch.as_tensor(np.stack([s[0] for s in splits]), device=dev)
    va = torch.as_tensor(np.stack([s[1] for s in splits]), device=dev)
    epochs = first["epochs"]
    at = eval_epochs(epochs)
    need_best = any(c["early_stopping"] for c in configs)
    col = {k: [c[k] for c in models] for k in DEFAULTS}
    use_fast = fast and dev.type == "cuda" and not any(d > 0 for d in col["dropout"])

    def attempt(mode: str):
        model = ensemble.StackedNet(first["kind"], X.shape[1], data.n_classes, first["width"],
                                    first["depth"], col["seed"], shortcut=col["shortcut"],
                                    dropout=col["dropout"], init=col["init"], device=dev)
        m = model.m
        curves: dict[str, list[np.ndarray]] = {"val": [], "test": []}
        best = {"acc": np.full(m, -1.0), "loss": np.full(m, np.inf), "epoch": np.zeros(m, int),
                "diverged": np.zeros(m, int)}
        best_params = [p.detach().clone() for p in model.params] if need_best else []

        def on_epoch(e: int) -> None:
            if e not in at:
                return
            lp_va = ensemble.predict_log_proba(model, X[va])
            lp_te = ensemble.predict_log_proba(model, Xte)
            ok = _finite_models(lp_va, lp_te)
            best["diverged"] = np.where(~ok & (best["diverged"] == 0), e, best["diverged"])
            va_m = _on_models(metrics.per_model_metrics, ok, lp_va, y[va])
            te_m = _on_models(metrics.stacked_metrics, ok, lp_te, shared=(yte,))
            curves["val"].append(va_m["acc"])
            curves["test"].append(te_m["acc"])
            better = (va_m["acc"] > best["acc"]) | ((va_m["acc"] == best["acc"])
                                                    & (va_m["loss"] < best["loss"]))
            best["acc"] = np.where(better, va_m["acc"], best["acc"])
            best["loss"] = np.where(better, va_m["loss"], best["loss"])
            best["epoch"] = np.where(better, e, best["epoch"])
            if need_best and better.any():
                rows = torch.as_tensor(np.flatnonzero(better), device=dev)
                with torch.no_grad():
                    for p, b in zip(model.params, best_params, strict=True):
                        b[rows] = p[rows]

        settings = ensemble.TrainSettings(
            epochs=epochs, batch_size=first["batch_size"], lr=first["lr"],
            weight_decay=col["weight_decay"], label_smoothing=col["label_smoothing"],
            confidence_penalty=col["confidence_penalty"], mode=mode, tf32=use_fast,
            lr_schedule=first["lr_schedule"])
        with warnings.catch_warnings():  # a diverged model is recorded as such below
            warnings.simplefilter("ignore", ensemble.DivergenceWarning)
            trainer = ensemble.train(model, X, y, settings, on_epoch=on_epoch,
                                     subsets=tr.cpu().numpy())
        final = _evaluate(model, X, y, tr, va, Xte, yte)
        early = None
        if need_best:  # evaluate the best-validation snapshot, then restore the final model
            last = [p.detach().clone() for p in model.params]
            with torch.no_grad():
                for p, b in zip(model.params, best_params, strict=True):
                    p.copy_(b)
                early = _evaluate(model, X, y, tr, va, Xte, yte)
                for p, b in zip(model.params, last, strict=True):
                    p.copy_(b)
        return model, final, early, curves, best, trainer.mode

    start = time.perf_counter()
    with torch_threads(threads if dev.type == "cpu" else None):
        try:
            model, final, early, curves, best, mode = attempt("graph" if use_fast else "eager")
        except Exception as exc:  # a failed CUDA-graph capture falls back to the eager path
            if not use_fast or _is_oom(exc):
                raise
            warnings.warn(f"CUDA-graph path failed ({exc!s:.120}); using eager", stacklevel=2)
            model, final, early, curves, best, mode = attempt("eager")
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    val_curve, test_curve = np.asarray(curves["val"]), np.asarray(curves["test"])  # (evals, M)
    chance = 1.0 / data.n_classes
    records = []
    for c, i in zip(configs, model_of, strict=True):
        src = early if c["early_stopping"] else final
        assert src is not None
        rec = {**c}
        diverged = not bool(src["finite"][i])
        for k in ("train_acc", "train_loss", "train_entropy", "val_acc", "val_loss", "test_acc",
                  "test_loss", "test_entropy", "test_ece", "temperature",
                  "test_loss_calibrated", "test_ece_calibrated"):
            rec[k] = None if diverged else _round(src[k][i])
        rec["gen_gap"] = None if diverged else _round(src["train_acc"][i] - src["test_acc"][i])
        rec["loss_gap"] = None if diverged else _round(src["test_loss"][i]
                                                       - src["train_loss"][i])
        rec["trained"] = False if diverged else bool(src["train_acc"][i] >= 2 * chance)
        rec["diverged"] = diverged
        rec["diverged_epoch"] = (int(best["diverged"][i]) or epochs) if diverged else None
        rec["n_classes"] = int(data.n_classes)
        rec["epoch_reported"] = int(best["epoch"][i]) if c["early_stopping"] else epochs
        rec["best_val_epoch"] = int(best["epoch"][i])
        rec["eval_epochs"] = list(at)
        rec["val_acc_curve"] = [_round(v) if math.isfinite(v) else None for v in val_curve[:, i]]
        rec["test_acc_curve"] = [_round(v) if math.isfinite(v) else None
                                 for v in test_curve[:, i]]
        gain = math.nan if diverged or not np.isfinite(val_curve[:, i]).all() else \
            max(late_gain(val_curve[:, i], at, epochs), late_gain(test_curve[:, i], at, epochs))
        rec["late_gain"] = _round(gain) if math.isfinite(gain) else None
        rec.update(code_hash=code_hash(), data_hash=data.data_hash,
                   seconds=_round(seconds / len(models)), group_seconds=_round(seconds),
                   group_size=len(models), mode=mode, device=str(dev),
                   torch_threads=torch.get_num_threads() if threads is None else threads)
        records.append(rec)
    return GroupResult(model, records, data, splits, model_of)


def train_group(configs: Sequence[dict[str, Any]], data: PreparedData,
                device: torch.device | str | None = None, *, fast: bool = True,
                threads: int | None = 1) -> list[dict[str, Any]]:
    """The records of :func:`fit_group` (a pure function of the configs, the data and the
    device: what an executor runs for one group). Introduced in lesson 05."""
    return fit_group(configs, data, device, fast=fast, threads=threads).records
# ===== hashed training code: end =====


def unseen_rows(result: GroupResult, i: int) -> np.ndarray:
    """The rows of the training pool that model ``i`` of a fitted group never saw (neither its
    training set nor its validation split). With the test set they are the points the feature
    probes of lessons 05-07 are fitted and scored on (:func:`heldout_gaps`).
    Introduced in lesson 05."""
    result, i = _check_result(result, i)
    tr, va = result.splits[i]
    return np.setdiff1d(np.arange(len(result.data.X_train)), np.concatenate([tr, va]))


#: Candidate L2 penalties of the linear read-out (on standardised features) in
#: :func:`heldout_gaps`: on every refit split and for every feature set the one with the lowest
#: cross-entropy on the split's validation part is used (the test part selects nothing). Lesson
#: 03's default (``conditions.DEFAULT_ALPHA`` = 1e-4) suits its low-dimensional tasks; read from
#: about 2000 points, 128 hidden units over-fit at 1e-4, and one fixed penalty for every layer
#: would compare penalties rather than features.
HELDOUT_ALPHAS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)
#: Refit splits of :func:`heldout_gaps` (lesson 03's coverage simulation used 10).
HELDOUT_SPLITS = 10


#: A hidden unit whose standard deviation over the probe points is below this fraction of the
#: median (over units that vary) is left out of the probes' features (:func:`_live_units`).
DEAD_UNIT_SD = 1e-2


def _live_units(T: np.ndarray) -> np.ndarray:
    """The columns of ``T`` whose standard deviation is at least :data:`DEAD_UNIT_SD` times the
    median of the columns that vary (all of ``T`` if none varies). ReLU units that fire on a
    handful of points (sd 1e-3-1e-4 of a typical unit's, in deep plain nets) carry almost no
    information, and standardising them turns their rare non-zero values into inputs of
    hundreds of standard deviations, which wreck the linear read-out of whichever split gets
    them in its test part."""
    sd = T.std(axis=0)
    if not (sd > 0).any():
        return T
    return T[:, sd >= DEAD_UNIT_SD * np.median(sd[sd > 0])]


def heldout_gaps(result: GroupResult, models: Sequence[int], layers: Sequence[int],
                 include_input: bool = False, *, n_splits: int = HELDOUT_SPLITS,
                 alpha: float | Sequence[float] = HELDOUT_ALPHAS, seed: int = 0,
                 probe: dict[str, Any] | None = None) -> list[list[dict[str, Any]]]:
    """FC1, FC2 and total gaps of the hidden layers ``layers`` (1-based) of the models
    ``models`` of a fitted group, measured on points none of them saw, with intervals that
    include the probes' refits.

    The points: the training-pool rows the models never saw (:func:`unseen_rows`; the models
    must share them, i.e. have the same seed, ``n_train`` and ``n_val``) together with the test
    set, which selects nothing in training either. On them,
    :func:`maxent_lib.conditions.layerwise_repeated_split_gaps` draws ``n_splits`` random
    70/30 splits (seed ``[seed, j]``), refits softmax regression (penalty ``alpha``, or the
    best of the candidates :data:`HELDOUT_ALPHAS` on each split's validation part) and the
    flexible probe on every layer of every model and one
    flexible probe on the raw input X on each split's 70%, and scores them on its 30%:
    FC2 gap = CE_lin(T_l) - CE_flex(T_l), FC1 gap = CE_flex(T_l) - CE_flex(X), total gap =
    CE_lin(T_l) - CE_flex(X) (nats). All models share the splits and the probe on X, so their
    gaps are paired. Each gap is the mean over the splits with the corrected repeated-split t
    interval (Nadeau & Bengio 2003; :func:`maxent_lib.conditions.split_t_interval`), whose
    coverage lesson 03 measures by simulation.

    What the interval covers: which points fit the probes and which score them, and the
    probes' refits, for these trained nets. What it does not: the nets' own training seed
    (initialisation, batch order, training subset); a claim about nets in general varies them
    across seeds (lesson 07's C0). What no interval removes: the probes' excess cross-entropy
    over the Bayes read-out, a bias. The probe on X is far from Bayes on MNIST-1D, so a
    negative FC1 gap means the features are easier for these probes than the raw input, not
    that a layer created information.

    Hidden units that are (almost) constant on the points are left out (:func:`_live_units`);
    ``units`` says how many each layer kept. ``include_input`` prepends the raw input as
    layer 0 (its FC1 gap is 0 by definition). ``probe`` passes settings of
    :class:`maxent_lib.probes.StackedProbes`. Returns, per model, one dict per layer with the
    keys of ``layerwise_repeated_split_gaps`` (``fc1_gap``, ``fc2_gap``, ``total_gap``, each
    with ``*_ci``; ``ce_linear``, ``ce_flexible``, ``ce_flexible_input``, ``mlp_chosen``,
    ``splits``, ``n_splits``, ``n_train``, ``n_test``, ``interval``, ...) and ``layer``,
    ``units``, ``n_points`` (unseen rows + test points) and ``points``.
    Deterministic for a given ``seed``. Raises ``ValueError`` on bad layers or models, models
    with different unseen rows, too few points or a diverged model. Introduced in lesson 05."""
    from . import conditions

    if not isinstance(result, GroupResult):
        raise InputTypeError(f"result must be a GroupResult (from fit_group), got "
                             f"{type(result).__name__}")
    if isinstance(models, (str, bytes)) or not isinstance(models, (list, tuple, range)):
        raise InputTypeError(f"models must be a list of model indices, got {models!r}")
    models = [_check_result(result, i)[1] for i in models]
    if not models:
        raise ValueError("models is empty: give the indices of the models to measure")
    if len(set(models)) != len(models):
        raise ValueError(f"models lists a model twice: {models}")
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple, range)):
        raise InputTypeError(f"layers must be a list of layer numbers, got {layers!r}")
    layers = [check_int(layer, "layers", low=1, high=result.model.depth) for layer in layers]
    if not layers:
        raise ValueError(f"layers is empty: give layer numbers in 1..{result.model.depth}")
    include_input = check_flag(include_input, "include_input")
    n_splits = check_int(n_splits, "n_splits", low=2, high=1000)
    alpha = ([check_number(a, "alpha", low=0.0) for a in alpha]
             if isinstance(alpha, (list, tuple)) else check_number(alpha, "alpha", low=0.0))
    if isinstance(alpha, list) and not alpha:
        raise ValueError("alpha is an empty list: give a penalty or candidate penalties")
    seed = check_seed(seed)
    rows = unseen_rows(result, models[0])
    for i in models[1:]:
        if not np.array_equal(unseen_rows(result, i), rows):
            raise ValueError(f"models {models[0]} and {i} did not leave the same training rows "
                             "unseen (different seed, n_train or n_val): measure them apart")
    d = result.data
    X = np.concatenate([d.X_train[rows], d.X_test])
    y = np.concatenate([d.y_train[rows], d.y_test])
    if len(rows) < 20:
        raise ValueError(f"model {models[0]} left only {len(rows)} unseen training rows; the "
                         "probes need more points the net never saw")
    f = ensemble.features(result.model, torch.as_tensor(X, device=result.model.params[0].device))
    feats = []
    for i in models:
        own = [f[layer - 1][i].cpu().numpy() for layer in layers]
        if not all(np.isfinite(t).all() for t in own):
            raise ValueError(f"model {i} diverged in training (its features are NaN or inf): "
                             "its features have no condition gaps")
        feats += [_live_units(t) for t in own]
    # the input first when it is a layer: the function then uses that one probe on X as the
    # reference of every model and layer, and as every model's layer 0
    res = conditions.layerwise_repeated_split_gaps(
        [X, *feats] if include_input else feats, y, X, n_splits=n_splits, alpha=alpha,
        seed=seed, n_classes=d.n_classes, probe=probe)
    points = (f"{len(rows)} training rows the net never saw and the {len(d.y_test)} test "
              "points")
    L, out = len(layers), []
    for m in range(len(models)):
        per = res[1 + m * L:1 + (m + 1) * L] if include_input else res[m * L:(m + 1) * L]
        rows_m = [{**g, "layer": layer, "units": t.shape[1]}
                  for g, layer, t in zip(per, layers, feats[m * L:(m + 1) * L], strict=True)]
        if include_input:
            rows_m.insert(0, {**res[0], "layer": 0, "units": X.shape[1]})
        out.append([{**g, "n_points": len(y), "points": points} for g in rows_m])
    return out


def heldout_layer_gaps(result: GroupResult, i: int, layers: Sequence[int],
                       include_input: bool = False, *, n_splits: int = HELDOUT_SPLITS,
                       alpha: float | Sequence[float] = HELDOUT_ALPHAS, seed: int = 0,
                       probe: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """:func:`heldout_gaps` of one model ``i``: one dict per layer (layer 0, the raw input,
    first when ``include_input``), each gap the mean over ``n_splits`` refit splits of the
    points the model never saw, with the corrected repeated-split t interval.
    Introduced in lesson 05."""
    result, i = _check_result(result, i)
    return heldout_gaps(result, [i], layers, include_input, n_splits=n_splits, alpha=alpha,
                        seed=seed, probe=probe)[0]


def at_initialisation(result: GroupResult) -> GroupResult:
    """The stack of ``result`` as it was before training: every model re-created from its own
    seed, initialisation, shortcut and dropout settings (the same random draws it started
    from), with ``result``'s records, data and splits. Its features are the untrained baseline
    of a layer-by-layer claim: a linear read-out of random ReLU features of x is already a
    richer model than one of x itself, so a drop of the read-out's excess from x to T_1 shows
    what training did only against the same drop at initialisation. Introduced in lesson 07."""
    if not isinstance(result, GroupResult):
        raise InputTypeError(f"result must be a GroupResult (from fit_group), got "
                             f"{type(result).__name__}")
    m = result.model
    fresh = ensemble.StackedNet(m.kind, m.in_dim, m.n_classes, m.width, m.depth, m.seeds,
                                shortcut=m.shortcut.view(-1).tolist(), dropout=m.rates,
                                init=m.inits, dtype=m.params[0].dtype,
                                device=m.params[0].device)
    return GroupResult(fresh, result.records, result.data, result.splits, result.model_of)


# ---------------------------------------------------------------------- code hash, provenance

#: What :func:`code_hash` hashes: the source that decides a record's numbers. The whole of
#: ``ensemble.py`` (models, initialisation, training), the marked sections of ``ablation.py``
#: (configs, data splits, training a group, the record) and, of ``metrics.py``, the functions
#: that compute a record's metrics. Not hashed: the data set (its contents are hashed into each
#: record's ``data_hash``), summaries, file handling, plots.
CODE_HASH_SOURCES: tuple[str, ...] = (
    "maxent_lib/ensemble.py",
    "maxent_lib/ablation.py (the sections between '# ===== hashed training code' markers)",
    "maxent_lib/metrics.py: per_model_metrics, stacked_metrics, _metrics_core, "
    "fit_temperature, apply_temperature",
)
_MARK_BEGIN = "# ===== hashed training code: begin"
_MARK_END = "# ===== hashed training code: end"
_HASHED_METRICS: tuple[str, ...] = ("per_model_metrics", "stacked_metrics", "_metrics_core",
                                    "fit_temperature", "apply_temperature")


def _marked_sections(text: str) -> str:
    parts, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith(_MARK_BEGIN):
            inside = True
        elif line.startswith(_MARK_END):
            inside = False
        elif inside:
            parts.append(line)
    return "".join(parts)


@lru_cache(maxsize=1)
def code_hash() -> str:
    """SHA-256 (first 16 hex digits) of the training source listed in
    :data:`CODE_HASH_SOURCES`, as this process imported it: records whose ``code_hash``
    differs came from other code and are stale. Introduced in lesson 05."""
    h = hashlib.sha256()
    h.update(Path(inspect.getfile(ensemble)).read_bytes())
    h.update(_marked_sections(Path(__file__).read_text(encoding="utf-8")).encode())
    for name in _HASHED_METRICS:
        h.update(inspect.getsource(getattr(metrics, name)).encode())
    return h.hexdigest()[:16]


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                             timeout=20, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout


def _git_state() -> dict[str, Any]:
    """The commit of the checkout (None outside git), whether tracked files differ from it, and
    whether the hashed training files do."""
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None, "training_code_dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no") or ""
    files = ["maxent_lib/ensemble.py", "maxent_lib/ablation.py", "maxent_lib/metrics.py"]
    code = _git("status", "--porcelain", "--", *files) or ""
    return {"commit": commit.strip(), "dirty": bool(status.strip()),
            "training_code_dirty": bool(code.strip())}


def _versions() -> dict[str, str | None]:
    def version(pkg: str) -> str | None:
        try:
            return importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            return None

    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "mnist1d": version("mnist1d")}


def describe_device(device: torch.device | str) -> str:
    """The device in words: the GPU's name, or the CPU's model and its core count."""
    if not isinstance(device, (str, torch.device)):
        raise InputTypeError(f"device must be a device name (str) or a torch.device, got "
                             f"{type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device {device!r} is not a device torch knows") from exc
    if dev.type == "cuda":
        return f"{dev} ({torch.cuda.get_device_name(dev)})"
    if dev.type == "cpu":
        name = platform.processor() or platform.machine()
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
        return f"cpu ({name}, {os.cpu_count()} cores)"
    return str(dev)


def provenance(command: str | None = None, device: torch.device | str = "cpu"
               ) -> dict[str, Any]:
    """Provenance of results made now by this code: ``commit`` (with ``dirty`` and
    ``training_code_dirty`` flags), ``code_hash`` (:func:`code_hash`) and ``code_hash_sources``,
    ``versions`` (python, torch, numpy, mnist1d), ``device``, ``command`` (default: this
    process's command line) and ``created`` (UTC, ISO 8601). Introduced in lesson 05."""
    if command is not None and not isinstance(command, str):
        raise InputTypeError(f"command must be a string or None, got {type(command).__name__}")
    return {**_git_state(), "code_hash": code_hash(),
            "code_hash_sources": list(CODE_HASH_SOURCES), "versions": _versions(),
            "device": describe_device(device),
            "command": command if command is not None else " ".join([sys.executable,
                                                                     *sys.argv]),
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}


def provenance_path(results_path: str | os.PathLike[str]) -> Path:
    """``NAME_provenance.json`` beside ``NAME.jsonl``."""
    p = check_path(results_path, "results_path")
    return p.with_name(p.stem + "_provenance.json")


def load_provenance(results_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance stored beside a results file, or None if there is none.
    Raises ``ValueError`` if it is not a JSON object. Introduced in lesson 05."""
    path = provenance_path(results_path)
    if not path.is_file():
        return None
    try:
        out = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not a JSON object: {exc}") from exc
    if not isinstance(out, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return out


def _write_json(path: Path, obj: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _update_provenance(results_path: Path, prov: dict[str, Any], n_records: int,
                       finished: bool) -> None:
    """Write the provenance beside the results: the first run's ``created`` is kept, every run
    (command, device, start, end) is listed under ``runs``."""
    path = provenance_path(results_path)
    old = load_provenance(results_path) or {}
    if old.get("code_hash") != prov["code_hash"]:
        old = {}
    runs = [r for r in old.get("runs", []) if r.get("run") != prov["run"]]
    runs.append({"run": prov["run"], "command": prov["command"], "device": prov["device"],
                 "started": prov["created"],
                 "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
                 if finished else None})
    top = {k: v for k, v in prov.items() if k != "run"}
    _write_json(path, {**top, "created": old.get("created", prov["created"]), "runs": runs,
                       "records": n_records})


@dataclass
class StoredResults:
    """A stored results file read with its provenance: ``current`` is True when its code hash
    equals this code's (:func:`code_hash`); ``why`` says why not."""

    path: Path
    records: list[dict[str, Any]]
    provenance: dict[str, Any] | None
    current: bool
    why: str


def load_stored(path: str | os.PathLike[str]) -> StoredResults:
    """Read a results file and its provenance and decide whether they are current: every record
    and the provenance carry this code's hash, and the last run that wrote it finished (a run
    still writing, or one that was interrupted, leaves a grid with only some of its models:
    no verdict is drawn from it until a rerun completes it). Stale results are for display
    only: lessons 05-07 draw no verdict from them. Introduced in lesson 05."""
    p = check_path(path, "path")
    records = load_results(p)
    prov = load_provenance(p)
    now = code_hash()
    hashes = {r.get("code_hash") for r in records}
    runs = prov.get("runs") if prov is not None else None
    last = runs[-1] if isinstance(runs, list) and runs and isinstance(runs[-1], dict) else {}
    if not records:
        why, ok = "no records", False
    elif prov is None:
        why, ok = "no provenance file", False
    elif prov.get("code_hash") is None:
        why, ok = "its provenance has no code hash (written before code hashes existed)", False
    elif prov.get("code_hash") != now:
        why, ok = f"made by other code (hash {prov.get('code_hash')}, current {now})", False
    elif hashes != {now}:
        why, ok = "some records carry another code hash", False
    elif "finished" in last and last["finished"] is None:
        why, ok = (f"the run started {last.get('started')} has not finished (still running, "
                   f"or interrupted): {len(records)} records so far; rerun its command to "
                   "complete it"), False
    else:
        why, ok = "made by the current code", True
    return StoredResults(p, records, prov, ok, why)


# ---------------------------------------------------------------------- the grid runner

def group_by_shape(configs: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Canonical configs grouped by :data:`SHAPE_KEYS`, in order of first appearance."""
    configs = _check_records(configs, "configs")
    for i, c in enumerate(configs):
        missing = [k for k in SHAPE_KEYS if k not in c]
        if missing:
            raise ValueError(f"configs[{i}] lacks {missing}: give canonical configs "
                             "(canonical_config)")
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


def run_grid(configs: Sequence[dict[str, Any]], dataset: Dataset = "mnist1d", *,
             device: torch.device | str | None = None, sequential: bool = False,
             results_path: str | os.PathLike[str] | None = None, progress: bool = True,
             fast: bool = True, threads: int | None = 1,
             command: str | None = None, executor: str = "local",
             workers: int | None = None, ray_address: str | None = None,
             max_group_size: int | None = None) -> list[dict[str, Any]]:
    """Train every config and return one record per config (in the given order): the canonical
    config plus the metrics of :func:`fit_group` (``train_acc``, ``val_acc``, ``test_acc``,
    the losses, ``test_loss_calibrated``, ``temperature``, ``test_entropy``, ``test_ece``,
    ``gen_gap``, ``loss_gap``, ``trained``, ``diverged``, ``diverged_epoch``,
    ``epoch_reported``, ``best_val_epoch``, the accuracy curves and ``late_gain``),
    ``code_hash``, ``data_hash``, ``key``, ``dataset``,
    ``path`` ("stacked" or "sequential"), ``mode``, ``device`` and timings (schema in
    ``results/README.md``).

    Configs that share :data:`SHAPE_KEYS` are trained as one stack (``sequential=False``) or one
    at a time (``sequential=True``); on the CPU both give bitwise the same records. With
    ``results_path`` (JSON lines) finished groups are appended and a rerun skips configs
    already there; ``NAME_provenance.json`` is written beside it (:func:`provenance`, with
    ``command``). A results file written by other code (another :func:`code_hash`) is refused:
    move it away first. ``device="auto"``/None picks CUDA, MPS or the CPU; on the CPU, training
    uses ``threads`` torch threads (default 1, see :func:`torch_threads`).

    ``executor="ray"`` trains the groups (or slices of at most ``max_group_size`` configs) as
    Ray tasks, ``workers`` at a time (default: all CPU cores, or one task per GPU), on a local
    Ray instance or the cluster at ``ray_address`` (see :mod:`maxent_lib.executors`); records
    come back to this process, which alone writes the results file, so the records, the file,
    resume and provenance are those of the default ``executor="local"``.

    Resume trusts a stored row only if it is complete (:func:`maxent_lib.resultsfile.is_complete`
    with ``key`` and every field of :data:`METRICS`) or records a diverged model (``diverged``
    true, see :func:`fit_group`: its metrics are None, and training it again would diverge
    again); any other row with a matching key (a row without metrics) is trained again.
    A model that diverges does not stop the grid: it is recorded as diverged and the others
    go on. Bad arguments raise ``TypeError``/``ValueError`` before anything is trained; a results
    file that cannot be written (full disk, permissions, its lock held too long) raises
    :class:`maxent_lib.resultsfile.ResultsFileError`, with every finished group already stored.
    Introduced in lesson 05.
    """
    from .runtime import progress_bar

    if isinstance(configs, (dict, str, bytes)) or not isinstance(configs, Iterable):
        raise InputTypeError(f"configs must be a list of config dicts, got "
                             f"{type(configs).__name__}")
    configs = list(configs)
    if not configs:
        raise ValueError("configs is empty")
    if threads is not None:
        threads = check_int(threads, "threads", low=1, high=1024)
    sequential = check_flag(sequential, "sequential")
    progress = check_flag(progress, "progress")
    fast = check_flag(fast, "fast")
    if command is not None and not isinstance(command, str):
        raise InputTypeError(f"command must be a string or None, got {type(command).__name__}")
    executors.check_executor(executor, workers, ray_address, max_group_size)
    dev = _device(device)
    path = check_writable(results_path) if results_path is not None else None
    data = prepare_dataset(dataset)
    canon = [canonical_config(c, len(data.X_train)) for c in configs]
    ident = f"{data.dataset_id}#{data.data_hash}"
    keys = [config_key(c, ident) for c in canon]
    done: dict[str, dict[str, Any]] = {}
    prov: dict[str, Any] | None = None
    if path is not None:
        old = load_results(path)
        finished = [r for r in old if _is_done(r)]
        other = sorted({str(r.get("code_hash")) for r in old
                        if "code_hash" in r or r in finished} - {code_hash()})
        if other:
            raise ValueError(f"{path.name} holds results of other code (code hash {other}, "
                             f"current {code_hash()}): move it away or choose another path")
        done = {r["key"]: r for r in finished}
        prov = {**provenance(command, dev), "run": os.urandom(6).hex()}
        _update_provenance(path, prov, len(done), finished=False)
    todo, seen = [], set(done)
    for c, k in zip(canon, keys, strict=True):
        if k not in seen:
            seen.add(k)
            todo.append(c)
    bar = progress_bar(total=len(todo), desc="ablation", unit="model", enabled=progress)

    def sink(records: list[dict[str, Any]]) -> None:
        out = []
        for r in records:
            key = config_key({k: r[k] for k in DEFAULTS}, ident)
            out.append({**r, "key": key, "dataset": data.dataset_id,
                        "path": "sequential" if sequential else "stacked"})
        if path is not None:
            append_results(path, out)
        for r in out:
            done[r["key"]] = r
        bar.update(len(out))

    groups = group_by_shape(todo)
    tasks = [[c] for g in groups for c in g] if sequential else groups
    train = functools.partial(_group_records, data=data, dev=dev, fast=fast, threads=threads)
    cost = functools.partial(executors.group_cost, in_dim=data.X_train.shape[1],
                             n_classes=data.n_classes)
    try:
        for records in executors.map_groups(
                tasks, train, executor=executor, address=ray_address, workers=workers,
                cpus_per_task=(threads or 1) if dev.type == "cpu" else 1,
                gpus_per_task=1 if dev.type == "cuda" else 0, max_group_size=max_group_size,
                cost=cost):
            sink(records)
    finally:
        bar.close()
        if path is not None and prov is not None:
            _update_provenance(path, prov, len(done), finished=True)
    return [done[k] for k in keys]


def _is_done(record: dict[str, Any]) -> bool:
    """A stored row that resume trusts: complete, or the record of a diverged model."""
    if resultsfile.is_complete(record, ("key", *METRICS)):
        return True
    return record.get("diverged") is True and resultsfile.is_complete(record, ("key",))


# ---------------------------------------------------------------------- predefined grids

def shortcut_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 05's grid: plain vs residual, MLP and 1-D CNN, several depths, He initialisation,
    8 seeds, on MNIST-1D (each seed its own validation split of 400 and the other 3600 training
    examples). Quick: depths 2, 4, 8, MLP width 128, CNN 16 channels, 30 epochs; full: depths
    2-32, CNN 32 channels, 60 epochs. Cosine learning rate from 3e-3, batch 128."""
    name = by_profile("quick", "full", profile)
    depths = by_profile((2, 4, 8), (2, 4, 8, 16, 32), profile)
    widths = {"mlp": 128, "cnn": by_profile(16, 32, profile)}
    epochs = by_profile(30, 60, profile)
    return [{"kind": kind, "width": widths[kind], "depth": d, "shortcut": s, "seed": seed,
             "epochs": epochs, "batch_size": 128, "lr": 3e-3, "lr_schedule": "cosine",
             "init": "he", "arm": ("residual" if s else "plain"), "profile": name}
            for kind in ("mlp", "cnn") for d in depths for s in (False, True)
            for seed in range(8)]


def init_demo_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 05's separate demonstration of initialisation: plain and residual MLPs of depth 32
    (width 64), initialised "uniform" (torch's default) or "he", 2 seeds (quick, 15 epochs) or
    4 (full, 30 epochs). Not part of any verdict."""
    name = by_profile("quick", "full", profile)
    return [{"kind": "mlp", "width": 64, "depth": 32, "shortcut": s, "init": init,
             "seed": seed, "epochs": by_profile(15, 30, profile), "batch_size": 128,
             "lr": 3e-3, "lr_schedule": "cosine",
             "arm": f"{'residual' if s else 'plain'}, {init}", "profile": name}
            for init in ("uniform", "he") for s in (False, True)
            for seed in range(by_profile(2, 4, profile))]


REGULARIZATION_ARMS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "weight decay 0.5": {"weight_decay": 0.5},
    "dropout 0.3": {"dropout": 0.3},
    "label smoothing 0.1": {"label_smoothing": 0.1},
    "confidence penalty 0.3": {"confidence_penalty": 0.3},
    "early stopping": {"early_stopping": True},
}


def regularization_grid(profile: str | None = None) -> list[dict[str, Any]]:
    """Lesson 06's grid: each regulariser of :data:`REGULARIZATION_ARMS` against the baseline, at
    several training-set sizes, 8 seeds (each seed its own random training subset and
    validation split of 400), MLP with 2 hidden layers, cosine learning rate from 3e-3, batch
    64, and the same number of optimizer steps at every size (:data:`REG_STEPS`: the epochs are
    chosen for it). Quick: width 128, sizes 250 and 1000, 600 steps; full: width 256, sizes 250,
    1000 and 3600, 1500 steps, more arms."""
    name = by_profile("quick", "full", profile)
    arms = dict(REGULARIZATION_ARMS)
    if by_profile(False, True, profile):
        arms.update({"weight decay 0.1": {"weight_decay": 0.1}, "dropout 0.1": {"dropout": 0.1},
                     "label smoothing 0.2": {"label_smoothing": 0.2},
                     "confidence penalty 1": {"confidence_penalty": 1.0}})
    sizes = by_profile((250, 1000), (250, 1000, 3600), profile)
    width = by_profile(128, 256, profile)
    steps = by_profile(*REG_STEPS, profile)
    bs = 64
    return [{"kind": "mlp", "width": width, "depth": 2, "seed": seed,
             "epochs": math.ceil(steps / (n // bs)), "batch_size": bs, "lr": 3e-3,
             "lr_schedule": "cosine", "n_train": n, "n_val": 400, "arm": arm, "profile": name,
             **extra}
            for n in sizes for arm, extra in arms.items() for seed in range(8)]


#: Optimizer steps of the regularisation grid at every training-set size (quick, full).
REG_STEPS: tuple[int, int] = (600, 1500)

GRIDS: dict[str, Callable[[str | None], list[dict[str, Any]]]] = {
    "shortcut": shortcut_grid, "regularization": regularization_grid,
    "init_demo": init_demo_grid}
GRID_SUMMARY: dict[str, tuple[str, ...]] = {
    "shortcut": ("kind", "depth", "arm"), "regularization": ("n_train", "arm"),
    "init_demo": ("arm",)}


# ---------------------------------------------------------------------- summaries

def _check_records(records: object, name: str = "records") -> list[dict[str, Any]]:
    """A list (or tuple) of dicts."""
    if isinstance(records, (dict, str, bytes)) or not isinstance(records, (list, tuple)):
        raise InputTypeError(f"{name} must be a list of records (dicts), got "
                             f"{type(records).__name__}")
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            raise InputTypeError(f"{name}[{i}] must be a record (dict), got {type(r).__name__}")
    return list(records)


def _check_names(names: object, name: str) -> list[str]:
    """A list (or tuple) of field names; one string is refused (it is not a list of names)."""
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
        raise InputTypeError(f"{name} must be a list of field names (e.g. ['arm']), got "
                             f"{names!r}")
    for n in names:
        if not isinstance(n, str):
            raise InputTypeError(f"{name} must hold field names (str), got {n!r}")
    return list(names)


def _check_field(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InputTypeError(f"{name} must be a field name (str), got {value!r}")
    return value


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


def _check_result(result: object, i: object) -> tuple[GroupResult, int]:
    if not isinstance(result, GroupResult):
        raise InputTypeError(f"result must be a GroupResult (from fit_group), got "
                             f"{type(result).__name__}")
    return result, check_int(i, "i", low=0, high=len(result.splits) - 1)


def t_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval ``mean -+ t_{(1+level)/2, n-1} * sd / sqrt(n)``.
    With one value the interval is (nan, nan): one value has no spread. Values of any
    magnitude are handled (rescaled when their squares would overflow); an interval that itself
    lies beyond the float range raises ``ValueError``. Introduced in lesson 05."""
    v = as_finite_array(values, "values", ndim=1)
    level = check_number(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(v.mean())
        if len(v) < 2:
            return mean, float("nan"), float("nan")
        quantile = special.stdtrit(len(v) - 1, (1 + level) / 2)  # stats.t.ppf, w/o overhead
        half = float(quantile * v.std(ddof=1) / math.sqrt(len(v)))
        out = (mean, mean - half, mean + half)
        if not all(math.isfinite(x) for x in out):  # overflow: compute on rescaled values
            scale = float(np.max(np.abs(v)))
            u = v / scale
            mean_u = float(u.mean())
            half_u = float(quantile * u.std(ddof=1) / math.sqrt(len(v)))
            out = (mean_u * scale, (mean_u - half_u) * scale, (mean_u + half_u) * scale)
    if not all(math.isfinite(x) for x in out):
        raise ValueError(f"values: the interval ({out[1]:.3g}, {out[2]:.3g}) lies beyond the "
                         "float range (values too large); rescale them")
    return out


def summarize(records: Sequence[dict[str, Any]], by: Sequence[str],
              metrics: Sequence[str] = ("test_acc",), level: float = 0.95
              ) -> list[dict[str, Any]]:
    """One row per distinct value of the fields ``by``: ``n`` (seeds) and, for each metric,
    ``<metric>_mean``, ``_sd``, ``_lo``, ``_hi`` (t-interval over seeds). Records of diverged
    models (``diverged`` true: no metrics) are left out of the statistics and counted in
    ``n_diverged``; a row whose every model diverged has n = 0 and None statistics.
    Introduced in lesson 05."""
    records = _check_records(records)
    if not records:
        raise ValueError("records is empty")
    by = _check_names(by, "by")
    metrics = _check_names(metrics, "metrics")
    level = check_number(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
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


def did_not_train(record: dict[str, Any]) -> bool:
    """True when a model's training accuracy is below twice chance (``trained`` is False): it
    did not learn its training data, and it enters no generalisation verdict. A diverged model
    (``diverged`` true) did not train. Introduced in lesson 05."""
    if not isinstance(record, dict):
        raise InputTypeError(f"record must be a dict, got {type(record).__name__}")
    if record.get("diverged") is True:
        return True
    if "trained" in record:
        return not check_flag(record["trained"], "the record's field 'trained'")
    if "train_acc" not in record:
        raise ValueError("record has neither 'trained' nor 'train_acc'")
    acc = check_number(record["train_acc"], "the record's train_acc", low=0.0, high=1.0)
    k = check_int(record.get("n_classes", 10), "the record's n_classes", low=2)
    return acc < 2.0 / k


def pairing_fields(factor: str, pair_on: Sequence[str] = ("seed",)) -> list[str]:
    """The fields that must be equal for two records to form a pair when comparing values of
    ``factor``: every config field except ``factor`` and ``pair_on`` (and, when ``factor`` is an
    arm or a treatment field, except every :data:`TREATMENT_KEYS` field and ``arm``), plus the
    data set. Introduced in lesson 05."""
    factor = _check_field(factor, "factor")
    pair_on = _check_names(pair_on, "pair_on")
    drop = {factor, *pair_on}
    if factor in (*TREATMENT_KEYS, "arm"):
        drop |= {*TREATMENT_KEYS, "arm"}
    return [k for k in DEFAULTS if k not in drop] + ["dataset", "data_hash"]


def paired_effects(records: Sequence[dict[str, Any]], metric: str, factor: str,
                   baseline: Any, within: Sequence[str] = (), pair_on: Sequence[str] = ("seed",),
                   level: float = 0.95) -> list[dict[str, Any]]:
    """Effect of each value of ``factor`` against ``baseline``, paired by ``pair_on`` (the seed).

    A treatment record pairs with the baseline record that agrees with it on every field of
    :func:`pairing_fields` (every config field except the factor, the treatment and the seed)
    and on ``pair_on``. Per setting (those fields) and factor value: ``n`` pairs, the per-pair
    differences ``diffs`` (with their ``seeds``), the mean ``effect`` and its t-interval
    (``lo``, ``hi``) and ``excludes_zero``. ``within`` names the fields shown in the output;
    settings that differ in a field not in ``within`` raise ``ValueError`` (add the field, or
    filter the records). A pair in which either model diverged (``diverged`` true: no metrics)
    gives no difference; ``n_diverged`` counts them, and a setting whose every pair diverged
    has n = 0 and None for the effect and its interval.

    Raises ``ValueError`` if a record lacks ``metric``, ``factor``, ``within`` or ``pair_on``;
    if no record is the baseline; on duplicate rows (two records with the same setting, factor
    value and seed); and if the records come from different profiles or code hashes (fields
    ``profile`` and ``code_hash``); ``TypeError`` for records that are not dicts, field names
    that are not strings and metrics that are not numbers. Introduced in lesson 05."""
    records = _check_records(records)
    metric = _check_field(metric, "metric")
    factor = _check_field(factor, "factor")
    within = _check_names(within, "within")
    pair_on = _check_names(pair_on, "pair_on")
    level = check_number(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    _hashable(baseline, "baseline")
    need = (metric, factor, *within, *pair_on)
    for r in records:
        missing = [k for k in need if k not in r]
        if missing:
            raise ValueError(f"a record lacks the field(s) {missing}")
    for fld, what in (("profile", "profiles"), ("code_hash", "code hashes")):
        vals = {str(r.get(fld)) for r in records}
        if len(vals) > 1:
            raise ValueError(f"the records mix {what} {sorted(vals)}: compare records "
                             "of one run only")
    keys = pairing_fields(factor, pair_on)
    setting_of = [tuple(_hashable(r.get(k), k) for k in keys) for r in records]
    values = [_value(r, metric) for r in records]
    seen: dict[tuple, int] = {}
    for i, r in enumerate(records):
        row = (setting_of[i], _hashable(r[factor], factor),
               tuple(_hashable(r[k], k) for k in pair_on))
        if row in seen:
            raise ValueError(f"duplicate rows: two records with {factor} = {r[factor]!r}, "
                             + ", ".join(f"{k} = {r[k]!r}" for k in pair_on)
                             + " and the same setting")
        seen[row] = i
    base = {(s, tuple(r[k] for k in pair_on)): v
            for s, r, v in zip(setting_of, records, values, strict=True) if r[factor] == baseline}
    if not base:
        raise ValueError(f"no record has {factor} == {baseline!r}")
    diffs: dict[tuple, list[tuple[Any, float]]] = {}
    dropped: dict[tuple, int] = {}
    label_of: dict[tuple, tuple] = {}
    for s, r, v in zip(setting_of, records, values, strict=True):
        if r[factor] == baseline:
            continue
        pair = tuple(r[k] for k in pair_on)
        if (s, pair) not in base:
            continue
        b = base[(s, pair)]
        label = tuple(_hashable(r[k], k) for k in within)
        if label_of.setdefault((label, r[factor]), s) != s:
            varying = [k for k, a, c in zip(keys, label_of[(label, r[factor])], s, strict=True)
                       if a != c]
            raise ValueError(f"records with the same {list(within)} differ in {varying}: add "
                             "them to `within` or filter the records")
        diffs.setdefault((label, r[factor]), [])
        if v is None or b is None:
            dropped[(label, r[factor])] = dropped.get((label, r[factor]), 0) + 1
            continue
        diffs[(label, r[factor])].append((pair, v - b))
    rows = []
    for (label, value), d in diffs.items():
        d.sort(key=lambda t: t[0])
        vals = [x for _, x in d]
        if vals:
            mean, lo, hi = t_interval(vals, level)
        else:
            mean = lo = hi = None
        row = dict(zip(within, label, strict=True))
        row[factor] = value
        row.update(metric=metric, n=len(vals), effect=mean, lo=lo, hi=hi,
                   excludes_zero=bool(len(vals) > 1 and (lo > 0 or hi < 0)),
                   diffs=vals, seeds=[p[0] if len(p) == 1 else p for p, _ in d],
                   n_diverged=dropped.get((label, value), 0))
        rows.append(row)
    return rows


def compare_records(rerun: Sequence[dict[str, Any]], stored: Sequence[dict[str, Any]],
                    metrics: Sequence[str] = ("train_acc", "test_acc", "test_loss",
                                              "test_loss_calibrated")) -> dict[str, Any]:
    """Match re-run records with stored ones by ``key`` and compare ``metrics``: ``matched``
    (how many), ``missing`` (re-run keys not stored), ``max_diff`` (largest absolute
    difference over the metrics), ``identical`` (every metric equal), ``by_arm`` (per arm: the
    largest difference and whether all were equal). Two records of a diverged model (no
    metrics) are equal; a model that diverged in one run and not in the other differs by
    ``inf``. Introduced in lesson 05."""
    rerun = _check_records(rerun, "rerun")
    stored = _check_records(stored, "stored")
    metrics = _check_names(metrics, "metrics")
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


def plateau_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Did the models train to a plateau? ``max_late_gain`` (the largest accuracy gained in the
    last fifth of training, validation or test, see :func:`late_gain`; None if no model has
    one), ``still_improving`` (how many gained more than 0.02), ``did_not_train`` (how many)
    and ``diverged`` (how many of those diverged). A model without a late gain (diverged, or
    trained for one epoch) is counted in ``models`` only. Introduced in lesson 05."""
    records = _check_records(records)
    if not records:
        raise ValueError("records is empty")
    for r in records:
        if "late_gain" not in r:
            raise ValueError("a record lacks the field 'late_gain'")
    gains = [check_number(r["late_gain"], "a record's late_gain") for r in records
             if r["late_gain"] is not None]
    return {"models": len(records), "max_late_gain": max(gains) if gains else None,
            "still_improving": sum(g > 0.02 for g in gains),
            "did_not_train": sum(did_not_train(r) for r in records),
            "diverged": sum(r.get("diverged") is True for r in records)}


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """A plain-text table of ``rows`` (floats with 3 decimals) for printing."""
    rows = _check_records(rows, "rows")
    columns = _check_names(columns, "columns")
    if not columns:
        raise ValueError("columns is empty")

    def fmt(v: Any) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    cells = [[fmt(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)
