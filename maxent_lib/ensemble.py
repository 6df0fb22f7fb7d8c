"""Many small models of one shape, trained as one stacked model (introduced in lesson 05).

Training M small networks one after another is launch-bound on a GPU: each step costs about the
same whatever the width. Here the M models' weights are stacked as ``(M, in, out)`` tensors and run
with one batched matrix product (``torch.bmm``) or one grouped convolution per layer, so one step
trains all M models.

Exactness. Model m's loss depends only on model m's parameters, so the gradient of
``L = sum_m L_m`` (each ``L_m`` the mean loss of model m over its own batch) with respect to
model m's parameters is the gradient of ``L_m`` alone. Adam is elementwise, so one Adam over the
stacked tensors is M independent Adams. Weight decay is *decoupled* (AdamW, Loshchilov & Hutter
2019): before each Adam step every parameter is multiplied by ``1 - lr * wd_m`` with a per-model
rate ``wd_m`` broadcast as an ``(M, 1, ...)`` tensor; that is exactly ``torch.optim.AdamW`` on
each model alone (decay on weights and biases, as AdamW's default single parameter group). An
L2 penalty added to the loss would go through Adam's normalisation and is *not* what AdamW does.

Per-model settings, each an ``(M, 1, 1)`` tensor: shortcut on/off, dropout rate, weight decay,
label smoothing, confidence penalty (Pereyra et al. 2017: loss ``- beta * H(p)``), and the seed.
Model m is initialised from its own ``torch.Generator`` seeded with ``seed_m`` (on the CPU, so
initialisation does not depend on the device), exactly as a stack of one model with that seed, and
draws its own batch order from ``numpy.random.default_rng([seed_m, 1])``. Dropout masks come from
torch's global generator: a stack draws them in one call, so a model's masks in a stack differ
from its masks alone (different random streams, same distribution). Parity between stacked and
one-by-one training is therefore exact only with dropout off.

Speed paths: ``mode="eager"`` (always works; the CPU path) and, on CUDA, ``mode="graph"`` which
captures one whole training step (gather, forward, backward, decay, Adam) in a CUDA graph and
replays it, removing the per-kernel launch cost that dominates small models. ``tf32=True`` lets
CUDA matrix products use TF32. The benchmark (``benchmarks/bench_ensemble.py``) measures which
helps: on one H200 (MLP, depth 4, 5 epochs of MNIST-1D) the graph path beat eager TF32 at width 64
(2.9 vs 4.3 us per model-step at M = 1024) and was on a par at width 256 (9.9 vs 9.7 us); numbers
and the one-by-one baseline in ``benchmarks/README.md``. ``torch.compile`` is not used (its
per-shape compile time would fall on every group of a grid; not measured). Parity of the graph
path with eager (fp32, 20 steps, tolerance 1e-4 relative) held for the MLP on the H200 but not
for the CNN (2.5e-4: the captured grouped convolution rounds differently and Adam amplifies it;
eager reruns are bit-identical), so graph-mode CNN results equal eager ones in distribution only.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

KINDS: tuple[str, ...] = ("mlp", "cnn")


def _per_model(value: float | Sequence[float] | np.ndarray | torch.Tensor, m: int, name: str,
               low: float = 0.0, high: float = math.inf, high_open: bool = False) -> torch.Tensor:
    """A per-model setting as a float64 vector of length ``m`` (a scalar is repeated)."""
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, m)
    if arr.size != m:
        raise ValueError(f"{name} must be a scalar or have one value per model ({m}), "
                         f"got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    if np.any(arr < low) or np.any(arr > high) or (high_open and np.any(arr >= high)):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in [{low}, {high}{bracket}, got {arr.tolist()}")
    return torch.as_tensor(arr)


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    out = []
    for s in seeds:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds is empty: give at least one model")
    return out


def _uniform(gen: torch.Generator, shape: tuple[int, ...], bound: float) -> torch.Tensor:
    """U(-bound, bound): torch's default for ``nn.Linear``/``nn.Conv1d``, bound 1/sqrt(fan_in)."""
    return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound


