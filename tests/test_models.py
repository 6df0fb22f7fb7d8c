"""Tests for maxent_lib.models: MLP (plain and residual), training, layer-wise growth."""

import numpy as np
import pytest
import torch

from maxent_lib import data, models


@pytest.fixture(scope="module")
def xor_split():
    return data.xor_task().split(400, 400, seed=0)


def test_features_shapes_and_forward():
    torch.manual_seed(0)
    net = models.MLP(3, 8, 4, 5, activation="tanh")
    x = torch.randn(7, 3)
    feats = net.features(x)
    assert len(feats) == 4 and all(f.shape == (7, 8) for f in feats)
    assert net(x).shape == (7, 5)
    torch.testing.assert_close(net(x), net.head(feats[-1]))


def test_shortcut_is_residual():
    torch.manual_seed(0)
    net = models.MLP(2, 6, 3, 2, activation="sigmoid", shortcut=True)
    x = torch.randn(5, 2)
    t1, t2, t3 = net.features(x)
    torch.testing.assert_close(t1, torch.sigmoid(net.layers[0](x)))  # first layer projects
    torch.testing.assert_close(t2, t1 + torch.sigmoid(net.layers[1](t1)))
    torch.testing.assert_close(t3, t2 + torch.sigmoid(net.layers[2](t2)))
    plain = models.MLP(2, 6, 3, 2, activation="sigmoid")
    plain.load_state_dict(net.state_dict())
    torch.testing.assert_close(plain.features(x)[1], torch.sigmoid(net.layers[1](t1)))


def test_train_classifier_learns_xor_and_is_deterministic(xor_split):
    s = xor_split
    out = []
    for _ in range(2):
        torch.manual_seed(0)
        net = models.MLP(2, 16, 2, 2, activation="tanh")
        hist = models.train_classifier(net, s.X_train, s.y_train, epochs=40, lr=1e-2,
                                       seed=1, device="cpu", progress=False)
        out.append(models.predict_proba(net, s.X_test))
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert np.mean(out[0].argmax(1) == s.y_test) > 0.9
    np.testing.assert_array_equal(out[0], out[1])


def test_grow_layerwise_freezes_lower_layers(xor_split, monkeypatch):
    s = xor_split
    snapshots = []
    real_fit = models._fit

    def spy(forward, params, *args, **kwargs):
        hist = real_fit(forward, params, *args, **kwargs)
        snapshots.append([p.detach().clone() for p in net_ref[0].parameters()])
        return hist

    net_ref = []
    real_mlp = models.MLP

    class Spy(real_mlp):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            net_ref.append(self)

    monkeypatch.setattr(models, "_fit", spy)
    monkeypatch.setattr(models, "MLP", Spy)
    net = models.grow_layerwise(2, 8, 3, 2, s.X_train, s.y_train, activation="tanh",
                                epochs_per_layer=5, lr=1e-2, device="cpu", progress=False)
    assert len(snapshots) == 3 and len(net.growth_history) == 3
    names = [n for n, _ in net.named_parameters()]
    for stage in (1, 2):  # after stage j, layers below j are unchanged
        for name, before, after in zip(names, snapshots[stage - 1], snapshots[stage],
                                       strict=True):
            if name.startswith("layers.") and int(name.split(".")[1]) < stage:
                torch.testing.assert_close(before, after, rtol=0, atol=0)
    assert all(p.requires_grad for p in net.parameters())


def test_grow_layerwise_same_architecture_and_reaches_good_accuracy(xor_split):
    s = xor_split
    grown = models.grow_layerwise(2, 16, 2, 2, s.X_train, s.y_train, activation="tanh",
                                  epochs_per_layer=40, lr=1e-2, device="cpu", progress=False)
    torch.manual_seed(0)
    e2e = models.MLP(2, 16, 2, 2, activation="tanh")
    assert [p.shape for p in grown.parameters()] == [p.shape for p in e2e.parameters()]
    assert np.mean(models.predict_proba(grown, s.X_test).argmax(1) == s.y_test) > 0.9


