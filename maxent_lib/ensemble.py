"""Many small models of one shape, trained as one stacked model (introduced in lesson 05).

Training M small networks one after another is launch-bound on a GPU: each step costs about the
same whatever the width. Here the M models' weights are stacked as ``(M, in, out)`` tensors and
every layer (dense or convolutional) runs as one batched matrix product (``torch.bmm``), so one
step trains all M models.

Exactness. Model m's loss depends only on model m's parameters, so the gradient of
``L = sum_m L_m`` (each ``L_m`` the mean loss of model m over its own batch) with respect to
model m's parameters is the gradient of ``L_m`` alone. Adam is elementwise, so one Adam over the
stacked tensors is M independent Adams. Weight decay is *decoupled* (AdamW, Loshchilov & Hutter
2019): before each Adam step every parameter is multiplied by ``1 - lr_t * wd_m`` with a
per-model rate ``wd_m`` and the step's learning rate ``lr_t``; that is exactly
``torch.optim.AdamW`` on each model alone (decay on weights and biases, as AdamW's default
single parameter group).

Every random stream is the model's own, so a model's result does not depend on what shares its
stack, on the order of the groups, on a resumed grid or on the process:

- initialisation: ``torch.Generator`` seeded with ``seed_m`` (on the CPU, so it does not depend
  on the device);
- batch order: ``numpy.random.default_rng([seed_m, 1])``;
- dropout masks: a ``torch.Generator`` on the training device seeded from
  ``numpy.random.SeedSequence([seed_m, 3])``, drawn for that model's activations only.

On the CPU (one thread) a model trained in a stack is bitwise equal to the model trained alone:
every layer is a ``bmm`` whose per-model products do not depend on the other models, and the
losses and reductions run per model (``tests/test_ensemble.py`` checks it, dropout included).

Initialisation (``init``, per model). ``"he"`` (the default; He et al. 2015): weights of a layer
followed by a ReLU are uniform with variance ``2 / fan_in``, the linear head's with variance
``1 / fan_in``, biases 0; in a residual net the branch weights are further scaled by
``1 / sqrt(depth - 1)`` so that the sum of ``depth - 1`` branches keeps the signal's scale
bounded (the residual-branch scaling of Radford et al. 2019; without it a 32-layer residual
ReLU net's activations grow about 10^7-fold at initialisation). ``"uniform"``: torch's default
for ``nn.Linear``, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weights and biases (variance
``1 / (3 fan_in)``): the signal of a plain ReLU net shrinks about 2.5-fold per layer, so deep
plain nets do not train (lesson 05 shows it as a separate demonstration). Both draw the same
uniform numbers from the model's generator, only scaled differently.

Learning-rate schedule: ``"constant"`` or ``"cosine"`` (``lr_t = lr (1 + cos(pi t / T)) / 2``
over the T steps of training, Loshchilov & Hutter 2017), shared by the stack.

Speed paths: ``mode="eager"`` (always works; the CPU path) and, on CUDA, ``mode="graph"`` which
captures one whole training step (gather, forward, backward, decay, Adam) in a CUDA graph and
replays it, removing the per-kernel launch cost that dominates small models (the learning rate
is a device tensor updated in place before each replay). The graph path is not used with dropout
(the per-model generators are drawn eagerly). ``tf32=True`` lets CUDA matrix products use TF32.
The GPU paths of this version have not been re-checked on a GPU: ``benchmarks/parity.py
--device cuda`` compares them with eager training.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

KINDS: tuple[str, ...] = ("mlp", "cnn")
INITS: tuple[str, ...] = ("he", "uniform")
SCHEDULES: tuple[str, ...] = ("constant", "cosine")
#: The 1-D CNN's stem: kernel 5, stride 2, padding 2; its blocks: kernel 3, padding 1.
STEM_KERNEL, STEM_STRIDE, STEM_PAD, BLOCK_KERNEL = 5, 2, 2, 3


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


def _per_model_str(value: str | Sequence[str], m: int, name: str, allowed: Sequence[str]
                   ) -> list[str]:
    """A per-model string setting as a list of length ``m`` (a single string is repeated)."""
    vals = [value] * m if isinstance(value, str) else list(value)
    if len(vals) != m:
        raise ValueError(f"{name} must be a string or have one value per model ({m}), "
                         f"got {len(vals)}")
    bad = sorted({str(v) for v in vals} - set(allowed))
    if bad:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {bad}")
    return [str(v) for v in vals]


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    out = []
    for s in seeds:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"seeds must be non-negative integers, got {s!r}")
        out.append(int(s))
    if not out:
        raise ValueError("seeds is empty: give at least one model")
    return out


def stream_seed(seed: int, stream: int) -> int:
    """A 63-bit seed for model ``seed``'s random stream number ``stream`` (1: batch order,
    2: data subset, 3: dropout), from ``numpy.random.SeedSequence([seed, stream])``: distinct
    streams are independent. Introduced in lesson 05."""
    return int(np.random.SeedSequence([int(seed), int(stream)]).generate_state(1, np.uint64)[0]
               >> np.uint64(1))


def _uniform(gen: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
    """U(-1, 1) draws in float64 from ``gen`` (scaled by the caller)."""
    return torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1


class StackedNet(torch.nn.Module):
    """M same-shape classifiers in one module: an MLP (optionally residual) or a small 1-D CNN.

    ``kind="mlp"``: ``depth`` hidden layers of ``width`` ReLU units. Layer 1 maps the input to
    ``width``; layers 2..depth compute ``T_l = s * T_{l-1} + relu(W_l T_{l-1} + b_l)`` with the
    per-model shortcut switch ``s`` in {0, 1} (s = 1: residual). A linear softmax head follows.

    ``kind="cnn"``: a stem convolution (1 -> ``width`` channels, kernel 5, stride 2, padding 2)
    + ReLU, then ``depth - 1`` blocks ``T_l = s * T_{l-1} + relu(conv_3(T_{l-1}))`` (kernel 3,
    padding 1, same length), then an average pool by 4 and a linear head on the flattened
    result. Each convolution runs as a ``bmm`` over the unfolded windows (``(M, B * L, k * C)``
    times ``(M, k * C, C)``), features are channel-last ``(M, B, L, C)``.

    Dropout (inverted, per-model rate) is applied to every hidden layer's output in training
    mode, with masks from each model's own generator (see the module docstring). ``init``
    (``"he"`` or ``"uniform"``, per model) chooses the initial scale. Parameters all have
    leading dimension M. Introduced in lesson 05.
    """

    def __init__(self, kind: str, in_dim: int, n_classes: int, width: int, depth: int,
                 seeds: Sequence[int], *, shortcut: float | Sequence[float] = 0.0,
                 dropout: float | Sequence[float] = 0.0, init: str | Sequence[str] = "he",
                 dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        for name, v in (("in_dim", in_dim), ("n_classes", n_classes), ("width", width),
                        ("depth", depth)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
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
        self.inits = _per_model_str(init, m, "init", INITS)
        self.register_buffer("shortcut", sc.to(dtype).view(m, 1, 1))
        self.register_buffer("dropout", dr.to(dtype).view(m, 1, 1))
        self.rates = [float(r) for r in dr]
        self.any_dropout = any(r > 0 for r in self.rates)
        self.params = torch.nn.ParameterList()
        for w, b in self._init_all():
            self.params.append(torch.nn.Parameter(w.to(dtype)))
            self.params.append(torch.nn.Parameter(b.to(dtype)))
        if device is not None:
            self.to(device)
        self.reset_dropout_streams()

    # ------------------------------------------------------------------ shapes and initialisation
    @property
    def conv_len(self) -> int:
        """Length of the CNN's feature maps after the stride-2 stem."""
        return (self.in_dim + 2 * STEM_PAD - STEM_KERNEL) // STEM_STRIDE + 1

    @property
    def pooled_len(self) -> int:
        """Length after the average pool by 4 (at least 1)."""
        return max(self.conv_len // 4, 1)

    def layer_shapes(self) -> list[tuple[int, int]]:
        """Per-model (in, out) shape of every layer's weight matrix, in order; for the CNN the
        convolutions' matrices act on unfolded windows (in = kernel * channels)."""
        w, k = self.width, self.n_classes
        if self.kind == "mlp":
            return [(self.in_dim, w), *[(w, w)] * (self.depth - 1), (w, k)]
        return [(STEM_KERNEL, w), *[(BLOCK_KERNEL * w, w)] * (self.depth - 1),
                (w * self.pooled_len, k)]

    def _init_all(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        shapes = self.layer_shapes()
        n_layers = len(shapes)
        per_layer: list[list[tuple[torch.Tensor, torch.Tensor]]] = [[] for _ in shapes]
        for seed, init, sc in zip(self.seeds, self.inits, self.shortcut.view(-1).tolist(),
                                  strict=True):
            gen = torch.Generator().manual_seed(seed)
            for i, (fan_in, fan_out) in enumerate(shapes):
                u_w = _uniform(gen, (fan_in, fan_out))
                u_b = _uniform(gen, (1, fan_out))
                if init == "uniform":
                    bound = 1.0 / math.sqrt(fan_in)
                    per_layer[i].append((u_w * bound, u_b * bound))
                    continue
                var = (1.0 if i == n_layers - 1 else 2.0) / fan_in  # head: linear, else ReLU
                if sc and 0 < i < n_layers - 1:
                    var /= self.depth - 1  # residual branch scaling
                per_layer[i].append((u_w * math.sqrt(3.0 * var), torch.zeros_like(u_b)))
        return [(torch.stack([w for w, _ in L]), torch.stack([b for _, b in L]))
                for L in per_layer]

    # ------------------------------------------------------------------ dropout streams
    def reset_dropout_streams(self) -> None:
        """(Re)start every model's dropout generator from its seed (done at construction)."""
        dev = self.params[0].device
        self.dropout_gens: list[torch.Generator | None] = [
            torch.Generator(device=dev).manual_seed(stream_seed(s, 3)) if r > 0 else None
            for s, r in zip(self.seeds, self.rates, strict=True)]

    def _apply(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202 - torch's signature
        out = super()._apply(fn, *args, **kwargs)
        if hasattr(self, "dropout_gens"):
            old = self.dropout_gens
            self.reset_dropout_streams()
            for new, g in zip(self.dropout_gens, old, strict=True):  # keep the streams' state
                if new is not None and g is not None and g.device == new.device:
                    new.set_state(g.get_state())
        return out

    def _drop(self, h: torch.Tensor) -> torch.Tensor:
        """Inverted dropout of ``h`` (M, B, ...) with each model's own generator and rate."""
        if not (self.training and self.any_dropout):
            return h
        masks = []
        for g, r in zip(self.dropout_gens, self.rates, strict=True):
            if g is None:
                masks.append(torch.ones(h.shape[1:], dtype=h.dtype, device=h.device))
            else:
                u = torch.rand(h.shape[1:], generator=g, device=h.device, dtype=h.dtype)
                masks.append((u >= r).to(h.dtype) / (1.0 - r))
        return h * torch.stack(masks)

    # ------------------------------------------------------------------ forward
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
        h = self._drop(torch.relu(torch.baddbmm(p[1], x, p[0])))
        if keep:
            feats.append(h)
        for layer in range(1, self.depth):
            u = torch.relu(torch.baddbmm(p[2 * layer + 1], h, p[2 * layer]))
            h = self._drop(u + self.shortcut * h)
            if keep:
                feats.append(h)
        return torch.baddbmm(p[-1], h, p[-2]), feats

    def _forward_cnn(self, x: torch.Tensor, keep: bool):
        m, b, c, n = self.m, x.shape[1], self.width, self.conv_len
        p, feats = self.params, []
        sc = self.shortcut.view(m, 1, 1, 1)

        def conv(h: torch.Tensor, w: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
            # h: (M, B, n, k*C) windows -> (M, B, n, C_out)
            return torch.baddbmm(bias, h.reshape(m, b * n, -1), w).view(m, b, n, -1)

        xp = torch.nn.functional.pad(x, (STEM_PAD, STEM_PAD))
        win = xp.unfold(-1, STEM_KERNEL, STEM_STRIDE)  # (M, B, n, 5)
        h = self._drop(torch.relu(conv(win, p[0], p[1])))  # (M, B, n, C)
        if keep:
            feats.append(h.reshape(m, b, -1))
        for layer in range(1, self.depth):
            hp = torch.nn.functional.pad(h, (0, 0, 1, 1))  # pad the length axis
            win = torch.cat([hp[:, :, j:j + n] for j in range(BLOCK_KERNEL)], dim=-1)
            u = torch.relu(conv(win, p[2 * layer], p[2 * layer + 1]))
            h = self._drop(u + sc * h)
            if keep:
                feats.append(h.reshape(m, b, -1))
        q = self.pooled_len
        if n >= 4:
            hq = h[:, :, : 4 * q]
            pooled = (hq[:, :, 0::4] + hq[:, :, 1::4] + hq[:, :, 2::4] + hq[:, :, 3::4]) / 4
        else:
            pooled = h[:, :, :q]
        return torch.baddbmm(p[-1], pooled.reshape(m, b, q * c), p[-2]), feats


# ---------------------------------------------------------------------- loss and training

def stacked_loss(logits: torch.Tensor, y: torch.Tensor, label_smoothing: torch.Tensor,
                 confidence_penalty: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean loss: for model m with smoothing eps_m and penalty
    beta_m, ``L_m = mean_b[(1 - eps_m)(-log p_y) + eps_m * mean_k(-log p_k) - beta_m * H(p)]``
    (label smoothing as in ``F.cross_entropy(label_smoothing=eps)``; confidence penalty of
    Pereyra et al. 2017). ``logits`` (M, B, K), ``y`` (M, B), the settings (M, 1, 1) or (M,).
    Introduced in lesson 06."""
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
    """Shared and per-model training settings of one stacked group (introduced in lesson 05).

    ``lr_schedule``: ``"constant"`` or ``"cosine"`` (see the module docstring)."""

    epochs: int
    batch_size: int
    lr: float = 1e-3
    weight_decay: float | Sequence[float] = 0.0
    label_smoothing: float | Sequence[float] = 0.0
    confidence_penalty: float | Sequence[float] = 0.0
    mode: str = "eager"  # "eager", "graph" (CUDA only) or "auto"
    tf32: bool = False
    lr_schedule: str = "constant"


def lr_at(settings: TrainSettings, step: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of ``total_steps``.
    Introduced in lesson 05."""
    if settings.lr_schedule == "constant":
        return float(settings.lr)
    if settings.lr_schedule == "cosine":
        return float(settings.lr) * 0.5 * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))
    raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {settings.lr_schedule!r}")


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

    ``set_lr(lr)`` sets the next step's learning rate; ``step(idx)`` takes an (M, B) index
    tensor into the training set held on the device. Introduced in lesson 05.
    """

    def __init__(self, model: StackedNet, X: torch.Tensor, y: torch.Tensor,
                 settings: TrainSettings) -> None:
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

    def set_lr(self, lr: float) -> None:
        """The learning rate of the next step(s)."""
        if isinstance(self.lr, torch.Tensor):
            self.lr.fill_(float(lr))
        else:
            self.lr = float(lr)
            for g in self.opt.param_groups:
                g["lr"] = self.lr

    def _step_body(self, idx: torch.Tensor) -> torch.Tensor:
        xb, yb = self.X[idx], self.y[idx]
        loss = stacked_loss(self.model(xb), yb, self.ls, self.cp)
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


def _check_subsets(subsets: np.ndarray | torch.Tensor | None, m: int, n_rows: int
                   ) -> np.ndarray:
    if subsets is None:
        return np.tile(np.arange(n_rows), (m, 1))
    s = np.asarray(subsets)
    if s.ndim != 2 or s.shape[0] != m or s.shape[1] < 1 or not np.issubdtype(s.dtype, np.integer):
        raise ValueError(f"subsets must be an integer array of shape (M={m}, n), got "
                         f"{s.shape} {s.dtype}")
    if s.min() < 0 or s.max() >= n_rows:
        raise ValueError(f"subsets holds row numbers outside 0..{n_rows - 1}")
    return s


def train(model: StackedNet, X_train: torch.Tensor, y_train: torch.Tensor,
          settings: TrainSettings, on_epoch: Callable[[int], None] | None = None,
          subsets: np.ndarray | None = None) -> StackedTrainer:
    """Train every model of the stack for ``settings.epochs`` epochs of mini-batches.

    ``subsets`` (M, n): model m trains on the rows ``subsets[m]`` of ``X_train`` (default: all
    rows for every model). Each epoch, model m visits its n rows in the order of its own
    permutation (:func:`batch_orders`), in ``n // batch`` batches of ``min(batch_size, n)``
    (the last incomplete batch is dropped). ``on_epoch(e)`` is called after epoch e (1-based),
    with the model in training mode restored afterwards. Introduced in lesson 05."""
    if settings.epochs < 1 or settings.batch_size < 1:
        raise ValueError("epochs and batch_size must be positive integers")
    if not (settings.lr > 0 and math.isfinite(settings.lr)):
        raise ValueError(f"lr must be a positive number, got {settings.lr}")
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
        for epoch, order in enumerate(batch_orders(model.seeds, n, settings.epochs), start=1):
            idx = np.take_along_axis(rows, order[:, : steps * bs], axis=1)
            order_t = torch.as_tensor(idx).to(dev, non_blocking=True)
            for s in range(steps):
                trainer.set_lr(lr_at(settings, t, total))
                trainer.step(order_t[:, s * bs:(s + 1) * bs])
                t += 1
            if on_epoch is not None:
                on_epoch(epoch)
                model.train()
    return trainer


@torch.no_grad()
def predict_log_proba(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Log-probabilities (M, N, K) of every model on the same inputs X (N, in_dim), or each
    model on its own inputs X (M, N, in_dim), in eval mode (no dropout), computed in chunks of
    ``chunk`` rows. Introduced in lesson 05."""
    was = model.training
    model.eval()
    n = X.shape[-2]
    out = [torch.log_softmax(model(X[..., i:i + chunk, :]), -1) for i in range(0, n, chunk)]
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
    shapes = probe.layer_shapes()
    macs = 0
    for i, (a, b) in enumerate(shapes):
        positions = probe.conv_len if kind == "cnn" and i < len(shapes) - 1 else 1
        macs += a * b * positions
    return 6.0 * batch_size * macs
