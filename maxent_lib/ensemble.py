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
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import (
    InputTypeError,
    as_finite_array,
    check_choice,
    check_flag,
    check_int,
    check_n_classes,
    check_number,
    check_seed,
    check_tensor,
)

KINDS: tuple[str, ...] = ("mlp", "cnn")
INITS: tuple[str, ...] = ("he", "uniform")
SCHEDULES: tuple[str, ...] = ("constant", "cosine")
#: The 1-D CNN's stem: kernel 5, stride 2, padding 2; its blocks: kernel 3, padding 1.
STEM_KERNEL, STEM_STRIDE, STEM_PAD, BLOCK_KERNEL = 5, 2, 2, 3


class DivergenceWarning(RuntimeWarning):
    """Training left some models of a stack with NaN or inf parameters (their loss blew up)."""


#: Upper bounds of a stack's shape: beyond them one model alone would not fit in memory.
MAX_WIDTH, MAX_DEPTH, MAX_IN_DIM = 65_536, 1_024, 10**6
#: The most parameters (all models together) a stack may hold: 2**31 (8 GiB in float32).
MAX_PARAMETERS = 2**31


def _per_model(value: float | Sequence[float] | np.ndarray | torch.Tensor, m: int, name: str,
               low: float = 0.0, high: float = math.inf, high_open: bool = False, *,
               allow_bool: bool = False) -> torch.Tensor:
    """A per-model setting as a float64 vector of length ``m`` (a scalar is repeated).
    Refused: text (also ``"0.5"``), complex values, booleans unless ``allow_bool``, NaN/inf,
    values outside ``[low, high]`` (``high_open``: ``[low, high)``), a wrong length."""
    if isinstance(value, (bool, np.bool_)) and allow_bool:
        value = float(value)
    arr = as_finite_array(value, name, ndim=(0, 1), allow_bool=allow_bool).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, m)
    if arr.size != m:
        raise ValueError(f"{name} must be a scalar or have one value per model ({m}), "
                         f"got {arr.size}")
    if np.any(arr < low) or np.any(arr > high) or (high_open and np.any(arr >= high)):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in [{low}, {high}{bracket}, got {arr.tolist()}")
    return torch.as_tensor(arr)


def _per_model_str(value: str | Sequence[str], m: int, name: str, allowed: Sequence[str]
                   ) -> list[str]:
    """A per-model string setting as a list of length ``m`` (a single string is repeated)."""
    if isinstance(value, str):
        vals = [value] * m
    elif isinstance(value, (list, tuple)):
        vals = list(value)
    else:
        raise InputTypeError(f"{name} must be one of {tuple(allowed)} or a list of them (one "
                             f"per model), got {type(value).__name__}")
    if len(vals) != m:
        raise ValueError(f"{name} must be a string or have one value per model ({m}), "
                         f"got {len(vals)}")
    return [check_choice(v, name, allowed) for v in vals]


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    """One seed per model: a non-empty sequence (list, tuple, range, 1-D integer array) of
    integers in 0..2**63 - 1."""
    if isinstance(seeds, np.ndarray):
        if seeds.ndim != 1:
            raise ValueError(f"seeds must be a 1-D list of integers, got shape {seeds.shape}")
        seeds = list(seeds)
    if isinstance(seeds, (str, bytes, dict, set)) or not isinstance(seeds, (list, tuple, range)):
        raise InputTypeError(f"seeds must be a list of non-negative integers (one per model), "
                             f"got {type(seeds).__name__}")
    out = [check_seed(s, "seeds") for s in seeds]
    if not out:
        raise ValueError("seeds is empty: give at least one model")
    return out


def _check_device(device: object) -> torch.device | None:
    """None, or a torch device (or its name) that this machine has."""
    if device is None:
        return None
    if not isinstance(device, (str, torch.device)):
        raise InputTypeError(f"device must be a device name (str), a torch.device or None, "
                             f"got {type(device).__name__}")
    try:
        dev = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"device {device!r} is not a device torch knows (cpu, cuda, cuda:N, "
                         "mps)") from exc
    if dev.type == "cuda" and (not torch.cuda.is_available()
                               or (dev.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"device {device!r} was asked for, but this machine has no such GPU")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for, but the MPS backend is not available")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device {device!r} is not supported; use cpu, cuda, cuda:N or mps")
    return dev


def _check_model(model: object, name: str = "model") -> StackedNet:
    if not isinstance(model, StackedNet):
        raise InputTypeError(f"{name} must be a StackedNet, got {type(model).__name__}")
    return model


