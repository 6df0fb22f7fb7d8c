"""Lesson 07's evidence (maxent_lib.evidence): grids with their status and budget checks, the
families and filters of the grids that give a verdict, the two-profile table, C6's split, C0's
settings (the same as lesson 04's), and the verdict map."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from maxent_lib import claims, evidence, plots  # noqa: E402
from maxent_lib.ablation.configs import ABLATION_CODE  # noqa: E402
from maxent_lib.store.codehash import code_hash  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _store(path: Path, records: list[dict], *, current: bool = True,
           status: str = "finished") -> None:
    """A results file with its provenance: made by this code (current) or by other code."""
    h = code_hash(list(ABLATION_CODE)) if current else "0" * 16
    path.write_text("".join(json.dumps({**r, "code_hash": h}) + "\n" for r in records))
    prov = {"code_hash": h, "code_entry_points": list(ABLATION_CODE), "command": "test",
            "device": "cpu", "created": "2026-01-01T00:00:00+00:00",
            "runs": [{"run": "a", "status": status, "started": "2026-01-01T00:00:00+00:00"}]}
    path.with_name(path.stem + "_provenance.json").write_text(json.dumps(prov))


def _shortcut(seeds=range(6), epochs=10, shift=0.0, fit_gap=0.0) -> list[dict]:
    """Shortcut-grid records: the residual MLP's test-accuracy gain grows with depth (fit and
    generalisation), the CNN's does not; ``fit_gap`` lowers the residual CNN's training
    accuracy at depth 8 (a filter can then decide its verdict)."""
    rng = np.random.default_rng(0)
    out = []
    for kind in ("mlp", "cnn"):
        for depth in (2, 8):
            for seed in seeds:
                for arm in ("plain", "residual"):
                    gain = 0.06 if (kind == "mlp" and depth == 8 and arm == "residual") else 0.0
                    train = 0.9 + gain / 2 - (fit_gap if (kind, depth, arm) ==
                                              ("cnn", 8, "residual") else 0.0)
                    test = round(0.6 + gain + shift + rng.normal(0, 0.004), 4)
                    out.append({"kind": kind, "depth": depth, "arm": arm, "seed": seed,
                                "shortcut": arm == "residual", "epochs": epochs,
                                "n_classes": 10, "train_acc": train, "test_acc": test,
                                "gen_gap": round(train - test, 4)})
    return out


def _twice(records: list[dict], shift: float = 0.0) -> list[dict]:
    return [{**r, "epochs": 2 * r["epochs"], "test_acc": r["test_acc"] + shift,
             "gen_gap": r["gen_gap"] - shift} for r in records]


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    recs = _shortcut()
    _store(tmp_path / "shortcut_quick.jsonl", recs)
    _store(tmp_path / "shortcut_quick_budget.jsonl", _twice(recs))
    _store(tmp_path / "shortcut_full.jsonl", recs)
    _store(tmp_path / "shortcut_full_budget.jsonl",
           _twice([r for r in recs if r["seed"] in (0, 1)]))
    _store(tmp_path / "regularization_quick.jsonl", [{"arm": "baseline", "seed": 0}],
           current=False)
    return tmp_path


def test_a_grid_gives_a_verdict_only_when_current_and_its_budget_check_passes(folder):
    ev = {(e.grid, e.profile): e for e in evidence.gather_grids(folder)}
    assert len(ev) == 4
    quick, full = ev["shortcut", "quick"], ev["shortcut", "full"]
    assert quick.gives_verdict and quick.status == "budget check passed on the whole grid"
    assert full.gives_verdict and full.sample == "seed 0, 1" and "on a sample (seed 0, 1)" in \
        full.status
    stale, missing = ev["regularization", "quick"], ev["regularization", "full"]
    assert not stale.gives_verdict and "stale or unfinished" in stale.status
    assert missing.stored is None and "has not been made" in missing.status
    _store(folder / "shortcut_quick_budget.jsonl", _twice(_shortcut(), shift=0.05))
    failed = evidence.gather_grids(folder)[0]
    assert not failed.gives_verdict and "FAILED" in failed.status and "0.050" in failed.status
    assert failed.brief.startswith("no verdict: budget check FAILED (largest move 0.050 > 0.01")
    assert "by item" in failed.status and "by item" not in failed.brief
    assert failed.brief.endswith("of the time)") and "noise alone fails it" in failed.brief
    assert quick.brief == quick.status and stale.brief == stale.status
    (folder / "shortcut_quick_budget.jsonl").unlink()
    assert "has not been made" in evidence.gather_grids(folder)[0].status
    _store(folder / "shortcut_quick_budget.jsonl", _twice(_shortcut()), status="running")
    assert "budget file is stale or unfinished" in evidence.gather_grids(folder)[0].status
    with pytest.raises(ValueError, match="not a folder"):
        evidence.gather_grids(folder / "nothing")


def test_families_and_the_table_come_from_the_grids_that_give_a_verdict(folder):
    ev = evidence.gather_grids(folder)
    fams = evidence.profile_families(ev)
    assert {f.source for f in fams["quick"]} == {"quick"}
    assert {(f.claim.key, f.item) for f in fams["quick"]} == {
        ("C5", "mlp"), ("C5", "cnn"), ("C6", "mlp"), ("C6", "cnn")}
    c6 = {f.item: f.judge().verdict for f in fams["quick"] if f.claim.key == "C6"}
    assert c6["mlp"] == "supported"
    checks = [claims.Check("C1", "a", 1, 0.0, 0.0, 0.0, True),
              claims.Check("C1", "b", 1, 0.0, 0.0, 0.0, True)]
    words = evidence.theorem_words(checks)
    assert words == {"C1": "2 of 2 checks as the theorem says"}
    c0 = claims.layer_gap_family([[{"total_gap": 0.5}, {"total_gap": 0.1}]] * 3, "quick, re")
    rows = {r["claim"]: r for r in evidence.two_profile_table(ev, fams, c0, "quick", words)}
    assert list(rows) == [c.key for c in claims.PAPER_CLAIMS]
    assert rows["C1"]["quick"] == "theorem (checked: 2 of 2 checks as the theorem says)"
    assert rows["C2"]["full"] == "theorem"
    assert rows["C8b"]["quick"].startswith("no verdict: regularization_quick.jsonl is stale")
    assert rows["C7"]["full"].startswith("no verdict: regularization_full.jsonl has not been")
    assert "budget check passed on the whole grid]" in rows["C6"]["quick"]
    assert "mlp: supported" in rows["C6"]["quick"]
    assert rows["C0"]["full"].startswith("not re-measured")
    assert rows["C0"]["quick"].startswith("supported") and rows["C0"]["judged"] == \
        "every setting"
    assert rows["C6"]["judged"] == "per architecture; every setting"
    assert rows["C6"]["caveat"] == claims.claim("C6").caveat


def test_a_filter_that_decides_a_verdict_is_noted_with_the_whole_item_name(folder):
    recs = _shortcut(fit_gap=0.04)
    _store(folder / "shortcut_quick.jsonl", recs)
    _store(folder / "shortcut_quick_budget.jsonl", _twice(recs))
    ev = evidence.gather_grids(folder)
    notes = evidence.profile_notes(ev)["quick"]
    assert ("C5", "cnn") in notes and "fit tolerance" in notes["C5", "cnn"]
    assert "0.03: no verdict" in notes["C5", "cnn"]
    fams = evidence.profile_families(ev)["quick"]
    cells = evidence.verdict_cells(fams, notes)
    assert cells["cnn", "C5"].endswith(" | depends on a filter")
    rows = {r["claim"]: r for r in evidence.two_profile_table(ev, {"quick": fams}, None,
                                                              "quick", notes={"quick": notes})}
    assert rows["C5"]["filters"].startswith("quick: cnn depends on the fit tolerance")
    fam = claims.Family(claims.claim("C7"), "quick", ["n_train 250"], [np.array([0.1, 0.2])],
                        item="dropout 0.3")
    sentences = evidence.found_with_filters(
        [fam], {("C7", "dropout 0.3"): "dropout 0.3 depends on the fit tolerance (0.05: mixed)"})
    assert sentences == ["C7 for dropout 0.3: the verdict depends on the fit tolerance "
                         "(0.05: mixed)."]


def test_c6_splits_exactly_into_fit_and_generalisation():
    rows = {r["kind"]: r for r in evidence.c6_split(_shortcut())}
    mlp = rows["mlp"]
    assert mlp["depths"] == (2, 8) and mlp["n"] == 6
    v = mlp["values"]
    np.testing.assert_allclose(v["test"], np.add(v["fit"], v["generalisation"]), atol=1e-9)
    assert math.isclose(mlp["fit"][0], 0.03, abs_tol=1e-9)
    assert mlp["generalisation"][1] > 0 and mlp["reading"] == "fit and generalisation"
    assert rows["cnn"]["reading"] == "neither"
    dead = [r if not (r["depth"] == 8 and r["arm"] == "plain") else {**r, "train_acc": 0.1}
            for r in _shortcut()]
    for r in dead:
        r["gen_gap"] = r["train_acc"] - r["test_acc"]
    assert {r["n"] for r in evidence.c6_split(dead)} == {0}
    with pytest.raises(ValueError, match="train_acc - test_acc"):
        evidence.c6_split([{**_shortcut()[0], "gen_gap": 0.5}])


def _lesson04_settings() -> dict[str, dict]:
    """Lesson 04's MNIST-1D settings, read from its imports cell for both profiles."""
    nb = json.loads((ROOT / "notebooks" / "04_recursive_dnn.ipynb").read_text())
    src = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"
               and "M1D = dict(" in "".join(c["source"]))
    wanted = ("SEEDS", "PROBE_SPLITS", "N_TOY", "M1D")
    lines = [ast.unparse(s) for s in ast.parse(src).body if isinstance(s, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id in wanted for t in
                     ast.walk(s.targets[0]))]
    out = {}
    for profile in ("quick", "full"):
        pick = {"quick": 0, "full": 1}[profile]

        class Runtime:
            @staticmethod
            def by_profile(quick, full, pick=pick):
                return (quick, full)[pick]
        ns = {"runtime": Runtime}
        exec("\n".join(lines), ns)  # noqa: S102 - the lesson's own assignments
        out[profile] = ns
    stuck = next("".join(c["source"]) for c in nb["cells"] if "m1d_stuck =" in
                 "".join(c["source"]))
    out["stuck"] = stuck
    return out


