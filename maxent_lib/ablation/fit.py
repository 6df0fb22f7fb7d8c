"""Training one group of an ablation grid and the records it gives (lessons 05-07).

Data. The training pool (MNIST-1D: 4000 examples) is split per model by its seed
(:func:`data_split`): ``n_val`` validation examples, then the model's ``n_train`` training
examples, from one permutation drawn from ``numpy.random.default_rng([seed, 2])``. So every seed
trains on its own random subset (and the same seed on the same subset in every arm: paired
comparisons), the validation split never overlaps the training set, and nothing is chosen on
the fixed 1000-example test set: the early-stopping epoch and one softmax temperature per model
(:func:`maxent_lib.metrics.fit_temperature`) are fitted on the validation split.

:func:`fit_group` trains configs that share :data:`~maxent_lib.ablation.configs.SHAPE_KEYS` as
one stack and returns the model, the records and the splits; :func:`train_group` returns the
records only (what an executor runs for one group).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import data as data_mod
from .. import metrics
from .._checks import check_same_length
from ..runtime import get_device
from ..validation import (
    Array,
    Choice,
    Device,
    Flag,
    Instance,
    Integer,
    Items,
    Labels,
    OneOf,
    Seed,
    Tuple,
    validate,
)
from .configs import CONFIG, DEFAULTS, LABEL_KEYS, SHAPE_KEYS, Dataset, canonical_config
from .stacked import DivergenceWarning, StackedNet
from .training import TrainSettings, predict_log_proba, train

#: Test-set curves are evaluated at about this many evenly spaced epochs (and the last one).
EVAL_POINTS = 30


@dataclass(frozen=True)
class PreparedData:
    """Standardised float32 arrays of a data set, its name and a hash of its contents.
    Introduced in lesson 05."""

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


#: Inputs of a data set: 2-D, finite, at most 1e150 in magnitude (beyond it the squares in the
#: standard deviation overflow float64).
_INPUTS = Array(ndim=2, max_abs=1e150)
#: A data set: a name (``maxent_lib.data.load``) or a tuple (X_train, y_train, X_test, y_test).
DATASET = OneOf((Choice(data_mod.DATASETS),
                 Tuple((_INPUTS, Labels(), _INPUTS, Labels()),
                       ("X_train", "y_train", "X_test", "y_test"))))


@validate(dataset=DATASET)
def prepare_dataset(dataset: Dataset) -> PreparedData:
    """Load a named data set (``maxent_lib.data.load``) or check a tuple
    ``(X_train, y_train, X_test, y_test)``; standardise every feature with the training pool's
    mean and standard deviation (inputs only, no labels). ``data_hash`` hashes the raw arrays,
    so records of different data never pair. Introduced in lesson 05."""
    ident: str | None = None
    if isinstance(dataset, str):
        ident = dataset
        dataset = DATASET.check(data_mod.load(dataset).as_tuple(), "dataset", {})
    Xtr, ytr, Xte, yte = dataset
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"X_train has {Xtr.shape[1]} features but X_test has {Xte.shape[1]}")
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


@validate(seed=Seed(), n_pool=Integer(low=2), n_train=Integer(low=1), n_val=Integer(low=1))
def data_split(seed: int, n_pool: int, n_train: int, n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """Model ``seed``'s (training rows, validation rows) of a pool of ``n_pool`` examples: one
    permutation from ``numpy.random.default_rng([seed, 2])``; its first ``n_val`` entries are the
    validation split, the next ``n_train`` the training set (so a seed's smaller training sets
    are nested in its larger ones). Introduced in lesson 06."""
    if n_train + n_val > n_pool:
        raise ValueError(f"n_train + n_val = {n_train} + {n_val} does not fit in a pool of "
                         f"{n_pool}")
    perm = np.random.default_rng([int(seed), 2]).permutation(n_pool)
    return np.sort(perm[n_val:n_val + n_train]), np.sort(perm[:n_val])


@validate(n=Integer(low=1, high=1024, optional=True))
@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Temporarily set torch's CPU thread count (None: leave it). Small stacked models are
    dominated by per-operation overhead; on a busy 2-core machine one thread was measured 5-20x
    faster per step than two (OpenMP synchronisation), so the grids default to one.
    Introduced in lesson 05."""
    if n is None:
        yield
        return
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


