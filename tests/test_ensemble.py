"""Tests of maxent_lib.ablation: a model trained in a stack is bitwise the model trained alone
(dropout included), in another process too; per-model settings act per model; initialisation,
learning-rate schedule and training subsets do what they say; bad input raises ValueError."""

import hashlib
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from maxent_lib import ablation as E

SEEDS = [3, 5, 7, 11]
SHORTCUT = [0, 1, 1, 0]
WD = [0.0, 0.1, 0.5, 0.0]
LS = [0.0, 0.1, 0.0, 0.2]
CP = [0.0, 0.0, 0.3, 0.1]
DROPOUT = [0.0, 0.5, 0.0, 0.3]
INIT = ["he", "he", "uniform", "he"]


@pytest.fixture(scope="module")
def toy():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(640, 40, generator=g)
    y = (X[:, :10].argmax(1) + (X[:, 10] > 0).long()) % 10
    return X, y


def _train(kind, idx, X, y, dropout=None, epochs=1, schedule="cosine"):
    rates = [(dropout or [0.0] * 4)[i] for i in idx]
    model = E.StackedNet(kind, 40, 10, 16, 3, [SEEDS[i] for i in idx],
                         shortcut=[SHORTCUT[i] for i in idx], dropout=rates,
                         init=[INIT[i] for i in idx])
    settings = E.TrainSettings(epochs=epochs, batch_size=32, lr=1e-2,
                               weight_decay=[WD[i] for i in idx],
                               label_smoothing=[LS[i] for i in idx],
                               confidence_penalty=[CP[i] for i in idx], lr_schedule=schedule)
    with torch.no_grad():
        torch.manual_seed(1234)  # the global generator must not matter
    E.train(model, X, y, settings)  # 640 / 32 = 20 steps per epoch
    return [p.detach().clone() for p in model.params]


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("dropout", [None, DROPOUT])
def test_stacked_is_bitwise_one_by_one(kind, dropout, toy):
    """Plain and residual, He and uniform, per-model wd, ls, cp and dropout: 40 steps in a
    stack of four equal each model trained alone, bit for bit (one CPU thread)."""
    X, y = toy
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stacked = _train(kind, range(4), X, y, dropout, epochs=2)
        for i in range(4):
            alone = _train(kind, [i], X, y, dropout, epochs=2)
            for s, a in zip(stacked, alone, strict=True):
                assert torch.equal(s[i], a[0]), (kind, i)
        # and in another stack order: models 3 and 1 only
        other = _train(kind, [3, 1], X, y, dropout, epochs=2)
        for s, o in zip(stacked, other, strict=True):
            assert torch.equal(s[3], o[0]) and torch.equal(s[1], o[1])
    finally:
        torch.set_num_threads(threads)


def test_dropout_masks_are_per_model_and_reseeded(toy):
    """The masks come from each model's own generator: a model with dropout 0 beside dropout
    models equals it trained alone without dropout; two fresh nets draw the same masks; a
    different seed draws different masks."""
    X, y = toy
    with_drop = _train("mlp", range(4), X, y, DROPOUT)
    no_drop = _train("mlp", [0], X, y)
    for s, a in zip(with_drop, no_drop, strict=True):
        assert torch.equal(s[0], a[0])
    no_drop1 = _train("mlp", [1], X, y)
    assert not torch.equal(with_drop[0][1], no_drop1[0][0])  # dropout changed model 1
    a = E.StackedNet("mlp", 40, 10, 8, 2, [4, 9], dropout=0.5)
    b = E.StackedNet("mlp", 40, 10, 8, 2, [4], dropout=0.5)
    h = torch.ones(2, 6, 8)
    a.train()
    b.train()
    ma, mb = a._drop(h), b._drop(h[:1])
    assert torch.equal(ma[0], mb[0]) and not torch.equal(ma[0], ma[1])
    assert set(ma.unique().tolist()) <= {0.0, 2.0}  # inverted dropout: kept units scaled by 2


