"""One optimiser over a stack of models: the training loop of the ablation grids (lessons
05-06).

The loss of the stack is the sum over models of each model's mean loss (:func:`stacked_loss`:
cross-entropy with per-model label smoothing and confidence penalty), so each model's gradient
is its own; Adam is elementwise, so one Adam over the stacked tensors is M independent Adams, and
the decoupled weight decay is per model (AdamW). Batch orders are per model
(``numpy.random.default_rng([seed, 1])``). The learning rate is constant or follows a cosine
over the whole run. :class:`StackedTrainer` runs the steps eagerly or, on CUDA, as a replayed
CUDA graph.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .._checks import InputTypeError, check_int
from ..validation import (
    Choice,
    Constraint,
    Flag,
    Function,
    Instance,
    Integer,
    Items,
    Real,
    Seed,
    Tensor,
    validate,
)
from .configs import SCHEDULES
from .stacked import (
    DivergenceWarning,
    PerModel,
    StackedNet,
    _check_inputs,
    _check_labels_tensor,
    _per_model,
)

#: A :class:`~maxent_lib.ablation.stacked.StackedNet`.
_MODEL = Instance((StackedNet,))


class _Smoothing(Tensor):
    """Label-smoothing rates: a floating tensor of numbers in [0, 1); passed on detached."""

    def check(self, value: object, name: str, args: dict[str, object]) -> torch.Tensor:
        t = super().check(value, name, args)
        if bool(torch.any(t < 0)) or bool(torch.any(t >= 1)):
            raise ValueError(f"{name} must lie in [0, 1), got {t.reshape(-1).tolist()}")
        return t

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        return [*super().bad_values(example), ("one", torch.ones_like(example), "value"),
                ("negative", -torch.ones_like(example), "value")]


@validate(logits=Tensor(ndim=3), y=Tensor(ndim=2, floating=False), label_smoothing=_Smoothing(),
          confidence_penalty=Tensor())
def stacked_loss(logits: torch.Tensor, y: torch.Tensor, label_smoothing: torch.Tensor,
                 confidence_penalty: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean loss: for model m with smoothing eps_m and penalty
    beta_m, ``L_m = mean_b[(1 - eps_m)(-log p_y) + eps_m * mean_k(-log p_k) - beta_m * H(p)]``
    (label smoothing as in ``F.cross_entropy(label_smoothing=eps)``; confidence penalty of
    Pereyra et al. 2017). ``logits`` (M, B, K), ``y`` (M, B), the settings (M, 1, 1) or (M,).

    Raises ``TypeError`` unless ``logits`` is a floating tensor and ``y`` an integer tensor,
    ``ValueError`` on NaN/inf, mismatched shapes, labels out of 0..K-1, a smoothing outside
    [0, 1) or a non-finite penalty. Introduced in lesson 06."""
    m, b, k = logits.shape
    if tuple(y.shape) != (m, b):
        raise ValueError(f"y must have shape (M, B) = ({m}, {b}) like logits (M, B, K), got "
                         f"{tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise ValueError(f"y has labels outside 0..{k - 1} (logits have K = {k} classes)")
    eps, beta = label_smoothing.reshape(-1), confidence_penalty.reshape(-1)
    for v, n in ((eps, "label_smoothing"), (beta, "confidence_penalty")):
        if v.numel() not in (1, m):
            raise ValueError(f"{n} must hold one value per model ({m}), got {v.numel()}")
    return _stacked_loss(logits, y.to(logits.device), eps.to(logits.device),
                         beta.to(logits.device))


def _stacked_loss(logits: torch.Tensor, y: torch.Tensor, label_smoothing: torch.Tensor,
                  confidence_penalty: torch.Tensor) -> torch.Tensor:
    """:func:`stacked_loss` without the checks (the training step's path)."""
    logp = torch.log_softmax(logits, dim=-1)
    eps = label_smoothing.reshape(-1, 1)
    beta = confidence_penalty.reshape(-1, 1)
    nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    smooth = -logp.mean(-1)
    ent = -(logp.exp() * logp).sum(-1)
    per_example = (1 - eps) * nll + eps * smooth - beta * ent
    return per_example.mean(-1).sum()


@validate(epochs=Integer(low=1, high=10**6), batch_size=Integer(low=1, high=10**8),
          lr=Real(low=0.0, low_open=True), weight_decay=PerModel(0.0, math.inf),
          label_smoothing=PerModel(0.0, 1.0, high_open=True),
          confidence_penalty=PerModel(-math.inf, math.inf),
          mode=Choice(("eager", "graph", "auto")), tf32=Flag(), lr_schedule=Choice(SCHEDULES))
@dataclass
class TrainSettings:
    """Shared and per-model training settings of one stacked group. Introduced in lesson 05.

    ``lr_schedule``: ``"constant"`` or ``"cosine"`` (see the module docstring). Every field is
    checked when it is made (the per-model lengths against the model later)."""

    epochs: int
    batch_size: int
    lr: float = 1e-3
    weight_decay: float | Sequence[float] = 0.0
    label_smoothing: float | Sequence[float] = 0.0
    confidence_penalty: float | Sequence[float] = 0.0
    mode: str = "eager"  # "eager", "graph" (CUDA only) or "auto"
    tf32: bool = False
    lr_schedule: str = "constant"


#: A :class:`TrainSettings`.
_SETTINGS = Instance((TrainSettings,))


@validate(settings=_SETTINGS, step=Integer(low=0), total_steps=Integer(low=1))
def lr_at(settings: TrainSettings, step: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of ``total_steps``.
    Introduced in lesson 05."""
    step = check_int(step, "step", low=0, high=total_steps)
    return _lr_at(settings, step, total_steps)


def _lr_at(settings: TrainSettings, step: int, total_steps: int) -> float:
    """:func:`lr_at` without the checks (the training loop's path)."""
    if settings.lr_schedule == "constant":
        return float(settings.lr)
    if settings.lr_schedule == "cosine":
        return float(settings.lr) * 0.5 * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))
    raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {settings.lr_schedule!r}")


@validate(seeds=Items(Seed(), min_len=1), n=Integer(low=1), epochs=Integer(low=1))
def batch_orders(seeds: Sequence[int], n: int, epochs: int) -> Iterator[np.ndarray]:
    """Per epoch, an (M, n) array: row m is a permutation of range(n) drawn from model m's own
    generator ``numpy.random.default_rng([seed_m, 1])`` (the same whether alone or stacked).
    The arguments are checked when it is called (not at the first epoch).
    Introduced in lesson 05."""
    return _batch_orders(seeds, n, epochs)


def _batch_orders(seeds: list[int], n: int, epochs: int) -> Iterator[np.ndarray]:
    rngs = [np.random.default_rng([int(s), 1]) for s in seeds]
    for _ in range(epochs):
        yield np.stack([r.permutation(n) for r in rngs])


@validate(on=Flag())
@contextlib.contextmanager
def tf32_enabled(on: bool) -> Iterator[None]:
    """Temporarily allow (or forbid) TF32 in CUDA matrix products and convolutions.
    Used by the library only."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


class StackedTrainer:
    """One Adam over the stacked parameters, decoupled per-model weight decay, per-model batches.

    ``set_lr(lr)`` sets the next step's learning rate; ``step(idx)`` takes an (M, B) index
    tensor into the training set held on the device. Introduced in lesson 05.
    """

    @validate(model=_MODEL, X=Tensor(), y=Tensor(ndim=1, floating=False), settings=_SETTINGS)
    def __init__(self, model: StackedNet, X: torch.Tensor, y: torch.Tensor,
                 settings: TrainSettings) -> None:
        X = _check_inputs(model, X, "X")
        y = _check_labels_tensor(model, y, "y", X.shape[0], "X")
        m, dev, dt = model.m, X.device, model.params[0].dtype
        self.model, self.X, self.y, self.settings = model, X, y, settings
        lr_at(settings, 0, 1)  # checks the schedule's name
        self.wd = _per_model(settings.weight_decay, m, "weight_decay").to(dev, dt)
        self.ls = _per_model(settings.label_smoothing, m, "label_smoothing", 0.0, 1.0,
                             high_open=True).to(dev, dt)
        self.cp = _per_model(settings.confidence_penalty, m, "confidence_penalty",
                             -math.inf).to(dev, dt)
        self.any_decay = bool(torch.any(self.wd > 0))
        self.wd_views = [self.wd.view(m, *([1] * (p.dim() - 1))) for p in model.params]
        mode = settings.mode
        if mode == "auto":
            mode = "graph" if dev.type == "cuda" and not model.any_dropout else "eager"
        if mode not in ("eager", "graph"):
            raise ValueError(f"mode must be 'eager', 'graph' or 'auto', got {settings.mode!r}")
        if mode == "graph" and dev.type != "cuda":
            raise ValueError("mode='graph' needs a CUDA device; use 'eager' on the CPU")
        if mode == "graph" and model.any_dropout:
            raise ValueError("mode='graph' does not support dropout (per-model generators are "
                             "drawn eagerly); use 'eager'")
        self.mode = mode
        if mode == "graph":
            self.lr: float | torch.Tensor = torch.tensor(float(settings.lr), device=dev)
        else:
            self.lr = float(settings.lr)
        self.opt = torch.optim.Adam(model.params, lr=self.lr, foreach=True,
                                    capturable=(mode == "graph"))
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_idx: torch.Tensor | None = None

    @validate(lr=Real(low=0.0))
    def set_lr(self, lr: float) -> None:
        """The learning rate of the next step(s)."""
        self._set_lr(lr)

    def _set_lr(self, lr: float) -> None:
        """:meth:`set_lr` without the checks (the training loop's path)."""
        if isinstance(self.lr, torch.Tensor):
            self.lr.fill_(float(lr))
        else:
            self.lr = float(lr)
            for g in self.opt.param_groups:
                g["lr"] = self.lr

    def _step_body(self, idx: torch.Tensor) -> torch.Tensor:
        xb, yb = self.X[idx], self.y[idx]
        loss = _stacked_loss(self.model._run(xb), yb, self.ls, self.cp)
        loss.backward()
        if self.any_decay:
            with torch.no_grad():
                for p, wd in zip(self.model.params, self.wd_views, strict=True):
                    p.mul_(1.0 - self.lr * wd)
        self.opt.step()
        return loss.detach()

    def _capture(self, idx: torch.Tensor) -> None:
        params = list(self.model.params)
        backup = [p.detach().clone() for p in params]
        self.static_idx = idx.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.opt.zero_grad(set_to_none=True)
                self._step_body(self.static_idx)
        torch.cuda.current_stream().wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        self.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(self.graph):
            self._step_body(self.static_idx)
        with torch.no_grad():  # undo the warm-up steps: same start as eager training
            for p, b in zip(params, backup, strict=True):
                p.copy_(b)
            for state in self.opt.state.values():
                for v in state.values():
                    if torch.is_tensor(v):
                        v.zero_()

    @validate(idx=Tensor(ndim=2, floating=False))
    def step(self, idx: torch.Tensor) -> None:
        """One optimizer step of every model on its own batch ``idx[m]``: ``idx`` is an integer
        tensor (M, B) of row numbers of the training set."""
        if idx.shape[0] != self.model.m:
            raise ValueError(f"idx must have one row per model ({self.model.m}), got shape "
                             f"{tuple(idx.shape)}")
        if int(idx.min()) < 0 or int(idx.max()) >= self.X.shape[0]:
            raise ValueError(f"idx holds row numbers outside 0..{self.X.shape[0] - 1}")
        self._step(idx.to(self.X.device))

    def _step(self, idx: torch.Tensor) -> None:
        """:meth:`step` without the checks (the training loop's path)."""
        if self.mode == "eager":
            self.opt.zero_grad(set_to_none=True)
            self._step_body(idx)
            return
        if self.graph is None or self.static_idx is None or self.static_idx.shape != idx.shape:
            self._capture(idx)
        assert self.static_idx is not None and self.graph is not None
        self.static_idx.copy_(idx)
        self.graph.replay()


class _Rows(Constraint):
    """Row numbers per model: a non-empty 2-D integer array (M, n) (NumPy or torch) of
    non-negative entries; passed on as a NumPy array."""

    optional = True

    def check(self, value: object, name: str, args: dict[str, object]) -> np.ndarray:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, (str, bytes)):
            raise InputTypeError(f"{name} must be an integer array of shape (M, n), got text")
        s = np.asarray(value)
        if s.dtype.kind not in "iu":
            raise InputTypeError(f"{name} must be an integer array of shape (M, n), got dtype "
                                 f"{s.dtype}")
        if s.ndim != 2 or s.shape[1] < 1:
            raise ValueError(f"{name} must be an integer array of shape (M, n), got "
                             f"{s.shape} {s.dtype}")
        if s.min() < 0:
            raise ValueError(f"{name} holds a negative row number ({s.min()})")
        return s

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        s = np.asarray(example)
        return [("float", s.astype(float), "type"), ("bool", s > 0, "type"),
                ("text", "all", "type"), ("one_dimensional", s[0], "value"),
                ("negative", np.full_like(s, -1), "value"), ("empty", s[:, :0], "value")]


def _check_subsets(s: np.ndarray | None, m: int, n_rows: int) -> np.ndarray:
    """Each model's rows: all of them by default; else one row of ``s`` per model, each
    entry a row number of the training set."""
    if s is None:
        return np.tile(np.arange(n_rows), (m, 1))
    if s.shape[0] != m:
        raise ValueError(f"subsets must be an integer array of shape (M={m}, n), got "
                         f"{s.shape} {s.dtype}")
    if s.max() >= n_rows:
        raise ValueError(f"subsets holds row numbers outside 0..{n_rows - 1}")
    return s


@validate(model=_MODEL, X_train=Tensor(), y_train=Tensor(ndim=1, floating=False),
          settings=_SETTINGS,
          on_epoch=Function("called as on_epoch(epoch) after each epoch", optional=True),
          subsets=_Rows())
def train(model: StackedNet, X_train: torch.Tensor, y_train: torch.Tensor,
          settings: TrainSettings, on_epoch: Callable[[int], None] | None = None,
          subsets: np.ndarray | None = None) -> StackedTrainer:
    """Train every model of the stack for ``settings.epochs`` epochs of mini-batches.

    ``subsets`` (M, n): model m trains on the rows ``subsets[m]`` of ``X_train`` (default: all
    rows for every model). Each epoch, model m visits its n rows in the order of its own
    permutation (:func:`batch_orders`), in ``n // batch`` batches of ``min(batch_size, n)``
    (the last incomplete batch is dropped). ``on_epoch(e)`` is called after epoch e (1-based),
    with the model in training mode restored afterwards.

    ``X_train`` is a floating tensor (N, in_dim) and ``y_train`` an integer tensor (N,) of labels
    in 0..n_classes-1, both on the model's device; bad input raises ``TypeError`` or
    ``ValueError`` before any step. A model whose loss becomes NaN or inf (too large a learning
    rate, say) does not disturb the others: the stack's loss is a sum of per-model losses and
    Adam acts elementwise, so the other models' gradients and steps are unchanged; its own
    parameters become NaN, and a :class:`DivergenceWarning` names it at the end
    (:func:`maxent_lib.ablation.fit_group` records it as diverged). Introduced in lesson 05."""
    X_train = _check_inputs(model, X_train, "X_train")
    y_train = _check_labels_tensor(model, y_train, "y_train", X_train.shape[0], "X_train")
    rows = _check_subsets(subsets, model.m, X_train.shape[0])
    n = rows.shape[1]
    bs = min(int(settings.batch_size), n)
    steps = n // bs
    total = steps * settings.epochs
    trainer = StackedTrainer(model, X_train, y_train, settings)
    model.train()
    dev = X_train.device
    t = 0
    with tf32_enabled(settings.tf32 and dev.type == "cuda"):
        for epoch, order in enumerate(_batch_orders(model.seeds, n, settings.epochs), start=1):
            idx = np.take_along_axis(rows, order[:, : steps * bs], axis=1)
            order_t = torch.as_tensor(idx).to(dev, non_blocking=True)
            for s in range(steps):
                trainer._set_lr(_lr_at(settings, t, total))
                trainer._step(order_t[:, s * bs:(s + 1) * bs])
                t += 1
            if on_epoch is not None:
                on_epoch(epoch)
                model.train()
    with torch.no_grad():
        finite = torch.stack([torch.isfinite(p).flatten(1).all(1) for p in model.params]).all(0)
    if not bool(finite.all()):
        bad = [i for i, ok in enumerate(finite.tolist()) if not ok]
        warnings.warn(f"{len(bad)} of {model.m} models diverged in training (NaN or inf "
                      f"parameters): model(s) {bad}, seed(s) {[model.seeds[i] for i in bad]}; "
                      "lower the learning rate", DivergenceWarning, stacklevel=2)
    return trainer


@validate(model=_MODEL, X=Tensor(), chunk=Integer(low=1))
@torch.no_grad()
def predict_log_proba(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Log-probabilities (M, N, K) of every model on the same inputs X (N, in_dim), or each
    model on its own inputs X (M, N, in_dim), in eval mode (no dropout), computed in chunks of
    ``chunk`` rows. ``X`` must be a floating tensor without NaN or inf, on the model's device.
    A model whose parameters are NaN (diverged in training) gets NaN log-probabilities.
    Introduced in lesson 05."""
    X = _check_inputs(model, X, "X", (2, 3))
    was = model.training
    model.eval()
    n = X.shape[-2]
    out = [torch.log_softmax(model._run(X[..., i:i + chunk, :]), -1) for i in range(0, n, chunk)]
    model.train(was)
    return torch.cat(out, dim=1)


@validate(model=_MODEL, X=Tensor(), chunk=Integer(low=1))
@torch.no_grad()
def features(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> list[torch.Tensor]:
    """The hidden layers' outputs T_1..T_depth on inputs X, each (M, N, features), in eval mode:
    what lesson 05 feeds to the feature-condition diagnostics. ``X`` (N, in_dim) must be a
    floating tensor without NaN or inf, on the model's device. Introduced in lesson 05."""
    X = _check_inputs(model, X, "X")
    was = model.training
    model.eval()
    parts: list[list[torch.Tensor]] = []
    for i in range(0, X.shape[0], chunk):
        _, feats = model._run(X[i:i + chunk], return_features=True)
        parts.append(feats)
    model.train(was)
    return [torch.cat([p[layer] for p in parts], dim=1) for layer in range(model.depth)]
