"""Many small networks of one shape as one stacked module (introduced in lesson 05).

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

import math
from collections.abc import Sequence

import numpy as np
import torch

from .._checks import (
    MAX_CLASSES,
    InputTypeError,
    as_finite_array,
    check_choice,
    check_int,
    check_tensor,
)
from ..runtime import get_device
from ..validation import (
    Choice,
    Constraint,
    Device,
    Flag,
    Integer,
    Items,
    OneOf,
    Seed,
    Tensor,
    validate,
)
from .configs import INITS, KINDS, MAX_DEPTH, MAX_IN_DIM, MAX_WIDTH

#: The 1-D CNN's stem: kernel 5, stride 2, padding 2; its blocks: kernel 3, padding 1.
STEM_KERNEL, STEM_STRIDE, STEM_PAD, BLOCK_KERNEL = 5, 2, 2, 3


class DivergenceWarning(RuntimeWarning):
    """Training left some models of a stack with NaN or inf parameters (their loss blew up)."""




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
    if arr.size == 1 and m > 0:
        arr = np.repeat(arr, m)
    if arr.size != m and m >= 0:
        raise ValueError(f"{name} must be a scalar or have one value per model ({m}), "
                         f"got {arr.size}")
    if np.any(arr < low) or np.any(arr > high) or (high_open and np.any(arr >= high)):
        bracket = ")" if high_open else "]"
        raise ValueError(f"{name} must lie in [{low}, {high}{bracket}, got {arr.tolist()}")
    return torch.as_tensor(arr)


class PerModel(Constraint):
    """A per-model setting: one number, or a list (or 1-D array) of numbers, one per model, each
    in ``[low, high]`` (``high_open``: ``[low, high)``), 0 or 1 with ``binary``; booleans only
    with ``allow_bool``.
    Passed on unchanged: its length is checked against the number of models where they
    meet (:func:`_per_model`). Used by the library only."""

    def __init__(self, low: float = 0.0, high: float = math.inf, high_open: bool = False, *,
                 allow_bool: bool = False, binary: bool = False) -> None:
        self.low, self.high, self.high_open, self.allow_bool = low, high, high_open, allow_bool
        self.binary = binary

    def check(self, value: object, name: str, args: dict[str, object]) -> object:
        arr = _per_model(value, -1, name, self.low, self.high, self.high_open,
                         allow_bool=self.allow_bool)
        if self.binary and not torch.all((arr == 0) | (arr == 1)):
            raise ValueError(f"{name} must be 0/1 (or False/True) per model, got {arr.tolist()}")
        return value

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        out = [*super().bad_values(example), ("text", "0.5", "type"), ("complex", 1j, "type"),
               ("nan", math.nan, "value"), ("list_nan", [0.0, math.nan], "value"),
               ("two_dimensional", [[0.0]], "value"), ("empty", [], "value")]
        if not self.allow_bool:
            out.append(("bool", True, "type"))
        if math.isfinite(self.low):
            out.append(("below", self.low - 1.0, "value"))
        if math.isfinite(self.high):
            out.append(("above", self.high if self.high_open else self.high + 1.0, "value"))
        if self.binary:
            out.append(("fraction", 0.5, "value"))
        return out


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


class _FloatDtype(Constraint):
    """A real floating-point torch dtype (``torch.float32``, ``torch.float64``...); passed on
    unchanged."""

    def check(self, value: object, name: str, args: dict[str, object]) -> object:
        if not (isinstance(value, torch.dtype) and value.is_floating_point
                and not value.is_complex):
            raise InputTypeError(f"{name} must be a torch floating-point dtype (e.g. "
                                 f"torch.float32), got {value!r}")
        return value

    def bad_values(self, example: object) -> list[tuple[str, object, str]]:
        return [*super().bad_values(example), ("int_dtype", torch.int64, "type"),
                ("complex_dtype", torch.complex64, "type"), ("text", "float32", "type")]


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


@validate(seed=Seed(), stream=Integer(low=0, high=2**32 - 1))
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

    @validate(kind=Choice(KINDS), in_dim=Integer(low=1, high=MAX_IN_DIM),
              n_classes=Integer(low=2, high=MAX_CLASSES), width=Integer(low=1, high=MAX_WIDTH),
              depth=Integer(low=1, high=MAX_DEPTH), seeds=Items(Seed(), min_len=1),
              shortcut=PerModel(0.0, 1.0, allow_bool=True, binary=True),
              dropout=PerModel(0.0, 1.0, high_open=True),
              init=OneOf((Choice(INITS), Items(Choice(INITS), min_len=1))),
              dtype=_FloatDtype(), device=Device())
    def __init__(self, kind: str, in_dim: int, n_classes: int, width: int, depth: int,
                 seeds: Sequence[int], *, shortcut: float | Sequence[float] = 0.0,
                 dropout: float | Sequence[float] = 0.0, init: str | Sequence[str] = "he",
                 dtype: torch.dtype = torch.float32,
                 device: torch.device | str | None = None) -> None:
        super().__init__()
        if kind == "cnn":  # the stem's kernel needs 8 inputs
            in_dim = check_int(in_dim, "in_dim", low=8, high=MAX_IN_DIM)
        dev = get_device(device)
        self.kind, self.in_dim, self.n_classes = kind, in_dim, n_classes
        self.width, self.depth = width, depth
        self.seeds = seeds
        m = self.m = len(self.seeds)
        n_params = m * sum((a + 1) * b for a, b in self.layer_shapes())
        if n_params > MAX_PARAMETERS:
            raise ValueError(f"the stack would hold {n_params:.3g} parameters (M = {m} models of "
                             f"width {width}, depth {depth}); at most {MAX_PARAMETERS:.3g} are "
                             "supported: use fewer seeds, a smaller width or depth")
        sc = _per_model(shortcut, m, "shortcut", 0.0, 1.0, allow_bool=True)
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

    @validate()
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
    @validate()
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
    @validate(x=Tensor(), return_features=Flag())
    def forward(self, x: torch.Tensor, return_features: bool = False
                ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Logits of shape (M, B, K) for inputs (M, B, in_dim) (each model its own batch) or
        (B, in_dim) (the same batch for all). With ``return_features``, also the list of hidden
        layers' outputs, each (M, B, features)."""
        if x.dim() not in (2, 3) or x.shape[-1] != self.in_dim or (x.dim() == 3
                                                                  and x.shape[0] != self.m):
            raise ValueError(f"x must have shape (M={self.m}, B, {self.in_dim}) or "
                             f"(B, {self.in_dim}), got {tuple(x.shape)}")
        x = _check_inputs(self, x, "x", (2, 3))
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


@validate(kind=Choice(KINDS), in_dim=Integer(low=1, high=MAX_IN_DIM),
          n_classes=Integer(low=2, high=MAX_CLASSES), width=Integer(low=1, high=MAX_WIDTH),
          depth=Integer(low=1, high=MAX_DEPTH), batch_size=Integer(low=1))
def flops_per_model_step(kind: str, in_dim: int, n_classes: int, width: int, depth: int,
                         batch_size: int) -> float:
    """About 6 * batch * (multiply-adds per example): forward (2) plus backward (4) FLOPs of one
    training step of one model; used for the benchmark's effective TFLOP/s.
    Used by the library only."""
    probe = StackedNet(kind, in_dim, n_classes, width, depth, [0], device="cpu")
    shapes = probe.layer_shapes()
    macs = 0
    for i, (a, b) in enumerate(shapes):
        positions = probe.conv_len if kind == "cnn" and i < len(shapes) - 1 else 1
        macs += a * b * positions
    return 6.0 * batch_size * macs