_CHILD = """
import hashlib, torch
from maxent_lib import ablation as E
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
X = torch.randn(640, 40, generator=g)
y = (X[:, :10].argmax(1) + (X[:, 10] > 0).long()) % 10
m = E.StackedNet("{kind}", 40, 10, 16, 3, [5, 11], shortcut=[1, 0], dropout=[0.5, 0.3])
E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=32, lr=1e-2, lr_schedule="cosine"))
print(hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in m.params)).hexdigest())
"""


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_same_result_in_another_process(kind):
    """The same stack with dropout, trained in a fresh process and here: the same bits."""
    code = _CHILD.format(kind=kind)
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here: dict = {}
        exec(code.replace("print(", "here['h'] = ("), {"here": here})  # noqa: S102
    finally:
        torch.set_num_threads(threads)
    assert here["h"] == outs.pop()


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


def test_initialisation_scales():
    """He: variance 2/fan_in before a ReLU, 1/fan_in for the head, biases 0, residual branches
    divided by depth - 1; uniform: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance 1/(3 fan_in).
    Both scale the same uniform draws."""
    depth, w = 5, 256
    he = E.StackedNet("mlp", 40, 10, w, depth, [0, 0, 0], shortcut=[0, 1, 0],
                      init=["he", "he", "uniform"])
    fans = [40] + [w] * (depth - 1) + [w]
    for layer, fan in enumerate(fans):
        W = he.params[2 * layer].detach().double()
        want = (1.0 if layer == depth else 2.0) / fan
        assert float(W[0].var()) == pytest.approx(want, rel=0.05)
        branch = 0 < layer < depth
        assert float(W[1].var()) == pytest.approx(want / ((depth - 1) if branch else 1),
                                                  rel=0.05)
        assert float(W[2].var()) == pytest.approx(1 / (3 * fan), rel=0.05)
        assert float(W[2].abs().max()) <= 1 / math.sqrt(fan)
        ratio = W[0] / W[2]  # the same draws, rescaled
        np.testing.assert_allclose(ratio.numpy(), math.sqrt(3 * want * fan), rtol=1e-5)
        assert torch.count_nonzero(he.params[2 * layer + 1][0]) == 0
        assert torch.count_nonzero(he.params[2 * layer + 1][2]) > 0


def test_he_keeps_the_signal_of_a_deep_plain_net():
    """At initialisation, 32 plain ReLU layers: with He the features still vary with the input
    (their spread over examples keeps a sizeable fraction of layer 1's); with the uniform
    default it shrinks by orders of magnitude, so layer 32 sees almost the same vector for
    every input (lesson 05's demonstration)."""
    x = torch.randn(512, 40, generator=torch.Generator().manual_seed(1))
    net = E.StackedNet("mlp", 40, 10, 64, 32, [0, 0], init=["he", "uniform"])
    feats = E.features(net, x)
    spread = [float(feats[-1][i].std(0).mean() / feats[0][i].std(0).mean()) for i in range(2)]
    assert 0.1 < spread[0] < 2
    assert spread[1] < 1e-6


def test_cosine_schedule():
    s = E.TrainSettings(epochs=1, batch_size=1, lr=0.1, lr_schedule="cosine")
    assert E.lr_at(s, 0, 10) == pytest.approx(0.1)
    assert E.lr_at(s, 5, 10) == pytest.approx(0.05)
    assert E.lr_at(s, 9, 10) == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * 0.9)))
    assert E.lr_at(E.TrainSettings(epochs=1, batch_size=1, lr=0.1), 9, 10) == 0.1


