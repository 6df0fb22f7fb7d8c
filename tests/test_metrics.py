"""Tests for maxent_lib.metrics: accuracy, cross-entropy, predictive entropy and ECE computed by
hand on small cases (bin edges, the lowest and highest bins, zero probabilities), the label
checks at their boundaries, and temperature scaling against a brute-force minimum and at the
ends of its range."""

import numpy as np
import pytest
import torch

from maxent_lib import metrics


def _lp(probs) -> torch.Tensor:
    """Log-probabilities (M, N, K) of the given probabilities (0 -> -inf)."""
    p = torch.as_tensor(np.asarray(probs, dtype=float))
    with np.errstate(divide="ignore"):
        return torch.log(p)


def _by_hand(probs: np.ndarray, y: np.ndarray, n_bins: int) -> dict[str, float]:
    """One model's metrics computed directly from the definitions, with bins (lo, hi]."""
    n = len(y)
    conf, pred = probs.max(1), probs.argmax(1)
    correct = (pred == y).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(probs > 0, probs * np.log(probs), 0.0).sum(1)
        nll = -np.log(probs[np.arange(n), y])
    ece = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.sum() / n * abs(correct[inside].mean() - conf[inside].mean())
    return {"acc": correct.mean(), "loss": nll.mean(), "entropy": ent.mean(), "ece": ece}


P1 = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5], [0.9, 0.05, 0.05],
               [0.2, 0.45, 0.35]])
P2 = np.array([[0.4, 0.35, 0.25], [0.05, 0.05, 0.9], [0.6, 0.3, 0.1], [0.3, 0.3, 0.4],
               [0.5, 0.25, 0.25]])
Y = np.array([0, 2, 2, 1, 1])


@pytest.mark.parametrize("n_bins", [1, 3, 5, 15])
def test_stacked_metrics_match_the_definitions(n_bins):
    out = metrics.stacked_metrics(_lp([P1, P2]), torch.as_tensor(Y), n_bins)
    assert set(out) == {"acc", "loss", "entropy", "ece"}
    for m, p in enumerate([P1, P2]):
        want = _by_hand(p, Y, n_bins)
        for key, value in want.items():
            assert out[key].shape == (2,)
            assert out[key][m] == pytest.approx(value, rel=1e-12, abs=1e-15), (key, m)


def test_per_model_metrics_use_each_models_own_labels():
    y2 = np.array([[0, 2, 2, 1, 1], [1, 2, 0, 0, 0]])
    out = metrics.per_model_metrics(_lp([P1, P2]), torch.as_tensor(y2), 4)
    for m, p in enumerate([P1, P2]):
        want = _by_hand(p, y2[m], 4)
        for key, value in want.items():
            assert out[key][m] == pytest.approx(value, rel=1e-12, abs=1e-15), (key, m)


