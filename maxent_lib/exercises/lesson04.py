"""Answer checks for lesson 04 (the DNN as a recursive max-ent solution). Worked answers:
``notebooks/solutions/04_solutions.ipynb``."""

from __future__ import annotations

import numpy as np
import torch

from ..data import SyntheticTask
from ..models import MLP, layer_features
from ..softmax import SoftmaxRegression
from . import Feedback, Mistake, as_numbers, check, exercise, is_placeholder, scalar

#: Exercise 2's penalty of the linear read-out: none, the max-ent read-out of lesson 02.
EXCESS_ALPHA = 0.0
#: Exercise 2 accepts an answer within this many standard errors (of the mean pointwise
#: difference of the two cross-entropies) of the reference, and never closer than
#: :data:`EXCESS_MIN_TOL` nats: another split or penalty gives another sample estimate.
EXCESS_SE = 4.0
EXCESS_MIN_TOL = 0.02

__all__ = ["check_layer_excess", "check_linear_layer_sign", "check_residual_layer",
           "check_softmax_from_sigmoid"]


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
    """Exercise 4: the output of the residual layer 2 (index 1) of ``net`` on the features
    ``t_prev`` of layer 1, computed by hand from ``net.layers[1]``'s weight and bias."""
    t = np.asarray(t_prev, dtype=np.float64)
    ex = exercise(
        "Lesson 04, exercise 4", f"give T_2, an array of shape {t.shape} (one row per input).",
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


def _excess(task: SyntheticTask, T: np.ndarray, X: np.ndarray, y: np.ndarray
            ) -> tuple[float, float, float]:
    """(E, its standard error, CE_lin) of features ``T``: softmax regression fitted on the first
    half of the points, scored on the second, minus the exact Bayes cross-entropy there."""
    half = len(y) // 2
    lin = SoftmaxRegression(alpha=EXCESS_ALPHA).fit(T[:half], y[:half])
    idx = np.arange(len(y) - half)
    p_lin = np.clip(lin.predict_proba(T[half:])[idx, y[half:]], 1e-300, 1)
    p_bayes = np.clip(task.posterior(X[half:])[idx, y[half:]], 1e-300, 1)
    d = np.log(p_bayes) - np.log(p_lin)
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d))), float(-np.log(p_lin).mean())