class StackedNet(torch.nn.Module):
    """M same-shape classifiers in one module: an MLP (optionally residual) or a small 1-D CNN.

    ``kind="mlp"``: ``depth`` hidden layers of ``width`` ReLU units. Layer 1 maps the input to
    ``width``; layers 2..depth compute ``T_l = s * T_{l-1} + relu(W_l T_{l-1} + b_l)`` with the
    per-model shortcut switch ``s`` in {0, 1} (s = 1: residual). A linear softmax head follows.

    ``kind="cnn"``: a stem ``Conv1d(1 -> width, k=5, stride=2)`` + ReLU, then ``depth - 1`` blocks
    ``T_l = s * T_{l-1} + relu(Conv1d(width -> width, k=3)(T_{l-1}))`` at that length, then an
    average pool by 4 and a linear head on the flattened result. Stacked through a grouped
    convolution (``groups=M``), so model m only sees its own channels.

    Dropout (inverted, per-model rate) is applied to every hidden layer's output in training mode.
    Parameters all have leading dimension M. Introduced in lesson 05.
    """

    def __init__(self, kind: str, in_dim: int, n_classes: int, width: int, depth: int,
                 seeds: Sequence[int], *, shortcut: float | Sequence[float] = 0.0,
                 dropout: float | Sequence[float] = 0.0, dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        for name, v in (("in_dim", in_dim), ("n_classes", n_classes), ("width", width),
                        ("depth", depth)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes}")
        if kind == "cnn" and in_dim < 8:
            raise ValueError(f"the 1-D CNN needs at least 8 input positions, got {in_dim}")
        self.kind, self.in_dim, self.n_classes = kind, int(in_dim), int(n_classes)
        self.width, self.depth = int(width), int(depth)
        self.seeds = _check_seeds(seeds)
        m = self.m = len(self.seeds)
        sc = _per_model(shortcut, m, "shortcut", 0.0, 1.0)
        if not torch.all((sc == 0) | (sc == 1)):
            raise ValueError(f"shortcut must be 0/1 (or False/True) per model, got {sc.tolist()}")
        dr = _per_model(dropout, m, "dropout", 0.0, 1.0, high_open=True)
        self.register_buffer("shortcut", sc.to(dtype).view(m, 1, 1))
        self.register_buffer("dropout", dr.to(dtype).view(m, 1, 1))
        self.any_dropout = bool(torch.any(dr > 0))
        self.params = torch.nn.ParameterList()
        for w, b in self._init_all():
            self.params.append(torch.nn.Parameter(w.to(dtype)))
            self.params.append(torch.nn.Parameter(b.to(dtype)))
        if device is not None:
            self.to(device)

    # ------------------------------------------------------------------ shapes and initialisation
    def layer_shapes(self) -> list[tuple[tuple[int, ...], int]]:
        """Per-model (weight shape, fan_in) of every layer, in order."""
        w, k = self.width, self.n_classes
        if self.kind == "mlp":
            shapes = [((self.in_dim, w), self.in_dim)]
            shapes += [((w, w), w)] * (self.depth - 1)
            shapes.append(((w, k), w))
        else:
            shapes = [((w, 1, 5), 5)]
            shapes += [((w, w, 3), 3 * w)] * (self.depth - 1)
            shapes.append(((w * self.pooled_len, k), w * self.pooled_len))
        return shapes

    @property
    def conv_len(self) -> int:
        return (self.in_dim + 2 * 2 - 5) // 2 + 1

    @property
    def pooled_len(self) -> int:
        return max(self.conv_len // 4, 1)

    def _init_all(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        shapes = self.layer_shapes()
        per_layer: list[list[tuple[torch.Tensor, torch.Tensor]]] = [[] for _ in shapes]
        for seed in self.seeds:
            gen = torch.Generator().manual_seed(seed)
            for i, (shape, fan_in) in enumerate(shapes):
                bound = 1.0 / math.sqrt(fan_in)
                w = _uniform(gen, shape, bound)
                b = _uniform(gen, (shape[0],) if self.kind == "cnn" and len(shape) == 3
                             else (1, shape[-1]), bound)
                per_layer[i].append((w, b))
        return [(torch.stack([w for w, _ in L]), torch.stack([b for _, b in L]))
                for L in per_layer]

    # ------------------------------------------------------------------ forward
    def _drop(self, h: torch.Tensor, rate: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.any_dropout):
            return h
        keep = 1.0 - rate
        return h * (torch.rand_like(h) < keep).to(h.dtype) / keep

    def forward(self, x: torch.Tensor, return_features: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits of shape (M, B, K) for inputs (M, B, in_dim) (each model its own batch) or
        (B, in_dim) (the same batch for all). With ``return_features``, also the list of hidden
        layers' outputs, each (M, B, features)."""
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.m, -1, -1)
        if x.dim() != 3 or x.shape[0] != self.m or x.shape[2] != self.in_dim:
            raise ValueError(f"x must have shape (M={self.m}, B, {self.in_dim}) or "
                             f"(B, {self.in_dim}), got {tuple(x.shape)}")
        f = self._forward_mlp if self.kind == "mlp" else self._forward_cnn
        logits, feats = f(x, return_features)
        return (logits, feats) if return_features else logits

    def _forward_mlp(self, x: torch.Tensor, keep: bool):
        p, feats = self.params, []
        h = self._drop(torch.relu(torch.baddbmm(p[1], x, p[0])), self.dropout)
        if keep:
            feats.append(h)
        for layer in range(1, self.depth):
            u = torch.relu(torch.baddbmm(p[2 * layer + 1], h, p[2 * layer]))
            h = self._drop(u + self.shortcut * h, self.dropout)
            if keep:
                feats.append(h)
        return torch.baddbmm(p[-1], h, p[-2]), feats

    def _forward_cnn(self, x: torch.Tensor, keep: bool):
        m, b, c = self.m, x.shape[1], self.width
        p, feats = self.params, []
        sc = self.shortcut.view(m, 1, 1).repeat_interleave(c, 0).view(1, m * c, 1)
        dr = self.dropout.view(m, 1, 1).repeat_interleave(c, 0).view(1, m * c, 1)

        def as_models(h: torch.Tensor) -> torch.Tensor:  # (B, M*C, L) -> (M, B, C*L)
            return h.reshape(b, m, -1).transpose(0, 1)

        h = x.transpose(0, 1)  # (B, M, L): M groups of one channel
        h = F.conv1d(h, p[0].reshape(m * c, 1, 5), p[1].reshape(m * c), stride=2, padding=2,
                     groups=m)
        h = self._drop(torch.relu(h), dr)
        if keep:
            feats.append(as_models(h))
        for layer in range(1, self.depth):
            u = F.conv1d(h, p[2 * layer].reshape(m * c, c, 3), p[2 * layer + 1].reshape(m * c),
                         padding=1, groups=m)
            h = self._drop(torch.relu(u) + sc * h, dr)
            if keep:
                feats.append(as_models(h))
        pooled = F.avg_pool1d(h, kernel_size=4) if self.conv_len >= 4 else h
        z = as_models(pooled[..., : self.pooled_len])
        return torch.baddbmm(p[-1], z, p[-2]), feats


# ---------------------------------------------------------------------- loss and training

def stacked_loss(logits: torch.Tensor, y: torch.Tensor, label_smoothing: torch.Tensor,
                 confidence_penalty: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean loss: for model m with smoothing eps_m and penalty
    beta_m, ``L_m = mean_b[(1 - eps_m)(-log p_y) + eps_m * mean_k(-log p_k) - beta_m * H(p)]``
    (label smoothing as in ``F.cross_entropy(label_smoothing=eps)``; confidence penalty of
    Pereyra et al. 2017). ``logits`` (M, B, K), ``y`` (M, B), the settings (M, 1, 1) or (M,)."""
    logp = torch.log_softmax(logits, dim=-1)
    eps = label_smoothing.reshape(-1, 1)
    beta = confidence_penalty.reshape(-1, 1)
    nll = -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    smooth = -logp.mean(-1)
    ent = -(logp.exp() * logp).sum(-1)
    per_example = (1 - eps) * nll + eps * smooth - beta * ent
    return per_example.mean(-1).sum()


@dataclass
class TrainSettings:
    """Shared and per-model training settings of one stacked group (introduced in lesson 05)."""

    epochs: int
    batch_size: int
    lr: float = 1e-3
    weight_decay: float | Sequence[float] = 0.0
    label_smoothing: float | Sequence[float] = 0.0
    confidence_penalty: float | Sequence[float] = 0.0
    mode: str = "eager"  # "eager", "graph" (CUDA only) or "auto"
    tf32: bool = False


def batch_orders(seeds: Sequence[int], n: int, epochs: int) -> Iterator[np.ndarray]:
    """Per epoch, an (M, n) array: row m is a permutation of range(n) drawn from model m's own
    generator ``numpy.random.default_rng([seed_m, 1])`` (the same whether alone or stacked)."""
    rngs = [np.random.default_rng([int(s), 1]) for s in seeds]
    for _ in range(epochs):
        yield np.stack([r.permutation(n) for r in rngs])


@contextlib.contextmanager
def tf32_enabled(on: bool) -> Iterator[None]:
    """Temporarily allow (or forbid) TF32 in CUDA matrix products and convolutions."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


class StackedTrainer:
    """One Adam over the stacked parameters, decoupled per-model weight decay, per-model batches.

    ``step(idx)`` takes an (M, B) index tensor into the training set held on the device.
    Introduced in lesson 05.
    """

    def __init__(self, model: StackedNet, X: torch.Tensor, y: torch.Tensor,
                 settings: TrainSettings) -> None:
        m, dev, dt = model.m, X.device, model.params[0].dtype
        self.model, self.X, self.y, self.settings = model, X, y, settings
        self.lr = float(settings.lr)
        self.wd = _per_model(settings.weight_decay, m, "weight_decay").to(dev, dt)
        self.ls = _per_model(settings.label_smoothing, m, "label_smoothing", 0.0, 1.0,
                             high_open=True).to(dev, dt)
        self.cp = _per_model(settings.confidence_penalty, m, "confidence_penalty",
                             -math.inf).to(dev, dt)
        self.any_decay = bool(torch.any(self.wd > 0))
        self.decay = [(1.0 - self.lr * self.wd).view(m, *([1] * (p.dim() - 1)))
                      for p in model.params]
        mode = settings.mode
        if mode == "auto":
            mode = "graph" if dev.type == "cuda" else "eager"
        if mode not in ("eager", "graph"):
            raise ValueError(f"mode must be 'eager', 'graph' or 'auto', got {settings.mode!r}")
        if mode == "graph" and dev.type != "cuda":
            raise ValueError("mode='graph' needs a CUDA device; use 'eager' on the CPU")
        self.mode = mode
        self.opt = torch.optim.Adam(model.params, lr=self.lr, foreach=True,
                                    capturable=(mode == "graph"))
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_idx: torch.Tensor | None = None

    def _step_body(self, idx: torch.Tensor) -> torch.Tensor:
        xb, yb = self.X[idx], self.y[idx]
        loss = stacked_loss(self.model(xb), yb, self.ls, self.cp)
        loss.backward()
        if self.any_decay:
            with torch.no_grad():
                for p, d in zip(self.model.params, self.decay, strict=False):
                    p.mul_(d)
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
            for p, b in zip(params, backup, strict=False):
                p.copy_(b)
            for state in self.opt.state.values():
                for v in state.values():
                    if torch.is_tensor(v):
                        v.zero_()

    def step(self, idx: torch.Tensor) -> None:
        """One optimizer step of every model on its own batch ``idx[m]``."""
        if self.mode == "eager":
            self.opt.zero_grad(set_to_none=True)
            self._step_body(idx)
            return
        if self.graph is None or self.static_idx is None or self.static_idx.shape != idx.shape:
            self._capture(idx)
        assert self.static_idx is not None and self.graph is not None
        self.static_idx.copy_(idx)
        self.graph.replay()


def train(model: StackedNet, X_train: torch.Tensor, y_train: torch.Tensor,
          settings: TrainSettings,
          on_epoch: Callable[[int], None] | None = None) -> StackedTrainer:
    """Train every model of the stack for ``settings.epochs`` epochs of mini-batches (last
    incomplete batch dropped; the batch is ``min(batch_size, n)``). ``on_epoch(e)`` is called after
    epoch e (1-based) with the model in training mode restored afterwards.
    Introduced in lesson 05."""
    n = X_train.shape[0]
    if settings.epochs < 1 or settings.batch_size < 1:
        raise ValueError("epochs and batch_size must be positive integers")
    if not (settings.lr > 0 and math.isfinite(settings.lr)):
        raise ValueError(f"lr must be a positive number, got {settings.lr}")
    bs = min(int(settings.batch_size), n)
    steps = n // bs
    trainer = StackedTrainer(model, X_train, y_train, settings)
    model.train()
    dev = X_train.device
    with tf32_enabled(settings.tf32 and dev.type == "cuda"):
        for epoch, order in enumerate(batch_orders(model.seeds, n, settings.epochs), start=1):
            order_t = torch.as_tensor(order[:, : steps * bs]).to(dev, non_blocking=True)
            for s in range(steps):
                trainer.step(order_t[:, s * bs:(s + 1) * bs])
            if on_epoch is not None:
                on_epoch(epoch)
                model.train()
    return trainer


@torch.no_grad()
def predict_log_proba(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Log-probabilities (M, N, K) of every model on the same inputs X (N, in_dim), in eval mode
    (no dropout), computed in chunks of ``chunk`` rows. Introduced in lesson 05."""
    was = model.training
    model.eval()
    out = [torch.log_softmax(model(X[i:i + chunk]), -1) for i in range(0, X.shape[0], chunk)]
    model.train(was)
    return torch.cat(out, dim=1)


@torch.no_grad()
def features(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> list[torch.Tensor]:
    """The hidden layers' outputs T_1..T_depth on inputs X, each (M, N, features), in eval mode:
    what lesson 05 feeds to the feature-condition diagnostics. Introduced in lesson 05."""
    was = model.training
    model.eval()
    parts: list[list[torch.Tensor]] = []
    for i in range(0, X.shape[0], chunk):
        _, feats = model(X[i:i + chunk], return_features=True)
        parts.append(feats)
    model.train(was)
    return [torch.cat([p[layer] for p in parts], dim=1) for layer in range(model.depth)]


def flops_per_model_step(kind: str, in_dim: int, n_classes: int, width: int, depth: int,
                         batch_size: int) -> float:
    """About 6 * batch * (multiply-adds per example): forward (2) plus backward (4) FLOPs of one
    training step of one model; used for the benchmark's effective TFLOP/s."""
    probe = StackedNet(kind, in_dim, n_classes, width, depth, [0])
    macs = 0
    for shape, _ in probe.layer_shapes():
        if kind == "cnn" and len(shape) == 3:
            macs += int(np.prod(shape)) * probe.conv_len
        else:
            macs += int(np.prod(shape))
    return 6.0 * batch_size * macs
