"""Tests for maxent_lib.verdicts on small hand-made families: the exact verdict table, the
rows of a family (both directions, too few seeds, exclusions), the claims table, the filter
sensitivity and its notes, the 'What we found' sentences and the grid verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from maxent_lib import verdicts
from maxent_lib._checks import InputTypeError
from maxent_lib.claims import Family, claim, regularization_families, shortcut_families


def _families() -> list[Family]:
    """C5 for mlp (both settings for it), C5 for cnn (all excluded), C7 for dropout (one
    setting against it, one with a single seed, one excluded), C0 (direction -1: one step for
    it, one negligible)."""
    a = Family(claim("C5"), "quick", settings=["depth 4", "depth 8"],
               effects=[np.array([0.05, 0.06, 0.055, 0.052]),
                        np.array([0.08, 0.07, 0.075, 0.09])], item="mlp")
    b = Family(claim("C5"), "full", excluded=[("depth 4", "did not train (3 of 4 pairs)")],
               item="cnn")
    c = Family(claim("C7"), "quick", settings=["n_train 250", "n_train 1000"],
               effects=[np.array([-0.05, -0.06, -0.055]), np.array([0.2])], item="dropout 0.3",
               excluded=[("n_train 50", "did not train (2 of 2 pairs)")])
    d = Family(claim("C0"), "lesson 04", settings=["X -> T1", "T1 -> T2"],
               effects=[np.array([-0.3, -0.25, -0.35]), np.array([0.001, -0.002, 0.0015, 0.0])])
    return [a, b, c, d]


C5_WORDS = "mlp: supported: both for the prediction, none against it"
C7_WORDS = ("dropout 0.3: contradicted: none for the prediction, 1 of 2 settings against it, "
            "1 of 2 settings with too few seeds")
C0_WORDS = "mixed: 1 of 2 settings for the prediction, none against it, 1 of 2 settings negligible"


def test_item_verdicts_key_each_family_by_claim_and_item():
    out = verdicts.item_verdicts(_families())
    assert list(out) == [("C5", "mlp"), ("C5", "cnn"), ("C7", "dropout 0.3"), ("C0", "")]
    assert out[("C5", "cnn")] is None
    assert [r.verdict for k, r in out.items() if r] == ["supported", "contradicted", "mixed"]
    assert out[("C5", "mlp")].alpha == 0.05
    with pytest.raises(InputTypeError):
        verdicts.item_verdicts([object()])


def test_verdict_table_rows():
    sens = {("C5", "mlp"): "mlp depends on the fit tolerance", ("C7", "x"): "x depends",
            ("C7", "y"): "y depends"}
    rows = verdicts.verdict_table(_families(), claims=[claim(k) for k in
                                                       ("C5", "C0", "C1", "C7", "C8b", "C9")],
                                  theorem_checks={"C1": "max 1e-9"}, sensitivity=sens)
    assert [r["claim"] for r in rows] == ["C5", "C0", "C1", "C7", "C8b", "C9"]
    assert all(list(r) == ["claim", "lesson", "statement", "quantifier", "evidence", "verdict",
                           "filters", "caveat"] for r in rows)
    c5, c0, c1, c7, c8b, c9 = rows
    assert (c5["lesson"], c0["lesson"], c1["lesson"]) == ("05", "04", "02")
    assert c5["statement"] == claim("C5").statement and c5["caveat"] == claim("C5").caveat
    assert c5["quantifier"] == "per architecture; every setting"
    assert c7["quantifier"] == "per regulariser; every setting"
    assert c0["quantifier"] == "every setting"
    assert c5["evidence"] == "full, quick: 2 settings, 1 excluded; 4 seeds"
    assert c0["evidence"] == "lesson 04: 2 settings; 3-4 seeds"
    assert c7["evidence"] == "quick: 2 settings, 1 excluded; 1-3 seeds"
    assert c1["evidence"] == c8b["evidence"] == c9["evidence"] == "-"
    assert c5["verdict"] == f"{C5_WORDS}; cnn: no verdict (did not train (3 of 4 pairs))"
    assert c0["verdict"] == C0_WORDS
    assert c7["verdict"] == C7_WORDS
    assert c1["verdict"] == "theorem (checked: max 1e-9)"
    assert c8b["verdict"] == "by construction (no evidence)"
    assert c9["verdict"] == "not measured"
    assert c5["filters"] == "mlp depends on the fit tolerance"
    assert c7["filters"] == "x depends; y depends"
    assert c0["filters"] == c1["filters"] == ""
    plain = verdicts.verdict_table(_families(), claims=[claim("C1"), claim("C5")])
    assert plain[0]["verdict"] == "theorem" and plain[1]["filters"] == ""
    with pytest.raises(InputTypeError):
        verdicts.verdict_table(_families(), theorem_checks=["C1"])


def test_verdict_table_of_families_with_nothing_left():
    only_excluded = [Family(claim("C7"), "quick", item="dropout 0.3"),
                     Family(claim("C7"), "quick", item="weight decay 0.5",
                            excluded=[("n_train 250", "did not train")])]
    row = verdicts.verdict_table(only_excluded, claims=[claim("C7")])[0]
    assert row["verdict"] == ("dropout 0.3: no verdict (no evidence); weight decay 0.5: no "
                              "verdict (did not train)")
    assert row["evidence"] == "quick: 0 settings, 1 excluded"
    one = Family(claim("C7"), "quick", settings=["n_train 250"],
                 effects=[np.array([0.05, 0.06, 0.07])], item="dropout 0.3")
    row = verdicts.verdict_table([one], claims=[claim("C7")])[0]
    assert row["evidence"] == "quick: 1 setting; 3 seeds"
    assert row["verdict"] == "dropout 0.3: supported: the one setting for the prediction, " \
        "none against it"


def test_family_rows():
    a, b, c, d = _families()
    assert verdicts.family_rows(a) == [
        {"claim": "C5", "item": "mlp", "setting": "depth 4", "seeds": "4", "effect": "+0.054",
         "95% interval": "[+0.047, +0.061]", "p for": "0.00013", "p against": "1",
         "p equiv": "1", "call": "for"},
        {"claim": "C5", "item": "mlp", "setting": "depth 8", "seeds": "4", "effect": "+0.079",
         "95% interval": "[+0.065, +0.092]", "p for": "0.00026", "p against": "1",
         "p equiv": "1", "call": "for"}]
    assert verdicts.family_rows(b) == [{"claim": "C5", "item": "cnn", "setting": "depth 4",
                                        "call": "excluded: did not train (3 of 4 pairs)"}]
    assert verdicts.family_rows(c) == [
        {"claim": "C7", "item": "dropout 0.3", "setting": "n_train 250", "seeds": "3",
         "effect": "-0.055", "95% interval": "[-0.067, -0.043]", "p for": "1",
         "p against": "0.002", "p equiv": "1", "call": "against"},
        {"claim": "C7", "item": "dropout 0.3", "setting": "n_train 1000", "seeds": "1",
         "effect": "+0.200", "95% interval": "[n/a, n/a]", "p for": "nan", "p against": "nan",
         "p equiv": "nan", "call": "too few seeds"},
        {"claim": "C7", "item": "dropout 0.3", "setting": "n_train 50",
         "call": "excluded: did not train (2 of 2 pairs)"}]
    # direction -1: "p for" is the p-value of the downward test
    rows = verdicts.family_rows(d)
    assert [(r["p for"], r["p against"], r["p equiv"]) for r in rows] == \
        [("0.0052", "1", "0.99"), ("1", "1", "6.5e-05")]
    assert [r["effect"] for r in rows] == ["-0.300", "+0.000"]
    assert verdicts.family_rows(a, digits=1)[0]["95% interval"] == "[+0.0, +0.1]"
    assert verdicts.family_rows(a, digits=15)[0]["effect"] == "+0.054250000000000"
    assert verdicts.family_rows(a, digits=0)[0]["effect"] == "+0"
    for bad in (-1, 16):
        with pytest.raises(ValueError):
            verdicts.family_rows(a, digits=bad)
    with pytest.raises(InputTypeError):
        verdicts.family_rows("C5")


def test_format_claims_table():
    table = verdicts.format_claims([claim("C5"), claim("C0"), claim("C2")])
    lines = table.split("\n")
    assert lines[0] == ("| claim | lesson | statement | metric | predicted effect | judged | "
                        "status |")
    assert lines[1] == "|---|---|---|---|---|---|---|"
    assert lines[2].startswith("| C5 | 05 | Shortcuts improve") and lines[2].endswith(
        "| test_acc | > +0.01 | per architecture; every setting | empirical |")
    assert lines[3].endswith("| change of total gap per layer (nats) | < -0.02 | every setting "
                             "| empirical |")
    assert lines[4].endswith("| fc2_gap (nats) | within +-0.005 | every setting | theorem |")
    assert len(lines) == 5


def _build(records, source, *, tol=None):
    """A family builder with a filter ``tol``: at 0.03 C5 for mlp loses its settings; with no
    filter C0's first step turns against the prediction."""
    fams = _families()
    if tol == 0.03:
        fams[0] = Family(claim("C5"), source, excluded=[("depth 4", "optimisation")], item="mlp")
    if tol is None:
        fams[3] = Family(claim("C0"), source, settings=["X -> T1"],
                         effects=[np.array([0.3, 0.25, 0.35])])
    return fams