def test_c0_is_remeasured_with_lesson_04s_settings():
    lesson = _lesson04_settings()
    for profile in ("quick", "full"):
        ours, theirs = evidence.C0_SETTINGS[profile], lesson[profile]
        assert tuple(theirs["SEEDS"]) == ours["seeds"]
        assert theirs["PROBE_SPLITS"] == ours["probe_splits"]
        assert theirs["N_M1D"] == ours["n_train"]
        assert theirs["M1D"] == ours["net"]
    assert f"{evidence.C0_SETTINGS['quick']['stuck_at']} * np.log(10)" in lesson["stuck"]


def test_remeasure_c0_runs_lesson_04s_functions(monkeypatch):
    """A tiny version of the measurement: C0's family over the nets that trained."""
    tiny = {"seeds": (0, 1), "n_train": 3000, "probe_splits": 2, "stuck_at": 1.5,
            "net": {**evidence.C0_SETTINGS["quick"]["net"], "epochs_per_layer": 1,
                    "width": 8}}
    monkeypatch.setitem(evidence.C0_SETTINGS, "quick", tiny)
    run = evidence.remeasure_c0("quick", source="test")
    assert run.family.item == "MNIST-1D" and run.family.source == "quick, test"
    assert run.seeds == (0, 1) and len(run.family.settings) == 3
    assert {m for m, _ in run.runs} == {"end to end", "layer-wise", "at initialisation"}
    assert run.stuck == () and all(len(e) == 2 for e in run.family.effects)
    tiny["stuck_at"] = 0.01                      # every net "did not train": no verdict
    stuck = evidence.remeasure_c0("quick", source="test")
    assert stuck.stuck == (0, 1) and stuck.family.judge() is None
    assert "did not train (2 of 2 nets)" in stuck.family.excluded[0][1]


