"""Lesson 06's measurements (maxent_lib.regularization): the entropy each objective asks for,
the reliability diagram, when a stored grid may give verdicts, the per-regulariser tables and
sentences, the live re-training check and the held-out FC gaps."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from maxent_lib import ablation, claims, regularization
from maxent_lib.ablation.budget import BudgetCheck
from maxent_lib.metrics import expected_calibration_error
from maxent_lib.store.provenance import StoredResults

ARMS = {"baseline": {}, "dropout 0.3": {"dropout": 0.3}, "weight decay 0.5": {"weight_decay": 0.5},
        "label smoothing 0.1": {"label_smoothing": 0.1}}


# ------------------------------------------------------------------- entropy by construction

@pytest.mark.parametrize("eps", [0.05, 0.1, 0.5])
def test_smoothed_target_entropy_is_the_entropy_at_the_optimum(eps) -> None:
    k = 10
    logits = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([3])
    opt = torch.optim.LBFGS([logits], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(logits.unsqueeze(0), y, label_smoothing=eps)
        loss.backward()
        return loss

    opt.step(closure)
    p = torch.softmax(logits.detach(), -1).numpy()
    assert regularization.smoothed_target_entropy(eps, k) == pytest.approx(
        -(p * np.log(p)).sum(), abs=1e-6)


def test_smoothed_target_entropy_edges() -> None:
    assert regularization.smoothed_target_entropy(0.0, 10) == 0.0
    # eps -> 1: q -> uniform, entropy -> log K
    assert regularization.smoothed_target_entropy(0.999999, 10) == pytest.approx(math.log(10),
                                                                                abs=1e-4)
    with pytest.raises(ValueError, match="eps"):
        regularization.smoothed_target_entropy(1.0, 10)
    with pytest.raises(ValueError, match="n_classes"):
        regularization.smoothed_target_entropy(0.1, 1)


def test_penalty_optimum_entropy_matches_a_direct_minimisation_and_grows_with_beta() -> None:
    k, beta = 10, 0.5
    grid = np.linspace(1 / k + 1e-6, 1 - 1e-9, 200_001)
    rest = (1 - grid) / (k - 1)
    h = -(grid * np.log(grid) + (k - 1) * rest * np.log(rest))
    a = grid[np.argmin(-np.log(grid) - beta * h)]
    want = -(a * np.log(a) + (1 - a) * np.log((1 - a) / (k - 1)))
    assert regularization.penalty_optimum_entropy(beta, k) == pytest.approx(want, abs=1e-4)
    ents = [regularization.penalty_optimum_entropy(b, k) for b in (0.0, 0.1, 0.3, 1.0, 10.0)]
    assert ents[0] == 0.0 and all(np.diff(ents) > 0) and ents[-1] < math.log(k)


def test_reliability_bins_sum_to_the_ece() -> None:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5) * 0.5, size=3000)
    y = np.array([rng.choice(5, p=q) for q in p])
    for n_bins in (1, 5, 15):
        b = regularization.reliability_bins(p, y, n_bins)
        assert b["share"].sum() == pytest.approx(1.0)
        ece = float(np.sum(b["share"] * np.abs(b["accuracy"] - b["confidence"])))
        assert ece == pytest.approx(expected_calibration_error(p, y, n_bins), abs=1e-12)
    sharp = p**4 / (p**4).sum(1, keepdims=True)
    b = regularization.reliability_bins(sharp, y, 10)
    assert (b["accuracy"] <= b["confidence"] + 0.02).all()  # over-confident: below the diagonal
    with pytest.raises(ValueError, match="rows"):
        regularization.reliability_bins(p, y[:-1])
    with pytest.raises(ValueError, match="y"):
        regularization.reliability_bins(p, np.full(len(p), 7))


# ------------------------------------------------------------------------ records and states

def _records(gain: float = 0.05, profile: str = "quick", epochs: int = 10,
             move: float = 0.0) -> list[dict]:
    out = []
    rng = np.random.default_rng(1)
    for n_train, g in ((250, gain), (1000, gain / 5)):
        for seed in range(8):
            for arm, extra in ARMS.items():
                j = 0.002 * rng.normal() * (arm != "baseline")
                acc = 0.6 + g * (arm == "dropout 0.3") + j + move
                out.append({"arm": arm, "n_train": n_train, "seed": seed, "dataset": "mnist1d",
                            "profile": profile, "epochs": epochs, "train_acc": 1.0,
                            "test_acc": acc, "test_loss": 2.0 - acc,
                            "test_loss_calibrated": 1.5 - acc, "test_entropy": 1.0 + j
                            + 0.4 * (arm == "label smoothing 0.1"),
                            "gen_gap": 1.0 - acc, "late_gain": 0.02 * (seed == 0), **extra})
    return out


def _stored(records, current=True, name="regularization_quick.jsonl") -> StoredResults:
    return StoredResults(Path(name), records, None, current,
                         "made by the current code" if current else "made by other code")


def test_grid_state_judges_a_current_grid_that_passes_its_budget_check() -> None:
    recs = _records()
    longer = [{**r, "epochs": 20} for r in recs if r["seed"] < 2]
    state = regularization.grid_state(_stored(recs), _stored(longer, name="b.jsonl"))
    assert state.judged and state.reason == "" and state.budget_seeds == 2
    assert state.check.passed and "verdicts are drawn" in state.line()


@pytest.mark.parametrize("case, words", [
    ("stale", "not current"), ("empty", "no results"), ("no budget", "no records"),
    ("stale budget", "budget file is not current"), ("moved", "failed the budget check"),
    ("unpaired", "could not be made")])
def test_grid_state_says_why_no_verdict_is_drawn(case, words) -> None:
    recs = _records()
    longer = [{**r, "epochs": 20} for r in recs]
    stored, budget = _stored(recs), _stored(longer, name="b.jsonl")
    if case == "stale":
        stored = _stored(recs, current=False)
    elif case == "empty":
        stored = _stored([], current=False)
    elif case == "no budget":
        budget = None
    elif case == "stale budget":
        budget = _stored(longer, current=False, name="b.jsonl")
    elif case == "moved":
        budget = _stored(_records(epochs=20, move=0.03), name="b.jsonl")
    elif case == "unpaired":
        budget = _stored([{**r, "epochs": 30} for r in recs], name="b.jsonl")
    state = regularization.grid_state(stored, budget)
    assert not state.judged and words in state.reason and "no verdict" in state.line()


def _with_curves(records: list[dict], late: float = 0.0) -> list[dict]:
    """Records with a stored test-accuracy curve: best at the first of two evaluations, the
    last one ``late`` below it (``test_acc`` is the last); the early-stopping arm is the
    baseline read at its best epoch."""
    out = []
    for r in records:
        best = r["test_acc"]
        out.append({**r, "eval_epochs": [1, 2], "test_acc_curve": [best, best - late],
                    "best_val_epoch": 1, "test_acc": best - late})
        if r["arm"] == "baseline":
            out.append({**out[-1], "arm": "early stopping", "test_acc": best})
    return out


def test_grid_state_can_read_every_net_at_its_best_validation_epoch() -> None:
    recs = _with_curves(_records())
    # the longer runs drift after their best epoch: read at the last epoch they move by 0.03
    longer = _with_curves([{**r, "epochs": 20} for r in _records() if r["seed"] < 4], late=0.03)
    assert not regularization.grid_state(_stored(recs), _stored(longer, name="b.jsonl")).judged
    state = regularization.grid_state(_stored(recs), _stored(longer, name="b.jsonl"),
                                      reading="best validation epoch")
    assert state.judged and "read at the best validation epoch" in state.line()
    assert {r["arm"] for r in state.records} == set(ARMS)        # early stopping is the reading
    assert set(regularization.best_epoch_verdicts(state.records)) == set(state.check.verdicts)
    assert {c.split(" ", 1)[0] for c in state.check.verdicts} == set(
        regularization.BEST_EPOCH_CLAIMS) == {"C7", "C10"}
    # a drift of the best epoch itself still fails the check
    moved = _with_curves([{**r, "epochs": 20, "test_acc": r["test_acc"] + 0.03}
                          for r in _records() if r["seed"] < 4])
    failed = regularization.grid_state(_stored(recs), _stored(moved, name="b.jsonl"),
                                       reading="best validation epoch")
    assert not failed.judged and "failed the budget check" in failed.reason
    assert {f.claim.key for f in regularization.state_families(state, "quick")} == {"C7", "C10"}
    last = regularization.grid_state(_stored(recs), None)
    assert {f.claim.key for f in regularization.state_families(last, "quick")} == {
        "C7", "C7c", "C8", "C8b", "C9", "C10"}
    assert regularization.state_families(
        regularization.grid_state(_stored([], current=False), None), "quick") == []
    with pytest.raises(ValueError, match="regularisation grid"):
        regularization.grid_state(_stored(recs), None, grid="shortcut",
                                  reading="best validation epoch")
    with pytest.raises(ValueError, match="reading"):
        regularization.grid_state(_stored(recs), None, reading="middle")


def test_grid_state_refuses_what_is_not_a_stored_result() -> None:
    with pytest.raises(TypeError, match="stored"):
        regularization.grid_state(_records(), None)


def test_claim_table_one_row_per_regulariser_with_calls_and_verdict_in_words() -> None:
    fams = claims.regularization_families(_records(), "quick")
    table = regularization.claim_table(fams, "C7")
    lines = table.splitlines()
    assert lines[0] == "| regulariser | n_train 250 | n_train 1000 | verdict |"
    assert len(lines) == 2 + 3
    dropout = next(line for line in lines if line.startswith("| dropout 0.3"))
    assert ", for |" in dropout and "1 of 2 settings for the prediction" in dropout
    assert "p up" not in table and " up" not in table
    c8b = regularization.claim_table(fams, "C8b")
    assert "by construction (no evidence)" in c8b
    blind = regularization.claim_table(fams, "C10", judged=False, reason="stale file")
    assert "no verdict: stale file" in blind and ", for" not in blind
    with pytest.raises(ValueError, match="C8"):
        regularization.claim_table([f for f in fams if f.claim.key != "C8"], "C8")
    with pytest.raises(ValueError, match="key"):
        regularization.claim_table(fams, "C5")


def test_found_lines_cover_each_claim_per_regulariser_and_label_c8b() -> None:
    recs = _records()
    fams = claims.regularization_families(recs, "quick")
    longer = [{**r, "epochs": 20} for r in recs if r["seed"] < 2]
    state = regularization.grid_state(_stored(recs), _stored(longer, name="b.jsonl"))
    lines = regularization.found_lines(fams, state)
    heads = [line.split(":")[0] for line in lines]
    for key in regularization.FOUND_CLAIMS:
        assert f"{key} for dropout 0.3" in heads or key == "C8"
    assert "C8 for weight decay 0.5" in heads
    assert "C8b for label smoothing 0.1: true by construction" in " ".join(lines)
    assert any(line.startswith("C10 for dropout 0.3: the prediction held") for line in lines)
    stale = regularization.grid_state(_stored(recs, current=False), None)
    assert regularization.found_lines(fams, stale) == [
        "No verdict from regularization_quick.jsonl: the file is not current (made by other "
        "code)."]


def test_paired_rows_are_the_paired_effects_as_plot_rows() -> None:
    recs = _records()
    rows = regularization.paired_rows(recs, "test_acc")
    assert {r["arm"] for r in rows} == set(ARMS) - {"baseline"}
    dropout = next(r for r in rows if r["arm"] == "dropout 0.3" and r["n_train"] == 250)
    base = {r["seed"]: r["test_acc"] for r in recs if r["arm"] == "baseline"
            and r["n_train"] == 250}
    diffs = [r["test_acc"] - base[r["seed"]] for r in recs if r["arm"] == "dropout 0.3"
             and r["n_train"] == 250]
    assert dropout["test_acc_mean"] == pytest.approx(np.mean(diffs))
    assert dropout["test_acc_lo"] < dropout["test_acc_mean"] < dropout["test_acc_hi"]
    with pytest.raises(ValueError, match="arm"):
        regularization.paired_rows([{"seed": 0, "n_train": 1}], "test_acc")


def test_training_health_counts_stuck_diverged_and_late_runs() -> None:
    recs = _records()
    recs[0] = {**recs[0], "train_acc": 0.1}                               # did not train
    recs[1] = {**recs[1], "diverged": True, "train_acc": None, "late_gain": None}
    rows = regularization.training_health(recs)
    first = next(r for r in rows if r["arm"] == recs[0]["arm"] and r["n_train"] == 250)
    assert first["models"] == 8 and first["did not train"] == 1
    second = next(r for r in rows if r["arm"] == recs[1]["arm"] and r["n_train"] == 250)
    assert second["diverged"] == 1 and second["did not train"] == 1
    assert all(r["still improving"] <= 1 for r in rows)
    assert first["largest late gain"] == pytest.approx(0.02)
    lax = regularization.training_health(recs, trained_at=None)
    assert next(r for r in lax if r["arm"] == recs[0]["arm"]
                and r["n_train"] == 250)["did not train"] == 0


# ------------------------------------------------------------------ training, live and gaps

def _tiny_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(np.int64) + (X[:, 2] > 0.5)
    Xt = rng.normal(size=(200, 6)).astype(np.float32)
    yt = (Xt[:, 0] + Xt[:, 1] ** 2 > 1).astype(np.int64) + (Xt[:, 2] > 0.5)
    return X, y, Xt, yt


def _tiny_configs() -> list[dict]:
    return [{"kind": "mlp", "width": 8, "depth": 2, "seed": 0, "epochs": 6, "batch_size": 32,
             "lr": 3e-3, "n_train": 200, "n_val": 100, "arm": arm, "profile": "quick",
             **extra} for arm, extra in {**ARMS, "early stopping": {"early_stopping": True}
                                          }.items()]


def test_retrain_gives_the_stored_rows_bit_for_bit_dropout_included() -> None:
    data = ablation.prepare_dataset(_tiny_data())
    stored = ablation.run_grid(_tiny_configs(), _tiny_data(),
                               options=ablation.RunOptions(device="cpu", progress=False))
    pick = [c for c in _tiny_configs() if c["arm"] in ("dropout 0.3", "early stopping")]
    fitted = regularization.retrain(pick, data)
    same = ablation.compare_records(fitted.records, stored)
    assert same["matched"] == 2 and same["identical"], same
    assert set(same["by_arm"]) == {"dropout 0.3", "early stopping"}
    from maxent_lib.ablation.configs import ABLATION_CODE, GRID_CODE
    from maxent_lib.store.codehash import code_hash

    assert {r["code_hash"] for r in fitted.records} == {
        code_hash([*ABLATION_CODE, GRID_CODE["regularization"]])}
    bare = regularization.retrain(pick[:1], data, grid=None)
    assert bare.records[0]["code_hash"] == code_hash(ABLATION_CODE)
    with pytest.raises(TypeError, match="data"):
        regularization.retrain(pick, _tiny_data())


def test_fc_gap_rows_pair_every_arm_with_the_baseline_and_leave_early_stopping_out() -> None:
    data = ablation.prepare_dataset(_tiny_data())
    fitted = regularization.retrain(_tiny_configs(), data)
    rows = regularization.fc_gap_rows(fitted, n_splits=2)
    assert [r["arm"] for r in rows] == list(ARMS)
    base = rows[0]
    assert base["fc1_minus_baseline"] == "+0.000 [+0.000, +0.000]"
    for r in rows:
        g = r["gaps"]
        assert r["fc1_gap"] == g["fc1_gap"] and r["fc2_gap"] == g["fc2_gap"]
        assert g["layer"] == fitted.model.depth
        np.testing.assert_array_equal(g["splits"]["ce_flexible_input"],
                                      base["gaps"]["splits"]["ce_flexible_input"])
    with pytest.raises(ValueError, match="baseline"):
        regularization.fc_gap_rows(fitted, n_splits=2, baseline="no such arm")


def test_verdict_summary_names_the_supported_regularisers() -> None:
    fams = claims.regularization_families(_records(), "quick")
    assert regularization.verdict_summary(fams, "C10") == \
        "C10 supported for 1 of 3 regularisers (dropout 0.3)"
    assert regularization.verdict_summary(fams, "C7", judged=False) == "C7: no verdict"
    assert regularization.verdict_summary(fams, "C8b") == "C8b: by construction"
    none = claims.regularization_families(_records(gain=0.0), "quick")
    assert regularization.verdict_summary(none, "C10") == \
        "C10 supported for none of the 3 regularisers"


def test_split_log_probs_give_the_records_calibrated_cross_entropy() -> None:
    from maxent_lib.metrics import apply_temperature, fit_temperature

    data = ablation.prepare_dataset(_tiny_data())
    fitted = regularization.retrain(_tiny_configs(), data)
    for arm in ("baseline", "dropout 0.3"):
        lv, yv, lt, yt = regularization.split_log_probs(fitted, arm)
        rec = next(r for r in fitted.records if r["arm"] == arm)
        assert lv.shape == (100, 3) and lt.shape == (200, 3) and len(yv) == 100
        t = fit_temperature(torch.as_tensor(lv)[None], torch.as_tensor(yv))
        cal = apply_temperature(torch.as_tensor(lt)[None], t)[0].numpy()
        ce = -cal[np.arange(len(yt)), yt].mean()
        assert ce == pytest.approx(rec["test_loss_calibrated"], rel=1e-5)
        assert t[0] == pytest.approx(rec["temperature"], rel=1e-5)
    with pytest.raises(ValueError, match="arm"):
        regularization.split_log_probs(fitted, "no such arm")


def test_a_failed_budget_check_is_told_in_words_with_its_noise() -> None:
    recs = _records()
    fams = claims.regularization_families(recs, "quick")
    # twice the epochs, every net 0.05 better at n = 250 for dropout, by seed +-0.001
    longer = [{**r, "epochs": 20, "test_acc": r["test_acc"] + (0.05 + 0.001 * (-1) ** r["seed"]
                                                                if r["arm"] == "dropout 0.3"
                                                                and r["n_train"] == 250 else 0)}
              for r in recs if r["seed"] < 4]
    state = regularization.grid_state(_stored(recs), _stored(longer, name="b.jsonl"))
    assert not state.judged
    lines = regularization.found_lines(fams, state)
    assert lines == regularization.failed_check_lines(state)
    assert lines[0].startswith("No verdict from regularization_quick.jsonl: trained twice as "
                               "long (4 seeds per setting), its nets at n_train 250, arm "
                               "dropout 0.3 moved by +0.050")
    assert "more than the 0.01 allowed" in lines[0]
    assert any("the parts for" in line and "dropout 0.3" not in line.split("; the part")[0]
               for line in lines)
    assert "about 0%" in lines[-1] and "n_train 250, arm dropout 0.3 +0.050 [" in lines[-1]
    assert "has an interval that excludes zero: that setting is still changing." in lines[-1]
    passed = regularization.grid_state(_stored(recs), _stored(
        [{**r, "epochs": 20} for r in recs if r["seed"] < 2], name="b.jsonl"))
    # settled accuracies, but a verdict tipped by the longer runs: no noise sentence, the
    # changed verdict named, and the verdicts of the item that passes on its own
    tipped = BudgetCheck(
        [{"setting": {"arm": a}, "n": 8, "test_acc": 0.5, "test_acc_twice": 0.505,
          "move": 0.005, "move_lo": -0.001, "move_hi": 0.011, "move_se": 0.002} for a in "ab"],
        0.01, 0.005, verdicts={"C7 a": ("inconclusive", "supported"),
                               "C7 b": ("supported", "supported")}, items={"a": False, "b": True})
    state = regularization.GridState("g.jsonl", recs, True, "", tipped, 8, False, "failed")
    lines = regularization.failed_check_lines(state)
    assert "no setting moved by more than 0.01, and 1 verdict changed." in lines[0]
    assert lines[1] == "Verdicts that changed with twice the steps: C7 a (inconclusive -> " \
        "supported)."
    assert "the part for b passes (the same verdicts at both budgets: C7 b supported)" in lines[2]
    assert not any("Noise alone" in line for line in lines)
    with pytest.raises(ValueError, match="no failed budget check"):
        regularization.failed_check_lines(passed)