def test_matches_torch_adamw_with_a_cosine_schedule(toy):
    """One model of a stack (decoupled weight decay, cosine learning rate) against a plain
    PyTorch loop with torch.optim.AdamW and the same batches and learning rates."""
    X, y = toy
    wd, lr, epochs, bs = 0.3, 1e-2, 2, 64
    s = E.TrainSettings(epochs=epochs, batch_size=bs, lr=lr, weight_decay=[0.0, wd],
                        lr_schedule="cosine")
    m = E.StackedNet("mlp", 40, 10, 8, 2, [5, 5], dtype=torch.float64)
    ref = [p[1].detach().clone().requires_grad_() for p in m.params]
    E.train(m, X.double(), y, s)
    opt = torch.optim.AdamW(ref, lr=lr, weight_decay=wd)
    total, t = epochs * (640 // bs), 0
    for order in E.batch_orders([5], 640, epochs):
        for i in range(640 // bs):
            b = torch.as_tensor(order[0, i * bs:(i + 1) * bs])
            h = torch.relu(X[b].double() @ ref[0] + ref[1])
            h = torch.relu(h @ ref[2] + ref[3])
            loss = F.cross_entropy(h @ ref[4] + ref[5], y[b])
            for g in opt.param_groups:
                g["lr"] = E.lr_at(s, t, total)
            opt.zero_grad()
            loss.backward()
            opt.step()
            t += 1
    for p, q in zip(m.params, ref, strict=True):
        torch.testing.assert_close(p[1].detach(), q.detach(), rtol=1e-9, atol=1e-11)


def test_subsets_train_each_model_on_its_rows(toy):
    """A model trained on rows S of X equals the model trained on X[S]."""
    X, y = toy
    rows = np.stack([np.arange(0, 640, 2), np.arange(1, 640, 2)])
    a = E.StackedNet("mlp", 40, 10, 8, 2, [3, 3])
    E.train(a, X, y, E.TrainSettings(epochs=2, batch_size=32, lr=1e-2), subsets=rows)
    for i in range(2):
        b = E.StackedNet("mlp", 40, 10, 8, 2, [3])
        E.train(b, X[rows[i]], y[rows[i]], E.TrainSettings(epochs=2, batch_size=32, lr=1e-2))
        for p, q in zip(a.params, b.params, strict=True):
            torch.testing.assert_close(p[i], q[0], rtol=0, atol=0)


def test_batch_orders_are_per_seed():
    both = list(E.batch_orders([2, 8], 50, 3))
    alone = list(E.batch_orders([8], 50, 3))
    for x, z in zip(both, alone, strict=True):
        assert np.array_equal(x[1], z[0])
        assert sorted(x[0]) == list(range(50))
    assert not np.array_equal(both[0][0], both[1][0])  # a new permutation every epoch


def test_stream_seeds_are_distinct():
    assert len({E.stream_seed(s, k) for s in range(20) for k in (1, 2, 3)}) == 60
    assert E.stream_seed(4, 3) == E.stream_seed(4, 3) >= 0


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


def test_cnn_equals_a_grouped_convolution():
    """The bmm-over-windows CNN computes the same stem and block as torch's conv1d."""
    net = E.StackedNet("cnn", 40, 10, 6, 2, [0], dtype=torch.float64)
    x = torch.randn(5, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    _, (t1, t2) = net(x, return_features=True)
    w0 = net.params[0][0].T.reshape(6, 1, 5)  # (k*Cin, Cout) -> (Cout, Cin=1, k)
    ref1 = torch.relu(F.conv1d(x.unsqueeze(1), w0, net.params[1][0, 0], stride=2, padding=2))
    torch.testing.assert_close(t1[0].view(5, 20, 6), ref1.transpose(1, 2))
    w1 = net.params[2][0].T.reshape(6, 3, 6).transpose(1, 2)  # windows ordered (k, Cin)
    ref2 = torch.relu(F.conv1d(ref1, w1, net.params[3][0, 0], padding=1))
    torch.testing.assert_close(t2[0].view(5, 20, 6), ref2.transpose(1, 2))


def test_features_and_probabilities(toy):
    X, _ = toy
    for kind, feat in (("mlp", 16), ("cnn", 16 * 20)):
        m = E.StackedNet(kind, 40, 10, 16, 3, [0, 1, 2])
        feats = E.features(m, X[:100], chunk=33)
        assert len(feats) == 3 and all(f.shape == (3, 100, feat) for f in feats)
        lp = E.predict_log_proba(m, X[:100], chunk=33)
        np.testing.assert_allclose(lp.exp().sum(-1).numpy(), 1.0, rtol=1e-5)
        own = E.predict_log_proba(m, X[:300].view(3, 100, 40), chunk=33)  # each its own rows
        torch.testing.assert_close(own[1], E.predict_log_proba(m, X[100:200])[1])


def test_flops_count():
    # 40*8 + 8*8 + 8*3 multiply-adds per example, x6 x batch
    assert E.flops_per_model_step("mlp", 40, 3, 8, 2, 10) == 6 * 10 * (320 + 64 + 24)
    # CNN: stem 5*4 and one block 12*4 at 20 positions, head 4*5 -> 3
    assert E.flops_per_model_step("cnn", 40, 3, 4, 2, 1) == 6 * (20 * (20 + 48) + 20 * 3)


def test_params_are_reproducible_by_hash():
    a = E.StackedNet("cnn", 40, 10, 8, 3, [7], init="he")
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in a.params))
    b = E.StackedNet("cnn", 40, 10, 8, 3, [7], init="he")
    assert digest.hexdigest() == hashlib.sha256(
        b"".join(p.detach().numpy().tobytes() for p in b.params)).hexdigest()


def test_a_diverging_model_leaves_the_others_alone(toy):
    """Model 1's parameters are NaN from the start, so its loss is NaN at every step: model 0
    of the stack still trains bit for bit as it does alone, and a DivergenceWarning names
    model 1 (its seed)."""
    X, y = toy
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stack, alone = E.StackedNet("mlp", 40, 10, 8, 2, [3, 4]), E.StackedNet("mlp", 40, 10,
                                                                              8, 2, [3])
        with torch.no_grad():
            stack.params[2][1] = float("nan")
        settings = E.TrainSettings(epochs=1, batch_size=32, lr=1e-2, weight_decay=0.1)
        with pytest.warns(E.DivergenceWarning, match=r"model\(s\) \[1\], seed\(s\) \[4\]"):
            E.train(stack, X, y, settings)
        E.train(alone, X, y, settings)
    finally:
        torch.set_num_threads(threads)
    for p, q in zip(stack.params, alone.params, strict=True):
        assert torch.equal(p[0], q[0])
    assert not torch.isfinite(stack.params[2][1]).any()


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
    with pytest.raises(ValueError, match="init"):
        E.StackedNet("mlp", 40, 10, 8, 2, [0], init="xavier")
    with pytest.raises(ValueError, match="init"):
        E.StackedNet("mlp", 40, 10, 8, 2, [0, 1], init=["he"])
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
    with pytest.raises(ValueError, match="lr_schedule"):
        E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=4, lr_schedule="step"))
    with pytest.raises(ValueError, match="subsets"):
        E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=4), subsets=np.zeros((3, 5), int))
    with pytest.raises(ValueError, match="subsets"):
        E.train(m, X, y, E.TrainSettings(epochs=1, batch_size=4),
                subsets=np.full((2, 5), 20))
    settings = E.TrainSettings(epochs=1, batch_size=4)
    with pytest.raises(ValueError, match="X_train has 20 rows but y_train has 25"):
        E.train(m, X, torch.zeros(25, dtype=torch.long), settings)
    with pytest.raises(ValueError, match="y_train has label 10, out of range for 10 classes"):
        E.train(m, X, torch.full((20,), 10), settings)
    with pytest.raises(TypeError, match="X_train has dtype torch.float64"):
        E.train(m, X.double(), y, settings)
    with pytest.raises(ValueError, match="X_train contains NaN"):
        E.train(m, torch.full((20, 40), float("nan")), y, settings)
    with pytest.raises(TypeError, match="shortcut"):
        E.StackedNet("mlp", 40, 10, 8, 2, [0], shortcut="False")
    with pytest.raises(TypeError, match="seeds"):
        E.StackedNet("mlp", 40, 10, 8, 2, [1.5])
    with pytest.raises(ValueError, match="chunk"):
        E.predict_log_proba(m, X, chunk=0)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        E.batch_orders([0], -1, 1)
