"""Tests of the command line ``python -m maxent_lib ablate``: clear errors (exit status 2),
a run with a summary table, resume, and a plain message (exit status 1, no traceback) when the
results file cannot be written."""

import errno
import json
import subprocess
import sys

import pytest

from maxent_lib import ablation
from maxent_lib.__main__ import main
from maxent_lib.ablation import runner
from maxent_lib.store.codehash import code_hash


@pytest.fixture
def tiny_grid(monkeypatch):
    def grid(profile=None):
        return [{"width": 8, "depth": 2, "epochs": 2, "batch_size": 64, "seed": s,
                 "shortcut": sc, "arm": "residual" if sc else "plain"}
                for s in (0, 1) for sc in (False, True)]

    monkeypatch.setitem(ablation.GRIDS, "tiny", grid)
    monkeypatch.setitem(ablation.GRID_SUMMARY, "tiny", ("arm",))
    return grid


@pytest.mark.parametrize("args, message", [
    (["--grid", "nope"], "unknown grid"),
    (["--grid", "shortcut", "--device", "tpu"], "unknown device"),
    (["--grid", "shortcut", "--profile", "huge"], "unknown profile"),
    (["--grid", "shortcut", "--limit", "0"], "--limit"),
])
def test_errors_exit_2(args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ablate", *args, "--out", str(tmp_path / "r.jsonl")])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_unwritable_path_exits_2(tmp_path, capsys):
    for out in (tmp_path / "missing" / "r.jsonl", tmp_path):
        with pytest.raises(SystemExit) as exc:
            main(["ablate", "--grid", "shortcut", "--out", str(out)])
        assert exc.value.code == 2
        assert "results path" in capsys.readouterr().err


def test_run_and_resume(tiny_grid, tmp_path, capsys):
    out = tmp_path / "tiny.jsonl"
    argv = ["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
            "--out", str(out), "--no-progress"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "test_acc_mean" in text and "plain" in text and "residual" in text
    lines = out.read_text().splitlines()
    assert len(lines) == 4
    prov = json.loads((tmp_path / "tiny_provenance.json").read_text())
    assert prov["command"] == "python -m maxent_lib " + " ".join(argv)
    assert prov["code_hash"] == code_hash(ablation.ABLATION_CODE) and prov["records"] == 4
    assert "train_acc_mean" in text and "provenance" in text
    assert main(argv) == 0  # a rerun trains nothing and appends nothing
    assert out.read_text().splitlines() == lines


def test_results_of_other_code_are_refused(tiny_grid, tmp_path, capsys):
    out = tmp_path / "old.jsonl"
    out.write_text(json.dumps({"key": "k", "code_hash": "0123456789abcdef"}) + "\n")
    with pytest.raises(SystemExit) as exc:
        main(["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
              "--out", str(out), "--no-progress"])
    assert exc.value.code == 2 and "other code" in capsys.readouterr().err


def test_module_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "maxent_lib", "ablate", "--grid", "bogus",
                           "--out", str(tmp_path / "r.jsonl")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "unknown grid 'bogus'" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("error", [
    lambda: __import__("maxent_lib.store.files").store.files.ResultsFileError(
        errno.ENOSPC, "could not write 2 record(s) to 'r.jsonl': no space left on the device"),
    lambda: PermissionError(errno.EACCES, "Permission denied", "r.jsonl"),
])
def test_write_failures_exit_1_with_a_plain_message(error, tiny_grid, tmp_path, capsys,
                                                    monkeypatch):
    """A full disk, a folder made read-only mid-run, a lock held too long: the results file
    cannot be written. The command says so in one message and exits with status 1."""
    def fail(path, records, **kwargs):
        raise error()

    monkeypatch.setattr(runner.files, "append_records", fail)
    with pytest.raises(SystemExit) as exc:
        main(["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
              "--out", str(tmp_path / "r.jsonl"), "--no-progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 1
    assert "error:" in err and "rerun the same command to resume" in err
    assert "Traceback" not in err
    assert ("no space left" in err) or ("Permission denied" in err)


def test_bad_configs_of_a_grid_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(ablation.GRIDS, "bad", lambda profile=None: [{"shortcut": "False"}])
    monkeypatch.setitem(ablation.GRID_SUMMARY, "bad", ("arm",))
    with pytest.raises(SystemExit) as exc:
        main(["ablate", "--grid", "bad", "--dataset", "gaussians", "--device", "cpu",
              "--out", str(tmp_path / "r.jsonl"), "--no-progress"])
    assert exc.value.code == 2 and "shortcut must be True or False" in capsys.readouterr().err
