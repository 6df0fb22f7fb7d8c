"""Answer checks for lesson 04 (the DNN as a recursive max-ent solution). Worked answers:
``notebooks/solutions/04_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
import torch

from ..models import MLP
from . import Feedback, check_close, is_placeholder

__all__ = ["check_residual_layer", "check_softmax_from_sigmoid"]


def check_softmax_from_sigmoid(w: np.ndarray, c: float, answer: object) -> Feedback:
    """Exercise 1: given a sigmoid unit sigma(w.t + c), parameters (W, b) of a 2-class softmax
    regression, W of shape (2, m) and b of shape (2,), with softmax(W t + b)_1 = sigma(w.t + c)
    for every t. Any such (W, b) is accepted (the softmax is shift-invariant)."""
    name = "Lesson 04, exercise 1"
    if not isinstance(answer, tuple) or len(answer) != 2:
        return Feedback(name, False, "return a tuple (W, b) with W of shape (2, m) and b of "
                                     "shape (2,).")
    W, b = answer
    if is_placeholder(W) or is_placeholder(b):
        return Feedback(name, None, "replace the placeholders with your (W, b). Hint: only the "
                                    "difference of the two class scores matters.")
    W, b = np.asarray(W, float), np.asarray(b, float)
    w = np.asarray(w, float)
    if W.shape != (2, len(w)) or b.shape != (2,):
        return Feedback(name, False, f"W must have shape (2, {len(w)}) and b shape (2,), got "
                                     f"{W.shape} and {b.shape}.")
    t = np.random.default_rng(0).normal(size=(200, len(w))) * 3
    scores = t @ W.T + b
    p1 = np.exp(scores[:, 1] - np.logaddexp(scores[:, 0], scores[:, 1]))
    want = 1 / (1 + np.exp(-(t @ w + c)))
    if np.allclose(p1, want, rtol=1e-8, atol=1e-10):
        return Feedback(name, True, "softmax(W t + b)_1 = sigma((w_1 - w_0).t + b_1 - b_0): the "
                                    "sigmoid unit is the binary max-ent model on t.")
    if np.allclose(p1, 1 - want, rtol=1e-8, atol=1e-10):
        return Feedback(name, False, "you modelled class 0 with the sigmoid: swap the two rows.")
    return Feedback(name, False, "softmax over two classes is sigma(score_1 - score_0); choose "
                                 "rows with w_1 - w_0 = w and b_1 - b_0 = c (e.g. row 0 all zero).")


def check_residual_layer(net: MLP, t_prev: np.ndarray, answer: object) -> Feedback:
    """Exercise 2: the output of the residual layer 2 (index 1) of ``net`` on the features
    ``t_prev`` of layer 1, computed by hand from ``net.layers[1]``'s weight and bias."""
    with torch.no_grad():
        expected = net.layer(1, torch.tensor(np.asarray(t_prev), dtype=torch.float32))
    return check_close(
        "Lesson 04, exercise 2", answer, expected.double().numpy(), rtol=1e-4, atol=1e-5,
        hint="T_2 = T_1 + g(T_1 A^T + c): A = net.layers[1].weight (out x in), c = its bias, "
             "g the activation; do not forget the shortcut term T_1.",
        success="the residual layer keeps T_1 and adds a correction, so it cannot lose what "
                "T_1 knows about Y unless the correction cancels it (lesson 05).")