def _check_inputs(model: StackedNet, X: object, name: str, ndims: tuple[int, ...] = (2,)
                  ) -> torch.Tensor:
    """A floating tensor of inputs on the model's device, with ``model.in_dim`` columns, no
    NaN or inf; (N, in_dim) or, with 3 in ``ndims``, (M, N, in_dim)."""
    X = check_tensor(X, name)
    if X.dim() not in ndims:
        want = " or ".join(["(N, in_dim)", "(M, N, in_dim)"][: len(ndims)])
        raise ValueError(f"{name} must have shape {want}, got {tuple(X.shape)}")
    if X.shape[-1] != model.in_dim:
        raise ValueError(f"{name} has {X.shape[-1]} columns but the model takes "
                         f"{model.in_dim} inputs")
    if X.dim() == 3 and X.shape[0] != model.m:
        raise ValueError(f"{name} of shape (M, N, in_dim) needs M = {model.m} (one slice per "
                         f"model), got {X.shape[0]}")
    if X.device != model.params[0].device:
        raise ValueError(f"{name} is on {X.device} but the model is on "
                         f"{model.params[0].device}; move one of them")
    if X.dtype != model.params[0].dtype:
        raise InputTypeError(f"{name} has dtype {X.dtype} but the model's parameters are "
                             f"{model.params[0].dtype}; convert {name} (e.g. "
                             f"{name}.to({model.params[0].dtype})) or build the model with "
                             "that dtype")
    return X


def _check_labels_tensor(model: StackedNet, y: object, name: str, n_rows: int,
                         rows_name: str) -> torch.Tensor:
    """An integer tensor of labels (N,) in 0..n_classes-1 on the model's device."""
    y = check_tensor(y, name, ndim=1, floating=False)
    if y.shape[0] != n_rows:
        raise ValueError(f"{rows_name} has {n_rows} rows but {name} has {y.shape[0]} labels; "
                         "they must match")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= model.n_classes:
        raise ValueError(f"{name} has label {lo if lo < 0 else hi}, out of range for "
                         f"{model.n_classes} classes (0..{model.n_classes - 1})")
    if y.device != model.params[0].device:
        raise ValueError(f"{name} is on {y.device} but the model is on "
                         f"{model.params[0].device}")
    return y