def test_verdict_map_draws_every_cell_and_its_legend():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    cells = {("mlp", "C5"): "supported", ("cnn", "C5"): "no verdict",
             ("mlp", "C6"): "mixed | depends on a filter"}
    handles = plots.verdict_map(ax, cells, ["mlp", "cnn"], ["C5", "C6"])
    labels = [h.get_label() for h in handles]
    assert labels == ["✓  supported", "±  mixed", "–  no verdict", "*  depends on a filter"]
    assert sorted(t.get_text() for t in ax.texts) == ["±*", "–", "✓"]
    assert len(ax.patches) == 3
    with pytest.raises(ValueError, match="not one of"):
        plots.verdict_map(ax, {("mlp", "C5"): "great"}, ["mlp"], ["C5"])
    with pytest.raises(ValueError, match="keys must be"):
        plots.verdict_map(ax, {("rnn", "C5"): "supported"}, ["mlp"], ["C5"])
    plt.close(fig)


def _regularization(late: float, epochs: int = 10, shift: float = 0.0) -> list[dict]:
    """Regularisation-grid records whose nets peak at their first evaluation: dropout gains
    0.05 there; read at the last epoch every net has lost ``late`` (the early-stopping arm is
    the baseline read at its best epoch)."""
    rng = np.random.default_rng(1)
    out = []
    for n_train in (250, 1000):
        for seed in range(4):
            for arm in ("baseline", "dropout 0.3"):
                best = 0.5 + 0.05 * (arm == "dropout 0.3") + shift + rng.normal(0, 0.002)
                rec = {"arm": arm, "n_train": n_train, "seed": seed, "epochs": epochs,
                       "n_classes": 10, "train_acc": 1.0, "eval_epochs": [1, 2],
                       "test_acc_curve": [best, best - late], "best_val_epoch": 1,
                       "test_acc": best - late, "gen_gap": 1.0 - best + late,
                       "test_loss_calibrated": 1.0, "test_entropy": 0.5}
                out.append(rec)
                if arm == "baseline":
                    out.append({**rec, "arm": "early stopping", "test_acc": best})
    return out