def test_zero_probabilities_add_no_entropy_and_no_loss():
    lp = _lp([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    out = metrics.stacked_metrics(lp, torch.tensor([0, 1]))
    assert out["entropy"][0] == 0.0 and out["loss"][0] == 0.0
    assert out["acc"][0] == 1.0 and out["ece"][0] == 0.0
    wrong = metrics.stacked_metrics(lp, torch.tensor([1, 1]))
    assert wrong["loss"][0] == np.inf and wrong["acc"][0] == 0.5
    assert wrong["ece"][0] == pytest.approx(0.5)


def test_ece_bins_are_closed_on_the_right():
    # confidence exactly 0.6 belongs to (0.4, 0.6] with 5 bins, beside 0.5 (both right), not to
    # (0.6, 0.8] beside 0.7 (wrong)
    probs = np.array([[0.6, 0.4], [0.5, 0.5], [0.3, 0.7]])
    y = np.array([0, 0, 0])
    ece = metrics.expected_calibration_error(probs, y, 5)
    # bin (0.4, 0.6]: accuracy 1, mean confidence 0.55; bin (0.6, 0.8]: accuracy 0, conf 0.7
    assert ece == pytest.approx(2 / 3 * 0.45 + 1 / 3 * 0.7, rel=1e-12)


def test_ece_lowest_and_highest_bins_stay_apart():
    # two bins, (0, 0.5] and (0.5, 1]: a correct prediction at confidence 0.3 and a wrong one at
    # 0.7 have opposite calibration errors, which cancel if they share a bin
    probs = np.array([[0.3, 0.25, 0.25, 0.2], [0.1, 0.7, 0.1, 0.1]])
    y = np.array([0, 0])
    assert metrics.expected_calibration_error(probs, y, 2) == pytest.approx(0.7, rel=1e-12)
    assert metrics.expected_calibration_error(probs, y, 1) == pytest.approx(0.0, abs=1e-15)
    # confidence 1 lands in the top bin of any count, next to nothing else
    sure = np.array([[1.0, 0.0], [0.55, 0.45]])
    assert metrics.expected_calibration_error(sure, np.array([0, 1]), 10) == \
        pytest.approx(0.5 * 0.0 + 0.5 * 0.55, rel=1e-12)


def test_ece_handles_exact_zero_probabilities():
    probs = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    y = np.array([0, 1, 1])
    want = _by_hand(probs, y, 15)["ece"]
    assert metrics.expected_calibration_error(probs, y) == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx(1 / 3 + 1 / 6, rel=1e-12)


@pytest.mark.parametrize("bad", [3, -1])
def test_labels_out_of_range_are_refused(bad):
    lp = _lp([P1])
    y = torch.as_tensor(Y).clone()
    y[2] = bad
    with pytest.raises(ValueError, match="out of range"):
        metrics.stacked_metrics(lp, y)
    with pytest.raises(ValueError, match="out of range"):
        metrics.per_model_metrics(lp, y[None])
    with pytest.raises(ValueError, match="out of range"):
        metrics.fit_temperature(lp, y)
    # the extreme labels themselves are fine
    y[2] = 2 if bad == 3 else 0
    metrics.stacked_metrics(lp, y)
    metrics.per_model_metrics(lp, y[None])
    metrics.fit_temperature(lp, y, iterations=2)


def test_shapes_must_match():
    with pytest.raises(ValueError):
        metrics.stacked_metrics(_lp([P1]), torch.as_tensor(Y[:4]))
    with pytest.raises(ValueError):
        metrics.per_model_metrics(_lp([P1, P2]), torch.as_tensor(Y)[None])
    with pytest.raises(ValueError):
        metrics.expected_calibration_error(P1, Y[:4])


def _ce(lp: torch.Tensor, y: torch.Tensor, t: float) -> float:
    return float(torch.nn.functional.cross_entropy(lp / t, y))


def test_fit_temperature_finds_the_minimum_per_model():
    # labels drawn from softmax(s) (Gumbel-max), logits scaled by 0.5, 2 and 6: the best
    # temperatures are near those scales
    rng = np.random.default_rng(0)
    s = rng.normal(size=(300, 4))
    y = torch.as_tensor(np.argmax(s + rng.gumbel(size=s.shape), axis=1))
    lp = torch.log_softmax(torch.as_tensor(s[None] * np.array([0.5, 2.0, 6.0])[:, None, None]),
                           -1)
    temps = metrics.fit_temperature(lp, y)
    assert temps.shape == (3,)
    grid = np.exp(np.linspace(np.log(0.05), np.log(50), 4001))
    assert np.all((temps > 0.1) & (temps < 20))
    for m in range(3):
        best = grid[np.argmin([_ce(lp[m], y, t) for t in grid])]
        assert temps[m] == pytest.approx(best, rel=5e-3)
        assert _ce(lp[m], y, temps[m]) <= min(_ce(lp[m], y, t) for t in grid) + 1e-12
    # labels per model give the same answer as shared ones
    same = metrics.fit_temperature(lp, y[None].expand(3, -1).clone())
    np.testing.assert_allclose(same, temps, rtol=1e-12)


def test_fit_temperature_is_clipped_to_its_range():
    # held-out data the model separates: the loss falls as T -> 0, so T is the lower end
    lp = torch.log_softmax(torch.tensor([[[3.0, 0.0], [0.0, 2.0], [1.0, -1.0]]]), -1)
    y = torch.tensor([0, 1, 0])
    assert metrics.fit_temperature(lp, y, low=0.02, high=50.0)[0] == pytest.approx(0.02,
                                                                                    rel=1e-9)
    # a model that is always wrong: the loss falls as T grows, so T is the upper end
    assert metrics.fit_temperature(lp, 1 - y, low=0.02, high=50.0)[0] == pytest.approx(
        50.0, rel=1e-9)


def test_fit_temperature_needs_high_above_low():
    lp = _lp([P1])
    with pytest.raises(ValueError):
        metrics.fit_temperature(lp, torch.as_tensor(Y), low=2.0, high=2.0)
    with pytest.raises(ValueError):
        metrics.fit_temperature(lp, torch.as_tensor(Y)[None].expand(2, -1))


def test_apply_temperature_is_log_softmax_of_scaled_scores():
    lp = _lp([P1, P2])  # M = 2 models, N = 5 examples: different sizes
    t = np.array([0.5, 3.0])
    out = metrics.apply_temperature(lp, t)
    assert out.shape == lp.shape
    for m in range(2):
        want = torch.log_softmax(lp[m] / t[m], dim=-1)
        torch.testing.assert_close(out[m], want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(metrics.apply_temperature(lp, np.ones(2)), lp, rtol=1e-12,
                               atol=1e-12)
    with pytest.raises(ValueError, match="one positive number per model"):
        metrics.apply_temperature(lp, np.ones(5))


def test_apply_temperature_keeps_zero_probabilities_at_zero():
    lp = _lp([[[0.5, 0.5, 0.0]]])
    out = metrics.apply_temperature(lp, np.array([2.0]))
    np.testing.assert_allclose(out[0, 0, :2].exp().numpy(), [0.5, 0.5], rtol=1e-12)
    assert out[0, 0, 2].exp().item() == 0.0


def test_the_default_is_15_bins_everywhere():
    """The documented default, 15 bins: confidences 0.62 and 0.65 share the bin (0.6, 2/3] at
    15 bins and fall in different bins at 14 and 16, so the ECE tells the three apart."""
    probs, y = np.array([[0.62, 0.38], [0.65, 0.35]]), np.array([0, 1])
    eces = {b: _by_hand(probs, y, b)["ece"] for b in (14, 15, 16)}
    assert eces[15] == pytest.approx(abs(0.5 - 0.635)) and eces[14] == eces[16] != eces[15]
    lp, yt = _lp([probs]), torch.as_tensor(y)
    assert metrics.stacked_metrics(lp, yt)["ece"][0] == pytest.approx(eces[15], rel=1e-12)
    assert metrics.per_model_metrics(lp, yt[None])["ece"][0] == pytest.approx(eces[15],
                                                                              rel=1e-12)
    assert metrics.expected_calibration_error(probs, y) == pytest.approx(eces[15], rel=1e-12)


def test_fit_temperature_default_range_is_0_01_to_100():
    lp = torch.log_softmax(torch.tensor([[[3.0, 0.0], [0.0, 2.0], [1.0, -1.0]]]), -1)
    y = torch.tensor([0, 1, 0])
    assert metrics.fit_temperature(lp, y)[0] == pytest.approx(0.01, rel=1e-9)
    assert metrics.fit_temperature(lp, 1 - y)[0] == pytest.approx(100.0, rel=1e-9)
