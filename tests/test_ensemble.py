"""Tests of maxent_lib.ensemble: stacked training equals one-by-one training, per-model settings
act per model, and bad input raises ValueError."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from maxent_lib import ensemble as E

SEEDS = [3, 5, 7, 11]
SHORTCUT = [0, 1, 1, 0]
WD = [0.0, 0.1, 0.5, 0.0]
LS = [0.0, 0.1, 0.0, 0.2]
CP = [0.0, 0.0, 0.3, 0.1]


@pytest.fixture(scope="module")
def toy():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(640, 40, generator=g)
    y = (X[:, :10].argmax(1) + (X[:, 10] > 0).long()) % 10
    return X, y


def _train(kind, idx, X, y, dropout=0.0, steps_epochs=1):
    rates = [dropout[i] for i in idx] if isinstance(dropout, list) else dropout
    model = E.StackedNet(kind, 40, 10, 16, 3, [SEEDS[i] for i in idx],
                         shortcut=[SHORTCUT[i] for i in idx], dropout=rates)
    settings = E.TrainSettings(epochs=steps_epochs, batch_size=32, lr=1e-2,
                               weight_decay=[WD[i] for i in idx],
                               label_smoothing=[LS[i] for i in idx],
                               confidence_penalty=[CP[i] for i in idx])
    E.train(model, X, y, settings)  # 640 / 32 = 20 steps per epoch
    return [p.detach().clone() for p in model.params]


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_stacked_equals_one_by_one(kind, toy):
    """Plain and residual (shortcut mixed in the stack), with per-model wd, ls, cp: 20 steps."""
    X, y = toy
    stacked = _train(kind, range(4), X, y)
    for i in range(4):
        alone = _train(kind, [i], X, y)
        for s, a in zip(stacked, alone, strict=True):
            np.testing.assert_allclose(s[i].numpy(), a[0].numpy(), rtol=1e-4, atol=1e-6)


def test_settings_really_change_the_model(toy):
    """The same seed with and without weight decay / shortcut ends somewhere else."""
    X, y = toy
    a = E.StackedNet("mlp", 40, 10, 16, 3, [1, 1], shortcut=[0, 1])
    E.train(a, X, y, E.TrainSettings(epochs=1, batch_size=32, lr=1e-2, weight_decay=[0.0, 0.0]))
    assert not torch.allclose(a.params[2][0], a.params[2][1])
    b = E.StackedNet("mlp", 40, 10, 16, 3, [1, 1])
    E.train(b, X, y, E.TrainSettings(epochs=1, batch_size=32, lr=1e-2, weight_decay=[0.0, 2.0]))
    assert not torch.allclose(b.params[0][0], b.params[0][1])
    assert float(b.params[0][1].detach().norm()) < float(b.params[0][0].detach().norm())


def test_dropout_acts_per_model(toy):
    """A model with dropout 0 stacked beside dropout models is identical to it trained alone;
    the dropout models differ (their masks are a different random stream)."""
    X, y = toy
    torch.manual_seed(0)
    stacked = _train("mlp", range(4), X, y, dropout=[0.0, 0.5, 0.0, 0.3])
    alone = _train("mlp", [0], X, y, dropout=[0.0, 0.5, 0.0, 0.3])
    for s, a in zip(stacked, alone, strict=True):
        np.testing.assert_allclose(s[0].numpy(), a[0].numpy(), rtol=1e-4, atol=1e-6)
    no_drop = _train("mlp", [1], X, y)
    assert not torch.allclose(stacked[0][1], no_drop[0][0])


def test_initialisation_is_per_seed():
    a = E.StackedNet("cnn", 40, 10, 8, 2, [4, 9])
    b = E.StackedNet("cnn", 40, 10, 8, 2, [9])
    for pa, pb in zip(a.params, b.params, strict=True):
        assert torch.equal(pa[1], pb[0])
    assert not torch.equal(a.params[0][0], a.params[0][1])


def test_batch_orders_are_per_seed():
    both = list(E.batch_orders([2, 8], 50, 3))
    alone = list(E.batch_orders([8], 50, 3))
    for x, z in zip(both, alone, strict=True):
        assert np.array_equal(x[1], z[0])
        assert sorted(x[0]) == list(range(50))
    assert not np.array_equal(both[0][0], both[1][0])  # a new permutation every epoch


def test_loss_matches_torch_and_penalty():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 50, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 5, (2, 50), generator=g)
    eps, beta = torch.tensor([0.0, 0.2]), torch.tensor([0.5, 0.0])
    got = E.stacked_loss(logits, y, eps.double(), beta.double())
    p = torch.softmax(logits[0], -1)
    ent0 = -(p * p.log()).sum(-1).mean()
    want = (F.cross_entropy(logits[0], y[0]) - 0.5 * ent0
            + F.cross_entropy(logits[1], y[1], label_smoothing=0.2))
    assert torch.allclose(got, want)


def test_features_and_probabilities(toy):
    X, _ = toy
    for kind, feat in (("mlp", 16), ("cnn", 16 * 20)):
        m = E.StackedNet(kind, 40, 10, 16, 3, [0, 1, 2])
        feats = E.features(m, X[:100], chunk=33)
        assert len(feats) == 3 and all(f.shape == (3, 100, feat) for f in feats)
        lp = E.predict_log_proba(m, X[:100], chunk=33)
        np.testing.assert_allclose(lp.exp().sum(-1).numpy(), 1.0, rtol=1e-5)


def test_flops_count():
    # 40*8 + 8*8 + 8*3 multiply-adds per example, x6 x batch
    assert E.flops_per_model_step("mlp", 40, 3, 8, 2, 10) == 6 * 10 * (320 + 64 + 24)


def test_bad_input():
    with pytest.raises(ValueError, match="kind"):
        E.StackedNet("rnn", 40, 10, 8, 2, [0])
    with pytest.raises(ValueError, match="width"):
        E.StackedNet("mlp", 40, 10, 0, 2, [0])
    with pytest.raises(ValueError, match="shortcut"):
        E.StackedNet("mlp", 40, 10, 8, 2, [0], shortcut=0.5)
    with pytest.raises(ValueError, match="dropout"):
        E.StackedNet("mlp", 40, 10, 8, 2, [0], dropout=1.0)
    with pytest.raises(ValueError, match="one value per model"):
        E.StackedNet("mlp", 40, 10, 8, 2, [0, 1], dropout=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="seeds"):
        E.StackedNet("mlp", 40, 10, 8, 2, [-1])
    m = E.StackedNet("mlp", 40, 10, 8, 2, [0, 1])
    with pytest.raises(ValueError, match="shape"):
        m(torch.zeros(3, 5, 40))
    X, y = torch.zeros(20, 40), torch.zeros(20, dtype=torch.long)
    with pytest.raises(ValueError, match="graph"):
        E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=4, mode="graph"))
    with pytest.raises(ValueError, match="weight_decay"):
        E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=4, weight_decay=float("nan")))
    with pytest.raises(ValueError, match="lr"):
        E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=4, lr=0.0))
