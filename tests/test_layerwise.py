"""maxent_lib.layerwise: lesson 04's nets trained two ways at equal budgets, the same nets at
initialisation, their held-out gaps, claim C0's family and the side study's comparison, its
verdicts over the trained seeds and over all seeds, and its sentence."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from maxent_lib import data, layerwise, models, stats
from maxent_lib.claims import MARGINS

SEEDS = (0, 1)


@pytest.fixture(scope="module")
def small():
    """Two tiny sigmoid nets per method on XOR (lesson 04's toy task), trained briefly, and their
    runs."""
    task = data.xor_task()
    X, y = task.sample(200, seed=0)
    Xh, yh = task.sample(200, seed=1)
    nets = layerwise.train_both(X, y, width=3, depth=2, activation="sigmoid", seeds=SEEDS,
                                epochs_per_layer=2, lr=1e-2, batch_size=64, eval_data=(Xh, yh),
                                device="cpu")
    runs = layerwise.summarise_runs(nets, Xh, yh, Xh, yh, n_splits=2)
    return nets, runs, (X, y, Xh, yh)


def test_train_both_equal_budgets_same_start(small):
    nets, _, (X, y, _, _) = small
    assert set(nets) == set(layerwise.METHODS)
    e2e, h_e2e = nets["end to end"]
    grown, h_grown = nets["layer-wise"]
    # the same number of epochs (hence of gradient steps on the same points) for both
    assert h_e2e["loss"].shape == h_grown["loss"].shape == (len(SEEDS), 2 * 2)
    assert h_e2e["eval_loss"].shape == (len(SEEDS), 4)
    start = layerwise.at_initialisation(e2e)
    fresh = models.StackedMLP(2, 3, 2, 2, list(SEEDS), "sigmoid")
    for a, b in zip(start.parameters(), fresh.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    # training moved both nets away from the shared start
    assert not torch.equal(e2e.weights[0].detach(), start.weights[0].detach())
    assert not torch.equal(grown.weights[0].detach(), start.weights[0].detach())


def test_at_initialisation_matches_a_single_mlp():
    net = models.StackedMLP(4, 5, 2, 3, [7], "relu")
    torch.manual_seed(7)
    alone = models.MLP(4, 5, 2, 3, "relu")
    start = layerwise.at_initialisation(net).unstack(0)
    for a, b in zip(start.parameters(), alone.parameters(), strict=True):
        torch.testing.assert_close(a, b)


def test_summarise_runs_structure_and_shared_input_probe(small):
    nets, runs, (_, _, Xh, yh) = small
    methods = [*layerwise.METHODS, layerwise.BASELINE]
    assert set(runs) == {(m, s) for m in methods for s in SEEDS}
    for s in SEEDS:
        e0 = {runs[m, s]["gaps"][0]["total_gap"] for m in methods}
        assert len(e0) == 1, "one probe on X, shared by every net of the seed"
        for m in methods:
            r = runs[m, s]
            assert len(r["gaps"]) == 3  # the input and two layers
            for g in r["gaps"]:
                assert abs(g["fc1_gap"] + g["fc2_gap"] - g["total_gap"]) < 1e-12
            assert 0 <= r["test_acc"] <= 1 and r["test_ce"] > 0
        assert math.isnan(runs[layerwise.BASELINE, s]["train_ce"])
    i = SEEDS.index(1)
    net = nets["end to end"][0].unstack(i)
    probs = models.predict_proba(net, Xh)
    ce = -np.mean(np.log(probs[np.arange(len(yh)), yh]))
    assert runs["end to end", 1]["test_ce"] == pytest.approx(ce)
    assert runs["end to end", 1]["train_ce"] == pytest.approx(nets["end to end"][1]["loss"][i, -1])


def test_summarise_runs_without_baseline(small):
    nets, _, (_, _, Xh, yh) = small
    runs = layerwise.summarise_runs({"end to end": nets["end to end"]}, Xh, yh, Xh, yh,
                                    n_splits=2, baseline=False)
    assert set(runs) == {("end to end", s) for s in SEEDS}


def _gaps(totals):
    return [{"total_gap": t, "fc1_gap": 0.0, "fc2_gap": t} for t in totals]


def fake_runs(trained, start, lw=None, train_ce=None, test_ce=None):
    """Runs from per-seed excess profiles (lists of E_0..E_L)."""
    runs = {}
    for s, (tr, st) in enumerate(zip(trained, start, strict=True)):
        ce = test_ce[s] if test_ce else (0.1, 0.2)
        tce = train_ce[s] if train_ce else (0.05, 0.1)
        runs["end to end", s] = {"test_ce": ce[0], "test_acc": 0.9, "train_ce": tce[0],
                                 "gaps": _gaps(tr)}
        runs["layer-wise", s] = {"test_ce": ce[1], "test_acc": 0.8, "train_ce": tce[1],
                                 "gaps": _gaps(lw[s] if lw else tr)}
        runs[layerwise.BASELINE, s] = {"test_ce": 0.7, "test_acc": 0.5, "train_ce": math.nan,
                                       "gaps": _gaps(st)}
    return runs


def test_c0_family_is_trained_step_minus_untrained_step():
    rng = np.random.default_rng(0)
    trained = [[0.6, 0.1 + e, 0.05 + e] for e in rng.normal(0, 0.01, 4)]
    start = [[0.6, 0.5 + e, 0.55 + e] for e in rng.normal(0, 0.01, 4)]
    runs = fake_runs(trained, start)
    fam = layerwise.c0_family(runs, [0, 1, 2, 3], "toy")
    assert fam.item == "toy" and fam.claim.key == "C0"
    want = [(t[1] - t[0]) - (s[1] - s[0]) for t, s in zip(trained, start, strict=True)]
    np.testing.assert_allclose(fam.effects[0], want)
    want2 = [(t[2] - t[1]) - (s[2] - s[1]) for t, s in zip(trained, start, strict=True)]
    np.testing.assert_allclose(fam.effects[1], want2)
    res = fam.judge()
    assert res.verdict == "supported" and res.count("for") == 2
    # only the seeds asked for enter
    assert len(layerwise.c0_family(runs, [0, 2], "toy").effects[0]) == 2
    with pytest.raises(ValueError, match="two seeds"):
        layerwise.c0_family(runs, [0], "toy")


def test_c0_family_floor_step_is_not_for_the_prediction():
    """A trained net already at E = 0 after layer 1, beside random layers that still lower E:
    the second step cannot be called for C0."""
    trained = [[0.6, 0.0, 0.0 + e] for e in (0.001, -0.002, 0.0, 0.002)]
    start = [[0.6, 0.5, 0.4 + e] for e in (0.01, -0.01, 0.0, 0.02)]
    res = layerwise.c0_family(fake_runs(trained, start), [0, 1, 2, 3], "XOR").judge()
    assert res.settings[0].call == "for" and res.settings[1].call == "against"
    assert res.verdict == "mixed"


def test_stuck_seeds_reads_training_loss_only():
    runs = fake_runs([[0.6, 0.1]] * 3, [[0.6, 0.5]] * 3,
                     train_ce=[(0.05, 0.1), (0.6, 0.1), (0.05, 0.9)])
    assert layerwise.stuck_seeds(runs, 0.5) == {"end to end": [1], "layer-wise": [2]}
    assert layerwise.stuck_seeds(runs, 1.0) == {"end to end": [], "layer-wise": []}


def test_layer_values():
    runs = fake_runs([[0.6, 0.1], [0.5, 0.2]], [[0.6, 0.5], [0.5, 0.4]])
    np.testing.assert_allclose(layerwise.layer_values(runs, "end to end", [1, 0]),
                               [[0.5, 0.2], [0.6, 0.1]])
    np.testing.assert_allclose(layerwise.layer_values(runs, layerwise.BASELINE, [0], "fc1_gap"),
                               [[0.0, 0.0]])
    with pytest.raises(ValueError, match="no"):
        layerwise.layer_values(runs, "end to end", [5])


def test_compare_methods_over_trained_and_all_seeds():
    # seeds 0-3: layer-wise worse by about 0.08; seeds 4-5: end to end stuck (far worse)
    ce = [(0.06, 0.14), (0.07, 0.15), (0.065, 0.14), (0.06, 0.15), (0.6, 0.16), (0.61, 0.15)]
    tce = [(0.05, 0.12)] * 4 + [(0.59, 0.13)] * 2
    runs = fake_runs([[0.6, 0.0]] * 6, [[0.6, 0.5]] * 6, train_ce=tce, test_ce=ce)
    stuck = layerwise.stuck_seeds(runs, 0.3)
    cmp = layerwise.compare_methods(runs, stuck, "XOR")
    assert cmp.stuck == {"end to end": (4, 5), "layer-wise": ()}
    assert cmp.trained_seeds == (0, 1, 2, 3)
    d_ok = [b - a for a, b in ce[:4]]
    d_all = [b - a for a, b in ce]
    assert cmp.trained.settings[0].effect == pytest.approx(np.mean(d_ok))
    assert cmp.overall.settings[0].effect == pytest.approx(np.mean(d_all))
    assert cmp.trained.verdict == stats.family_verdict([d_ok], +1, margin=MARGINS["test_loss"])
    assert cmp.trained.verdict == "supported" and cmp.trained.settings[0].call == "for"
    assert cmp.overall.verdict == "inconclusive"
    assert cmp.accuracy[0] == pytest.approx(-0.1)
    assert 0 < cmp.fisher_p <= 1
    lines = layerwise.comparison_lines(cmp)
    assert len(lines) == 6 + 4
    assert "did not train: end to end" in lines[4]
    assert "-> supported" in lines[6] and "-> inconclusive" in lines[7]
    text = layerwise.comparison_sentence(cmp)
    for words in ("the 4 seeds where both nets trained, supported (for the prediction",
                  "all 6 seeds, inconclusive (unclear", "end to end in 2 of 6"):
        assert words in text, text


def test_compare_methods_against_the_prediction_and_too_few_seeds():
    ce = [(0.3, 0.1), (0.31, 0.1), (0.3, 0.12), (0.32, 0.11)]
    runs = fake_runs([[0.6, 0.0]] * 4, [[0.6, 0.5]] * 4, test_ce=ce)
    cmp = layerwise.compare_methods(runs, {"end to end": [], "layer-wise": []}, "x")
    assert cmp.trained.verdict == "contradicted"
    assert "against the prediction" in layerwise.comparison_sentence(cmp)
    few = layerwise.compare_methods(runs, {"end to end": [0, 1, 2], "layer-wise": []}, "x")
    assert few.trained is None and few.accuracy is None
    assert "no verdict" in layerwise.comparison_sentence(few)
    assert any("no verdict" in line for line in layerwise.comparison_lines(few))


@pytest.mark.parametrize(("call", "words"), [
    (lambda r: layerwise.compare_methods(r, {"end to end": [9]}, "x"), "seeds that runs"),
    (lambda r: layerwise.compare_methods({k: v for k, v in r.items() if k[0] != "layer-wise"},
                                         {}, "x"), "both methods"),
    (lambda r: layerwise.stuck_seeds({("a", 0): {"test_ce": 1}}, 1.0), "lacks"),
    (lambda r: layerwise.stuck_seeds({("a", 0): r["end to end", 0], ("b", 1):
                                      r["end to end", 0]}, 1.0), "every seed"),
    (lambda r: layerwise.stuck_seeds({}, 1.0), "empty"),
    (lambda r: layerwise.stuck_seeds(r, -1.0), "threshold"),
])
def test_bad_runs_are_refused(call, words):
    runs = fake_runs([[0.6, 0.0]] * 2, [[0.6, 0.5]] * 2)
    with pytest.raises(ValueError, match=words):
        call(runs)


def test_bad_arguments_are_refused(small):
    nets, _, (X, y, Xh, yh) = small
    with pytest.raises(TypeError, match="runs"):
        layerwise.stuck_seeds({"end to end": 1}, 1.0)
    with pytest.raises(ValueError, match="activation"):
        layerwise.train_both(X, y, width=3, depth=2, activation="swish", seeds=SEEDS,
                             epochs_per_layer=1, lr=1e-2, batch_size=64)
    with pytest.raises(ValueError, match="rows"):
        layerwise.train_both(X, y[:-1], width=3, depth=2, activation="relu", seeds=SEEDS,
                             epochs_per_layer=1, lr=1e-2, batch_size=64)
    with pytest.raises(ValueError, match="seeds"):
        layerwise.train_both(X, y, width=3, depth=2, activation="relu", seeds=[0, 0],
                             epochs_per_layer=1, lr=1e-2, batch_size=64)
    with pytest.raises(ValueError, match="StackedMLP"):
        layerwise.summarise_runs({"end to end": (1, 2)}, Xh, yh, Xh, yh)
    with pytest.raises(ValueError, match="X_probe"):
        layerwise.summarise_runs(nets, Xh, yh, Xh[:5], yh[:5])
    with pytest.raises(TypeError, match="net"):
        layerwise.at_initialisation(models.MLP(2, 3, 1, 2))
    with pytest.raises(TypeError, match="comparison"):
        layerwise.comparison_sentence("supported")