def test_a_regularisation_grid_can_judge_its_accuracy_claims_at_the_best_epoch(folder):
    # read at the last epoch the longer runs lose 0.03 more: the grid fails its check; read at
    # the best validation epoch nothing moves: C7 and C10 are judged that way, C7c is not
    _store(folder / "regularization_quick.jsonl", _regularization(late=0.0))
    _store(folder / "regularization_quick_budget.jsonl", _regularization(late=0.03, epochs=20))
    ev = {(e.grid, e.profile): e for e in evidence.gather_grids(folder)}
    reg = ev["regularization", "quick"]
    assert not reg.gives_verdict and reg.best_epoch.gives_verdict
    assert reg.best_epoch.claims == ("C7", "C10") and reg.judging("C7") is reg.best_epoch
    assert reg.judging("C7c") is None and ev["shortcut", "quick"].best_epoch is None
    assert "read at the best validation epoch" in reg.best_epoch.status
    assert {r["arm"] for r in reg.best_epoch.stored.records} == {"baseline", "dropout 0.3"}
    fams = evidence.profile_families(list(ev.values()))
    assert {(f.claim.key, f.item) for f in fams["quick"] if f.claim.key.startswith("C7")
            or f.claim.key == "C10"} == {("C7", "dropout 0.3"), ("C10", "dropout 0.3")}
    rows = {r["claim"]: r for r in evidence.two_profile_table(list(ev.values()), fams, None,
                                                              "quick")}
    assert "dropout 0.3: supported" in rows["C7"]["quick"]
    assert "read at the best validation epoch]" in rows["C7"]["quick"]
    assert rows["C7c"]["quick"].startswith("no verdict: budget check FAILED")
    cells = evidence.verdict_cells(fams["quick"], {}, list(ev.values()))
    assert cells["dropout 0.3", "C7"] == "supported" and cells["dropout 0.3", "C9"] == \
        "no verdict" and cells["early stopping", "C7"] == "no verdict"
    lines = evidence.argument_findings([], None, fams, list(ev.values()))
    assert any("C7, C10 judged at the best validation epoch" in line for line in lines)
    # a drift of the best epoch itself: neither reading gives a verdict
    _store(folder / "regularization_quick_budget.jsonl",
           _regularization(late=0.0, epochs=20, shift=0.03))
    reg = next(e for e in evidence.gather_grids(folder) if e.grid == "regularization")
    assert not reg.gives_verdict and not reg.best_epoch.gives_verdict
    # settled accuracies whose verdict tips: the brief does not claim a move beyond the tolerance
    def lower(records: list[dict], by: float) -> list[dict]:   # dropout's gain at n = 1000
        for r in records:
            if r["arm"] == "dropout 0.3" and r["n_train"] == 1000:
                r["test_acc"] = r["test_acc"] - by
                r["test_acc_curve"] = [r["test_acc_curve"][0] - by, r["test_acc_curve"][1] - by]
        return records

    _store(folder / "regularization_quick.jsonl", lower(_regularization(late=0.0), 0.031))
    _store(folder / "regularization_quick_budget.jsonl",
           lower(_regularization(late=0.0, epochs=20), 0.040))
    best = next(e for e in evidence.gather_grids(folder)
                if e.grid == "regularization").best_epoch
    assert best.check.accuracy_ok and not best.gives_verdict
    assert "largest move 0.009 <= 0.01; 1 verdict changed" in best.brief


def test_cli_budget_reads_the_regularisation_grid_at_the_best_epoch(folder, capsys):
    from maxent_lib.__main__ import main

    _store(folder / "regularization_quick.jsonl", _regularization(late=0.0))
    _store(folder / "regularization_quick_budget.jsonl", _regularization(late=0.03, epochs=20))
    assert main(["budget", "--grid", "regularization", "--profile", "quick", "--best-epoch",
                 "--dir", str(folder)]) == 0
    out = json.loads((folder / "regularization_quick_budget_best_check.json").read_text())
    assert out["passed"] and out["grid"].endswith("read at the best validation epoch")
    assert set(out["verdicts"]) == {"C7 dropout 0.3", "C10 dropout 0.3"}
    assert "budget check passed" in capsys.readouterr().out
    assert main(["budget", "--grid", "regularization", "--profile", "quick",
                 "--dir", str(folder)]) == 0      # read at the last epoch it fails
    assert not json.loads((folder / "regularization_quick_budget_check.json").read_text())[
        "passed"]
    with pytest.raises(SystemExit):
        main(["budget", "--grid", "shortcut", "--profile", "quick", "--best-epoch",
              "--dir", str(folder)])