def stream_seed(seed: int, stream: int) -> int:
    """A 63-bit seed for model ``seed``'s random stream number ``stream`` (1: batch order,
    2: data subset, 3: dropout), from ``numpy.random.SeedSequence([seed, stream])``: distinct
    streams are independent. Introduced in lesson 05."""
    seed = check_seed(seed)
    stream = check_int(stream, "stream", low=0, high=2**32 - 1)
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
        kind = check_choice(kind, "kind", KINDS)
        in_dim = check_int(in_dim, "in_dim", low=8 if kind == "cnn" else 1, high=MAX_IN_DIM)
        n_classes = check_n_classes(n_classes)
        width = check_int(width, "width", low=1, high=MAX_WIDTH)
        depth = check_int(depth, "depth", low=1, high=MAX_DEPTH)
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point
                and not dtype.is_complex):
            raise InputTypeError(f"dtype must be a torch floating-point dtype (e.g. "
                                 f"torch.float32), got {dtype!r}")
        dev = _check_device(device)
        self.kind, self.in_dim, self.n_classes = kind, in_dim, n_classes
        self.width, self.depth = width, depth
        self.seeds = _check_seeds(seeds)
        m = self.m = len(self.seeds)
        n_params = m * sum((a + 1) * b for a, b in self.layer_shapes())
        if n_params > MAX_PARAMETERS:
            raise ValueError(f"the stack would hold {n_params:.3g} parameters (M = {m} models of "
                             f"width {width}, depth {depth}); at most {MAX_PARAMETERS:.3g} are "
                             "supported: use fewer seeds, a smaller width or depth")
        sc = _per_model(shortcut, m, "shortcut", 0.0, 1.0, allow_bool=True)
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
        if dev is not None:
            self.to(dev)
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
        if not isinstance(x, torch.Tensor):
            raise InputTypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() not in (2, 3) or x.shape[-1] != self.in_dim or (x.dim() == 3
                                                                  and x.shape[0] != self.m):
            raise ValueError(f"x must have shape (M={self.m}, B, {self.in_dim}) or "
                             f"(B, {self.in_dim}), got {tuple(x.shape)}")
        x = _check_inputs(self, x, "x", (2, 3))
        check_flag(return_features, "return_features")
        return self._run(x, return_features)

    def _run(self, x: torch.Tensor, return_features: bool = False
             ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """:meth:`forward` without the input checks (the training loop's path: no
        device-to-host synchronisation, so it can be captured in a CUDA graph)."""
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.m, -1, -1)
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

    Raises ``TypeError`` unless ``logits`` is a floating tensor and ``y`` an integer tensor,
    ``ValueError`` on NaN/inf, mismatched shapes, labels out of 0..K-1, a smoothing outside
    [0, 1) or a non-finite penalty. Introduced in lesson 06."""
    logits = check_tensor(logits, "logits", ndim=3)
    y = check_tensor(y, "y", ndim=2, floating=False)
    m, b, k = logits.shape
    if tuple(y.shape) != (m, b):
        raise ValueError(f"y must have shape (M, B) = ({m}, {b}) like logits (M, B, K), got "
                         f"{tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise ValueError(f"y has labels outside 0..{k - 1} (logits have K = {k} classes)")
    eps, beta = (check_tensor(v, n).reshape(-1) for v, n in
                 ((label_smoothing, "label_smoothing"),
                  (confidence_penalty, "confidence_penalty")))
    for v, n in ((eps, "label_smoothing"), (beta, "confidence_penalty")):
        if v.numel() not in (1, m):
            raise ValueError(f"{n} must hold one value per model ({m}), got {v.numel()}")
    if bool(torch.any(eps < 0)) or bool(torch.any(eps >= 1)):
        raise ValueError(f"label_smoothing must lie in [0, 1), got {eps.tolist()}")
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

    def __post_init__(self) -> None:
        """Check every field (the per-model lengths are checked against the model later)."""
        self.epochs = check_int(self.epochs, "epochs", low=1, high=10**6)
        self.batch_size = check_int(self.batch_size, "batch_size", low=1, high=10**8)
        self.lr = check_number(self.lr, "lr", low=0.0, low_open=True)
        for name, low, high, high_open in (("weight_decay", 0.0, math.inf, False),
                                           ("label_smoothing", 0.0, 1.0, True),
                                           ("confidence_penalty", -math.inf, math.inf, False)):
            arr = as_finite_array(getattr(self, name), name, ndim=(0, 1))
            _per_model(arr, arr.size, name, low, high, high_open)
        check_choice(self.mode, "mode", ("eager", "graph", "auto"))
        check_flag(self.tf32, "tf32")
        check_choice(self.lr_schedule, "lr_schedule", SCHEDULES)


def lr_at(settings: TrainSettings, step: int, total_steps: int) -> float:
    """The learning rate of optimizer step ``step`` (0-based) of ``total_steps``.
    Introduced in lesson 05."""
    if not isinstance(settings, TrainSettings):
        raise InputTypeError(f"settings must be a TrainSettings, got {type(settings).__name__}")
    total_steps = check_int(total_steps, "total_steps", low=1)
    step = check_int(step, "step", low=0, high=total_steps)
    if settings.lr_schedule == "constant":
        return float(settings.lr)
    if settings.lr_schedule == "cosine":
        return float(settings.lr) * 0.5 * (1.0 + math.cos(math.pi * step / max(total_steps, 1)))
    raise ValueError(f"lr_schedule must be one of {SCHEDULES}, got {settings.lr_schedule!r}")


def batch_orders(seeds: Sequence[int], n: int, epochs: int) -> Iterator[np.ndarray]:
    """Per epoch, an (M, n) array: row m is a permutation of range(n) drawn from model m's own
    generator ``numpy.random.default_rng([seed_m, 1])`` (the same whether alone or stacked).
    The arguments are checked when it is called (not at the first epoch)."""
    seeds = _check_seeds(seeds)
    n = check_int(n, "n", low=1)
    epochs = check_int(epochs, "epochs", low=1)
    return _batch_orders(seeds, n, epochs)


def _batch_orders(seeds: list[int], n: int, epochs: int) -> Iterator[np.ndarray]:
    rngs = [np.random.default_rng([int(s), 1]) for s in seeds]
    for _ in range(epochs):
        yield np.stack([r.permutation(n) for r in rngs])


@contextlib.contextmanager
def tf32_enabled(on: bool) -> Iterator[None]:
    """Temporarily allow (or forbid) TF32 in CUDA matrix products and convolutions."""
    on = check_flag(on, "on")
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
        model = _check_model(model)
        X = _check_inputs(model, X, "X")
        y = _check_labels_tensor(model, y, "y", X.shape[0], "X")
        if not isinstance(settings, TrainSettings):
            raise InputTypeError(f"settings must be a TrainSettings, got "
                                 f"{type(settings).__name__}")
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
        lr = check_number(lr, "lr", low=0.0)
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

    def step(self, idx: torch.Tensor) -> None:
        """One optimizer step of every model on its own batch ``idx[m]``: ``idx`` is an integer
        tensor (M, B) of row numbers of the training set."""
        idx = check_tensor(idx, "idx", ndim=2, floating=False)
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


def _check_subsets(subsets: np.ndarray | torch.Tensor | None, m: int, n_rows: int
                   ) -> np.ndarray:
    if subsets is None:
        return np.tile(np.arange(n_rows), (m, 1))
    if isinstance(subsets, torch.Tensor):
        subsets = subsets.detach().cpu().numpy()
    if isinstance(subsets, (str, bytes)):
        raise InputTypeError(f"subsets must be an integer array of shape (M={m}, n), got text")
    s = np.asarray(subsets)
    if s.dtype.kind not in "iu":
        raise InputTypeError(f"subsets must be an integer array of shape (M={m}, n), got dtype "
                             f"{s.dtype}")
    if s.ndim != 2 or s.shape[0] != m or s.shape[1] < 1:
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
    with the model in training mode restored afterwards.

    ``X_train`` is a floating tensor (N, in_dim) and ``y_train`` an integer tensor (N,) of labels
    in 0..n_classes-1, both on the model's device; bad input raises ``TypeError`` or
    ``ValueError`` before any step. A model whose loss becomes NaN or inf (too large a learning
    rate, say) does not disturb the others: the stack's loss is a sum of per-model losses and
    Adam acts elementwise, so the other models' gradients and steps are unchanged; its own
    parameters become NaN, and a :class:`DivergenceWarning` names it at the end
    (:func:`maxent_lib.ablation.fit_group` records it as diverged). Introduced in lesson 05."""
    model = _check_model(model)
    X_train = _check_inputs(model, X_train, "X_train")
    y_train = _check_labels_tensor(model, y_train, "y_train", X_train.shape[0], "X_train")
    if not isinstance(settings, TrainSettings):
        raise InputTypeError(f"settings must be a TrainSettings, got {type(settings).__name__}")
    if on_epoch is not None and not callable(on_epoch):
        raise InputTypeError(f"on_epoch must be callable or None, got {type(on_epoch).__name__}")
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
                trainer.set_lr(lr_at(settings, t, total))
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


