"""maxent_lib.claims: verdicts from intervals, evidence from stored ablation records."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from maxent_lib import claims
from maxent_lib.ablation import t_interval

UP = claims.Claim("C", "05", "shortcuts help", "test_acc", +1)
DOWN = claims.Claim("G", "06", "gap shrinks", "gen_gap", -1)
NONE = claims.Claim("Z", "03", "no gap", "fc2_gap", 0, margin=0.01)


@pytest.mark.parametrize(("lo", "hi", "direction", "want"), [
    (0.01, 0.05, +1, "supported"),
    (-0.05, -0.01, +1, "not supported"),
    (-0.01, 0.05, +1, "inconclusive"),
    (-0.05, -0.01, -1, "supported"),
    (0.01, 0.05, -1, "not supported"),
    (0.0, 0.05, +1, "inconclusive"),  # touching 0 does not exclude it
])
def test_verdict_of_a_signed_claim(lo: float, hi: float, direction: int, want: str) -> None:
    assert claims.verdict(lo, hi, direction) == want


@pytest.mark.parametrize(("lo", "hi", "want"), [
    (-0.005, 0.008, "supported"),
    (0.02, 0.05, "not supported"),
    (-0.05, -0.02, "not supported"),
    (-0.005, 0.03, "inconclusive"),
])
def test_verdict_of_a_no_effect_claim(lo: float, hi: float, want: str) -> None:
    assert claims.verdict(lo, hi, 0, margin=0.01) == want


def test_verdict_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="reversed"):
        claims.verdict(0.2, 0.1, +1)
    with pytest.raises(ValueError, match="direction"):
        claims.verdict(0.1, 0.2, 2)
    with pytest.raises(ValueError, match="margin"):
        claims.verdict(0.1, 0.2, 0)
    with pytest.raises(ValueError, match="finite"):
        claims.verdict(-math.inf, 0.2, 1)
    assert claims.verdict(math.nan, math.nan, 1) == "inconclusive"
    with pytest.raises(ValueError):
        claims.Claim("x", "05", "s", "m", 0)


def test_overall() -> None:
    assert claims.overall(["supported"] * 3) == "supported"
    assert claims.overall(["not supported", "not supported"]) == "not supported"
    assert claims.overall(["inconclusive"] * 2) == "inconclusive"
    # inconclusive settings neither confirm nor weaken: no "mixed" without a contradiction
    assert claims.overall(["supported", "inconclusive"]) == "supported where conclusive"
    assert claims.overall(["inconclusive", "not supported"]) == "not supported where conclusive"
    assert claims.overall(["supported", "not supported"]) == "mixed"
    assert claims.overall(["supported", "inconclusive", "not supported"]) == "mixed"
    with pytest.raises(ValueError):
        claims.overall([])
    with pytest.raises(ValueError, match="unknown"):
        claims.overall(["maybe"])


def _ev(verdict: str, source: str) -> claims.Evidence:
    return claims.Evidence("C", "s", "d", 3, 0.0, -1.0, 1.0, verdict, source)


def test_sources_are_judged_separately() -> None:
    # the lesson-07 case: full supports in every setting, quick is inconclusive in every one
    rows = [_ev("supported", "full")] * 2 + [_ev("inconclusive", "quick")] * 2
    by = claims.verdict_by_source(rows)
    assert by == {"full": "supported", "quick": "inconclusive"}
    assert claims.combined_verdict(by) == "supported (full); inconclusive (quick)"
    assert claims.combined_verdict({"full": "supported", "quick": "supported"}) == "supported"
    # a source whose settings contradict each other is mixed, and says so in the combination
    rows2 = [_ev("supported", "full"), _ev("supported", "quick"), _ev("not supported", "quick")]
    assert claims.combined_verdict(claims.verdict_by_source(rows2)) == \
        "supported (full); mixed (quick)"
    summary = claims.summarize_claims([UP], [claims.Evidence(
        "C", "s", "d", 3, 0.1, 0.05, 0.15, "supported", "full"), claims.Evidence(
        "C", "s", "d", 3, 0.1, -0.05, 0.25, "inconclusive", "quick")])
    assert ("| full: supported (1/1); quick: inconclusive (0/1) "
            "| supported (full); inconclusive (quick) |") in summary
    with pytest.raises(ValueError, match="no evidence"):
        claims.verdict_by_source([])
    with pytest.raises(ValueError, match="no sources"):
        claims.combined_verdict({})
    with pytest.raises(ValueError, match="unknown"):
        claims.combined_verdict({"full": "maybe"})


def _records(effect_at: dict[int, float], seeds: int = 4, noise: float = 0.002) -> list[dict]:
    """Fake shortcut-grid records: residual beats plain by effect_at[depth] (+ seeded noise)."""
    rng = np.random.default_rng(0)
    out = []
    for depth, eff in effect_at.items():
        for seed in range(seeds):
            base = 0.6 + 0.01 * seed
            out.append({"kind": "mlp", "depth": depth, "seed": seed, "arm": "plain",
                        "shortcut": False, "test_acc": base, "dataset": "mnist1d"})
            out.append({"kind": "mlp", "depth": depth, "seed": seed, "arm": "residual",
                        "shortcut": True, "test_acc": base + eff + noise * rng.normal(),
                        "dataset": "mnist1d"})
    return out


def test_paired_evidence_matches_a_direct_computation() -> None:
    recs = _records({2: 0.0, 8: 0.05})
    rows = claims.paired_evidence(recs, UP, "arm", "plain", "residual", within=("kind", "depth"),
                                  source="quick")
    by = {r.setting: r for r in rows}
    deep = [r["test_acc"] for r in recs if r["depth"] == 8 and r["arm"] == "residual"]
    base = [r["test_acc"] for r in recs if r["depth"] == 8 and r["arm"] == "plain"]
    mean, lo, hi = t_interval(np.subtract(deep, base))
    got = by["kind mlp, depth 8"]
    assert (got.effect, got.lo, got.hi, got.n) == pytest.approx((mean, lo, hi, 4))
    assert got.verdict == "supported" and got.dataset == "mnist1d"
    assert by["kind mlp, depth 2"].verdict == "inconclusive"


def test_paired_evidence_needs_pairs() -> None:
    recs = [r for r in _records({2: 0.01}) if r["arm"] == "plain"]
    with pytest.raises(ValueError):
        claims.paired_evidence(recs, UP, "arm", "plain", "residual")
    with pytest.raises(ValueError, match="no records"):
        claims.paired_evidence(recs, UP, "arm", "plain", "residual", where=lambda r: False)


def test_missing_fields_raise_value_error() -> None:
    recs = [{"arm": "plain", "seed": 0}, {"arm": "residual", "seed": 0}]
    with pytest.raises(ValueError, match="lacks the field"):
        claims.paired_evidence(recs, UP, "arm", "plain", "residual")
    with pytest.raises(ValueError, match="lacks the field"):
        claims.interaction_values(recs, "test_acc", "arm", "plain", "residual", "depth", 2, 8)


def test_interaction_values_measure_growth_with_depth() -> None:
    recs = _records({2: 0.0, 8: 0.05}, noise=0.0)
    values = claims.interaction_values(recs, "test_acc", "arm", "plain", "residual",
                                       along="depth", low=2, high=8)
    np.testing.assert_allclose(values, [0.05] * 4, atol=1e-12)
    with pytest.raises(ValueError):
        claims.interaction_values(recs, "test_acc", "arm", "plain", "residual", "depth", 2, 99)


def test_evidence_from_values_and_tables() -> None:
    ev = claims.evidence_from_values(DOWN, [-0.03, -0.02, -0.04], "n 500", "mnist1d", "quick")
    assert ev.verdict == "supported" and ev.n == 3 and ev.effect == pytest.approx(-0.03)
    table = claims.format_evidence([ev])
    assert "| G | n 500 | mnist1d | 3 | -0.030 |" in table and "supported" in table
    summary = claims.summarize_claims([UP, DOWN], [ev])
    assert "| C | 05 | shortcuts help | - | 0 | 0 | - | - | not measured |" in summary
    assert ("| G | 06 | gap shrinks | quick: mnist1d | 1 | 1 | -0.03 | quick: supported (1/1) "
            "| supported |") in summary
    with pytest.raises(ValueError):
        claims.evidence_from_values(DOWN, [np.nan, 1.0], "s", "d", "q")


def test_load_grid_and_find_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "maxent_lib").mkdir()
    results = tmp_path / "results"
    results.mkdir()
    with open(results / "shortcut_quick.jsonl", "w") as f:
        for r in _records({2: 0.01}):
            f.write(json.dumps(r) + "\n")
    (tmp_path / "notebooks").mkdir()
    assert claims.find_results_dir(tmp_path / "notebooks") == results
    grid = claims.load_grid(results, "shortcut")
    assert list(grid) == ["quick"] and len(grid["quick"]) == 8
    assert claims.load_grid(results, "regularization") == {}
    with pytest.raises(ValueError):
        claims.load_grid(tmp_path / "nope", "shortcut")


def test_paper_claims_are_well_formed() -> None:
    keys = [c.key for c in claims.PAPER_CLAIMS]
    assert len(set(keys)) == len(keys) and claims.claim("C5").metric == "test_acc"
    with pytest.raises(ValueError, match="unknown claim"):
        claims.claim("C99")
    table = claims.format_claims(claims.PAPER_CLAIMS)
    assert table.count("\n") == len(keys) + 1 and "P(Y\\|X)" in table


def test_remeasured_exact_claims_small() -> None:
    rows = claims.remeasure_exact_claims(seeds=[0, 1, 2], n_population=4000, n_eval=4000)
    by = {}
    for r in rows:
        by.setdefault(r.claim, []).append(r)
    assert [len(by[k]) for k in ("C1", "C2", "C3", "C4")] == [2, 1, 1, 1]
    assert all(r.effect < 1e-6 and r.verdict == "supported" for r in by["C1"])  # exact identity
    assert by["C3"][0].effect > 0 and by["C4"][0].effect > 0  # both gaps are >= 0 in theory
    with pytest.raises(ValueError, match="two seeds"):
        claims.remeasure_exact_claims(seeds=[0])


def _reg_records() -> list[dict]:
    out = []
    for n_train, gain in ((500, 0.04), (4000, 0.01)):
        for seed in range(3):
            for arm, acc, ent in (("baseline", 0.6, 1.0), ("label smoothing 0.1", 0.6 + gain, 1.2),
                                  ("dropout 0.3", 0.6 + gain / 2, 0.9)):
                jitter = 0.001 * seed * (arm != "baseline")
                out.append({"arm": arm, "n_train": n_train, "seed": seed, "dataset": "mnist1d",
                            "test_acc": acc + jitter, "test_loss": 1.5 - acc - jitter,
                            "test_entropy": ent + jitter,
                            "gen_gap": 0.2 - (gain + jitter) * (arm != "baseline")})
    return out


def test_regularization_and_shortcut_evidence() -> None:
    rows = claims.regularization_evidence(_reg_records(), "quick")
    keys = [r.claim for r in rows]
    assert keys.count("C7") == 4 and keys.count("C9") == 4 and keys.count("C10") == 2
    assert keys.count("C8") == 2  # only the entropy-raising arm (label smoothing), two sizes
    assert all(r.verdict == "supported" for r in rows)
    c10 = [r for r in rows if r.claim == "C10" and r.setting.startswith("label")][0]
    assert c10.effect == pytest.approx(0.03) and c10.setting.endswith("n_train 500 vs 4000")
    short = claims.shortcut_evidence(_records({2: 0.0, 8: 0.05}), "quick")
    assert [r.claim for r in short] == ["C5", "C6"] and short[0].setting == "kind mlp, depth 8"


def test_load_provenance(tmp_path: Path) -> None:
    assert claims.load_provenance(tmp_path, "shortcut", "full") is None
    (tmp_path / "shortcut_full_provenance.json").write_text('{"device": "GPU X", "date": "d"}')
    assert claims.load_provenance(tmp_path, "shortcut", "full")["device"] == "GPU X"
    (tmp_path / "shortcut_quick_provenance.json").write_text("not json")
    with pytest.raises(ValueError, match="not a JSON object"):
        claims.load_provenance(tmp_path, "shortcut", "quick")


def test_shortcut_evidence_at_every_depth() -> None:
    rows = claims.shortcut_evidence(_records({2: 0.0, 4: 0.02, 8: 0.05}), "full", all_depths=True)
    assert [r.setting for r in rows if r.claim == "C5"] == [
        "kind mlp, depth 2", "kind mlp, depth 4", "kind mlp, depth 8"]


def test_shortcut_effect_by_depth() -> None:
    got = claims.shortcut_effect_by_depth(_records({8: 0.05, 2: 0.0, 4: 0.02}, noise=0.0))
    depths, effect, lo, hi = got["mlp"]
    np.testing.assert_array_equal(depths, [2, 4, 8])
    np.testing.assert_allclose(effect, [0.0, 0.02, 0.05], atol=1e-12)
    assert np.all(lo <= effect) and np.all(effect <= hi)