@validate(epochs=Integer(low=1, high=10**6))
def eval_epochs(epochs: int) -> list[int]:
    """The epochs after which validation and test accuracy are recorded (and early stopping may
    stop): every ``ceil(epochs / EVAL_POINTS)``-th epoch and the last. Introduced in lesson 06."""
    every = max(1, math.ceil(epochs / EVAL_POINTS))
    return sorted(set(range(every, epochs + 1, every)) | {epochs})


@dataclass
class GroupResult:
    """A trained stack, its records, the data and each model's (training, validation) rows.
    Introduced in lesson 05."""

    model: StackedNet
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


def _evaluate(model: StackedNet, X: torch.Tensor, y: torch.Tensor,
              tr: torch.Tensor, va: torch.Tensor, Xte: torch.Tensor, yte: torch.Tensor
              ) -> dict[str, np.ndarray]:
    """Training, validation and test metrics of every model, and the temperature fitted on the
    validation split with the calibrated test metrics; ``finite`` says which models have
    finite outputs (a diverged model's metrics are NaN here, and None in its record)."""
    out: dict[str, np.ndarray] = {}
    lp_tr = predict_log_proba(model, X[tr])
    lp_val = predict_log_proba(model, X[va])
    lp_te = predict_log_proba(model, Xte)
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


#: The arguments of :func:`fit_group` and :func:`train_group`.
_GROUP = {"configs": Items(CONFIG, min_len=1), "data": Instance((PreparedData,)),
          "device": Device(), "fast": Flag(), "threads": Integer(low=1, high=1024,
                                                                 optional=True)}