def test_filter_sensitivity_and_its_notes():
    sens = verdicts.filter_sensitivity(_build, [], "quick", "tol", [0.05, 0.03, None])
    assert list(sens) == [0.05, 0.03, None]
    assert sens[0.05] == {("C5", "mlp"): "supported", ("C5", "cnn"): "no verdict",
                          ("C7", "dropout 0.3"): "contradicted", ("C0", ""): "mixed"}
    assert sens[0.03][("C5", "mlp")] == "no verdict" and sens[None][("C0", "")] == "contradicted"
    notes = verdicts.sensitivity_notes(sens, "fit tolerance", 0.05)
    assert notes == {
        ("C5", "mlp"): "mlp depends on the fit tolerance (0.05: supported, 0.03: no verdict, "
                       "none: supported)",
        ("C0", ""): "C0 depends on the fit tolerance (0.05: mixed, 0.03: mixed, none: "
                    "contradicted)"}
    # a key missing at another value reads "no verdict" there
    partial = {0.05: {("C5", "mlp"): "no verdict", ("C7", "x"): "supported"},
               0.1: {("C7", "x"): "supported"}}
    assert verdicts.sensitivity_notes(partial, "tol", 0.05) == {}
    partial[0.1] = {}
    assert verdicts.sensitivity_notes(partial, "tol", 0.05) == {
        ("C7", "x"): "x depends on the tol (0.05: supported, 0.1: no verdict)"}
    with pytest.raises(ValueError):
        verdicts.sensitivity_notes(sens, "fit tolerance", 0.1)
    with pytest.raises(ValueError):
        verdicts.sensitivity_notes([sens], "fit tolerance", 0.05)
    with pytest.raises(InputTypeError):
        verdicts.filter_sensitivity("build", [], "quick", "tol", [0.05])


