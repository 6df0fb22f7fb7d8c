"""Answer checks for lesson 04 (the DNN as a recursive max-ent solution). Worked answers:
``notebooks/solutions/04_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
import torch

from ..models import MLP
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder

__all__ = ["check_residual_layer", "check_softmax_from_sigmoid"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -z))


def check_softmax_from_sigmoid(w: np.ndarray, c: float, answer: object) -> Feedback:
    """Exercise 1: given a sigmoid unit sigma(w.t + c), parameters (W, b) of a 2-class softmax
    regression, W of shape (2, m) and b of shape (2,), with softmax(W t + b)_1 = sigma(w.t + c)
    for every t. Any such (W, b) is accepted (the softmax is shift-invariant)."""
    w = np.asarray(w, dtype=float)
    m = len(w)
    ex = exercise(
        "Lesson 04, exercise 1", f"give a tuple (W, b): W of shape (2, {m}) and b of shape (2,).",
        hints=["write softmax(W t + b)_1 for two classes: only the difference of the two class "
               "scores matters.",
               "softmax over two classes is sigma(score_1 - score_0), so you need rows with "
               "w_1 - w_0 = w and b_1 - b_0 = c.",
               "for example W = np.stack([np.zeros_like(w), w]) and b = np.array([0.0, c])."],
        success="softmax(W t + b)_1 = sigma((w_1 - w_0).t + b_1 - b_0): the sigmoid unit is the "
                "binary max-ent model on t.")
    try:
        if is_placeholder(answer):
            return ex.not_answered()
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            return Feedback(ex.name, False, f"return a tuple (W, b), not {type(answer).__name__}. "
                                            f"{ex.task}")
        W, b = (as_numbers(part) for part in answer)
        for part, what in ((W, "W"), (b, "b")):
            if isinstance(part, str):
                return Feedback(ex.name, False, f"{what}: {part}. {ex.task}")
        if W.shape == (m, 2) and b.shape == (2,) and m != 2:
            return ex.wrong(f"W has one row per class: shape (2, {m}), not ({m}, 2); transpose "
                            "it.", np.append(W.ravel(), b))
        if W.shape == (m,) or b.shape == ():
            return Feedback(ex.name, False, "that looks like the sigmoid's own (w, c): softmax "
                                            f"regression needs one row per class, W (2, {m}) and "
                                            "b (2,).")
        if W.shape != (2, m) or b.shape != (2,):
            return Feedback(ex.name, False, f"W must have shape (2, {m}) and b shape (2,), got "
                                            f"{W.shape} and {b.shape}.")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            return Feedback(ex.name, False, "W or b contains NaN or inf: part of it is still the "
                                            "placeholder.")
        key = np.append(W.ravel(), b)
        t = np.random.default_rng(0).normal(size=(200, m)) * 3
        scores = t @ W.T + b
        p1 = _sigmoid(scores[:, 1] - scores[:, 0])
        want = _sigmoid(t @ w + c)
        dw, db = W[1] - W[0], b[1] - b[0]
        if np.allclose(p1, want, rtol=1e-8, atol=1e-10):
            return ex.right()
        if np.allclose(p1, 1 - want, rtol=1e-8, atol=1e-10):
            return ex.wrong("you modelled class 0 with the sigmoid: swap the two rows (and the "
                            "two entries of b).", key)
        if np.allclose(dw, 2 * w) and np.isclose(db, 2 * c):
            return ex.wrong("the rows differ by 2w (and b by 2c): with a symmetric choice, use "
                            "-w/2 and +w/2.", key)
        if np.allclose(dw, w):
            return ex.wrong("W is right, but b_1 - b_0 must equal c.", key)
        if np.isclose(db, c):
            return ex.hint(key, "b is right, but the rows of W must differ by w (w_1 - w_0 = w).")
        return ex.hint(key)
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")


def check_residual_layer(net: MLP, t_prev: np.ndarray, answer: object) -> Feedback:
    """Exercise 2: the output of the residual layer 2 (index 1) of ``net`` on the features
    ``t_prev`` of layer 1, computed by hand from ``net.layers[1]``'s weight and bias."""
    t = np.asarray(t_prev, dtype=np.float64)
    ex = exercise(
        "Lesson 04, exercise 2", f"give T_2, an array of shape {t.shape} (one row per input).",
        hints=["a residual layer adds a correction to its input: T_2 = T_1 + g(A T_1 + c).",
               "A = net.layers[1].weight (shape out x in) and c its bias; with one input per row, "
               "A T_1 is t_prev @ A.T; g is the net's activation.",
               "t_prev + np.tanh(t_prev @ A.T + c), with A and c from net.layers[1] "
               "(.detach().numpy())."],
        success="the residual layer keeps T_1 and adds a correction, so it cannot lose what "
                "T_1 knows about Y unless the correction cancels it (lesson 05).")
    try:
        with torch.no_grad():
            expected = net.layer(1, torch.tensor(t, dtype=torch.float32)).double().numpy()
            A = net.layers[1].weight.detach().double().numpy()
            c = net.layers[1].bias.detach().double().numpy()
            act = net.act
        g = lambda z: act(torch.tensor(z)).numpy()  # noqa: E731 - the net's own activation
        mistakes = [
            Mistake("that is g(A T_1 + c) alone: the residual layer adds the shortcut term T_1.",
                    value=g(t @ A.T + c), rtol=1e-4, atol=1e-5),
            Mistake("A is stored as (out, in): with one input per row use t_prev @ A.T, not "
                    "t_prev @ A.", value=t + g(t @ A + c), rtol=1e-4, atol=1e-5),
            Mistake("the bias c is missing inside the activation.", value=t + g(t @ A.T),
                    rtol=1e-4, atol=1e-5),
            Mistake("the activation is missing: T_2 = T_1 + g(A T_1 + c) with g = "
                    f"{net.activation}.", value=t + t @ A.T + c, rtol=1e-4, atol=1e-5),
        ]
        if net.activation != "relu":
            mistakes.append(Mistake(f"this net's activation is {net.activation}, not ReLU.",
                                    value=t + np.maximum(t @ A.T + c, 0), rtol=1e-4, atol=1e-5))
    except Exception as exc:  # noqa: BLE001 - a net that cannot be read: still answer
        return Feedback(ex.name, False, f"the exercise's net could not be read ({exc}).")
    return check(ex, answer, expected, mistakes=mistakes, rtol=1e-4, atol=1e-5)