def _distinct_models(configs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The models a group trains (configs that differ only in ``early_stopping`` or labels
    share one) and, per config, the index of its model."""
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
    return models, model_of


@dataclass
class _Tensors:
    """A group's data on its device: the pool, the test set, each model's training and
    validation rows."""

    X: torch.Tensor
    y: torch.Tensor
    Xte: torch.Tensor
    yte: torch.Tensor
    tr: torch.Tensor
    va: torch.Tensor


def _tensors(data: PreparedData, splits: list[tuple[np.ndarray, np.ndarray]],
             dev: torch.device) -> _Tensors:
    return _Tensors(torch.as_tensor(data.X_train, device=dev),
                    torch.as_tensor(data.y_train, device=dev),
                    torch.as_tensor(data.X_test, device=dev),
                    torch.as_tensor(data.y_test, device=dev),
                    torch.as_tensor(np.stack([s[0] for s in splits]), device=dev),
                    torch.as_tensor(np.stack([s[1] for s in splits]), device=dev))


class _Tracker:
    """Per evaluation epoch: the validation and test accuracy curves, each model's best
    validation epoch (and, for early stopping, a copy of its parameters there) and the first
    epoch at which its outputs were not finite."""

    def __init__(self, model: StackedNet, t: _Tensors, at: list[int], keep_best: bool) -> None:
        m = model.m
        self.model, self.t, self.at, self.keep_best = model, t, at, keep_best
        self.curves: dict[str, list[np.ndarray]] = {"val": [], "test": []}
        self.best = {"acc": np.full(m, -1.0), "loss": np.full(m, np.inf),
                     "epoch": np.zeros(m, int), "diverged": np.zeros(m, int)}
        self.best_params = [p.detach().clone() for p in model.params] if keep_best else []

    def on_epoch(self, e: int) -> None:
        if e not in self.at:
            return
        t, best = self.t, self.best
        lp_va = predict_log_proba(self.model, t.X[t.va])
        lp_te = predict_log_proba(self.model, t.Xte)
        ok = _finite_models(lp_va, lp_te)
        best["diverged"] = np.where(~ok & (best["diverged"] == 0), e, best["diverged"])
        va_m = _on_models(metrics.per_model_metrics, ok, lp_va, t.y[t.va])
        te_m = _on_models(metrics.stacked_metrics, ok, lp_te, shared=(t.yte,))
        self.curves["val"].append(va_m["acc"])
        self.curves["test"].append(te_m["acc"])
        better = (va_m["acc"] > best["acc"]) | ((va_m["acc"] == best["acc"])
                                                & (va_m["loss"] < best["loss"]))
        best["acc"] = np.where(better, va_m["acc"], best["acc"])
        best["loss"] = np.where(better, va_m["loss"], best["loss"])
        best["epoch"] = np.where(better, e, best["epoch"])
        if self.keep_best and better.any():
            rows = torch.as_tensor(np.flatnonzero(better), device=t.X.device)
            with torch.no_grad():
                for p, b in zip(self.model.params, self.best_params, strict=True):
                    b[rows] = p[rows]

    def evaluate_best(self) -> dict[str, np.ndarray]:
        """The metrics of the best-validation snapshot (the final model is restored after)."""
        model, t = self.model, self.t
        last = [p.detach().clone() for p in model.params]
        with torch.no_grad():
            for p, b in zip(model.params, self.best_params, strict=True):
                p.copy_(b)
            early = _evaluate(model, t.X, t.y, t.tr, t.va, t.Xte, t.yte)
            for p, b in zip(model.params, last, strict=True):
                p.copy_(b)
        return early


def _train_stack(first: dict[str, Any], col: dict[str, list[Any]], data: PreparedData,
                 t: _Tensors, mode: str, tf32: bool, need_best: bool
                 ) -> tuple[_Tracker, dict[str, np.ndarray], dict[str, np.ndarray] | None, str]:
    """Build and train the group's stack; return its tracker, the final metrics, the metrics
    at the best validation epoch (with early stopping) and the training path used."""
    model = StackedNet(first["kind"], t.X.shape[1], data.n_classes, first["width"],
                       first["depth"], col["seed"], shortcut=col["shortcut"],
                       dropout=col["dropout"], init=col["init"], device=t.X.device)
    tracker = _Tracker(model, t, eval_epochs(first["epochs"]), need_best)
    settings = TrainSettings(
        epochs=first["epochs"], batch_size=first["batch_size"], lr=first["lr"],
        weight_decay=col["weight_decay"], label_smoothing=col["label_smoothing"],
        confidence_penalty=col["confidence_penalty"], mode=mode, tf32=tf32,
        lr_schedule=first["lr_schedule"])
    with warnings.catch_warnings():  # a diverged model is recorded as such
        warnings.simplefilter("ignore", DivergenceWarning)
        trainer = train(model, t.X, t.y, settings, on_epoch=tracker.on_epoch,
                        subsets=t.tr.cpu().numpy())
    final = _evaluate(model, t.X, t.y, t.tr, t.va, t.Xte, t.yte)
    early = tracker.evaluate_best() if need_best else None
    return tracker, final, early, trainer.mode


_RECORD_METRICS = ("train_acc", "train_loss", "train_entropy", "val_acc", "val_loss",
                   "test_acc", "test_loss", "test_entropy", "test_ece", "temperature",
                   "test_loss_calibrated", "test_ece_calibrated")


def _record(c: dict[str, Any], i: int, src: dict[str, np.ndarray], tracker: _Tracker,
            n_classes: int) -> dict[str, Any]:
    """Config ``c``'s record from model ``i``'s metrics ``src`` and its curves."""
    best, epochs = tracker.best, c["epochs"]
    rec = {**c}
    diverged = not bool(src["finite"][i])
    for k in _RECORD_METRICS:
        rec[k] = None if diverged else _round(src[k][i])
    rec["gen_gap"] = None if diverged else _round(src["train_acc"][i] - src["test_acc"][i])
    rec["loss_gap"] = None if diverged else _round(src["test_loss"][i] - src["train_loss"][i])
    rec["trained"] = False if diverged else bool(src["train_acc"][i] >= 2 * (1.0 / n_classes))
    rec["diverged"] = diverged
    rec["diverged_epoch"] = (int(best["diverged"][i]) or epochs) if diverged else None
    rec["n_classes"] = int(n_classes)
    rec["epoch_reported"] = int(best["epoch"][i]) if c["early_stopping"] else epochs
    rec["best_val_epoch"] = int(best["epoch"][i])
    rec["eval_epochs"] = list(tracker.at)
    for name in ("val", "test"):
        curve = np.asarray(tracker.curves[name])  # (evaluations, models)
        rec[f"{name}_acc_curve"] = [_round(v) if math.isfinite(v) else None
                                    for v in curve[:, i]]
    return rec


@validate(**_GROUP)
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
    the group: the other models train on unchanged (see
    :func:`maxent_lib.ablation.training.train`), and its record says ``diverged: true`` and
    ``trained: false``, with every metric, the temperature and the gaps set to None (null in the
    results file) and its accuracy curves None from the first evaluation at which its outputs
    were not finite (``diverged_epoch``). A record reports the model it reports (with early
    stopping, the best-validation snapshot, which may predate the divergence). Every other
    record has ``diverged: false`` and ``diverged_epoch: None``. Introduced in lesson 05."""
    configs = [canonical_config(c) for c in configs]
    first = configs[0]
    for c in configs[1:]:
        if any(c[k] != first[k] for k in SHAPE_KEYS):
            raise ValueError("all configs of a group must share " + ", ".join(SHAPE_KEYS))
    dev = get_device(device)
    models, model_of = _distinct_models(configs)
    n_pool = len(data.X_train)
    n_train = first["n_train"] or n_pool - first["n_val"]
    splits = [data_split(c["seed"], n_pool, n_train, c["n_val"]) for c in models]
    t = _tensors(data, splits, dev)
    need_best = any(c["early_stopping"] for c in configs)
    col = {k: [c[k] for c in models] for k in DEFAULTS}
    use_fast = fast and dev.type == "cuda" and not any(d > 0 for d in col["dropout"])
    start = time.perf_counter()
    with torch_threads(threads if dev.type == "cpu" else None):
        try:
            out = _train_stack(first, col, data, t, "graph" if use_fast else "eager",
                               use_fast, need_best)
        except Exception as exc:  # a failed CUDA-graph capture falls back to the eager path
            if not use_fast or _is_oom(exc):
                raise
            warnings.warn(f"CUDA-graph path failed ({exc!s:.120}); using eager", stacklevel=2)
            out = _train_stack(first, col, data, t, "eager", use_fast, need_best)
    tracker, final, early, mode = out
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - start
    records = []
    for c, i in zip(configs, model_of, strict=True):
        rec = _record(c, i, early if c["early_stopping"] else final, tracker, data.n_classes)
        rec.update(data_hash=data.data_hash, seconds=_round(seconds / len(models)),
                   group_seconds=_round(seconds), group_size=len(models), mode=mode,
                   device=str(dev),
                   torch_threads=torch.get_num_threads() if threads is None else threads)
        records.append(rec)
    return GroupResult(tracker.model, records, data, splits, model_of)


@validate(**_GROUP)
def train_group(configs: Sequence[dict[str, Any]], data: PreparedData,
                device: torch.device | str | None = None, *, fast: bool = True,
                threads: int | None = 1) -> list[dict[str, Any]]:
    """The records of :func:`fit_group` (a pure function of the configs, the data and the
    device: what an executor runs for one group). Introduced in lesson 05."""
    return fit_group(configs, data, device, fast=fast, threads=threads).records