def test_found_sentences():
    fams = _families()
    assert verdicts.found_sentences(fams) == [
        "C5 for mlp: the prediction held (supported: both for the prediction, none against "
        "it).",
        "C5 for cnn: no verdict; every setting was left out (did not train (3 of 4 pairs)).",
        f"C7 for dropout 0.3: the opposite of the prediction was measured ({C7_WORDS[13:]}).",
        f"C0: it held in some settings and failed in others ({C0_WORDS})."]
    notes = {("C5", "mlp"): "mlp depends on the fit tolerance (0.05: supported, 0.03: no "
                            "verdict)", ("C0", ""): "C0 depends on the tol (x)"}
    out = verdicts.found_sentences(fams, notes=notes)
    assert out[0] == ("C5 for mlp: the verdict depends on the fit tolerance (0.05: supported, "
                      "0.03: no verdict).")
    assert out[3] == "C0: the verdict depends on the tol (x)."
    assert out[1:3] == verdicts.found_sentences(fams)[1:3]
    two = Family(claim("C5"), "q", excluded=[("depth 4", "a"), ("depth 8", "b")], item="cnn")
    assert verdicts.found_sentences([two]) == [
        "C5 for cnn: no verdict; every setting was left out (a; b)."]
    flat = Family(claim("C7"), "q", settings=["n 1", "n 2"], item="wd",
                  effects=[np.array([0.001, -0.001, 0.0005]), np.array([0.0, 0.001, -0.0005])])
    assert verdicts.found_sentences([flat]) == [
        "C7 for wd: every effect was too small to matter (negligible: none for the "
        "prediction, none against it, both negligible)."]
    unclear = Family(claim("C7"), "q", settings=["n 1"], item="wd",
                     effects=[np.array([0.05, -0.04, 0.01])])
    assert verdicts.found_sentences([unclear]) == [
        "C7 for wd: we could not tell (inconclusive: none for the prediction, none against "
        "it, the one setting unclear)."]