def check_layer_excess(task: SyntheticTask, net_trained: MLP, net_init: MLP, X: np.ndarray,
                       y: np.ndarray, answer: object) -> Feedback:
    """Exercise 2: the excess E_1 = CE_lin(T_1) - CE_Bayes of layer 1's features, for the trained
    net and for the same net at initialisation, as an array (E_1 trained, E_1 at
    initialisation), in nats: softmax regression (penalty :data:`EXCESS_ALPHA`) fitted on the
    first half of (``X``, ``y``) and scored on the second half, minus the exact Bayes
    cross-entropy -mean log P(y | x) of the scoring half. Any split and penalty are accepted
    within :data:`EXCESS_SE` standard errors (at least :data:`EXCESS_MIN_TOL` nats), except
    CE_lin itself on the statement's split (the Bayes term left out), which is named as that
    slip even on a task whose Bayes cross-entropy is below the tolerance. Never raises."""
    ex = exercise(
        "Lesson 04, exercise 2",
        "give an array of shape (2,): (E_1 of the trained net, E_1 of the same net at "
        "initialisation), in nats.",
        hints=["E_1 is what a softmax layer on T_1 loses against the best read-out of x: the "
               "held-out cross-entropy of softmax regression on T_1 minus the Bayes "
               "cross-entropy, on the same scoring points.",
               "T_1 = models.layer_features(net, X)[0]; fit SoftmaxRegression() on "
               "the first half, take -mean log p(y) on the second half; the Bayes one uses "
               "task.posterior(X) on the same half.",
               "E_1 = CE_lin - CE_Bayes for each net; put the trained net first."])
    try:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y).astype(int)
        T = {name: layer_features(net, X) for name, net in (("trained", net_trained),
                                                             ("init", net_init))}
        ref = {name: _excess(task, t[0], X, y) for name, t in T.items()}
        e_input = _excess(task, X, X, y)[0]
    except Exception as exc:  # noqa: BLE001 - the exercise's nets or data cannot be read
        return Feedback(ex.name, False, f"the exercise's nets could not be read ({exc}).")
    want = np.array([ref["trained"][0], ref["init"][0]])
    tol = np.array([max(EXCESS_MIN_TOL, EXCESS_SE * ref[k][1]) for k in ("trained", "init")])
    ce_lin = np.array([ref["trained"][2], ref["init"][2]])
    # where the Bayes term is inside the tolerance (XOR's H(Y|X) is about 0.01 nats), CE_lin
    # alone is told from the answer only by an exact match on the statement's split
    ce_lin_apart = bool(np.any(np.abs(ce_lin - want) > tol))
    ex.success = (f"E_1 = {want[0]:.3f} nats for the trained net and {want[1]:.3f} for the "
                  f"same net at initialisation (this split: first half fits, second half "
                  f"scores), against {e_input:.3f} for the input x itself. "
                  + (f"Training lowered E_1 {want[1] - want[0]:.3f} nats below the random "
                     "layer's: that difference, step by step, is claim C0."
                     if want[0] < want[1] else "This net did not lower E_1 below the random "
                     "layer's: did it train?"))

    mistakes = [
        Mistake("the order is (trained, at initialisation): swap the two numbers.",
                test=lambda g: bool(np.all(np.abs(g - want[::-1]) <= tol[::-1]))
                and not bool(np.all(np.abs(g - want) <= tol))),
        Mistake("the sign is flipped: E_1 = CE_lin(T_1) - CE_Bayes, and no read-out beats the "
                "Bayes posterior on average, so E_1 is (about) positive.",
                test=lambda g: bool(np.all(np.abs(g + want) <= tol))),
        Mistake("that is CE_lin(T_1) alone; subtract the Bayes cross-entropy of the same "
                "scoring points (task.posterior).",
                test=lambda g: bool(np.allclose(g, ce_lin, rtol=1e-6, atol=1e-9))
                or (ce_lin_apart and bool(np.all(np.abs(g - ce_lin) <= tol)))),
        Mistake("that is the excess of the input x itself (layer 0), the same for both nets: "
                "use the features of layer 1, models.layer_features(net, X)[0].",
                test=lambda g: bool(np.all(np.abs(g - e_input) <= tol))),
        Mistake("that is in bits; the course measures in nats (natural log).",
                test=lambda g: bool(np.all(np.abs(g * np.log(2) - want) <= tol))),
        Mistake("both values are too high: a penalty (alpha > 0) on these unscaled sigmoid "
                "features keeps the read-out's weights small and raises CE_lin; fit "
                "SoftmaxRegression() with no penalty, as the statement says.",
                test=lambda g: bool(np.all(g - want > tol)) and bool(np.all(g - want < 0.3))),
    ]
    return check(ex, answer, want, mistakes=mistakes,
                 accept=lambda g: bool(np.all(np.abs(g - want) <= tol))
                 and not np.allclose(g, ce_lin, rtol=1e-6, atol=1e-9))


def check_linear_layer_sign(answer: object) -> Feedback:
    """Exercise 3: the predicted sign (-1, 0 or +1) of E(T_2) - E(T_1) when T_2 = A T_1 + c is a
    linear layer with an invertible A (no activation). The answer is 0: a linear read-out of
    A t + c is W (A t + c) + b = (W A) t + (W c + b), a linear read-out of t, and every read-out
    of t is one of A t + c (W' = W A^{-1}), so the best one, and E, do not change. Never
    raises."""
    ex = exercise(
        "Lesson 04, exercise 3", "give the sign you predict: -1, 0 or +1 (one number).",
        hints=["which functions of t can a softmax layer on A t + c express, and which "
               "functions of t could it express before?",
               "write W (A t + c) + b as an affine function of t; then write t as an affine "
               "function of A t + c (A is invertible).",
               "the two sets of read-outs are the same set, so the best one is the same."],
        success="0: a softmax layer on A t + c expresses exactly the read-outs of t, since "
                "W (A t + c) + b = (W A) t + (W c + b) and A is invertible; the excess stays "
                "where it was (and FC1 too: A t + c keeps all of t). A layer has to be "
                "non-linear to move the features toward FC2, which is why the recursion needs "
                "non-linear units such as the sigmoid.")
    try:
        if is_placeholder(answer):
            return ex.not_answered()
        got = scalar(answer)
        if got is None:
            return Feedback(ex.name, False, f"give one number. {ex.task}")
        if got not in (-1.0, 0.0, 1.0):
            return Feedback(ex.name, False, f"give the sign only, -1, 0 or +1 (got {got:g}).")
        if got == 0.0:
            return ex.right()
        key = np.array([got])
        if got < 0:
            return ex.hint(key, "A linear layer adds no read-out that t did not already "
                                "allow: W (A t + c) + b is a linear read-out of t, so it cannot "
                                "lower E.")
        return ex.hint(key, "A is invertible, so nothing is lost: every linear read-out of t is "
                            "also one of A t + c (W' = W A^{-1}), so it cannot raise E either.")
    except Exception as exc:  # noqa: BLE001 - never crash the lesson
        return Feedback(ex.name, False, f"this answer could not be checked ({exc}). {ex.task}")
