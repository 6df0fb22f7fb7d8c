"""Many flexible probes trained as one stacked model (lessons 03-04).

Measuring the feature conditions with intervals that include the probe's own variability needs
many probe fits: one per layer, per sample split, per seed. Each probe is the flexible read-out of
:class:`maxent_lib.conditions.FlexibleProbe` (logits = A z + b + MLP(z), two SiLU hidden layers,
AdamW, early stopping on a validation part), and M of them are trained at once: weights are
stacked as (M, in, out) tensors and applied with one batched matrix product per layer. Probe m's
loss depends only on probe m's weights, so the gradient of the sum of the M mean losses is each
probe's own gradient, and AdamW is elementwise: one optimiser over the stack is M independent
optimisers. Each probe has its own initialisation generator, batch order and early-stopping
state; training stops when every probe has gone ``patience`` epochs without improving its
validation loss (a probe that stopped keeps its best weights; later epochs do not touch them).

Probes may have different input widths: inputs are zero-padded to the widest, and a padded input
column, zero for every point, receives no gradient (its weights start at 0 and stay there), so a
padded probe computes exactly what the unpadded one would. Introduced in lesson 03.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .._checks import MAX_CLASSES, check_int, check_same_length
from ..runtime import get_device
from ..validation import (
    Array,
    Constraint,
    Device,
    Integer,
    Items,
    Labels,
    Real,
    Seed,
    Tuple,
    validate,
)
from ._common import FEATURES, FRACTION, _float32_inputs, _standardiser

__all__ = ["FlexibleProbe", "StackedProbes"]

#: Inputs are standardised features; beyond this magnitude float32 cannot hold them.
MAX_INPUT = 1e30
#: The probes' inputs (M, n, d), finite, at most :data:`MAX_INPUT` in magnitude.
_INPUTS = Array(ndim=3, max_abs=MAX_INPUT)


#: The settings of :class:`StackedProbes` and their constraints (also what a ``probe`` dict of
#: :func:`maxent_lib.conditions.layerwise_repeated_split_gaps` may give).
SETTINGS: dict[str, Constraint] = {
    "width": Integer(low=1, high=65_536), "weight_decay": Real(low=0.0),
    "lr": Real(low=0.0, low_open=True), "max_epochs": Integer(low=1, high=10**6),
    "patience": Integer(low=1), "min_delta": Real(low=0.0), "device": Device(),
    "threads": Integer(low=1, high=1024)}


def _init(gens: Sequence[torch.Generator], fan_in: Sequence[int], shape: tuple[int, int],
          padded: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-probe U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights (M, in, out) and biases (M, 1, out),
    torch's default for ``nn.Linear``; rows beyond a probe's own input width are zero."""
    ws, bs = [], []
    for g, f in zip(gens, fan_in, strict=True):
        bound = 1.0 / math.sqrt(f)
        rows = f if padded else shape[0]
        w = torch.zeros(shape, dtype=torch.float64)
        w[:rows] = (torch.rand((rows, shape[1]), generator=g, dtype=torch.float64) * 2 - 1) * bound
        ws.append(w)
        bs.append((torch.rand((1, shape[1]), generator=g, dtype=torch.float64) * 2 - 1) * bound)
    return torch.stack(ws), torch.stack(bs)


