"""Lesson 04 exercise checkers: right answers pass, each common mistake gets its own message,
placeholders say only what to give."""

import numpy as np
import pytest
import torch

from maxent_lib import exercises, models
from maxent_lib.exercises import lesson04

W_UNIT, C_UNIT = np.array([1.5, -2.0, 0.5]), 0.3


@pytest.fixture(autouse=True)
def fresh_attempts():
    exercises.reset_attempts()


def test_softmax_from_sigmoid():
    zero_row = (np.stack([np.zeros(3), W_UNIT]), np.array([0.0, C_UNIT]))
    check = lesson04.check_softmax_from_sigmoid
    assert check(W_UNIT, C_UNIT, zero_row).correct is True
    shifted = (zero_row[0] + 7.0, zero_row[1] - 2.0)  # shift-invariance: also right
    assert check(W_UNIT, C_UNIT, shifted).correct is True
    assert check(W_UNIT, C_UNIT, [zero_row[0].tolist(), zero_row[1]]).correct is True
    cases = [
        ((zero_row[0] + np.array([[0.0], [1.0]]), zero_row[1] + 1), "Hint 1"),
        ((zero_row[0][::-1], zero_row[1][::-1]), "swap"),
        ((zero_row[0], np.zeros(2)), "b_1 - b_0"),
        ((zero_row[0] * 2, zero_row[1]), "b is right"),
        ((np.stack([-W_UNIT, W_UNIT]), np.array([-C_UNIT, C_UNIT])), "2w"),
        ((zero_row[0].T, zero_row[1]), "transpose"),
        ((W_UNIT, C_UNIT), "sigmoid's own"),
        ((np.zeros((3, 3)), np.zeros(2)), "shape"),
        (zero_row[0], "tuple"),
        (("W", "b"), "numbers"),
    ]
    for answer, words in cases:
        fb = check(W_UNIT, C_UNIT, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = (exercises.placeholder((2, 3)), exercises.placeholder((2,)))
    fb = check(W_UNIT, C_UNIT, blank)
    assert fb.correct is None and "difference" not in fb.message


def test_residual_layer():
    torch.manual_seed(0)
    net = models.MLP(2, 4, 2, 2, activation="tanh", shortcut=True)
    t1 = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    A = net.layers[1].weight.detach().numpy()
    c = net.layers[1].bias.detach().numpy()
    check = lesson04.check_residual_layer
    assert check(net, t1, t1 + np.tanh(t1 @ A.T + c)).correct is True
    assert check(net, t1, torch.tensor(t1 + np.tanh(t1 @ A.T + c))).correct is True
    cases = [(t1 + 1, "Hint 1"), (np.tanh(t1 @ A.T + c), "shortcut"),
             (t1 + np.tanh(t1 @ A + c), "(out, in)"), (t1 + np.tanh(t1 @ A.T), "bias"),
             (t1 + t1 @ A.T + c, "activation is missing"),
             (t1 + np.maximum(t1 @ A.T + c, 0), "not ReLU"), (t1.T, "shape")]
    for answer, words in cases:
        fb = check(net, t1, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(net, t1, exercises.placeholder((5, 4)))
    assert blank.correct is None and "tanh" not in blank.message


def _nets_and_points():
    """A trained two-layer sigmoid net on XOR (lesson 04's toy task) and the same net at
    initialisation."""
    from maxent_lib import data, layerwise

    task = data.xor_task()
    X, y = task.sample(2000, seed=0)
    Xh, yh = task.sample(2000, seed=1)
    nets = layerwise.train_both(X, y, width=5, depth=2, activation="sigmoid", seeds=[0],
                                epochs_per_layer=40, lr=3e-2, batch_size=64, device="cpu")
    stack = nets["end to end"][0]
    return task, stack.unstack(0), layerwise.at_initialisation(stack).unstack(0), Xh, yh


def _excess(task, net, X, y, layer=0, alpha=0.0, order=None):
    from maxent_lib.softmax import SoftmaxRegression

    T = models.layer_features(net, X)[layer] if net is not None else X
    idx = np.arange(len(y)) if order is None else order
    half = len(y) // 2
    fit, score = idx[:half], idx[half:]
    p = SoftmaxRegression(alpha=alpha).fit(T[fit], y[fit]).predict_proba(T[score])
    rows = np.arange(len(score))
    p_bayes = task.posterior(X[score])[rows, y[score]]
    return float(np.mean(np.log(p_bayes)) - np.mean(np.log(p[rows, y[score]])))


def test_layer_excess():
    task, trained, start, X, y = _nets_and_points()
    check = lesson04.check_layer_excess
    right = np.array([_excess(task, trained, X, y), _excess(task, start, X, y)])
    assert check(task, trained, start, X, y, right).correct is True
    assert check(task, trained, start, X, y, list(right)).correct is True
    # another split of the points is another sample estimate: accepted
    order = np.random.default_rng(3).permutation(len(y))
    other = [_excess(task, trained, X, y, order=order), _excess(task, start, X, y, order=order)]
    assert check(task, trained, start, X, y, other).correct is True
    half = len(y) // 2
    ce_lin = right - np.mean(np.log(task.posterior(X[half:])[np.arange(half), y[half:]]))
    # XOR's Bayes term is inside the tolerance: CE_lin alone is named by its exact match
    assert np.abs(ce_lin - right).max() < lesson04.EXCESS_MIN_TOL
    e_x = _excess(task, None, X, y)
    cases = [(right + 5, "Hint 1"), (right + 6, "Hint 2"), (right[::-1], "order"),
             (-right, "sign"), (right / np.log(2), "bits"),
             (ce_lin, "CE_lin(T_1) alone"), (np.array([e_x, e_x]), "input x itself"),
             (right + 0.25, "penalty"), (right + 7, "Hint 3"), (right[:1], "shape"),
             ("0.1", "numbers")]
    for answer, words in cases:
        fb = check(task, trained, start, X, y, answer)
        assert fb.correct is False and words in fb.message, (words, fb.message)
    blank = check(task, trained, start, X, y, exercises.placeholder((2,)))
    assert blank.correct is None and "SoftmaxRegression" not in blank.message
    broken = check(task, "not a net", start, X, y, right)
    assert broken.correct is False and "could not be read" in broken.message


def test_linear_layer_sign():
    check = lesson04.check_linear_layer_sign
    assert check(0).correct is True and check(np.array([0.0])).correct is True
    assert "(W A) t" in check(0).message
    fb = check(-1)
    assert fb.correct is False and "cannot lower E" in fb.message and "Hint 1" in fb.message
    fb = check(1)
    assert fb.correct is False and "cannot raise E" in fb.message and "Hint 2" in fb.message
    assert "sign only" in check(0.5).message and check(0.5).correct is False
    assert "one number" in check("zero").message
    assert "one number" in check([0, 1]).message
    blank = check(exercises.placeholder())
    assert blank.correct is None and "W A" not in blank.message


def test_softmax_from_sigmoid_names_what_is_wrong():
    w, c = np.array([1.0, -2.0, 0.5]), 0.3
    W, b = np.stack([np.zeros(3), w]), np.array([0.0, c])

    def msg(answer):
        return lesson04.check_softmax_from_sigmoid(w, c, answer).message

    assert "sigmoid's own" in msg((w, b)) and "sigmoid's own" in msg((W, c))
    assert "must have shape" in msg((np.ones((3, 3)), b))
    assert "must have shape" in msg((W, np.ones(3)))
    assert "NaN or inf" in msg((np.where(W == 0, np.inf, W), b))
    assert "NaN or inf" in msg((W, np.array([0.0, np.inf])))
    assert msg(("W", b)).startswith("W: ") and msg((W, "b")).startswith("b: ")
    assert "b_1 - b_0 must equal c" in msg((W, np.array([0.0, c + 1])))
    assert "swap the two rows" in msg((W[::-1], b[::-1]))


def test_softmax_from_sigmoid_that_cannot_be_checked_says_so(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("numbers down")

    monkeypatch.setattr(lesson04, "as_numbers", broken)
    fb = lesson04.check_softmax_from_sigmoid(np.ones(2), 0.0, (np.ones((2, 2)), np.ones(2)))
    assert fb.correct is False and fb.message.startswith(
        "this answer could not be checked (numbers down)")


def test_residual_layer_mistakes_are_told_only_when_they_are_made():
    torch.manual_seed(0)
    net = models.MLP(2, 4, 2, 2, activation="tanh", shortcut=True)
    t = np.random.default_rng(0).normal(size=(5, 4))
    A = net.layers[1].weight.detach().double().numpy()
    c = net.layers[1].bias.detach().double().numpy()
    for v in (np.tanh(t @ A.T + c), t + np.tanh(t @ A + c), t + np.tanh(t @ A.T),
              t + t @ A.T + c, t + np.maximum(t @ A.T + c, 0)):
        exercises.reset_attempts()
        assert lesson04.check_residual_layer(net, t, v).message.split(":")[0] != "Hint 1 of 3"
        fb = lesson04.check_residual_layer(net, t, 2 * v)       # none of the mistakes
        assert fb.correct is False and "Hint" in fb.message, fb.message


def test_linear_layer_sign_refusals_are_not_right(monkeypatch):
    check = lesson04.check_linear_layer_sign
    assert check("zero").correct is False and check([0, 1]).correct is False

    def broken(*args, **kwargs):
        raise RuntimeError("reader down")

    monkeypatch.setattr(lesson04, "scalar", broken)
    fb = check(0)
    assert fb.correct is False and "could not be checked (reader down)" in fb.message


# ------------------------------------------------ exercise 2 on a noisy XOR, without training

@pytest.fixture(scope="module")
def noisy_xor():
    """A noisy XOR (its Bayes cross-entropy, about 0.15 nats, is larger than the tolerance) and
    two random sigmoid layers: a good one (8 units, E_1 about 0.03) and a poor one (3 units,
    E_1 about 0.25). No training: the checker reads any two nets."""
    from maxent_lib import data

    task = data.xor_task(spread=0.5)
    X, y = task.sample(1000, seed=0)
    nets = []
    for width in (8, 3):
        torch.manual_seed(0)
        nets.append(models.MLP(2, width, 1, 2, activation="sigmoid"))
    return task, nets[0], nets[1], X, y


def _reference(task, net, X, y, alpha=0.0, order=None):
    """(E_1, its standard error, CE_lin) of layer 1 of ``net`` (of x itself for None): the
    statement's split (or ``order``'s), the standard error of the mean pointwise difference
    log P_Bayes - log p_lin with ddof=1."""
    from maxent_lib.softmax import SoftmaxRegression

    T = models.layer_features(net, X)[0] if net is not None else X
    idx = np.arange(len(y)) if order is None else order
    half = len(y) // 2
    fit, score = idx[:half], idx[half:]
    p = SoftmaxRegression(alpha=alpha).fit(T[fit], y[fit]).predict_proba(T[score])
    rows = np.arange(len(score))
    d = np.log(task.posterior(X[score])[rows, y[score]]) - np.log(p[rows, y[score]])
    return d.mean(), d.std(ddof=1) / np.sqrt(len(d)), -np.mean(np.log(p[rows, y[score]]))


def _want_and_tol(task, good, poor, X, y):
    refs = [_reference(task, net, X, y) for net in (good, poor)]
    want = np.array([r[0] for r in refs])
    tol = np.array([max(lesson04.EXCESS_MIN_TOL, lesson04.EXCESS_SE * r[1]) for r in refs])
    return want, tol, np.array([r[2] for r in refs])


def test_layer_excess_success_shows_both_nets_and_the_input(noisy_xor):
    task, good, poor, X, y = noisy_xor
    want, _, _ = _want_and_tol(task, good, poor, X, y)
    e_x = _reference(task, None, X, y)[0]
    fb = lesson04.check_layer_excess(task, good, poor, X, y, want)
    assert fb.correct is True
    assert f"E_1 = {want[0]:.3f} nats for the trained net and {want[1]:.3f}" in fb.message
    assert f"against {e_x:.3f} for the input x itself" in fb.message
    assert f"Training lowered E_1 {want[1] - want[0]:.3f} nats" in fb.message


def test_layer_excess_of_an_untrained_net_says_so(noisy_xor):
    """The same net twice (training changed nothing): E_1 did not go down, and the message
    asks whether the net trained."""
    task, good, _, X, y = noisy_xor
    e = _reference(task, good, X, y)[0]
    fb = lesson04.check_layer_excess(task, good, good, X, y, [e, e])
    assert fb.correct is True
    assert "did not lower E_1" in fb.message and "Training lowered" not in fb.message


def test_layer_excess_accepts_each_value_within_its_own_tolerance(noisy_xor):
    """The documented tolerance: EXCESS_SE standard errors of each net's own estimate (the
    standard error of the mean pointwise difference, ddof=1), at least EXCESS_MIN_TOL."""
    task, good, poor, X, y = noisy_xor
    want, tol, _ = _want_and_tol(task, good, poor, X, y)
    assert np.all(tol > lesson04.EXCESS_MIN_TOL) and tol[1] > 1.5 * tol[0]
    for off, right in [([0.9995, -0.9995], True), ([-0.9995, 0.9995], True),
                       ([1.0005, 0.0], False), ([0.0, -1.0005], False),
                       ([0.0, 1.2 * tol[0] / tol[1]], True)]:
        exercises.reset_attempts()
        fb = lesson04.check_layer_excess(task, good, poor, X, y, want + np.array(off) * tol)
        assert fb.correct is right, (off, fb.message)


def test_layer_excess_names_a_whole_answer_slip_only_when_undoing_it_is_right(noisy_xor):
    """Swapped order, flipped sign, bits: each is named exactly when undoing it gives an
    accepted answer, each value judged against its own net's tolerance (also after the swap)."""
    task, good, poor, X, y = noisy_xor
    want, tol, _ = _want_and_tol(task, good, poor, X, y)
    slips = {"order": lambda a: a[::-1], "sign": lambda a: -a,
             "bits": lambda a: a / np.log(2)}
    for off in ([0.95, -0.95], [1.05, 0.0], [0.0, 1.05]):   # right, wrong, wrong
        a = want + np.array(off) * tol
        right = bool(np.all(np.abs(off) < 1))
        for words, slip in slips.items():
            exercises.reset_attempts()
            fb = lesson04.check_layer_excess(task, good, poor, X, y, slip(a))
            assert fb.correct is False
            assert (words in fb.message) is right, (off, words, fb.message)


def test_layer_excess_names_a_mistake_only_when_both_values_make_it(noisy_xor):
    task, good, poor, X, y = noisy_xor
    want, tol, ce_lin = _want_and_tol(task, good, poor, X, y)
    e_x = _reference(task, None, X, y)[0]
    ce_bayes = ce_lin[0] - want[0]
    assert np.all(ce_bayes > tol)          # CE_lin alone is outside the tolerance
    # the strongest penalty leaves the constant read-out, whose excess is about
    # log 2 - CE_Bayes: no penalty raises the poor net's E_1 by 0.6
    assert want[1] + 0.6 > np.log(2) - ce_bayes + 0.1
    cases = [(np.array([ce_lin[0], want[1]]), "CE_lin(T_1) alone"),
             (np.array([e_x, want[1]]), "input x itself"),
             (want + np.array([0.2, 0.0]), "penalty"),
             (want + np.array([0.2, 0.6]), "penalty")]
    for answer, words in cases:
        exercises.reset_attempts()
        fb = lesson04.check_layer_excess(task, good, poor, X, y, answer)
        assert fb.correct is False and words not in fb.message, (words, fb.message)
        assert "Hint 1" in fb.message, (words, fb.message)


def test_layer_excess_names_the_mistakes_made_on_another_split_or_penalty(noisy_xor):
    task, good, poor, X, y = noisy_xor
    want, tol, ce_lin = _want_and_tol(task, good, poor, X, y)
    order = np.random.default_rng(3).permutation(len(y))
    other = [_reference(task, net, X, y, order=order) for net in (good, poor)]
    ce_other = np.array([r[2] for r in other])
    assert np.all(np.abs(ce_other - ce_lin) <= tol) and not np.allclose(ce_other, ce_lin)
    fb = lesson04.check_layer_excess(task, good, poor, X, y, ce_other)
    assert fb.correct is False and "CE_lin(T_1) alone" in fb.message, fb.message
    penalised = np.array([_reference(task, net, X, y, alpha=1e-4)[0] for net in (good, poor)])
    assert np.all(penalised - want > tol) and np.any(np.abs(penalised - ce_lin) > tol)
    fb = lesson04.check_layer_excess(task, good, poor, X, y, penalised)
    assert fb.correct is False and "penalty" in fb.message, fb.message


def test_layer_excess_of_an_unchanged_net_names_ce_lin_not_the_order():
    """On XOR the Bayes term is inside the tolerance, so CE_lin alone is told by its exact
    match; with the same net twice it is also its own swap, and still named CE_lin."""
    from maxent_lib import data

    task = data.xor_task()
    X, y = task.sample(1000, seed=0)
    torch.manual_seed(0)
    net = models.MLP(2, 3, 1, 2, activation="sigmoid")
    e, _, ce = _reference(task, net, X, y)
    assert ce - e < lesson04.EXCESS_MIN_TOL
    fb = lesson04.check_layer_excess(task, net, net, X, y, [ce, ce])
    assert fb.correct is False and "CE_lin(T_1) alone" in fb.message, fb.message


def test_softmax_from_sigmoid_swap_is_named_only_when_swapping_fixes_it():
    W, b = np.stack([np.zeros(3), W_UNIT]), np.array([0.0, C_UNIT])
    check = lesson04.check_softmax_from_sigmoid
    assert "swap the two rows" in check(W_UNIT, C_UNIT, (W[::-1], b[::-1])).message
    for answer in [(W[::-1], np.zeros(2)), (2 * W[::-1], 2 * b[::-1])]:
        exercises.reset_attempts()
        fb = check(W_UNIT, C_UNIT, answer)
        assert fb.correct is False and "swap" not in fb.message, fb.message


def test_softmax_from_sigmoid_with_nan_or_inf_is_not_right():
    W, b = np.stack([np.zeros(3), W_UNIT]), np.array([0.0, np.nan])
    fb = lesson04.check_softmax_from_sigmoid(W_UNIT, C_UNIT, (W, b))
    assert fb.correct is False and "NaN or inf" in fb.message


def test_residual_layer_with_an_unreadable_net_is_not_right():
    fb = lesson04.check_residual_layer("not a net", np.zeros((2, 4)), np.zeros((2, 4)))
    assert fb.correct is False and "could not be read" in fb.message


def test_layer_excess_names_a_swap_of_close_values(noisy_xor):
    """Two 8-unit layers whose E_1 differ by less than the poor one's tolerance: a swapped
    answer that is right once swapped back is named as swapped, even where one of its values
    also lies within tolerance of the unswapped answer."""
    task, good, _, X, y = noisy_xor
    torch.manual_seed(2)
    other = models.MLP(2, 8, 1, 2, activation="sigmoid")
    want, tol, _ = _want_and_tol(task, good, other, X, y)
    a = want + 0.95 * tol
    assert abs(a[0] - want[1]) <= tol[1]                  # a's first value: close to both
    assert lesson04.check_layer_excess(task, good, other, X, y, a).correct is True
    fb = lesson04.check_layer_excess(task, good, other, X, y, a[::-1])
    assert fb.correct is False and "order" in fb.message, fb.message
