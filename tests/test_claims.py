"""maxent_lib.claims: the family rule (Holm over one-sided tests, TOST for negligible),
simulated on null and clear families; families built from ablation records (did-not-train and
comparable-fit exclusions); the paper's claims; the theorems' numerical checks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats as scipy_stats

from maxent_lib import ablation, claims, stats
from maxent_lib import ablation as ensemble
from maxent_lib.conditions import theorems

DIRECTIONAL = {"supported", "contradicted", "mixed"}


def _simulate(k: int, reps: int, mean: float | np.ndarray, margin: float, direction: int = 1,
              seeds: int = 8, sd: float = 1.0, seed: int = 0) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    counts: dict[str, int] = {}
    for _ in range(reps):
        eff = rng.normal(mean, sd, size=(seeds, k)).T if np.ndim(mean) == 0 else \
            (rng.normal(0, sd, size=(k, seeds)) + np.asarray(mean)[:, None])
        v = stats.family_verdict(list(eff), direction, margin=margin)
        counts[v] = counts.get(v, 0) + 1
    return {v: c / reps for v, c in counts.items()}


@pytest.mark.parametrize("k", [10, 30])
@pytest.mark.parametrize("margin", [0.0, 0.1])
def test_null_families_rarely_get_a_directional_verdict(k: int, margin: float) -> None:
    """True effect 0 in every setting, 8 seeds: the rule says supported, contradicted or mixed
    in at most about alpha = 5% of families (Monte Carlo: 2000 families, 3 standard errors)."""
    rates = _simulate(k, 2000, 0.0, margin, seed=k)
    directional = sum(rates.get(v, 0.0) for v in DIRECTIONAL)
    assert directional <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000), rates
    if margin == 0.0:
        assert directional > 0.01  # the test is not vacuous: it does reject sometimes


def test_the_old_rule_would_fail_the_same_simulation() -> None:
    """'Supported as soon as one 95% interval excludes 0' on 30 null settings: far above 5%."""
    rng = np.random.default_rng(1)
    eff = rng.normal(0, 1, size=(2000, 30, 8))
    lo = eff.mean(-1) - scipy_stats.t.ppf(0.975, 7) * eff.std(-1, ddof=1) / np.sqrt(8)
    assert (lo > 0).any(-1).mean() > 0.15  # about 1 - 0.975**30 = 0.53
    e = eff[0, 0]
    assert stats.verdict(lo[0, 0], 2 * e.mean() - lo[0, 0], +1) == (
        "supported" if lo[0, 0] > 0 else "inconclusive" if 2 * e.mean() - lo[0, 0] > 0
        else "contradicted")


@pytest.mark.parametrize("k", [10, 30])
def test_power_at_a_clear_effect(k: int) -> None:
    """Every setting has effect 1.5 sd (margin 0.1 sd), 8 seeds: "supported" in >= 90%."""
    rates = _simulate(k, 400, 1.5, 0.1, seed=100 + k)
    assert rates.get("supported", 0.0) >= 0.9, rates


def test_contradicted_mixed_and_negligible() -> None:
    assert _simulate(10, 200, -1.5, 0.1, seed=5).get("contradicted", 0) >= 0.9
    both = np.array([1.8] * 5 + [-1.8] * 5)
    assert _simulate(10, 200, both, 0.1, seed=6).get("mixed", 0) >= 0.8
    # tight around 0 (sd 0.02) with margin 0.1: negligible, for either direction
    assert _simulate(10, 200, 0.0, 0.1, sd=0.02, seed=7).get("negligible", 0) >= 0.9
    assert _simulate(10, 200, 0.0, 0.1, direction=0, sd=0.02, seed=8).get("negligible",
                                                                          0) >= 0.9
    # wide around 0: no evidence either way
    assert _simulate(10, 200, 0.0, 0.1, sd=1.0, seed=9).get("inconclusive", 0) >= 0.9


def test_effects_below_the_margin_are_never_called() -> None:
    """An effect of 4 test points (0.004) measured very precisely, margin 0.01: negligible, not
    up, however many seeds."""
    rng = np.random.default_rng(2)
    eff = [0.004 + rng.normal(0, 1e-4, 50) for _ in range(3)]
    res = stats.family_tests(eff, +1, margin=0.01)
    assert res.verdict == "negligible" and res.count("up") == 0
    assert stats.family_verdict(eff, +1, margin=0.0) == "supported"  # only without a margin


def test_one_sided_pvalues_match_scipy() -> None:
    v = np.array([0.03, 0.01, 0.05, 0.02, 0.04, 0.0])
    p_up, p_down, p_eq = stats.one_sided_pvalues(v, 0.01)
    assert p_up == pytest.approx(scipy_stats.ttest_1samp(v - 0.01, 0, alternative="greater").pvalue)
    assert p_down == pytest.approx(scipy_stats.ttest_1samp(v + 0.01, 0, alternative="less").pvalue)
    lo = scipy_stats.ttest_1samp(v + 0.01, 0, alternative="greater").pvalue
    hi = scipy_stats.ttest_1samp(v - 0.01, 0, alternative="less").pvalue
    assert p_eq == pytest.approx(max(lo, hi))
    assert all(math.isnan(x) for x in stats.one_sided_pvalues([0.1], 0.0))
    assert stats.one_sided_pvalues([0.25, 0.25, 0.25], 0.125)[:2] == (0.0, 1.0)  # no spread


def test_holm_against_a_direct_implementation() -> None:
    rng = np.random.default_rng(4)
    for _ in range(200):
        p = rng.uniform(0, 0.05, size=rng.integers(1, 12)) ** rng.uniform(0.5, 2)
        order = np.argsort(p)
        want = np.zeros(len(p), bool)
        for i, j in enumerate(order):
            if p[j] <= 0.05 / (len(p) - i):
                want[j] = True
            else:
                break
        np.testing.assert_array_equal(stats.holm(p, 0.05), want)
    assert stats.holm([], 0.05).size == 0


def test_family_tests_details_and_bad_input() -> None:
    res = stats.family_tests([[0.3, 0.31, 0.29, 0.3], [0.0, 0.001, -0.001, 0.0], [0.1]], +1,
                              margin=0.01, settings=["a", "b", "c"])
    assert [s.call for s in res.settings] == ["up", "negligible", "too few seeds"]
    assert res.verdict == "supported" and "1 up" in res.summary()
    assert "1 with too few seeds" in res.summary()
    assert stats.family_verdict([[0.3, 0.31, 0.29]], 0, margin=0.01) == "contradicted"
    with pytest.raises(ValueError, match="empty"):
        stats.family_verdict([], +1, margin=0.01)
    with pytest.raises(ValueError, match="direction"):
        stats.family_verdict([[0.1, 0.2]], 2, margin=0.01)
    with pytest.raises(ValueError, match="margin"):
        stats.family_verdict([[0.1, 0.2]], 0, margin=0.0)
    with pytest.raises(ValueError, match="margin"):
        stats.family_verdict([[0.1, 0.2]], 1, margin=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        stats.family_verdict([[0.1, 0.2]], 1, margin=0.0, alpha=1.5)
    with pytest.raises(ValueError):
        stats.family_verdict([[0.1, np.nan]], 1, margin=0.0)
    with pytest.raises(ValueError, match="names"):
        stats.family_tests([[0.1, 0.2]], 1, margin=0.0, settings=["a", "b"])


@pytest.mark.parametrize(("lo", "hi", "direction", "want"), [
    (0.01, 0.05, +1, "supported"),
    (-0.05, -0.01, +1, "contradicted"),
    (-0.01, 0.05, +1, "inconclusive"),
    (-0.05, -0.01, -1, "supported"),
    (0.01, 0.05, -1, "contradicted"),
    (0.0, 0.05, +1, "inconclusive"),  # touching 0 does not exclude it
])
def test_one_interval_reading(lo: float, hi: float, direction: int, want: str) -> None:
    assert stats.verdict(lo, hi, direction) == want


def test_one_interval_reading_with_a_margin() -> None:
    assert stats.verdict(0.004, 0.031, +1, margin=0.01) == "inconclusive"
    assert stats.verdict(0.012, 0.031, +1, margin=0.01) == "supported"
    assert stats.verdict(-0.005, 0.008, 0, margin=0.01) == "supported"
    assert stats.verdict(0.02, 0.05, 0, margin=0.01) == "contradicted"
    with pytest.raises(ValueError, match="lo is NaN"):  # one value: no interval to read
        stats.verdict(math.nan, math.nan, 1)
    with pytest.raises(ValueError, match="reversed"):
        stats.verdict(0.2, 0.1, +1)


# ---------------------------------------------------------------------- families from records

def _shortcut_records(effect_at: dict[int, float], seeds: int = 6, noise: float = 0.002,
                      plain_train: float = 0.95, dead_depth: int | None = None,
                      profile: str = "quick") -> list[dict]:
    """Fake shortcut-grid records: residual beats plain by effect_at[depth] (+ seeded noise)."""
    rng = np.random.default_rng(0)
    out = []
    for kind in ("mlp", "cnn"):
        for depth, eff in effect_at.items():
            for seed in range(seeds):
                base = 0.6 + 0.01 * seed
                dead = depth == dead_depth
                common = {"kind": kind, "depth": depth, "seed": seed, "dataset": "mnist1d",
                          "width": 8, "init": "he", "profile": profile, "n_classes": 10}
                out.append({**common, "arm": "plain", "shortcut": False,
                            "test_acc": 0.09 if dead else base,
                            "train_acc": 0.103 if dead else plain_train})
                out.append({**common, "arm": "residual", "shortcut": True,
                            "test_acc": base + eff + noise * rng.normal(), "train_acc": 0.96})
    return out


def test_shortcut_families() -> None:
    recs = _shortcut_records({2: 0.0, 4: 0.03, 8: 0.05})
    c5, c6 = claims.shortcut_families(recs, "quick")
    assert sorted(c5.settings) == ["kind cnn, depth 4", "kind cnn, depth 8",
                                   "kind mlp, depth 4", "kind mlp, depth 8"]
    assert not c5.excluded
    assert c5.judge().verdict == "supported"
    assert c6.judge().verdict == "supported" and len(c6.settings) == 2
    np.testing.assert_allclose(np.concatenate(c6.effects).mean(), 0.05, atol=0.003)


def test_nets_that_did_not_train_enter_no_verdict() -> None:
    """The issue's case: plain nets at chance at the deepest depth. Their 'effects' are left
    out ("did not train"), so a huge residual-minus-plain difference is not evidence."""
    recs = _shortcut_records({2: 0.0, 4: 0.0, 32: 0.5}, dead_depth=32)
    c5, c6 = claims.shortcut_families(recs, "full")
    assert all("depth 32" not in s for s in c5.settings)
    assert [why.startswith("did not train") for _, why in c5.excluded] == [True, True]
    assert c5.judge().verdict != "supported"
    assert c6.judge() is None and len(c6.excluded) == 2


def test_comparable_fit_is_required_for_generalisation() -> None:
    recs = _shortcut_records({2: 0.0, 8: 0.05}, plain_train=0.70)
    c5, _ = claims.shortcut_families(recs, "quick")
    assert not c5.settings and all("optimisation" in why for _, why in c5.excluded)


def _reg_records(profile: str = "quick") -> list[dict]:
    out = []
    rng = np.random.default_rng(1)
    for n_train, gain in ((250, 0.05), (1000, 0.01)):
        for seed in range(8):
            for arm, acc, ent in (("baseline", 0.6, 1.0), ("label smoothing 0.1", 0.6, 1.4),
                                  ("dropout 0.3", 0.6 + gain, 1.0),
                                  ("weight decay 0.5", 0.6, 1.2)):
                j = 0.002 * rng.normal() * (arm != "baseline")
                out.append({"arm": arm, "n_train": n_train, "seed": seed, "dataset": "mnist1d",
                            "profile": profile, "train_acc": 1.0, "test_acc": acc + j,
                            "test_loss_calibrated": 1.5 - acc - j, "test_entropy": ent + j,
                            "gen_gap": 0.4 - (acc - 0.6) - j,
                            "label_smoothing": 0.1 * (arm.startswith("label")),
                            "dropout": 0.3 * (arm.startswith("dropout")),
                            "weight_decay": 0.5 * (arm.startswith("weight"))})
    return out


def test_regularization_families() -> None:
    fams = {f.claim.key: f for f in claims.regularization_families(_reg_records(), "quick")}
    assert set(fams) == {"C7", "C7c", "C8", "C8b", "C9", "C10"}
    c7 = fams["C7"].judge()
    calls = {s.setting: s.call for s in c7.settings}
    assert calls["dropout 0.3, n_train 250"] == "up" and c7.verdict == "supported"
    assert calls["label smoothing 0.1, n_train 1000"] == "negligible"
    assert fams["C8"].settings == ["n_train 250", "n_train 1000"]  # weight decay only
    assert fams["C8b"].claim.status == "by construction"
    assert fams["C10"].judge().verdict == "supported"  # dropout: 0.05 at 250 vs 0.01 at 1000
    rows = claims.verdict_table(list(fams.values()))
    by = {r["claim"]: r for r in rows}
    assert by["C8b"]["verdict"] == "by construction (no evidence)"
    assert by["C1"]["verdict"] == "theorem" and by["C5"]["verdict"] == "not measured"
    assert by["C7"]["verdict"] == "supported" and "8 seeds" in by["C7"]["evidence"]
    text = claims.format_rows(rows, ["claim", "verdict"])
    assert text.count("\n") == len(claims.PAPER_CLAIMS) + 1
    assert claims.family_rows(fams["C7"])[0]["claim"] == "C7"


def test_mixed_profiles_are_refused() -> None:
    with pytest.raises(ValueError, match="profiles"):
        claims.regularization_families(_reg_records("quick") + _reg_records("full"), "both")


def test_paper_claims_are_well_formed() -> None:
    keys = [c.key for c in claims.PAPER_CLAIMS]
    assert len(set(keys)) == len(keys) and claims.claim("C5").metric == "test_acc"
    assert {c.key for c in claims.PAPER_CLAIMS if c.status == "theorem"} == \
        {"C1", "C2", "C3", "C4"}
    assert all(c.margin >= 0.01 for c in claims.PAPER_CLAIMS if c.metric in ("test_acc",
                                                                             "gen_gap"))
    with pytest.raises(ValueError, match="is not a claim"):
        claims.claim("C99")
    table = claims.format_claims(claims.PAPER_CLAIMS)
    assert table.count("\n") == len(keys) + 1 and "P(Y\\|X)" in table
    with pytest.raises(ValueError, match="status"):
        claims.Claim("x", "05", "s", "m", 1, status="probably")


def test_remeasured_theorems_small() -> None:
    rows = theorems.remeasure_theorems(seeds=[0, 1, 2], n_population=4000, n_eval=4000)
    by: dict[str, list] = {}
    for r in rows:
        by.setdefault(r.claim, []).append(r)
    assert [len(by[k]) for k in ("C1", "C2", "C3", "C4")] == [2, 1, 1, 1]
    assert all(r.holds for r in rows)
    assert all(r.value < 1e-6 for r in by["C1"])  # an exact identity
    summary = claims.theorem_summary(rows)
    assert set(summary) == {"C1", "C2", "C3", "C4"} and "FAILS" not in summary["C3"]
    with pytest.raises(ValueError, match="two seeds"):
        theorems.remeasure_theorems(seeds=[0])


def test_interaction_values() -> None:
    recs = _shortcut_records({2: 0.0, 8: 0.05}, noise=0.0)
    mlp = [r for r in recs if r["kind"] == "mlp"]
    values = claims.interaction_values(mlp, "test_acc", "arm", "plain", "residual",
                                       along="depth", low=2, high=8)
    np.testing.assert_allclose(values, [0.05] * 6, atol=1e-12)
    with pytest.raises(ValueError):
        claims.interaction_values(mlp, "test_acc", "arm", "plain", "residual", "depth", 2, 99)
    with pytest.raises(ValueError, match="duplicate"):
        claims.interaction_values(mlp + mlp[:1], "test_acc", "arm", "plain", "residual",
                                  "depth", 2, 8)
    with pytest.raises(ValueError, match="lacks the field"):
        claims.interaction_values([{"arm": "plain"}], "test_acc", "arm", "plain", "residual",
                                  "depth", 2, 8)


def test_load_grid_and_find_results(tmp_path: Path) -> None:
    (tmp_path / "maxent_lib").mkdir()
    results = tmp_path / "results"
    results.mkdir()
    with open(results / "shortcut_quick.jsonl", "w") as f:
        for r in _shortcut_records({2: 0.01}):
            f.write(json.dumps({**r, "key": f"{r['kind']}{r['seed']}{r['arm']}"}) + "\n")
    (tmp_path / "notebooks").mkdir()
    assert claims.find_results_dir(tmp_path / "notebooks") == results
    grid = claims.load_grid(results, "shortcut")
    assert list(grid) == ["quick"] and len(grid["quick"]) == 24
    assert claims.load_grid(results, "regularization") == {}
    with pytest.raises(ValueError):
        claims.load_grid(tmp_path / "nope", "shortcut")


def test_layer_gap_family() -> None:
    def model(gaps):
        return [{"total_gap": g} for g in gaps]

    per_seed = [model([0.8 + d, 0.3 + d, 0.29 + d, 0.35 + d]) for d in (0.0, 0.01, -0.01, 0.02)]
    fam = claims.layer_gap_family(per_seed, "quick")
    assert fam.settings == ["X -> T1", "T1 -> T2", "T2 -> T3"]
    np.testing.assert_allclose(fam.effects[0], [-0.5] * 4)
    res = fam.judge()
    assert [s.call for s in res.settings][0] == "down" and res.verdict == "mixed"
    with pytest.raises(ValueError, match="same layers"):
        claims.layer_gap_family([model([1, 2]), model([1, 2, 3])], "q")
    with pytest.raises(ValueError, match="total_gap"):
        claims.layer_gap_family([[{"total_gap": None}, {"total_gap": 1.0}]] * 2, "q")
    # against the same nets untrained: a step is credited only with what training added
    untrained = [model([0.8 + d, 0.5 + d, 0.45 + d, 0.45 + d]) for d in (0.0, 0.01, -0.01, 0.02)]
    vs = claims.layer_gap_family(per_seed, "quick", baseline=untrained)
    assert vs.settings[0] == "X -> T1, trained - untrained"
    np.testing.assert_allclose(np.stack(vs.effects), [[-0.2] * 4, [0.04] * 4, [0.06] * 4],
                               atol=1e-12)
    with pytest.raises(ValueError, match="pair each model"):
        claims.layer_gap_family(per_seed, "q", baseline=untrained[:2])


def test_at_initialisation_recreates_the_untrained_stack() -> None:
    data = ablation.prepare_dataset("mnist1d")
    cfgs = [ablation.canonical_config({"kind": "mlp", "width": 16, "depth": 2, "seed": s,
                                       "epochs": 1, "n_train": 200, "n_val": 50},
                                      len(data.X_train)) for s in (0, 1)]
    fitted = ablation.fit_group(cfgs, data)
    fresh, again = ablation.at_initialisation(fitted), ablation.at_initialisation(fitted)
    for p, q, t in zip(fresh.model.params, again.model.params, fitted.model.params, strict=True):
        assert torch.equal(p, q) and not torch.equal(p, t)  # the start, not the trained net
    start = ensemble.StackedNet("mlp", data.X_train.shape[1], data.n_classes, 16, 2, [1])
    assert torch.equal(fresh.model.params[0][1], start.params[0][0])  # model 1's own draws
    assert fresh.splits is fitted.splits and fresh.records is fitted.records


def test_growth_with_depth_needs_comparable_fit_at_both_depths() -> None:
    recs = _shortcut_records({2: 0.0, 8: 0.05}, plain_train=0.99)
    for r in recs:
        if r["kind"] == "cnn" and r["depth"] == 8 and r["arm"] == "residual":
            r["train_acc"] = 0.80
    _, c6 = claims.shortcut_families(recs, "quick")
    assert c6.settings == ["kind mlp, depth 8 vs 2"]
    assert c6.excluded[0][0] == "kind cnn, depth 8 vs 2" and "depth 8" in c6.excluded[0][1]