class StackedProbes:
    """M flexible probes q_m(y | z) = softmax(A_m z + b_m + MLP_m(z)), trained together.

    ``fit`` takes standardised inputs already split per probe: ``Z_fit`` (M, n_fit, d),
    ``Z_val`` (M, n_val, d) (probe m's columns beyond ``in_dims[m]`` must be zero), labels of
    matching shapes, and one seed per probe. Training: AdamW (``lr``, ``weight_decay``) on
    mini-batches of ``clip(n_fit // 10, 64, 256)`` points in an order drawn from the probe's seed;
    after every epoch each probe's mean CE on its validation part; an epoch counts as an
    improvement when it lowers the probe's best validation CE by more than ``min_delta`` nats,
    and a probe stops after ``patience`` epochs without one; the weights of each probe's best
    epoch are kept. Deterministic for given seeds.
    After ``fit``: ``val_loss_`` (M,), ``best_epoch_`` (M,), ``n_epochs_``.

    On the CPU it runs with ``threads`` torch threads (default 1: small matrices, and a second
    thread mostly contends on a busy machine). Introduced in lesson 03.
    """

    @validate(**SETTINGS)
    def __init__(self, width: int = 64, weight_decay: float = 1e-4, lr: float = 3e-3,
                 max_epochs: int = 200, patience: int = 10, min_delta: float = 1e-4,
                 device: str | torch.device | None = None, threads: int = 1) -> None:
        self.width, self.weight_decay, self.lr = int(width), float(weight_decay), float(lr)
        self.max_epochs, self.patience = int(max_epochs), int(patience)
        self.min_delta = float(min_delta)
        self.device = get_device(device)
        self.threads = int(threads)

    # ------------------------------------------------------------------ the stacked network
    def _logits(self, z: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
        a_w, a_b, w1, b1, w2, b2, w3, b3 = params
        act = torch.nn.functional.silu
        h = act(torch.baddbmm(b1, z, w1))
        h = act(torch.baddbmm(b2, h, w2))
        return torch.baddbmm(b3, h, w3) + torch.baddbmm(a_b, z, a_w)

    def _check(self, Z_arr: np.ndarray, y_arr: np.ndarray, name: str, M: int | None = None,
               d: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The relations of checked inputs and labels: shapes that match."""
        if y_arr.shape != Z_arr.shape[:2]:
            raise ValueError(f"labels for {name} must have shape {Z_arr.shape[:2]}, "
                             f"got {y_arr.shape}")
        if M is not None and Z_arr.shape[0] != M:
            raise ValueError(f"{name} must hold {M} probes (first axis), got {Z_arr.shape[0]}")
        if d is not None and Z_arr.shape[2] != d:
            raise ValueError(f"{name} must have {d} columns, got {Z_arr.shape[2]}")
        return Z_arr, y_arr

    @validate(Z_fit=_INPUTS, y_fit=Labels(n_classes="n_classes", ndim=2), Z_val=_INPUTS,
              y_val=Labels(n_classes="n_classes", ndim=2),
              n_classes=Integer(low=2, high=MAX_CLASSES), seeds=Items(Seed(), min_len=1),
              in_dims=Items(Integer(low=1), optional=True),
              affine_init=Tuple((Array(ndim=3), Array(ndim=2)), ("affine_init W",
                                                                 "affine_init b"),
                                optional=True))
    def fit(self, Z_fit: np.ndarray, y_fit: np.ndarray, Z_val: np.ndarray, y_val: np.ndarray,
            n_classes: int, seeds: Sequence[int], in_dims: Sequence[int] | None = None,
            affine_init: tuple[np.ndarray, np.ndarray] | None = None) -> StackedProbes:
        """Train the M probes; returns ``self``.

        ``affine_init`` = (W, b) with W of shape (M, d, K) and b of shape (M, K) (e.g. softmax
        regressions fitted on the same points) starts each probe's affine part at W, b and its
        MLP's output layer at zero, so every probe starts as that linear model and learns only
        the non-linear correction (fewer epochs, and no excess where the linear model is already
        right). Without it every layer starts at torch's default initialisation.

        Raises ``ValueError`` on bad shapes, NaN/inf, labels out of range, fewer than 2 fitting
        or validation points, seeds that are not one non-negative integer per probe, or
        non-zero padding (columns beyond a probe's ``in_dims``)."""
        self.n_classes_ = n_classes
        Zf, yf = self._check(Z_fit, y_fit, "Z_fit")
        M, n_fit, d = Zf.shape
        Zv, yv = self._check(Z_val, y_val, "Z_val", M, d)
        if n_fit < 2 or Zv.shape[1] < 2:
            raise ValueError("each probe needs at least 2 fitting and 2 validation points")
        if len(seeds) != M:
            raise ValueError(f"seeds must hold {M} non-negative integers (one per probe), got "
                             f"{len(seeds)}")
        dims = [d] * M if in_dims is None else [check_int(k, "in_dims", low=1, high=d)
                                                for k in in_dims]
        if len(dims) != M:
            raise ValueError(f"in_dims must hold {M} widths between 1 and {d}, got {len(dims)}")
        init = None
        if affine_init is not None:
            W0, b0 = affine_init
            if W0.shape != (M, d, self.n_classes_) or b0.shape != (M, self.n_classes_):
                raise ValueError(f"affine_init must be W of shape {(M, d, self.n_classes_)} and "
                                 f"b of shape {(M, self.n_classes_)}, got {W0.shape}, {b0.shape}")
            init = (W0, b0)
        for m, k in enumerate(dims):  # padding changes nothing only if the padding is zero
            if np.any(Zf[m, :, k:]) or np.any(Zv[m, :, k:]) or (
                    init is not None and np.any(init[0][m, k:])):
                raise ValueError(f"probe {m} has in_dims[{m}] = {k}: its columns of Z_fit and "
                                 f"Z_val (and rows of affine_init W) beyond {k} must be zero")
        threads = torch.get_num_threads()
        if self.device.type == "cpu":
            torch.set_num_threads(self.threads)
        try:
            self._train(Zf, yf, Zv, yv, seeds, dims, init)
        finally:
            torch.set_num_threads(threads)
        self.n_features_in_, self.m_ = d, M
        return self

    def _train(self, Zf: np.ndarray, yf: np.ndarray, Zv: np.ndarray, yv: np.ndarray,
               seeds: list[int], dims: list[int],
               init: tuple[np.ndarray, np.ndarray] | None) -> None:
        M, n_fit, d = Zf.shape
        K, w, dev = self.n_classes_, self.width, self.device
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        shapes = [((d, K), dims, True), ((d, w), dims, True), ((w, w), [w] * M, False),
                  ((w, K), [w] * M, False)]
        raw = [_init(gens, fan, shape, pad) for shape, fan, pad in shapes]
        if init is not None:
            raw[0] = (torch.as_tensor(init[0]), torch.as_tensor(init[1])[:, None, :])
            raw[3] = (torch.zeros_like(raw[3][0]), torch.zeros_like(raw[3][1]))
        params = [t.to(dev, torch.float32).requires_grad_(True) for pair in raw for t in pair]
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay, foreach=True)
        Xf = torch.tensor(Zf, dtype=torch.float32, device=dev)
        Yf = torch.tensor(yf, device=dev)
        Xv = torch.tensor(Zv, dtype=torch.float32, device=dev)
        Yv = torch.tensor(yv, device=dev)
        batch = int(np.clip(n_fit // 10, 64, 256))
        batch = min(batch, n_fit)
        rows = torch.arange(M, device=dev)[:, None]
        orders = [np.random.default_rng([s, 7]) for s in seeds]
        best = torch.full((M,), math.inf, dtype=torch.float64, device=dev)
        best_epoch = torch.zeros(M, dtype=torch.long, device=dev)
        bad = torch.zeros(M, dtype=torch.long, device=dev)
        best_params = [p.detach().clone() for p in params]
        epoch = 0
        for epoch in range(1, self.max_epochs + 1):
            order = torch.as_tensor(np.stack([r.permutation(n_fit) for r in orders]), device=dev)
            for i in range(0, n_fit, batch):
                idx = order[:, i:i + batch]
                logits = self._logits(Xf[rows, idx], params)
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, K), Yf[rows, idx].reshape(-1), reduction="none"
                ).view(M, -1).mean(1).sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            with torch.no_grad():
                v = torch.nn.functional.cross_entropy(
                    self._logits(Xv, params).reshape(-1, K), Yv.reshape(-1), reduction="none"
                ).view(M, -1).mean(1).double()
                improved = (v < best - self.min_delta) & (bad < self.patience)
                best = torch.where(improved, v, best)
                best_epoch = torch.where(improved, torch.full_like(best_epoch, epoch), best_epoch)
                bad = torch.where(improved, torch.zeros_like(bad), bad + 1)
                for bp, p in zip(best_params, params, strict=True):
                    mask = improved.view(M, *([1] * (p.dim() - 1)))
                    bp.copy_(torch.where(mask, p.detach(), bp))
            if bool(torch.all(bad >= self.patience)):
                break
        self.params_ = best_params
        self.val_loss_ = best.cpu().numpy()
        self.best_epoch_ = best_epoch.cpu().numpy()
        self.n_epochs_ = epoch

    @validate(Z=_INPUTS)
    def predict_log_proba(self, Z: np.ndarray) -> np.ndarray:
        """log q_m(y | z) for inputs (M, n, d) (probe m reads Z[m]); shape (M, n, K), float64."""
        if not hasattr(self, "params_"):
            raise ValueError("these StackedProbes are not fitted yet; call fit first")
        Z_arr = Z
        if Z_arr.shape[0] != self.m_ or Z_arr.shape[2] != self.n_features_in_:
            raise ValueError(f"Z must have shape ({self.m_}, n, {self.n_features_in_}), "
                             f"got {Z_arr.shape}")
        z = torch.tensor(Z_arr, dtype=torch.float32, device=self.device)
        with torch.no_grad():
            logits = self._logits(z, self.params_).double()
        return torch.log_softmax(logits, dim=-1).cpu().numpy()


class FlexibleProbe:
    """The flexible read-out q(y | t) used to measure the feature conditions: logits =
    A z + b + MLP(z) on standardised features z, where the MLP has two SiLU hidden layers of
    ``width`` units. The affine part means the probe contains softmax regression, and the MLP adds
    any smooth non-linear log-odds.

    Training (deterministic for a given ``seed``): AdamW (``lr``, ``weight_decay``) on minibatches
    of about a tenth of the fitting set (64-256 points), on ``1 - val_fraction`` of the training
    split; after every epoch the mean CE on the held-out ``val_fraction`` is computed, and
    training stops after ``patience`` epochs without improvement. The weights of the best epoch are
    kept (no refit). It runs on the CPU with one thread: for nets this small that is the fastest
    choice, about 1 ms a step (1-2 s for n = 2000-4000, d <= 64).

    On the 2-D tasks of :mod:`maxent_lib.data` with 2000 training points its test CE is within
    about 0.01 nats of the Bayes CE (measured in lesson 03 and tests/test_conditions.py).
    Introduced in lesson 03.
    """

    @validate(width=Integer(low=1, high=65_536), weight_decay=Real(low=0.0),
              lr=Real(low=0.0, low_open=True), max_epochs=Integer(low=1, high=10**6),
              patience=Integer(low=1), val_fraction=FRACTION, seed=Seed())
    def __init__(self, width: int = 64, weight_decay: float = 1e-4, lr: float = 3e-3,
                 max_epochs: int = 300, patience: int = 20, val_fraction: float = 0.2,
                 seed: int = 0) -> None:
        self.width, self.weight_decay, self.lr = int(width), float(weight_decay), float(lr)
        self.max_epochs, self.patience = int(max_epochs), int(patience)
        self.val_fraction, self.seed = float(val_fraction), int(seed)

    def _net(self, d: int, K: int) -> torch.nn.ModuleDict:
        w = self.width
        mlp = torch.nn.Sequential(torch.nn.Linear(d, w), torch.nn.SiLU(), torch.nn.Linear(w, w),
                                  torch.nn.SiLU(), torch.nn.Linear(w, K))
        return torch.nn.ModuleDict({"affine": torch.nn.Linear(d, K), "mlp": mlp})

    def _logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.net_["affine"](z) + self.net_["mlp"](z)

    @validate(T=FEATURES, y=Labels(n_classes="n_classes"),
              n_classes=Integer(low=2, high=MAX_CLASSES, optional=True))
    def fit(self, T: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> FlexibleProbe:
        """Fit on features ``T`` (n, d) and labels ``y``; returns ``self``. Sets
        ``best_epoch_``, ``n_epochs_`` and ``val_loss_`` (held-out CE of the kept weights)."""
        T_arr, y_arr = T, y
        check_same_length("T", T_arr, "y", y_arr)
        K = int(n_classes) if n_classes is not None else int(y_arr.max()) + 1
        n = len(y_arr)
        n_val = int(round(self.val_fraction * n))
        if n_val < 2 or n - n_val < 2:
            raise ValueError(f"{n} training points are too few for a held-out part; need >= 10")
        self.mu_, self.sd_ = _standardiser(T_arr)
        Z = _float32_inputs((T_arr - self.mu_) / self.sd_, "T")
        rng = np.random.default_rng(self.seed)
        perm = rng.permutation(n)
        val, fit = perm[:n_val], perm[n_val:]
        batch = int(np.clip(len(fit) // 10, 64, 256))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                self.net_ = self._net(T_arr.shape[1], K)
                gen = torch.Generator().manual_seed(self.seed)
                self._train(Z, y_arr, fit, val, batch, gen)
        finally:
            torch.set_num_threads(threads)
        self.n_classes_, self.n_features_in_ = K, T_arr.shape[1]
        return self

    def _train(self, Z: np.ndarray, y: np.ndarray, fit: np.ndarray, val: np.ndarray,
               batch: int, gen: torch.Generator) -> None:
        Xf = torch.tensor(Z[fit], dtype=torch.float32)
        yf = torch.tensor(y[fit])
        Xv = torch.tensor(Z[val], dtype=torch.float32)
        yv = torch.tensor(y[val])
        params = list(self.net_.parameters())
        opt = torch.optim.AdamW(params, lr=self.lr, weight_decay=self.weight_decay)
        ce = torch.nn.functional.cross_entropy
        best, best_state, best_epoch, bad, epoch = np.inf, None, 0, 0, 0
        for epoch in range(1, self.max_epochs + 1):
            order = torch.randperm(len(fit), generator=gen)
            for i in range(0, len(fit), batch):
                b = order[i:i + batch]
                loss = ce(self._logits(Xf[b]), yf[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
            with torch.no_grad():
                v = float(ce(self._logits(Xv), yv))
            if v < best - 1e-5:
                best, best_epoch, bad = v, epoch, 0
                best_state = [p.detach().clone() for p in params]
            else:
                bad += 1
                if bad >= self.patience:
                    break
        with torch.no_grad():
            for p, s in zip(params, best_state or [], strict=False):
                p.copy_(s)
        self.best_epoch_, self.n_epochs_, self.val_loss_ = best_epoch, epoch, best

    @validate(T=FEATURES)
    def predict_log_proba(self, T: np.ndarray) -> np.ndarray:
        """log q(y | t), shape (n, K), float64."""
        if not hasattr(self, "net_"):
            raise ValueError("this FlexibleProbe is not fitted yet; call fit(T, y) first")
        T_arr = T
        if T_arr.shape[1] != self.n_features_in_:
            raise ValueError(f"T must have {self.n_features_in_} columns (as in fit), "
                             f"got {T_arr.shape[1]}")
        z = torch.tensor(_float32_inputs((T_arr - self.mu_) / self.sd_, "T"),
                         dtype=torch.float32)
        with torch.no_grad():
            logits = self._logits(z).double()
        return torch.log_softmax(logits, dim=1).numpy()

    @validate(T=FEATURES)
    def predict_proba(self, T: np.ndarray) -> np.ndarray:
        """q(y | t), shape (n, K)."""
        return np.exp(self.predict_log_proba(T))
