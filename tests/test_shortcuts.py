"""maxent_lib.shortcuts (lesson 05): the plain and residual arms on a toy task and their gaps
layer by layer, C6's fit / generalisation split, the grid's verdicts drawn only when the files
are current and the budget check passes (with the filters' sensitivity), the null simulation
of the verdict rule, and the lesson's figures."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from maxent_lib import claims, data, layerwise, models, shortcuts  # noqa: E402
from maxent_lib.store.provenance import StoredResults  # noqa: E402

# ------------------------------------------------------------------- the running example

TINY_PROBE = {"width": 8, "max_epochs": 20, "patience": 3}


@pytest.fixture(scope="module")
def xor_arms():
    xor = data.xor_task()
    X, y = xor.sample(300, seed=0)
    Xh, yh = xor.sample(200, seed=1)
    nets = shortcuts.train_arms(X, y, width=3, depth=3, seeds=[0, 1], epochs=3, lr=1e-2,
                                batch_size=64, device="cpu")
    return nets, Xh, yh


def test_the_arms_differ_only_in_the_shortcuts(xor_arms) -> None:
    nets, Xh, _ = xor_arms
    assert list(nets) == list(shortcuts.ARMS)
    start = {arm: layerwise.at_initialisation(net) for arm, (net, _) in nets.items()}
    for a, b in zip(start["plain"].parameters(), start["residual"].parameters(), strict=True):
        assert torch.equal(a, b)  # the same initial weights
    res = nets["residual"][0].unstack(0)
    x = torch.tensor(Xh[:5], dtype=torch.float32)
    with torch.no_grad():
        t1, t2 = res.features(x)[:2]
        branch = torch.relu(res.layers[1](t1))
    torch.testing.assert_close(t2, t1 + branch)  # T_2 = T_1 + relu(A_2 T_1 + c_2)
    assert nets["plain"][1]["loss"].shape == (2, 3)


def test_layer_gaps_are_paired_and_readable_layer_by_layer(xor_arms) -> None:
    nets, Xh, yh = xor_arms
    runs = shortcuts.arm_layer_gaps(nets, Xh, yh, n_splits=2, probe=TINY_PROBE)
    assert set(runs) == {(a, s) for a in shortcuts.ARMS for s in (0, 1)}
    for s in (0, 1):  # one probe on X per seed: layer 0 is shared, its FC1 gap is 0
        assert runs["plain", s]["gaps"][0] == runs["residual", s]["gaps"][0]
        assert runs["plain", s]["gaps"][0]["fc1_gap"] == 0.0
    fc1 = layerwise.layer_values(runs, "residual", [0, 1], "fc1_gap")
    assert fc1.shape == (2, 4)
    for r in runs.values():
        assert 0.0 <= r["test_acc"] <= 1.0 and r["test_ce"] > 0 and np.isfinite(r["train_ce"])
        for g in r["gaps"]:
            assert abs(g["fc1_gap"] + g["fc2_gap"] - g["total_gap"]) < 1e-12
    assert layerwise.stuck_seeds(runs, 10.0) == {"plain": [], "residual": []}


def test_arms_refuse_what_cannot_be_paired(xor_arms) -> None:
    nets, Xh, yh = xor_arms
    with pytest.raises(ValueError, match="rows"):
        shortcuts.arm_layer_gaps(nets, Xh, yh[:-1])
    other = models.StackedMLP(2, 3, 3, 2, [5, 6])
    with pytest.raises(ValueError, match="paired"):
        shortcuts.arm_layer_gaps({"plain": nets["plain"], "residual": (other, {})}, Xh, yh)
    with pytest.raises(ValueError, match="StackedMLP"):
        shortcuts.arm_layer_gaps({"plain": (1, 2)}, Xh, yh)
    with pytest.raises(ValueError, match="rows"):
        shortcuts.train_arms(Xh, yh[:-1], width=2, depth=2, seeds=[0], epochs=1, lr=0.1,
                             batch_size=10)


# ------------------------------------------------------------------------- grid records

def _records(effect_at: dict[int, float], seeds: int = 4, epochs: int = 10,
             plain_train: float = 0.95, move: float = 0.0) -> list[dict]:
    """Fake shortcut-grid records: residual beats plain by effect_at[depth] (+ seeded noise);
    ``move`` is added to every test accuracy (a longer budget's records)."""
    rng = np.random.default_rng(0)
    out = []
    for kind in ("mlp", "cnn"):
        for depth, eff in effect_at.items():
            for seed in range(seeds):
                base = 0.6 + 0.01 * seed + move
                for arm, acc, train in (("plain", base, plain_train),
                                        ("residual", base + eff + 0.002 * rng.normal(), 0.96)):
                    out.append({"kind": kind, "depth": depth, "seed": seed, "arm": arm,
                                "shortcut": arm == "residual", "width": 8, "init": "he",
                                "epochs": epochs, "profile": "quick", "dataset": "mnist1d",
                                "n_classes": 10, "test_acc": acc, "train_acc": train,
                                "gen_gap": train - acc})
    return out


def _stored(records: list[dict], current: bool = True) -> StoredResults:
    return StoredResults(None, records, {}, current,
                         "made by the current code" if current else "made by other code")


def test_c6_split_is_exact_seed_by_seed() -> None:
    recs = _records({2: 0.0, 8: 0.05})
    rows = {(r["kind"], r["metric"]): r for r in shortcuts.c6_split(recs)}
    assert set(rows) == {(k, m) for k in ("cnn", "mlp")
                         for m in ("test_acc", "train_acc", "gen_gap")}
    for kind in ("mlp", "cnn"):
        t, f, g = (np.array(rows[kind, m]["values"]) for m in ("test_acc", "train_acc",
                                                               "gen_gap"))
        np.testing.assert_allclose(t, f - g, atol=1e-12)   # d(test) = d(train) - d(gap)
        assert rows[kind, "test_acc"]["effect"] == pytest.approx(0.05, abs=0.005)
        assert rows[kind, "test_acc"]["depths"] == (2, 8) and rows[kind, "test_acc"]["n"] == 4
        expect = claims.interaction_values([r for r in recs if r["kind"] == kind], "test_acc",
                                           "arm", "plain", "residual", "depth", 2, 8)
        np.testing.assert_allclose(rows[kind, "test_acc"]["values"], expect)
    unfinished = [r for r in recs if not (r["kind"] == "cnn" and r["depth"] == 8)]
    assert {r["kind"] for r in shortcuts.c6_split(unfinished)} == {"mlp"}
    bad = [dict(r) for r in recs]
    bad[0]["gen_gap"] += 0.1
    with pytest.raises(ValueError, match="gen_gap"):
        shortcuts.c6_split(bad)


def test_a_grid_gives_a_verdict_only_when_current_and_settled() -> None:
    recs = _records({2: 0.0, 4: 0.03, 8: 0.05})
    longer = _records({2: 0.0, 4: 0.03, 8: 0.05}, epochs=20, move=0.002)
    assert "has not been made" in shortcuts.judge_grid(None, None, "quick").why
    stale = shortcuts.judge_grid(_stored(recs, current=False), _stored(longer), "quick")
    assert not stale.judged and "not current" in stale.why and stale.families == []
    assert "no budget file" in shortcuts.judge_grid(_stored(recs), None, "quick").why
    assert "budget file is not current" in shortcuts.judge_grid(
        _stored(recs), _stored(longer, current=False), "quick").why
    moved = shortcuts.judge_grid(_stored(recs), _stored(_records(
        {2: 0.0, 4: 0.03, 8: 0.05}, epochs=20, move=0.03)), "quick")
    assert not moved.judged and "FAILED" in moved.why and moved.check is not None
    assert moved.sentences() == [f"The quick grid gives no verdict: {moved.why}."]
    lone = shortcuts.judge_grid(_stored(recs), _stored([dict(r, epochs=7) for r in longer]),
                                "quick")
    assert not lone.judged and "could not be made" in lone.why and lone.check is None
    ok = shortcuts.judge_grid(_stored(recs), _stored(longer), "quick")
    assert ok.judged and ok.check.passed and ok.sample == ""
    by = {(f.claim.key, f.item): f.judge().verdict for f in ok.families}
    assert by[("C5", "mlp")] == "supported" and by[("C6", "cnn")] == "supported"
    assert set(ok.sensitivity) == {"fit_tolerance", "trained_at"}
    assert set(ok.sensitivity["fit_tolerance"]) == set(claims.FIT_TOLERANCES)
    assert ok.notes == {} and all(s.startswith("quick: C") for s in ok.sentences())


def test_a_sample_check_and_a_filter_that_decides_are_reported() -> None:
    recs = _records({2: 0.0, 8: 0.05}, plain_train=0.92)   # fit gap 0.04: inside 0.05 only
    sample = [r for r in _records({2: 0.0, 8: 0.05}, epochs=20, plain_train=0.92)
              if r["seed"] < 2]
    out = shortcuts.judge_grid(_stored(recs), _stored(sample), "full")
    assert out.judged and out.sample == "seed 0, 1"
    assert "depends on the fit tolerance" in out.notes[("C5", "mlp")]
    text = " ".join(out.sentences())
    assert "C5 for mlp: the verdict depends on the fit tolerance" in text
    rows = {(r["claim"], r["item"]): r for r in shortcuts.sensitivity_rows(
        out.sensitivity["fit_tolerance"])}
    assert rows[("C5", "mlp")]["0.03"] == "no verdict" and rows[("C5", "mlp")]["depends"] == "yes"
    assert rows[("C5", "mlp")]["none"] == "supported" and "0.05" in rows[("C5", "mlp")]
    with pytest.raises(ValueError):
        shortcuts.sensitivity_rows({})


# ------------------------------------------------------------------- the null simulation

def test_the_null_simulation_keeps_false_support_below_alpha() -> None:
    null = shortcuts.null_simulation(0.0, 0.01, n_families=400, seed=1)
    assert sum(null.values()) == pytest.approx(1.0) and null["supported"] <= 0.05
    edge = shortcuts.null_simulation(0.01, 0.01, n_families=400, quantifier="existential")
    assert edge["supported"] <= 0.05 + 0.03 and edge["negligible"] <= 0.05 + 0.03
    strong = shortcuts.null_simulation(0.04, 0.01, n_families=200)
    assert strong["supported"] >= 0.9
    assert shortcuts.null_simulation(0.0, 0.01, n_families=50, seed=3) == \
        shortcuts.null_simulation(0.0, 0.01, n_families=50, seed=3)
    assert shortcuts.null_simulation(0.0, 0.01, n_families=200, direction=0)["contradicted"] \
        <= 0.08


# ------------------------------------------------------------------------------ figures

def _rows() -> list[dict]:
    return [{"kind": "mlp", "arm": arm, "depth": d, "test_acc_mean": 0.6, "test_acc_lo": 0.58,
             "test_acc_hi": 0.62, "train_acc_mean": 1.0}
            for arm in ("plain", "residual") for d in (2, 4, 8)]


def test_figures_draw_what_they_are_given() -> None:
    fig, axes = plt.subplots(1, 3)
    shortcuts.accuracy_by_depth(axes[0], _rows())
    assert len(axes[0].get_lines()) >= 4 and axes[0].get_xscale() == "log"
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["2", "4", "8"]
    eff = {"test": [{"depth": d, "effect": 0.01, "lo": 0.0, "hi": 0.02} for d in (4, 8)]}
    shortcuts.effect_by_depth(axes[1], eff, margin=0.01)
    assert axes[1].get_legend_handles_labels()[1][0].startswith("within the margin")
    shortcuts.interval_rows(axes[2], ["a", "b"], [0.0, 0.01], [-0.01, 0.0], [0.01, 0.02],
                            band=0.01)
    assert {t.get_text() for t in axes[2].get_yticklabels()} == {"a", "b"}
    with pytest.raises(ValueError, match="arm"):
        shortcuts.accuracy_by_depth(axes[0], _rows(), arms=("plain", "dense"))
    with pytest.raises(ValueError, match="lack"):
        shortcuts.accuracy_by_depth(axes[0], [{"depth": 2, "arm": "plain"}])
    with pytest.raises(ValueError, match="lacks"):
        shortcuts.effect_by_depth(axes[1], {"test": [{"depth": 2}]})
    with pytest.raises(TypeError):
        shortcuts.effect_by_depth(axes[1], {"test": "rows"})
    with pytest.raises(ValueError, match="one length"):
        shortcuts.interval_rows(axes[2], ["a"], [0.0, 0.1], [0.0, 0.0], [0.1, 0.1])
    with pytest.raises(ValueError, match="contain"):
        shortcuts.interval_rows(axes[2], ["a"], [0.5], [0.0], [0.1])
    with pytest.raises(TypeError):
        shortcuts.interval_rows("not axes", ["a"], [0.0], [0.0], [0.0])
    plt.close(fig)
