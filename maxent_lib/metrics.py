"""Evaluation metrics of a classifier's predicted distribution (introduced in lesson 06).

- accuracy, mean cross-entropy (nats) and mean predictive entropy H(p(.|x)) (nats);
- expected calibration error (Naeini et al. 2015; Guo et al. 2017): split the examples into
  ``n_bins`` equal-width bins by confidence ``c_i = max_k p_ik``; with ``B_b`` the examples in bin
  b, ``ECE = sum_b |B_b|/n * |acc(B_b) - conf(B_b)|``, where acc is the fraction correct and conf
  the mean confidence in the bin. 0 means perfectly calibrated confidences; at most 1.

``stacked_metrics`` computes them for M models at once from torch log-probabilities (M, N, K).

Temperature scaling (Guo et al. 2017): one temperature T per model, fitted on a validation split
by minimising the cross-entropy of ``softmax(z / T)``, rescales the confidences without changing
a single prediction (the argmax of z / T is the argmax of z). A lower test cross-entropy that
one temperature also gives is calibration, not better generalisation (lesson 06).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._checks import check_labels, check_number
from .validation import (
    Array,
    Integer,
    Labels,
    LogProbabilities,
    Probabilities,
    Real,
    Tensor,
    validate,
)

__all__ = ["apply_temperature", "expected_calibration_error", "fit_temperature",
           "per_model_metrics", "stacked_metrics"]


@validate(probs=Probabilities(ndim=2), y=Labels(), n_bins=Integer(low=1, high=10**6))
def expected_calibration_error(probs: object, y: object, n_bins: int = 15) -> float:
    """ECE of predicted distributions ``probs`` (n, K) against labels ``y`` (n,), with
    ``n_bins`` equal-width confidence bins on (0, 1]. Introduced in lesson 06."""
    p = probs
    labels = check_labels(y, p.shape[1])
    if len(labels) != len(p):
        raise ValueError(f"probs has {len(p)} rows but y has {len(labels)}; they must match")
    lp = torch.log(torch.as_tensor(p, dtype=torch.float64).clamp_min(1e-300)).unsqueeze(0)
    return float(stacked_metrics(lp, torch.as_tensor(labels), n_bins)["ece"][0])


@validate(log_probs=LogProbabilities(ndim=3), y=Tensor(ndim=1, floating=False),
          n_bins=Integer(low=1, high=10**6))
@torch.no_grad()
def stacked_metrics(log_probs: torch.Tensor, y: torch.Tensor, n_bins: int = 15
                    ) -> dict[str, np.ndarray]:
    """Accuracy, cross-entropy (``loss``), predictive entropy and ECE of M models at once.

    ``log_probs`` (M, N, K) are log-probabilities, ``y`` (N,) labels. Returns a dict of
    length-M float64 arrays. Raises ``TypeError`` unless both are tensors (``log_probs``
    floating, ``y`` integer), ``ValueError`` on wrong shapes, NaN or +inf, log-probabilities that
    do not normalise (probabilities or logits passed by mistake), or labels out of 0..K-1.
    Introduced in lesson 06."""
    if log_probs.shape[1] != y.shape[0]:
        raise ValueError(f"need log_probs (M, N, K) and y (N,), got {tuple(log_probs.shape)} "
                         f"and {tuple(y.shape)}")
    lo, hi, k = int(y.min()), int(y.max()), log_probs.shape[2]
    if lo < 0 or hi >= k:
        raise ValueError(f"y has label {lo if lo < 0 else hi}, out of range for {k} classes "
                         f"(0..{k - 1})")
    m, n, _ = log_probs.shape
    return _metrics_core(log_probs, y.view(1, n).expand(m, n), n_bins)


@validate(log_probs=LogProbabilities(ndim=3), y=Tensor(ndim=2, floating=False),
          n_bins=Integer(low=1, high=10**6))
@torch.no_grad()
def per_model_metrics(log_probs: torch.Tensor, y: torch.Tensor, n_bins: int = 15
                      ) -> dict[str, np.ndarray]:
    """:func:`stacked_metrics` when every model has its own labels: ``log_probs`` (M, N, K)
    and ``y`` (M, N), e.g. each model on its own training subset or validation split.
    Introduced in lesson 06."""
    if tuple(y.shape) != tuple(log_probs.shape[:2]):
        raise ValueError(f"need log_probs (M, N, K) and y (M, N), got {tuple(log_probs.shape)} "
                         f"and {tuple(y.shape)}")
    lo, hi, k = int(y.min()), int(y.max()), log_probs.shape[2]
    if lo < 0 or hi >= k:
        raise ValueError(f"y has label {lo if lo < 0 else hi}, out of range for {k} classes "
                         f"(0..{k - 1})")
    return _metrics_core(log_probs, y, n_bins)


def _metrics_core(log_probs: torch.Tensor, y: torch.Tensor, n_bins: int
                  ) -> dict[str, np.ndarray]:
    """The maths of :func:`stacked_metrics` for checked inputs, ``y`` of shape (M, N)."""
    lp = log_probs.double()
    y = y.to(lp.device).long()
    m, n, _ = lp.shape
    nll = -lp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
    p = lp.exp()
    ent = -(p * lp).nan_to_num(0.0).sum(-1)
    conf, pred = p.max(-1)
    correct = (pred == y).double()
    bins = torch.clamp((conf * n_bins).ceil().long() - 1, 0, n_bins - 1)
    cnt = torch.zeros(m, n_bins, dtype=lp.dtype, device=lp.device)
    sum_conf, sum_acc = torch.zeros_like(cnt), torch.zeros_like(cnt)
    cnt.scatter_add_(1, bins, torch.ones_like(conf))
    sum_conf.scatter_add_(1, bins, conf)
    sum_acc.scatter_add_(1, bins, correct)
    ece = (sum_acc - sum_conf).abs().sum(-1) / n
    return {"acc": correct.mean(-1).cpu().numpy(), "loss": nll.mean(-1).cpu().numpy(),
            "entropy": ent.mean(-1).cpu().numpy(), "ece": ece.cpu().numpy()}


@validate(log_probs=LogProbabilities(ndim=3), y=Tensor(floating=False),
          low=Real(low=0.0, low_open=True), high=Real(low=0.0, low_open=True),
          iterations=Integer(low=1, high=10_000))
@torch.no_grad()
def fit_temperature(log_probs: torch.Tensor, y: torch.Tensor, low: float = 1e-2,
                    high: float = 1e2, iterations: int = 60) -> np.ndarray:
    """One temperature per model minimising the mean cross-entropy of ``softmax(z / T)`` on
    held-out data: ``log_probs`` (M, N, K) (log-softmax of the logits z, which has the same
    softmax at every temperature), labels ``y`` (N,) or (M, N). Returns T as a length-M array.

    With ``b = 1 / T`` the loss ``L(b) = mean_i [logsumexp_k(b z_ik) - b z_iy]`` is convex, with
    derivative ``L'(b) = mean_i [E_{p_b}[z_i] - z_iy]``; ``b`` is found by bisection of ``L'`` on
    ``[1/high, 1/low]`` in log space to about 1e-15 relative width, and clipped to that range
    when the minimum lies outside (e.g. separable held-out data: T -> 0). Introduced in lesson 06.
    """
    lp = log_probs.double()
    m, n, k = lp.shape
    if y.dim() == 1:
        y = y.view(1, -1).expand(m, -1)
    if tuple(y.shape) != (m, n):
        raise ValueError(f"y must have shape (N,) or (M, N) = ({m}, {n}), got {tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= k:
        raise ValueError(f"y holds labels out of range for {k} classes")
    high = check_number(high, "high", low=low, low_open=True)  # above low
    z = lp.clamp_min(-1e4)  # -inf log-probabilities (p = 0) stay finite
    zy = z.gather(-1, y.to(z.device).long().unsqueeze(-1)).squeeze(-1)

    def slope(b: torch.Tensor) -> torch.Tensor:
        p = torch.softmax(b.view(m, 1, 1) * z, dim=-1)
        return ((p * z).sum(-1) - zy).mean(-1)

    lo = torch.full((m,), math.log(1.0 / high), dtype=torch.float64, device=z.device)
    hi = torch.full((m,), math.log(1.0 / low), dtype=torch.float64, device=z.device)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        up = slope(mid.exp()) > 0  # past the minimum: move the upper end
        hi = torch.where(up, mid, hi)
        lo = torch.where(up, lo, mid)
    return (1.0 / ((lo + hi) / 2).exp()).cpu().numpy()


@validate(log_probs=LogProbabilities(ndim=3), temperature=Array(ndim=1, low=0.0, low_open=True))
def apply_temperature(log_probs: torch.Tensor, temperature: np.ndarray | torch.Tensor
                      ) -> torch.Tensor:
    """``log_softmax(log_probs / T_m)`` for every model m: log-probabilities (M, N, K) at the
    temperatures ``T`` (M,). Introduced in lesson 06."""
    t = torch.as_tensor(temperature, device=log_probs.device)
    if t.shape[0] != log_probs.shape[0]:
        raise ValueError(f"temperature must hold one positive number per model "
                         f"({log_probs.shape[0]}), got {t.tolist()}")
    return torch.log_softmax(log_probs.double().clamp_min(-1e4) / t.view(-1, 1, 1), dim=-1)