@torch.no_grad()
def predict_log_proba(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> torch.Tensor:
    """Log-probabilities (M, N, K) of every model on the same inputs X (N, in_dim), or each
    model on its own inputs X (M, N, in_dim), in eval mode (no dropout), computed in chunks of
    ``chunk`` rows. ``X`` must be a floating tensor without NaN or inf, on the model's device.
    A model whose parameters are NaN (diverged in training) gets NaN log-probabilities.
    Introduced in lesson 05."""
    model = _check_model(model)
    X = _check_inputs(model, X, "X", (2, 3))
    chunk = check_int(chunk, "chunk", low=1)
    was = model.training
    model.eval()
    n = X.shape[-2]
    out = [torch.log_softmax(model._run(X[..., i:i + chunk, :]), -1) for i in range(0, n, chunk)]
    model.train(was)
    return torch.cat(out, dim=1)


@torch.no_grad()
def features(model: StackedNet, X: torch.Tensor, chunk: int = 2048) -> list[torch.Tensor]:
    """The hidden layers' outputs T_1..T_depth on inputs X, each (M, N, features), in eval mode:
    what lesson 05 feeds to the feature-condition diagnostics. ``X`` (N, in_dim) must be a
    floating tensor without NaN or inf, on the model's device. Introduced in lesson 05."""
    model = _check_model(model)
    X = _check_inputs(model, X, "X")
    chunk = check_int(chunk, "chunk", low=1)
    was = model.training
    model.eval()
    parts: list[list[torch.Tensor]] = []
    for i in range(0, X.shape[0], chunk):
        _, feats = model._run(X[i:i + chunk], return_features=True)
        parts.append(feats)
    model.train(was)
    return [torch.cat([p[layer] for p in parts], dim=1) for layer in range(model.depth)]


def flops_per_model_step(kind: str, in_dim: int, n_classes: int, width: int, depth: int,
                         batch_size: int) -> float:
    """About 6 * batch * (multiply-adds per example): forward (2) plus backward (4) FLOPs of one
    training step of one model; used for the benchmark's effective TFLOP/s."""
    batch_size = check_int(batch_size, "batch_size", low=1)
    probe = StackedNet(kind, in_dim, n_classes, width, depth, [0], device="cpu")
    shapes = probe.layer_shapes()
    macs = 0
    for i, (a, b) in enumerate(shapes):
        positions = probe.conv_len if kind == "cnn" and i < len(shapes) - 1 else 1
        macs += a * b * positions
    return 6.0 * batch_size * macs