def _shortcut_records() -> list[dict]:
    """mlp: residual nets better by 0.05 at depth 8 (C5, C6 supported); cnn: no difference."""
    rng = np.random.default_rng(3)
    out = []
    for kind, gain in (("mlp", 0.05), ("cnn", 0.0)):
        for depth in (2, 8):
            for seed in range(5):
                common = {"kind": kind, "depth": depth, "seed": seed, "n_classes": 10,
                          "init": "he", "train_acc": 0.95}
                base = 0.6 + 0.01 * seed
                out.append({**common, "arm": "plain", "test_acc": base})
                out.append({**common, "arm": "residual",
                            "test_acc": base + gain * (depth == 8) + 0.001 * rng.normal()})
    return out


def _reg_records() -> list[dict]:
    """Label smoothing raises the entropy and nothing else; weight decay helps everywhere."""
    rng = np.random.default_rng(4)
    out = []
    for n_train, gain in ((250, 0.06), (1000, 0.02)):
        for seed in range(5):
            for arm, g in (("baseline", 0.0), ("label smoothing 0.1", 0.0),
                           ("weight decay 0.5", gain)):
                j = 0.001 * rng.normal() * (arm != "baseline")
                out.append({"arm": arm, "n_train": n_train, "seed": seed, "n_classes": 10,
                            "train_acc": 1.0, "test_acc": 0.6 + g + j,
                            "test_loss_calibrated": 1.0 - g - j,
                            "test_entropy": 1.0 + 0.5 * (arm != "baseline") + j,
                            "gen_gap": 0.4 - g - j})
    return out


def test_grid_families_and_verdicts():
    recs = _shortcut_records()
    fams = verdicts.grid_families("shortcut", recs, "grid")
    assert [(f.claim.key, f.item) for f in fams] == \
        [(f.claim.key, f.item) for f in shortcut_families(recs, "grid")]
    assert all(f.source == "grid" for f in fams)
    assert verdicts.grid_verdicts("shortcut", recs) == {
        "C5 cnn": "negligible", "C6 cnn": "negligible", "C5 mlp": "supported",
        "C6 mlp": "supported"}
    reg = _reg_records()
    assert len(verdicts.grid_families("regularization", reg, "x")) == \
        len(regularization_families(reg, "x"))
    got = verdicts.grid_verdicts("regularization", reg)
    # C8b (by construction) has no verdict; the claims after it are still judged
    assert list(got) == ["C7 label smoothing 0.1", "C7 weight decay 0.5",
                         "C7c label smoothing 0.1", "C7c weight decay 0.5", "C8 weight decay 0.5",
                         "C9 label smoothing 0.1", "C9 weight decay 0.5",
                         "C10 label smoothing 0.1", "C10 weight decay 0.5"]
    assert got["C7 weight decay 0.5"] == "supported" and got["C9 weight decay 0.5"] == \
        "supported"
    assert got["C7 label smoothing 0.1"] == "negligible"
    no_seed = [r for r in recs if not (r["kind"] == "cnn" and r["arm"] == "residual")]
    assert verdicts.grid_verdicts("shortcut", no_seed)["C5 cnn"] == "no verdict"
    with pytest.raises(ValueError, match="grid must be one of"):
        verdicts.grid_families("shortcuts", recs, "grid")
