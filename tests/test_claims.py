"""maxent_lib.claims and maxent_lib.verdicts: families built from ablation records (one per
item of a per-item claim; did-not-train and comparable-fit exclusions at any filter value), the
paper's claims and their quantifiers, verdict tables and sentences, filter sensitivity, C0's
layer family and the theorems' numerical checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from maxent_lib import ablation, claims, verdicts
from maxent_lib.conditions import theorems

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


def _by(families):
    return {(f.claim.key, f.item): f for f in families}


def test_shortcut_families_are_judged_per_architecture() -> None:
    recs = _shortcut_records({2: 0.0, 4: 0.03, 8: 0.05})
    fams = _by(claims.shortcut_families(recs, "quick"))
    assert set(fams) == {("C5", "mlp"), ("C6", "mlp"), ("C5", "cnn"), ("C6", "cnn")}
    c5, c6 = fams[("C5", "mlp")], fams[("C6", "mlp")]
    assert c5.settings == ["depth 4", "depth 8"] and not c5.excluded
    assert c5.judge().verdict == "supported" and c5.judge().quantifier == "universal"
    assert c6.judge().verdict == "supported" and c6.settings == ["depth 8 vs 2"]
    np.testing.assert_allclose(c6.effects[0].mean(), 0.05, atol=0.003)


def test_nets_that_did_not_train_enter_no_verdict() -> None:
    """The issue's case: plain nets at chance at the deepest depth. Their 'effects' are left
    out ("did not train"), so a huge residual-minus-plain difference is not evidence."""
    recs = _shortcut_records({2: 0.0, 4: 0.0, 32: 0.5}, dead_depth=32)
    fams = _by(claims.shortcut_families(recs, "full"))
    c5, c6 = fams[("C5", "mlp")], fams[("C6", "mlp")]
    assert c5.settings == ["depth 4"]
    assert [why.startswith("did not train") for _, why in c5.excluded] == [True]
    assert c5.judge().verdict != "supported"
    assert c6.judge() is None and len(c6.excluded) == 1
    # with no "did not train" filter the dead nets count, and their 0.5 "gain" is called
    loose = _by(claims.shortcut_families(recs, "full", trained_at=None, fit_tolerance=None))
    assert "depth 32" in loose[("C5", "mlp")].settings


def test_comparable_fit_is_required_for_generalisation() -> None:
    recs = _shortcut_records({2: 0.0, 8: 0.05}, plain_train=0.70)
    c5 = _by(claims.shortcut_families(recs, "quick"))[("C5", "mlp")]
    assert not c5.settings and all("optimisation" in why for _, why in c5.excluded)
    assert "tolerance 0.05" in c5.excluded[0][1]
    loose = _by(claims.shortcut_families(recs, "quick", fit_tolerance=0.3))[("C5", "mlp")]
    assert loose.settings == ["depth 8"]


def test_a_verdict_that_flips_with_the_filter_is_reported_as_depending_on_it() -> None:
    """C5 with a training-fit gap of 0.04: inside the 0.05 and 0.10 tolerances (judged:
    supported), outside 0.03 (excluded: no verdict), and judged with no filter."""
    recs = _shortcut_records({2: 0.0, 8: 0.05}, plain_train=0.92)
    sens = verdicts.filter_sensitivity(claims.shortcut_families, recs, "quick",
                                       "fit_tolerance", claims.FIT_TOLERANCES)
    assert sens[0.05][("C5", "mlp")] == "supported" and sens[0.03][("C5", "mlp")] == "no verdict"
    notes = verdicts.sensitivity_notes(sens, "fit tolerance", 0.05)
    assert ("C5", "mlp") in notes and "depends on the fit tolerance" in notes[("C5", "mlp")]
    assert "0.03: no verdict" in notes[("C5", "mlp")] and "none: supported" in notes[("C5", "mlp")]
    steady = verdicts.filter_sensitivity(claims.shortcut_families,
                                         _shortcut_records({2: 0.0, 8: 0.05}), "quick",
                                         "fit_tolerance", claims.FIT_TOLERANCES)
    assert verdicts.sensitivity_notes(steady, "fit tolerance", 0.05) == {}
    families = claims.shortcut_families(recs, "quick")
    text = " ".join(verdicts.found_sentences(families, notes=notes))
    assert "C5 for mlp: the verdict depends on the fit tolerance" in text
    rows = {r["claim"]: r for r in verdicts.verdict_table(families, sensitivity=notes)}
    assert "depends on the fit tolerance" in rows["C5"]["filters"]
    assert rows["C5"]["quantifier"] == "per architecture; every setting"


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


def test_regularization_families_are_judged_per_regulariser() -> None:
    families = claims.regularization_families(_reg_records(), "quick")
    fams = _by(families)
    assert {k for k, _ in fams} == {"C7", "C7c", "C8", "C8b", "C9", "C10"}
    dropout = fams[("C7", "dropout 0.3")].judge()
    calls = {s.setting: s.call for s in dropout.settings}
    assert calls == {"n_train 250": "for", "n_train 1000": "unclear"} or \
        calls["n_train 250"] == "for"
    smoothing = fams[("C7", "label smoothing 0.1")].judge()
    assert smoothing.verdict == "negligible"  # no gain at either size
    assert fams[("C8", "weight decay 0.5")].settings == ["n_train 250", "n_train 1000"]
    assert ("C8", "dropout 0.3") not in fams and ("C8b", "label smoothing 0.1") in fams
    assert fams[("C10", "dropout 0.3")].judge().verdict == "supported"  # 0.05 vs 0.01
    rows = {r["claim"]: r for r in verdicts.verdict_table(families)}
    assert rows["C8b"]["verdict"] == "by construction (no evidence)"
    assert rows["C1"]["verdict"] == "theorem" and rows["C5"]["verdict"] == "not measured"
    assert "label smoothing 0.1: negligible" in rows["C7"]["verdict"]
    assert "dropout 0.3: " in rows["C7"]["verdict"] and "8 seeds" in rows["C7"]["evidence"]
    assert rows["C7"]["quantifier"] == "per regulariser; every setting"
    table = ablation.format_table(list(rows.values()), ["claim", "verdict"], markdown=True)
    assert table.count("\n") == len(claims.PAPER_CLAIMS) + 1
    row = verdicts.family_rows(fams[("C7", "dropout 0.3")])[0]
    assert row["claim"] == "C7" and row["item"] == "dropout 0.3" and "p for" in row
    sentences = verdicts.found_sentences(families)
    assert any(s.startswith("C7 for label smoothing 0.1: every effect was too small")
               for s in sentences)


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
    table = verdicts.format_claims(claims.PAPER_CLAIMS)
    assert table.count("\n") == len(keys) + 1 and "P(Y\\|X)" in table
    assert {c.key for c in claims.PAPER_CLAIMS if c.per == "arm"} >= {"C7", "C7c", "C9", "C10"}
    assert all(c.caveat for c in claims.PAPER_CLAIMS if c.key in ("C0", "C6"))
    with pytest.raises(ValueError, match="quantifier"):
        claims.Claim("x", "05", "s", "m", 1, quantifier="most")
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
    with pytest.raises(ValueError, match="at least 2"):
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
    assert [s.call for s in res.settings][0] == "for" and res.verdict == "mixed"
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
    start = ablation.StackedNet("mlp", data.X_train.shape[1], data.n_classes, 16, 2, [1])
    assert torch.equal(fresh.model.params[0][1], start.params[0][0])  # model 1's own draws
    assert fresh.splits is fitted.splits and fresh.records is fitted.records


def test_growth_with_depth_needs_comparable_fit_at_both_depths() -> None:
    recs = _shortcut_records({2: 0.0, 8: 0.05}, plain_train=0.99)
    for r in recs:
        if r["kind"] == "cnn" and r["depth"] == 8 and r["arm"] == "residual":
            r["train_acc"] = 0.80
    fams = _by(claims.shortcut_families(recs, "quick"))
    assert fams[("C6", "mlp")].settings == ["depth 8 vs 2"] and not fams[("C6", "cnn")].settings
    assert fams[("C6", "cnn")].excluded[0][0] == "depth 8 vs 2"
    assert "depth 8" in fams[("C6", "cnn")].excluded[0][1]
