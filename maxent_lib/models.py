"""MLPs (plain and residual), their training, and layer-wise growth (lesson 04; lessons 05-06).

A network computes features layer by layer, T_1 = g(A_1 x + c_1) and then either

    T_l = g(A_l T_{l-1} + c_l)               (plain)      or
    T_l = T_{l-1} + g(A_l T_{l-1} + c_l)     (residual, ``shortcut=True``)

for l = 2..L, and puts softmax regression on top: P(y | x) = softmax(W T_L + b). The top is the
conditional max-ent model given T_L (lesson 02), so the layers below have to make T_L satisfy the
two feature conditions (lesson 03). :func:`grow_layerwise` makes the recursion explicit: it trains
one layer at a time, each with a temporary softmax head on the frozen layers below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from ._checks import (
    MAX_CLASSES,
    check_int,
    check_labels,
    check_same_length,
    check_tensor,
)
from .runtime import get_device, progress_bar
from .validation import (
    Array,
    Choice,
    Device,
    Flag,
    Instance,
    Integer,
    Items,
    Labels,
    Real,
    Seed,
    Tensor,
    Tuple,
    validate,
)

__all__ = ["ACTIVATIONS", "MLP", "StackedMLP", "grow_layerwise", "grow_layerwise_stacked",
           "layer_features", "predict_proba", "train_classifier", "train_stacked"]

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
#: Inputs are cast to float32: values beyond its range would become inf.
MAX_INPUT = float(np.finfo(np.float32).max)
#: The most parameters a net (or a stack of nets) may hold: 2**31 (8 GiB in float32).
MAX_PARAMETERS = 2**31


#: The parameters and the hyper-parameters of training: their constraints.
_SHAPE = {"in_dim": Integer(low=1, high=10**6), "width": Integer(low=1, high=65_536),
          "depth": Integer(low=1, high=1_024), "n_classes": Integer(low=2, high=MAX_CLASSES),
          "activation": Choice(tuple(sorted(ACTIVATIONS))), "shortcut": Flag()}
#: The parameters are float32: a learning rate or a weight decay beyond its range cannot be
#: applied to them (torch refuses it with a RuntimeError).
MAX_RATE = float(np.finfo(np.float32).max)
_TRAINING = {"epochs": Integer(low=1, high=10**6),
             "lr": Real(low=0.0, low_open=True, high=MAX_RATE),
             "batch_size": Integer(low=1, high=10**8), "weight_decay": Real(low=0.0, high=MAX_RATE),
             "device": Device(), "progress": Flag()}
#: Inputs: 2-D, finite, within the float32 range they are cast to.
_INPUTS = Array(ndim=2, max_abs=MAX_INPUT)
#: A pair (X_eval, y_eval) of held-out data, or None.
_EVAL_DATA = Tuple((_INPUTS, Labels()), ("X_eval", "y_eval"), optional=True)


def _check_shape(in_dim: int, width: int, depth: int, n_classes: int, m: int = 1
                 ) -> tuple[int, int, int, int]:
    """The size of a net (or of a stack of ``m`` nets) of checked dimensions: refused beyond
    :data:`MAX_PARAMETERS`."""
    n_params = m * ((in_dim + 1) * width + (depth - 1) * (width + 1) * width
                    + (width + 1) * n_classes * depth)
    if n_params > MAX_PARAMETERS:
        raise ValueError(f"the net would hold {n_params:.3g} parameters (width {width}, depth "
                         f"{depth}); at most {MAX_PARAMETERS:.3g} are supported: lower the "
                         "width or depth")
    return in_dim, width, depth, n_classes


def _check_input(x: object, in_dim: int, name: str = "x", ndims: tuple[int, ...] = (2,)
                 ) -> torch.Tensor:
    """A floating tensor without NaN or inf whose last axis has ``in_dim`` entries."""
    x = check_tensor(x, name)
    if x.dim() not in ndims:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndims))} dimensions, got "
                         f"shape {tuple(x.shape)}")
    if x.shape[-1] != in_dim:
        raise ValueError(f"{name} has {x.shape[-1]} columns but the net takes {in_dim} inputs")
    return x


class MLP(nn.Module):
    """A fully connected net with ``depth`` hidden layers of ``width`` units and a linear softmax
    head (``forward`` returns the logits W T_L + b).

    Layer 1 projects the input: T_1 = g(A_1 x + c_1). Layers 2..L are T_l = g(A_l T_{l-1} + c_l),
    or with ``shortcut=True`` the residual form T_l = T_{l-1} + g(A_l T_{l-1} + c_l), which keeps
    all of T_{l-1} (lesson 05). ``activation`` g is "relu", "sigmoid" or "tanh"; a sigmoid unit
    sigma(a.T + c) is itself a binary logistic (max-ent) model on the features below (lesson 04).
    Initialisation: torch's default for ``nn.Linear`` (U(+-1/sqrt(fan_in))) for sigmoid and tanh;
    for ReLU, He initialisation as in :mod:`maxent_lib.ablation.stacked` (the same uniform draws
    scaled to variance 2/fan_in for the hidden layers and 1/fan_in for the head, biases 0).
    ``features(x)`` returns [T_1, ..., T_L]. Introduced in lesson 03.
    """

    @validate(**_SHAPE)
    def __init__(self, in_dim: int, width: int, depth: int, n_classes: int,
                 activation: str = "relu", shortcut: bool = False) -> None:
        super().__init__()
        self.in_dim, self.width, self.depth, self.n_classes = _check_shape(in_dim, width, depth,
                                                                           n_classes)
        self.activation, self.shortcut = activation, shortcut
        dims = [self.in_dim] + [self.width] * self.depth
        self.layers = nn.ModuleList(nn.Linear(dims[i], dims[i + 1]) for i in range(self.depth))
        self.act = ACTIVATIONS[activation]()
        self.head = nn.Linear(self.width, self.n_classes)
        if activation == "relu":  # He initialisation, as in maxent_lib.ensemble's "he"
            with torch.no_grad():
                for lin, gain in [(m, 6.0) for m in self.layers] + [(self.head, 3.0)]:
                    lin.weight.mul_(math.sqrt(gain))  # variance 1/(3 fan_in) -> gain/(3 fan_in)
                    lin.bias.zero_()

    @validate(index=Integer(low=0), t=Tensor())
    def layer(self, index: int, t: torch.Tensor) -> torch.Tensor:
        """Apply hidden layer ``index`` (0-based) to the features below it (a floating tensor
        (n, in_dim) for layer 0, (n, width) above)."""
        index = check_int(index, "layer index", low=0, high=self.depth - 1)
        t = _check_input(t, self.in_dim if index == 0 else self.width, "t")
        return self._layer(index, t)

    def _layer(self, index: int, t: torch.Tensor) -> torch.Tensor:
        """:meth:`layer` without the checks (the training loops' path)."""
        out = self.act(self.layers[index](t))
        return t + out if (self.shortcut and index > 0) else out

    @validate(x=Tensor())
    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every hidden layer's features [T_1, ..., T_L], each of shape (n, width), for inputs
        ``x`` (a floating tensor (n, in_dim) without NaN or inf)."""
        return self._features(_check_input(x, self.in_dim))

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats, t = [], x
        for i in range(self.depth):
            t = self._layer(i, t)
            feats.append(t)
        return feats

    @validate(x=Tensor())
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits W T_L + b, shape (n, n_classes), for inputs ``x`` (a floating tensor
        (n, in_dim) without NaN or inf)."""
        return self._forward(_check_input(x, self.in_dim))

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without the checks (the training loops' path)."""
        return self.head(self._features(x)[-1])


def _tensors(X_arr: np.ndarray, y: np.ndarray, n_classes: int, in_dim: int,
             device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked inputs and labels that fit the model (columns, classes, one label per row), as
    tensors on ``device``."""
    if X_arr.shape[1] != in_dim:
        raise ValueError(f"X must have {in_dim} columns (the model's in_dim), got {X_arr.shape[1]}")
    y_arr = check_labels(y, n_classes)
    check_same_length("X", X_arr, "y", y_arr)
    return (torch.tensor(X_arr, dtype=torch.float32, device=device),
            torch.tensor(y_arr, dtype=torch.long, device=device))


@contextmanager
def _small_net_threads(device: torch.device, n_params: int) -> Iterator[None]:
    """Train small nets on one CPU thread: for a few thousand parameters a step is launch-bound,
    and a second thread only adds contention (measured on a busy 2-core CPU: about 2.5 ms a step
    on one thread, 20+ ms on two). The thread count is restored afterwards."""
    if device.type != "cpu" or n_params > 200_000:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _fit(forward: Any, params: list[nn.Parameter], X: torch.Tensor, y: torch.Tensor, *,
         epochs: int, lr: float, batch_size: int, weight_decay: float, seed: int,
         progress: bool, desc: str) -> dict[str, list[float]]:
    """Minibatch Adam on the mean cross-entropy of ``forward``; returns the history."""
    with _small_net_threads(X.device, sum(p.numel() for p in params)):
        return _fit_loop(forward, params, X, y, epochs=epochs, lr=lr, batch_size=batch_size,
                         weight_decay=weight_decay, seed=seed, progress=progress, desc=desc)


def _diverged(epoch: int, lr: float, weight_decay: float) -> str:
    return (f"training diverged in epoch {epoch}: the loss became NaN or inf (lr = {lr:g}, "
            f"weight_decay = {weight_decay:g}); lower lr or weight_decay")


def _fit_loop(forward: Any, params: list[nn.Parameter], X: torch.Tensor, y: torch.Tensor, *,
              epochs: int, lr: float, batch_size: int, weight_decay: float, seed: int,
              progress: bool, desc: str) -> dict[str, list[float]]:
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(int(seed))
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    n = len(y)
    bar = progress_bar(range(epochs), desc=desc, enabled=progress, leave=False)
    for _ in bar:
        order = torch.randperm(n, generator=gen).to(X.device)
        total, correct = 0.0, 0
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            logits = forward(X[idx])
            loss = nn.functional.cross_entropy(logits, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == y[idx]).sum())
        if not math.isfinite(total):
            raise ValueError(_diverged(len(history["loss"]) + 1, lr, weight_decay))
        history["loss"].append(total / n)
        history["accuracy"].append(correct / n)
        bar.set_postfix(loss=f"{total / n:.3f}")
    return history


@validate(model=Instance((MLP,)), X=_INPUTS, y=Labels(), seed=Seed(), **_TRAINING)
def train_classifier(model: MLP, X: object, y: object, *, epochs: int = 30, lr: float = 1e-3,
                     batch_size: int = 128, weight_decay: float = 0.0, seed: int = 0,
                     device: str | torch.device | None = None,
                     progress: bool = True) -> dict[str, list[float]]:
    """Train ``model`` end to end: minibatch Adam (L2 ``weight_decay`` as in
    ``torch.optim.Adam``) on the mean cross-entropy, ``epochs`` passes over (X, y) in an order
    drawn from ``seed``. Returns the history {"loss", "accuracy"} (per-epoch training means,
    taken during the epoch). The model is moved to ``device`` (default
    :func:`maxent_lib.runtime.get_device`) and left there. A learning rate or a weight decay
    so large that the loss becomes NaN or inf raises ``ValueError`` (training diverged), and one
    beyond float32's range (the parameters' type) is refused before training.
    Introduced in lesson 03.
    """
    dev = get_device(device)
    Xt, yt = _tensors(X, y, model.n_classes, model.in_dim, dev)
    model.to(dev).train()
    return _fit(model._forward, list(model.parameters()), Xt, yt, epochs=epochs, lr=lr,
                batch_size=batch_size, weight_decay=weight_decay, seed=seed, progress=progress,
                desc="training")


@validate(X=_INPUTS, y=Labels(), epochs_per_layer=_TRAINING["epochs"], seed=Seed(),
          **_SHAPE, **{k: c for k, c in _TRAINING.items() if k != "epochs"})
def grow_layerwise(in_dim: int, width: int, depth: int, n_classes: int, X: object, y: object, *,
                   activation: str = "relu", shortcut: bool = False, epochs_per_layer: int = 30,
                   lr: float = 1e-3, batch_size: int = 128, weight_decay: float = 0.0,
                   seed: int = 0, device: str | torch.device | None = None,
                   progress: bool = True) -> MLP:
    """Grow an :class:`MLP` one layer at a time, the recursion of lesson 04 made explicit.

    For l = 1..L: put a fresh temporary softmax head on a fresh layer l, train layer l and the
    head on the mean cross-entropy for ``epochs_per_layer`` epochs with layers 1..l-1 FROZEN,
    then freeze layer l. Layer l therefore solves "make T_l good for a softmax read-out" given the
    features below it (a greedy objective: it cannot know what layers above would need). The
    head of the last layer becomes the model's head. The result has the same architecture as an
    end-to-end net, and starts from the same weights as ``torch.manual_seed(seed); MLP(...)``
    (it seeds torch's global generator so), so the two can be compared directly. Its
    ``growth_history`` holds one training history per layer.
    Introduced in lesson 04.
    """
    dev = get_device(device)
    _check_shape(in_dim, width, depth, n_classes)
    Xt, yt = _tensors(X, y, n_classes, in_dim, dev)
    torch.manual_seed(int(seed))
    model = MLP(in_dim, width, depth, n_classes, activation, shortcut).to(dev)
    histories = []
    for p in model.parameters():
        p.requires_grad_(False)
    for j in progress_bar(range(model.depth), desc="growing layers", enabled=progress):
        head = model.head if j == model.depth - 1 else nn.Linear(model.width, n_classes).to(dev)
        params = [*model.layers[j].parameters(), *head.parameters()]
        for p in params:
            p.requires_grad_(True)
        with torch.no_grad():
            below = Xt
            for k in range(j):
                below = model._layer(k, below)

        def forward(t: torch.Tensor, layer: int = j, h: nn.Module = head) -> torch.Tensor:
            return h(model._layer(layer, t))

        histories.append(_fit(forward, params, below, yt, epochs=epochs_per_layer, lr=lr,
                              batch_size=batch_size, weight_decay=weight_decay, seed=seed + j,
                              progress=progress, desc=f"layer {j + 1}"))
        for p in params:
            p.requires_grad_(False)
    for p in model.parameters():
        p.requires_grad_(True)
    model.growth_history = histories
    return model


def _eval_in_batches(model: MLP, X_arr: np.ndarray, batch_size: int,
                     fn: Callable[[torch.Tensor], list[torch.Tensor]]) -> list[np.ndarray]:
    """Apply ``fn`` (a list of outputs per batch) to ``X`` in eval mode without gradients and
    concatenate each output over the batches, as float64 NumPy arrays."""
    if X_arr.shape[1] != model.in_dim:
        raise ValueError(f"X must have {model.in_dim} columns, got {X_arr.shape[1]}")
    dev = next(model.parameters()).device
    model.eval()
    chunks: list[list[np.ndarray]] = []
    with torch.no_grad():
        for i in range(0, len(X_arr), batch_size):
            xb = torch.tensor(X_arr[i:i + batch_size], dtype=torch.float32, device=dev)
            chunks.append([t.double().cpu().numpy() for t in fn(xb)])
    return [np.concatenate([c[j] for c in chunks]) for j in range(len(chunks[0]))]


@validate(model=Instance((MLP,)), X=_INPUTS, batch_size=Integer(low=1))
def layer_features(model: MLP, X: object, batch_size: int = 4096) -> list[np.ndarray]:
    """[T_1(X), ..., T_L(X)] as float64 NumPy arrays, computed in eval mode without gradients
    (for :func:`maxent_lib.conditions.layerwise_condition_gaps`). Introduced in lesson 03."""
    return _eval_in_batches(model, X, batch_size, lambda xb: model._features(xb))


@validate(model=Instance((MLP,)), X=_INPUTS, batch_size=Integer(low=1))
def predict_proba(model: MLP, X: object, batch_size: int = 4096) -> np.ndarray:
    """The model's P(y | x) = softmax(logits), shape (n, K), float64. Introduced in lesson 04."""
    (probs,) = _eval_in_batches(model, X, batch_size,
                                lambda xb: [torch.softmax(model._forward(xb).double(),
                                                          dim=1)])
    return probs


# ---------------------------------------------------------------- many seeds at once

class StackedMLP(nn.Module):
    """M :class:`MLP` of one shape, one per seed, with their weights stacked as (M, in, out)
    tensors and applied with one batched matrix product per layer (the stacked training of
    :mod:`maxent_lib.ablation.stacked`, for any activation and for layer-wise growth).

    Model m starts from exactly the weights of ``torch.manual_seed(seeds[m]); MLP(...)``, and
    the temporary heads of layer-wise growth from the draws that follow in the same generator, as
    :func:`grow_layerwise` makes them; every model draws its batch order from its own generator
    as :func:`train_classifier` does. Model m's loss depends only on its own weights and Adam is
    elementwise, so training the stack on the sum of the models' mean losses trains each model
    as it would be trained alone (up to floating-point order). :meth:`unstack` returns model m
    as an :class:`MLP`. Introduced in lesson 04.
    """

    @validate(seeds=Items(Seed(), min_len=1), **_SHAPE)
    def __init__(self, in_dim: int, width: int, depth: int, n_classes: int,
                 seeds: list[int] | tuple[int, ...], activation: str = "relu",
                 shortcut: bool = False) -> None:
        super().__init__()
        _check_shape(in_dim, width, depth, n_classes, m=len(seeds))
        self.seeds, self.m = seeds, len(seeds)
        nets, heads = [], []
        for s in seeds:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(s)
                nets.append(MLP(in_dim, width, depth, n_classes, activation, shortcut))
                heads.append([nn.Linear(nets[-1].width, nets[-1].n_classes)
                              for _ in range(nets[-1].depth - 1)])
                if activation == "relu":  # the growth heads read ReLU features, as the head does
                    with torch.no_grad():
                        for h in heads[-1]:
                            h.weight.mul_(math.sqrt(3.0))
                            h.bias.zero_()
        ref = nets[0]
        self.in_dim, self.width, self.depth = ref.in_dim, ref.width, ref.depth
        self.n_classes, self.activation, self.shortcut = ref.n_classes, activation, bool(shortcut)
        self.act = ACTIVATIONS[activation]()

        def stack(mods: list[nn.Linear]) -> tuple[nn.Parameter, nn.Parameter]:
            w = torch.stack([m.weight.detach().T for m in mods])
            b = torch.stack([m.bias.detach()[None, :] for m in mods])
            return nn.Parameter(w.clone()), nn.Parameter(b.clone())

        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for i in range(self.depth):
            w, b = stack([net.layers[i] for net in nets])
            self.weights.append(w)
            self.biases.append(b)
        w, b = stack([net.head for net in nets])
        self.head_weight, self.head_bias = w, b
        # temporary heads of layer-wise growth (layers 1..L-1), not part of the trained model
        self._growth_heads = [stack([h[i] for h in heads]) for i in range(self.depth - 1)]

    @validate(index=Integer(low=0), t=Tensor())
    def layer(self, index: int, t: torch.Tensor) -> torch.Tensor:
        """Hidden layer ``index`` (0-based) of every model on its own input t (M, B, in)."""
        index = check_int(index, "layer index", low=0, high=self.depth - 1)
        t = _check_input(t, self.in_dim if index == 0 else self.width, "t", (3,))
        if t.shape[0] != self.m:
            raise ValueError(f"t must hold one slice per model ({self.m}), got {t.shape[0]}")
        return self._layer(index, t)

    def _layer(self, index: int, t: torch.Tensor) -> torch.Tensor:
        out = self.act(torch.baddbmm(self.biases[index], t, self.weights[index]))
        return t + out if (self.shortcut and index > 0) else out

    @validate(x=Tensor())
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (M, B, K) for inputs (M, B, in_dim), or (B, in_dim) shared by all models."""
        x = _check_input(x, self.in_dim, "x", (2, 3))
        if x.dim() == 3 and x.shape[0] != self.m:
            raise ValueError(f"x must hold one slice per model ({self.m}), got {x.shape[0]}")
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.unsqueeze(0).expand(self.m, -1, -1) if x.dim() == 2 else x
        for i in range(self.depth):
            t = self._layer(i, t)
        return torch.baddbmm(self.head_bias, t, self.head_weight)

    @validate(index=Integer(low=0))
    def unstack(self, index: int) -> MLP:
        """Model ``index`` as a plain :class:`MLP` (a copy, on the CPU)."""
        index = check_int(index, "index", low=0, high=self.m - 1)
        net = MLP(self.in_dim, self.width, self.depth, self.n_classes, self.activation,
                  self.shortcut)
        with torch.no_grad():
            for i, lin in enumerate(net.layers):
                lin.weight.copy_(self.weights[i][index].T)
                lin.bias.copy_(self.biases[i][index, 0])
            net.head.weight.copy_(self.head_weight[index].T)
            net.head.bias.copy_(self.head_bias[index, 0])
        return net


def _stacked_fit(forward: Callable[[torch.Tensor], torch.Tensor], params: list[torch.Tensor],
                 X: torch.Tensor, y: torch.Tensor, seeds: list[int], *, epochs: int, lr: float,
                 batch_size: int, weight_decay: float, progress: bool, desc: str,
                 evaluate: Callable[[], torch.Tensor] | None) -> dict[str, np.ndarray]:
    """Minibatch Adam on sum_m mean CE_m, where model m reads X[order_m[batch]] (its own
    order, from ``torch.Generator().manual_seed(seeds[m])`` as in :func:`_fit_loop`)."""
    M, n = len(seeds), len(y)
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    hist: dict[str, list[np.ndarray]] = {"loss": [], "eval_loss": []}
    rows = torch.arange(M, device=X.device)[:, None]
    for _ in progress_bar(range(epochs), desc=desc, enabled=progress, leave=False):
        order = torch.stack([torch.randperm(n, generator=g) for g in gens]).to(X.device)
        total = torch.zeros(M, dtype=torch.float64, device=X.device)
        for i in range(0, n, batch_size):
            idx = order[:, i:i + batch_size]
            logits = forward(X[rows, idx] if X.dim() == 3 else X[idx])
            per_model = nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y[idx].reshape(-1), reduction="none"
            ).view(M, -1).mean(1)
            opt.zero_grad()
            per_model.sum().backward()
            opt.step()
            total += per_model.detach().double() * idx.shape[1]
        if not bool(torch.isfinite(total).all()):
            raise ValueError(_diverged(len(hist["loss"]) + 1, lr, weight_decay))
        hist["loss"].append((total / n).cpu().numpy())
        if evaluate is not None:
            with torch.no_grad():
                hist["eval_loss"].append(evaluate().double().cpu().numpy())
    return {k: np.stack(v, axis=1) if v else np.empty((M, 0)) for k, v in hist.items()}


def _stacked_data(net: StackedMLP, X: np.ndarray, y: np.ndarray,
                  eval_data: tuple[np.ndarray, np.ndarray] | None,
                  dev: torch.device) -> tuple[torch.Tensor, ...]:
    Xt, yt = _tensors(X, y, net.n_classes, net.in_dim, dev)
    if eval_data is None:
        return Xt, yt, None, None
    Xe, ye = _tensors(eval_data[0], eval_data[1], net.n_classes, net.in_dim, dev)
    return Xt, yt, Xe, ye


def _eval_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    M = logits.shape[0]
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       y.repeat(M), reduction="none").view(M, -1).mean(1)


def _stage_eval(forward: Callable[[torch.Tensor], torch.Tensor], below: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
    return _eval_ce(forward(below), y)


@validate(net=Instance((StackedMLP,)), X=_INPUTS, y=Labels(), eval_data=_EVAL_DATA,
          **_TRAINING)
def train_stacked(net: StackedMLP, X: object, y: object, *, epochs: int = 30, lr: float = 1e-3,
                  batch_size: int = 128, weight_decay: float = 0.0,
                  eval_data: tuple[object, object] | None = None,
                  device: str | torch.device | None = None,
                  progress: bool = True) -> dict[str, np.ndarray]:
    """Train every model of ``net`` end to end, as :func:`train_classifier` trains one (Adam,
    coupled L2 ``weight_decay``, ``epochs`` passes over (X, y) in model m's own order from seed
    ``net.seeds[m]``). Returns per-model histories, arrays of shape (M, epochs): ``loss`` (the
    epoch's mean training CE, taken during the epoch) and ``eval_loss`` (the mean CE on
    ``eval_data`` = (X_eval, y_eval) after each epoch; empty without it). ``net`` is moved to
    ``device`` (default :func:`maxent_lib.runtime.get_device`). Introduced in lesson 04."""
    dev = get_device(device)
    Xt, yt, Xe, ye = _stacked_data(net, X, y, eval_data, dev)
    net.to(dev).train()
    evaluate = None if Xe is None else (lambda: _eval_ce(net._forward(Xe), ye))
    with _small_net_threads(dev, sum(p.numel() for p in net.parameters())):
        return _stacked_fit(net._forward, list(net.parameters()), Xt, yt, net.seeds,
                            epochs=epochs, lr=lr, batch_size=batch_size,
                            weight_decay=weight_decay,
                            progress=progress, desc="training (stacked)", evaluate=evaluate)


@validate(net=Instance((StackedMLP,)), X=_INPUTS, y=Labels(), eval_data=_EVAL_DATA,
          epochs_per_layer=_TRAINING["epochs"],
          **{k: c for k, c in _TRAINING.items() if k != "epochs"})
def grow_layerwise_stacked(net: StackedMLP, X: object, y: object, *, epochs_per_layer: int = 30,
                           lr: float = 1e-3, batch_size: int = 128, weight_decay: float = 0.0,
                           eval_data: tuple[object, object] | None = None,
                           device: str | torch.device | None = None,
                           progress: bool = True) -> dict[str, np.ndarray]:
    """Grow every model of ``net`` one layer at a time, as :func:`grow_layerwise` grows one:
    layer l and a temporary softmax head are trained for ``epochs_per_layer`` epochs on the
    frozen layers below (batch order from seed ``seeds[m] + l - 1``), then frozen; the last
    layer's head is the model's head. Training for ``depth`` x ``epochs_per_layer`` epochs
    makes as many gradient steps as :func:`train_stacked` with ``epochs = depth *
    epochs_per_layer``. Returns histories as :func:`train_stacked`, the stages concatenated
    (shape (M, depth * epochs_per_layer)); ``eval_loss`` is the CE of the current stage's head
    on the layer being trained. Introduced in lesson 04."""
    dev = get_device(device)
    Xt, yt, Xe, ye = _stacked_data(net, X, y, eval_data, dev)
    net.to(dev).train()
    for p in net.parameters():
        p.requires_grad_(False)
    stages = []
    with _small_net_threads(dev, sum(p.numel() for p in net.parameters())):
        for j in range(net.depth):
            if j == net.depth - 1:
                hw, hb = net.head_weight, net.head_bias
            else:
                hw, hb = (nn.Parameter(t.detach().clone().to(dev)) for t in net._growth_heads[j])
            params = [net.weights[j], net.biases[j], hw, hb]
            for p in params:
                p.requires_grad_(True)
            with torch.no_grad():
                below = Xt.unsqueeze(0).expand(net.m, -1, -1)
                below_e = None if Xe is None else Xe.unsqueeze(0).expand(net.m, -1, -1)
                for k in range(j):
                    below = net._layer(k, below)
                    below_e = None if below_e is None else net._layer(k, below_e)

            def forward(t: torch.Tensor, layer: int = j, w: torch.Tensor = hw,
                        b: torch.Tensor = hb) -> torch.Tensor:
                return torch.baddbmm(b, net._layer(layer, t), w)

            evaluate = None if below_e is None else partial(_stage_eval, forward, below_e, ye)

            stages.append(_stacked_fit(
                lambda xb, f=forward: f(xb), params, below, yt, [s + j for s in net.seeds],
                epochs=epochs_per_layer, lr=lr, batch_size=batch_size,
                weight_decay=weight_decay, progress=progress, desc=f"layer {j + 1} (stacked)",
                evaluate=evaluate))
            for p in params:
                p.requires_grad_(False)
    for p in net.parameters():
        p.requires_grad_(True)
    return {k: np.concatenate([s[k] for s in stages], axis=1) for k in ("loss", "eval_loss")}
