"""Evaluation metrics of a classifier's predicted distribution (introduced in lesson 06).

- accuracy, mean cross-entropy (nats) and mean predictive entropy H(p(.|x)) (nats);
- expected calibration error (Naeini et al. 2015; Guo et al. 2017): split the examples into
  ``n_bins`` equal-width bins by confidence ``c_i = max_k p_ik``; with ``B_b`` the examples in bin
  b, ``ECE = sum_b |B_b|/n * |acc(B_b) - conf(B_b)|``, where acc is the fraction correct and conf
  the mean confidence in the bin. 0 means perfectly calibrated confidences; at most 1.

``stacked_metrics`` computes them for M models at once from torch log-probabilities (M, N, K).
"""

from __future__ import annotations

import numpy as np
import torch

from ._checks import (
    check_int,
    check_labels,
    check_log_probabilities,
    check_probabilities,
    check_tensor,
)

__all__ = ["expected_calibration_error", "stacked_metrics"]


def expected_calibration_error(probs: object, y: object, n_bins: int = 15) -> float:
    """ECE of predicted distributions ``probs`` (n, K) against labels ``y`` (n,), with
    ``n_bins`` equal-width confidence bins on (0, 1]. Introduced in lesson 06."""
    n_bins = check_int(n_bins, "n_bins", low=1, high=10**6)
    p = check_probabilities(probs, "probs")
    if p.ndim != 2:
        raise ValueError(f"probs must have shape (n, K), got {p.shape}")
    labels = check_labels(y, p.shape[1])
    if len(labels) != len(p):
        raise ValueError(f"probs has {len(p)} rows but y has {len(labels)}; they must match")
    lp = torch.log(torch.as_tensor(p, dtype=torch.float64).clamp_min(1e-300)).unsqueeze(0)
    return float(stacked_metrics(lp, torch.as_tensor(labels), n_bins)["ece"][0])


@torch.no_grad()
def stacked_metrics(log_probs: torch.Tensor, y: torch.Tensor, n_bins: int = 15
                    ) -> dict[str, np.ndarray]:
    """Accuracy, cross-entropy (``loss``), predictive entropy and ECE of M models at once.

    ``log_probs`` (M, N, K) are log-probabilities, ``y`` (N,) labels. Returns a dict of
    length-M float64 arrays. Raises ``TypeError`` unless both are tensors (``log_probs``
    floating, ``y`` integer), ``ValueError`` on wrong shapes, NaN or +inf, log-probabilities that
    do not normalise (probabilities or logits passed by mistake), or labels out of 0..K-1.
    Introduced in lesson 06."""
    log_probs = check_log_probabilities(log_probs, "log_probs", ndim=3)
    y = check_tensor(y, "y", ndim=1, floating=False)
    n_bins = check_int(n_bins, "n_bins", low=1, high=10**6)
    if log_probs.shape[1] != y.shape[0]:
        raise ValueError(f"need log_probs (M, N, K) and y (N,), got {tuple(log_probs.shape)} "
                         f"and {tuple(y.shape)}")
    lo, hi, k = int(y.min()), int(y.max()), log_probs.shape[2]
    if lo < 0 or hi >= k:
        raise ValueError(f"y has label {lo if lo < 0 else hi}, out of range for {k} classes "
                         f"(0..{k - 1})")
    lp = log_probs.double()
    y = y.to(lp.device).long()
    m, n, _ = lp.shape
    yy = y.view(1, n, 1).expand(m, n, 1)
    nll = -lp.gather(-1, yy).squeeze(-1)
    p = lp.exp()
    ent = -(p * lp).nan_to_num(0.0).sum(-1)
    conf, pred = p.max(-1)
    correct = (pred == y.view(1, n)).double()
    bins = torch.clamp((conf * n_bins).ceil().long() - 1, 0, n_bins - 1)
    cnt = torch.zeros(m, n_bins, dtype=lp.dtype, device=lp.device)
    sum_conf, sum_acc = torch.zeros_like(cnt), torch.zeros_like(cnt)
    cnt.scatter_add_(1, bins, torch.ones_like(conf))
    sum_conf.scatter_add_(1, bins, conf)
    sum_acc.scatter_add_(1, bins, correct)
    ece = (sum_acc - sum_conf).abs().sum(-1) / n
    return {"acc": correct.mean(-1).cpu().numpy(), "loss": nll.mean(-1).cpu().numpy(),
            "entropy": ent.mean(-1).cpu().numpy(), "ece": ece.cpu().numpy()}
