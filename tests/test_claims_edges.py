"""The claims module at its edges: why a setting is left out and how that is worded, the
interaction values of C6 and C10 with missing, dead or diverged nets, the families' labels, and
finding the stored grids. Each test pins a rule the lessons state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from maxent_lib import claims


def _net(arm: str, seed: int, test: float, train: float = 1.0, depth: int = 2,
         **extra) -> dict:
    return {"kind": "mlp", "depth": depth, "arm": arm, "seed": seed, "dataset": "d",
            "profile": "quick", "n_classes": 10, "init": "he", "test_acc": test,
            "train_acc": train, **extra}


def _pairs(seeds, effect=0.02, depth=2, dead=(), plain_train=1.0):
    """Plain/residual pairs; seeds in ``dead`` have a residual net that did not train."""
    out = []
    for s in seeds:
        out.append(_net("plain", s, 0.6 + 0.01 * s, plain_train, depth))
        out.append(_net("residual", s, 0.6 + 0.01 * s + effect + 0.001 * s,
                        0.05 if s in dead else 1.0, depth))
    return out


def _family(records, check_fit=False, tolerance=claims.FIT_TOLERANCE, treatments=("residual",)):
    return claims.paired_family(records, claims.claim("C5"), "arm", "plain", list(treatments),
                                ("depth",), "test", check_fit=check_fit,
                                fit_tolerance=tolerance)


# ------------------------------------------------------------------ exclusions and their words

def test_two_trained_pairs_are_enough_and_the_dead_are_counted() -> None:
    fam = _family(_pairs(range(3), dead=(0,)))           # two pairs left: kept
    assert fam.settings == ["depth 2"] and not fam.excluded
    np.testing.assert_allclose(fam.effects[0], [0.021, 0.022])
    fam = _family(_pairs(range(3), dead=(0, 1)))         # one left: excluded, counted
    assert fam.excluded == [("depth 2", "did not train (2 of 3 pairs)")]


def test_a_diverged_pair_counts_in_the_total_and_lonely_records_are_named() -> None:
    recs = _pairs(range(3), dead=(0, 1))
    recs.append({**_net("residual", 3, 0.6), "test_acc": None, "train_acc": None,
                 "diverged": True})
    recs.append(_net("plain", 3, 0.6))
    recs.append(_net("residual", 4, 0.6))                # no plain partner
    fam = _family(recs)
    assert fam.excluded == [("depth 2", "did not train (3 of 4 pairs); 1 without a partner")]


def test_only_the_settings_own_nets_decide_which_seeds_trained() -> None:
    # depth 4's dead seed must not remove seed 0 from depth 2, and vice versa
    recs = _pairs(range(3), depth=2) + _pairs(range(3), depth=4, dead=(0, 1))
    fam = _family(recs)
    assert fam.settings == ["depth 2"] and len(fam.effects[0]) == 3
    assert fam.excluded == [("depth 4", "did not train (2 of 3 pairs)")]


def test_an_excluded_setting_does_not_stop_the_ones_after_it() -> None:
    recs = _pairs(range(3), depth=2, dead=(0, 1)) + _pairs(range(3), depth=4) \
        + _pairs(range(3), depth=8)
    fam = _family(recs)
    assert fam.settings == ["depth 4", "depth 8"] and len(fam.excluded) == 1


def test_the_fit_filter_keeps_a_difference_equal_to_its_tolerance() -> None:
    recs = _pairs(range(3), plain_train=0.75)            # training accuracy differs by 0.25
    assert _family(recs, check_fit=True, tolerance=0.25).settings == ["depth 2"]
    fam = _family(recs, check_fit=True, tolerance=0.125)
    assert fam.excluded == [("depth 2", "training accuracy differs by +0.250 (tolerance "
                                        "0.125): optimisation, not generalisation")]
    assert _family(recs, check_fit=True, tolerance=None).settings == ["depth 2"]


def test_the_fit_filter_reads_the_settings_own_training_gap() -> None:
    # depth 2 fits comparably, depth 4 does not: each setting is judged on its own gap
    recs = _pairs(range(3), depth=2) + _pairs(range(3), depth=4, plain_train=0.5)
    fam = _family(recs, check_fit=True, tolerance=0.1)
    assert fam.settings == ["depth 2"] and fam.excluded[0][0] == "depth 4"


def test_labels_name_the_treatment_only_when_there_are_several() -> None:
    recs = _pairs(range(3)) + [{**r, "arm": "wide"} for r in _pairs(range(3))
                               if r["arm"] == "residual"]
    one = _family(recs)
    two = _family(recs, treatments=("residual", "wide"))
    assert one.settings == ["depth 2"]
    assert two.settings == ["residual, depth 2", "wide, depth 2"]


# ------------------------------------------------------------------ C6 / C10 interactions

def _grid(effects: dict[int, float], seeds=range(3)) -> list[dict]:
    out = []
    for depth, eff in effects.items():
        out += _pairs(seeds, effect=eff, depth=depth)
    return out


def _growth(records, **kw):
    return claims.interaction_values(records, "test_acc", "arm", "plain", "residual",
                                     "depth", 2, 8, **kw)


def test_interaction_is_the_gain_at_high_minus_the_gain_at_low() -> None:
    np.testing.assert_allclose(_growth(_grid({2: 0.01, 8: 0.05})), [0.04] * 3, atol=1e-12)


def test_interaction_ignores_other_arms_and_other_depths() -> None:
    recs = _grid({2: 0.01, 4: 0.5, 8: 0.05})
    recs += [{**r, "arm": "wide", "test_acc": 0.0} for r in recs if r["arm"] == "residual"]
    np.testing.assert_allclose(_growth(recs), [0.04] * 3, atol=1e-12)


def test_interaction_skips_dead_nets_and_seeds_without_all_four() -> None:
    recs = _grid({2: 0.01, 8: 0.05})
    recs = [{**r, "train_acc": 0.05} if (r["seed"], r["depth"], r["arm"]) == (0, 8, "plain")
            else r for r in recs]                                   # seed 0 dead: left out
    assert len(_growth(recs)) == 2
    assert len(_growth(recs, trained_only=False)) == 3
    gone = [r for r in _grid({2: 0.01, 8: 0.05}) if (r["seed"], r["arm"]) != (0, "residual")
            or r["depth"] != 8]                                     # seed 0 lacks a net
    np.testing.assert_allclose(_growth(gone), [0.04] * 2, atol=1e-12)


def test_interaction_reads_records_without_a_training_accuracy() -> None:
    recs = [{k: v for k, v in r.items() if k != "train_acc"} for r in _grid({2: 0.0, 8: 0.03})]
    np.testing.assert_allclose(_growth(recs), [0.03] * 3, atol=1e-12)


def test_a_diverged_net_is_refused_only_when_it_has_no_metric() -> None:
    recs = _grid({2: 0.0, 8: 0.03})
    snap = [{**r, "diverged": True} if (r["seed"], r["depth"], r["arm"]) == (1, 8, "plain")
            else r for r in recs]            # early stopping: a snapshot before the blow-up
    assert len(_growth(snap, trained_only=False)) == 3
    blown = [{**r, "test_acc": None} if r.get("diverged") else r for r in snap]
    with pytest.raises(ValueError, match="diverged in training"):
        _growth(blown, trained_only=False)


def test_c6_uses_the_deepest_and_shallowest_depths() -> None:
    recs = _grid({2: 0.01, 4: 0.5, 8: 0.05})
    c6 = claims.shortcut_families(recs, "test")[1]
    assert c6.claim.key == "C6" and c6.settings == ["depth 8 vs 2"]
    np.testing.assert_allclose(c6.effects[0], [0.04] * 3, atol=1e-12)


def test_c6_fit_filter_keeps_a_gap_equal_to_its_tolerance() -> None:
    recs = [{**r, "train_acc": 0.75} if r["arm"] == "plain" and r["depth"] == 8 else r
            for r in _grid({2: 0.01, 8: 0.05})]
    c6 = claims.shortcut_families(recs, "test", fit_tolerance=0.25)[1]
    assert c6.settings == ["depth 8 vs 2"]
    c6 = claims.shortcut_families(recs, "test", fit_tolerance=0.125)[1]
    assert c6.excluded and "at depth 8" in c6.excluded[0][1]


def test_only_he_initialised_nets_enter_the_shortcut_families() -> None:
    recs = [{k: v for k, v in r.items() if k != "init"} for r in _grid({2: 0.01, 8: 0.05})]
    recs += [{**r, "init": "uniform", "test_acc": 0.0} for r in _grid({2: 0.01, 8: 0.05})]
    c5 = claims.shortcut_families(recs, "test")[0]
    np.testing.assert_allclose(c5.effects[0], [0.05, 0.051, 0.052], atol=1e-12)


def _reg(sizes) -> list[dict]:
    out = []
    for n in sizes:
        for seed in range(3):
            for arm, acc in (("baseline", 0.5), ("dropout 0.3", 0.5 + 100 / n)):
                out.append({"arm": arm, "n_train": n, "seed": seed, "dataset": "d",
                            "profile": "quick", "train_acc": 1.0, "test_acc": acc + 0.001 * seed,
                            "gen_gap": 0.1, "test_loss_calibrated": 1.0, "test_entropy": 1.0})
    return out


def test_c10_compares_the_smallest_with_the_largest_size() -> None:
    fams = {f.claim.key: f for f in claims.regularization_families(_reg((250, 500, 1000)), "t")}
    assert fams["C10"].settings == ["n_train 250 vs 1000"]
    np.testing.assert_allclose(fams["C10"].effects[0], [0.4 - 0.1] * 3, atol=1e-12)
    one = {f.claim.key: f for f in claims.regularization_families(_reg((1000,)), "t")}
    assert one["C10"].settings == [] and one["C10"].effects == []


# ------------------------------------------------------------------ C0's layers

def test_layer_gap_family_refuses_a_layer_without_its_gap() -> None:
    good = [{"total_gap": g} for g in (0.8, 0.3, 0.2)]
    with pytest.raises(ValueError, match="total_gap"):
        claims.layer_gap_family([good, [*good[:2], {"total_gap": None}]], "q")
    fam = claims.layer_gap_family([good], "q")                # one model: its layers name it
    assert fam.settings == ["X -> T1", "T1 -> T2"]
    with pytest.raises(ValueError, match="same 3 layers"):
        claims.layer_gap_family([good], "q", baseline=[good[:2]])
    with pytest.raises(ValueError, match="same 3 layers"):
        claims.layer_gap_family([good], "q", baseline=[[*good[:2], {"total_gap": None}]])


# ------------------------------------------------------------------ the stored grids

def _write(path: Path, n: int) -> None:
    path.write_text("".join(json.dumps({"key": f"k{i}", "arm": "a", "seed": i}) + "\n"
                            for i in range(n)))


def test_load_grid_reads_both_profiles_and_refuses_paths(tmp_path: Path) -> None:
    _write(tmp_path / "shortcut_full.jsonl", 3)
    _write(tmp_path / "shortcut_quick.jsonl", 2)
    grid = claims.load_grid(tmp_path, "shortcut")
    assert {k: len(v) for k, v in grid.items()} == {"full": 3, "quick": 2}
    for bad in ("../shortcut", "a/b", "a\\b", ".hidden", ""):
        with pytest.raises(ValueError, match="grid name"):
            claims.load_grid(tmp_path, bad)
    assert claims.load_grid(tmp_path, "short.cut") == {}      # a dot inside is a plain name


def test_find_results_dir_needs_the_course_beside_it(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()                   # a results folder, but no course here
    (tmp_path / "deep" / "er").mkdir(parents=True)
    found = claims.find_results_dir(tmp_path / "deep" / "er")
    assert found != tmp_path / "results"             # the installed course's, or None
    assert claims.find_results_dir(tmp_path / "results") == tmp_path / "results"
    assert claims.find_results_dir(tmp_path / "deep") != tmp_path / "deep"


# ------------------------------------------------------------------ filters and defaults

def test_the_filter_values_reported_bracket_the_default() -> None:
    tols = [t for t in claims.FIT_TOLERANCES if t is not None]
    assert claims.FIT_TOLERANCE in tols and None in claims.FIT_TOLERANCES
    assert min(tols) < claims.FIT_TOLERANCE < max(tols) <= 1  # an accuracy gap is at most 1
    ats = [t for t in claims.TRAINED_ATS if t is not None]
    assert claims.TRAINED_AT in ats and None in claims.TRAINED_ATS
    assert min(ats) < claims.TRAINED_AT < max(ats)
    assert len(set(tols)) == len(tols) and len(set(ats)) == len(ats)


def test_the_entropy_arms_get_c8b_by_construction() -> None:
    recs = []
    for arm in ("label smoothing 0.1", "confidence penalty 0.3", "dropout 0.3"):
        recs += [{**r, "arm": arm} for r in _reg((250, 1000)) if r["arm"] == "dropout 0.3"]
    recs += [r for r in _reg((250, 1000)) if r["arm"] == "baseline"]
    fams = claims.regularization_families(recs, "t")
    with_c8b = {f.item for f in fams if f.claim.key == "C8b"}
    assert with_c8b == {"label smoothing 0.1", "confidence penalty 0.3"}


def test_paired_family_by_default_keeps_unequal_fit_and_names_no_item() -> None:
    recs = _pairs(range(3), plain_train=0.5)
    fam = claims.paired_family(recs, claims.claim("C5"), "arm", "plain", ["residual"],
                               ("depth",), "test")
    assert fam.settings == ["depth 2"] and fam.item == ""


def test_a_third_arm_does_not_vouch_for_the_treatments_seeds() -> None:
    recs = _pairs(range(3), dead=(0, 1))
    recs += [{**r, "arm": "wide", "train_acc": 1.0} for r in recs if r["arm"] == "residual"]
    fam = _family(recs)                  # residual's seeds 0, 1 did not train, wide's did
    assert fam.excluded == [("depth 2", "did not train (2 of 3 pairs)")]


def _two_fields(dead_at_4=(), plain_train_at_4=1.0):
    out = []
    for depth in (2, 4):
        for r in _pairs(range(3), depth=depth, dead=dead_at_4 if depth == 4 else (),
                        plain_train=plain_train_at_4 if depth == 4 else 1.0):
            out.append({**r, "width": 8})
    return out


def _family2(records, **kw):
    return claims.paired_family(records, claims.claim("C5"), "arm", "plain", ["residual"],
                                ("depth", "width"), "test", **kw)


def test_a_setting_of_several_fields_matches_on_all_of_them() -> None:
    fam = _family2(_two_fields(dead_at_4=(0, 1)))
    assert fam.settings == ["depth 2, width 8"]
    assert fam.excluded == [("depth 4, width 8", "did not train (2 of 3 pairs)")]
    fam = _family2(_two_fields(plain_train_at_4=0.5), check_fit=True, fit_tolerance=0.1)
    assert fam.settings == ["depth 2, width 8"] and fam.excluded[0][0] == "depth 4, width 8"


def test_interaction_ignores_a_diverged_net_of_another_arm() -> None:
    recs = _grid({2: 0.01, 8: 0.05})
    recs.append({**_net("wide", 0, 0.6, depth=2), "test_acc": None, "diverged": True})
    np.testing.assert_allclose(_growth(recs, trained_only=False), [0.04] * 3, atol=1e-12)


def test_c6_fit_filter_looks_at_the_two_compared_depths_only() -> None:
    recs = [{**r, "train_acc": 0.5} if r["arm"] == "plain" and r["depth"] == 4 else r
            for r in _grid({2: 0.01, 4: 0.02, 8: 0.05})]
    c6 = claims.shortcut_families(recs, "test", fit_tolerance=0.1)[1]
    assert c6.settings == ["depth 8 vs 2"] and not c6.excluded


def test_find_results_dir_falls_back_to_the_course_beside_the_package(tmp_path: Path) -> None:
    beside = Path(claims.__file__).resolve().parents[1] / "results"
    want = beside if (beside.parent / "maxent_lib").exists() and beside.is_dir() else None
    assert claims.find_results_dir(tmp_path) == want


def test_a_grid_name_is_any_name_without_a_path_in_it(tmp_path: Path) -> None:
    _write(tmp_path / "Xgrid_quick.jsonl", 1)
    assert list(claims.load_grid(tmp_path, "Xgrid")) == ["quick"]