def test_layer_features_matches_features():
    torch.manual_seed(0)
    net = models.MLP(4, 5, 3, 3)
    X = np.random.default_rng(0).normal(size=(10, 4))
    feats = models.layer_features(net, X, batch_size=3)
    assert [f.shape for f in feats] == [(10, 5)] * 3 and feats[0].dtype == np.float64
    with torch.no_grad():
        ref = net.features(torch.tensor(X, dtype=torch.float32))
    np.testing.assert_allclose(feats[2], ref[2].double().numpy(), rtol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "gelu"}, "activation"),
    ({"width": 0}, "width"),
    ({"depth": 1.5}, "depth"),
    ({"n_classes": 1}, "n_classes"),
])
def test_mlp_bad_arguments(kwargs, message):
    args = {"in_dim": 2, "width": 4, "depth": 2, "n_classes": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        models.MLP(**args)


def test_training_bad_input(xor_split):
    s = xor_split
    net = models.MLP(2, 4, 1, 2)
    with pytest.raises(ValueError, match="columns"):
        models.train_classifier(net, s.X_train[:, :1], s.y_train, epochs=1, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        models.train_classifier(net, np.full((4, 2), np.nan), [0, 1, 0, 1], epochs=1,
                                progress=False)
    with pytest.raises(ValueError, match="out of range"):
        models.train_classifier(net, s.X_train, s.y_train + 2, epochs=1, progress=False)
    with pytest.raises(ValueError, match="rows"):
        models.train_classifier(net, s.X_train, s.y_train[:-1], epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        models.train_classifier(net, s.X_train, s.y_train, epochs=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        models.grow_layerwise(2, 4, 2, 2, s.X_train, s.y_train, lr=-1.0, progress=False)
    with pytest.raises(ValueError, match="MLP"):
        models.layer_features(torch.nn.Linear(2, 2), s.X_train)


def test_layer_index_out_of_range_raises():
    net = models.MLP(2, 3, 2, 2)
    with pytest.raises(ValueError, match="layer index"):
        net.layer(2, torch.zeros(1, 3))
    with pytest.raises(ValueError, match="index"):
        net.layer(-1, torch.zeros(1, 3))


def test_grow_layerwise_starts_from_the_end_to_end_initialisation(xor_split, monkeypatch):
    """With training switched off, the grown net is exactly torch.manual_seed(seed); MLP(...)."""
    monkeypatch.setattr(models, "_fit", lambda *a, **k: {"loss": [], "accuracy": []})
    s = xor_split
    grown = models.grow_layerwise(2, 4, 3, 2, s.X_train, s.y_train, activation="sigmoid",
                                  seed=7, device="cpu", progress=False)
    torch.manual_seed(7)
    e2e = models.MLP(2, 4, 3, 2, activation="sigmoid")
    for a, b in zip(grown.parameters(), e2e.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.manual_seed(8)
    other = models.MLP(2, 4, 3, 2, activation="sigmoid")
    assert not torch.equal(next(grown.parameters()), next(other.parameters()))


# ---------------------------------------------------------------- stacked training (lesson 04)

def test_stacked_training_matches_one_by_one(xor_split):
    """Each model of a stack trains as it would alone: same initial weights as
    torch.manual_seed(seed); MLP(...), same batch order, same steps (float32 rounding aside)."""
    s = xor_split
    seeds = [3, 8]
    stack = models.StackedMLP(2, 4, 2, 2, seeds, activation="tanh")
    hist = models.train_stacked(stack, s.X_train, s.y_train, epochs=3, lr=1e-2, device="cpu",
                                eval_data=(s.X_test, s.y_test), progress=False)
    assert hist["loss"].shape == (2, 3) and hist["eval_loss"].shape == (2, 3)
    for i, seed in enumerate(seeds):
        torch.manual_seed(seed)
        alone = models.MLP(2, 4, 2, 2, activation="tanh")
        h = models.train_classifier(alone, s.X_train, s.y_train, epochs=3, lr=1e-2, seed=seed,
                                    device="cpu", progress=False)
        for a, b in zip(alone.parameters(), stack.unstack(i).parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(h["loss"], hist["loss"][i], rtol=1e-5)


def test_stacked_layerwise_matches_grow_layerwise_with_equal_budget(xor_split):
    s = xor_split
    seeds = [1, 4]
    stack = models.StackedMLP(2, 3, 3, 2, seeds, activation="sigmoid")
    hist = models.grow_layerwise_stacked(stack, s.X_train, s.y_train, epochs_per_layer=2,
                                         lr=1e-2, device="cpu", progress=False)
    assert hist["loss"].shape == (2, 3 * 2)  # depth x epochs_per_layer epochs: the e2e budget
    for i, seed in enumerate(seeds):
        grown = models.grow_layerwise(2, 3, 3, 2, s.X_train, s.y_train, activation="sigmoid",
                                      epochs_per_layer=2, lr=1e-2, seed=seed, device="cpu",
                                      progress=False)
        for a, b in zip(grown.parameters(), stack.unstack(i).parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_stacked_bad_input(xor_split):
    s = xor_split
    with pytest.raises(ValueError, match="seeds"):
        models.StackedMLP(2, 3, 2, 2, [])
    stack = models.StackedMLP(2, 3, 2, 2, [0])
    with pytest.raises(ValueError, match="StackedMLP"):
        models.train_stacked(models.MLP(2, 3, 2, 2), s.X_train, s.y_train)
    with pytest.raises(ValueError, match="columns"):
        models.train_stacked(stack, s.X_train[:, :1], s.y_train, progress=False)
    with pytest.raises(ValueError, match="epochs"):
        models.grow_layerwise_stacked(stack, s.X_train, s.y_train, epochs_per_layer=0)
    with pytest.raises(ValueError, match="index"):
        stack.unstack(1)


@pytest.mark.parametrize("kwargs", [{"lr": 1e300}, {"weight_decay": 1e300}, {"lr": 1e39},
                                    {"lr": 1e30}])
def test_absurd_rates_end_in_a_clear_value_error(kwargs):
    """A learning rate or weight decay beyond float32's range (torch's RuntimeError before) is
    refused before training; one that makes the loss NaN or inf stops training with a
    ValueError that names the rates, instead of a history of NaN."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.r_[0, 1, 2, rng.integers(0, 3, 37)]
    with pytest.raises(ValueError, match="lr|weight_decay") as info:
        models.train_classifier(models.MLP(3, 4, 1, 3), X, y, epochs=3, progress=False,
                                **kwargs)
    assert not isinstance(info.value, TypeError)
    if kwargs == {"lr": 1e30}:
        assert "diverged" in str(info.value)
        with pytest.raises(ValueError, match="diverged"):
            models.train_stacked(models.StackedMLP(3, 4, 1, 3, [0, 1]), X, y, epochs=3,
                                 progress=False, device="cpu", **kwargs)
