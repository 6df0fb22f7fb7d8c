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
    assert prov["code_hash"] == code_hash(prov["code_entry_points"]) and prov["records"] == 4
    assert prov["code_entry_points"][:3] == list(ablation.ABLATION_CODE)
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


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_out_that_is_not_a_regular_file_exits_2(kind, tmp_path, capsys):
    """--out /dev/null or a named pipe (which used to hang the run) is a bad argument: status
    2 and a plain message, before anything trains; the device is not replaced."""
    import os
    import signal

    out = os.devnull if kind == "device" else str(tmp_path / "pipe.jsonl")
    if kind == "fifo":
        os.mkfifo(out)
    signal.alarm(60)
    try:
        with pytest.raises(SystemExit) as exc:
            main(["ablate", "--grid", "shortcut", "--out", out, "--no-progress"])
    finally:
        signal.alarm(0)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "Traceback" not in err
    assert ("a device" if kind == "device" else "a named pipe") in err
    assert os.path.exists(out) and not os.path.isfile(out)


def test_read_only_folder_exits_1_naming_the_results_file(tiny_grid, tmp_path, capsys,
                                                          monkeypatch):
    """A results folder that cannot be written (read-only, permissions) is not a bad argument:
    status 1 with the one-line error that names the results file. (Permissions do not bind the
    superuser, so the folder is made read-only by the check's view of it.)"""
    import os

    from maxent_lib.store import files

    out = tmp_path / "r.jsonl"
    real = os.access
    monkeypatch.setattr(files.os, "access",
                        lambda p, mode: False if mode == os.W_OK else real(p, mode))
    with pytest.raises(SystemExit) as exc:
        main(["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
              "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "Traceback" not in err
    assert "permission denied" in err and f"[results file: {out}]" in err
    assert not out.exists()


def test_failed_training_task_exits_1_and_the_run_is_marked_failed(tiny_grid, tmp_path, capsys,
                                                                   monkeypatch):
    """A training task that raises (here a ValueError, which is not a bad argument of the
    command) ends in status 1 naming the results file; the groups stored before it stay, and
    the provenance's last run is "failed", so the file is not current."""
    calls = []
    real = runner._group_records

    def fail_second(configs, *args, **kwargs):
        calls.append(len(configs))
        if len(calls) == 2:
            raise ValueError("the second group failed in training")
        return real(configs, *args, **kwargs)

    monkeypatch.setattr(runner, "_group_records", fail_second)
    out = tmp_path / "r.jsonl"
    argv = ["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
            "--out", str(out), "--no-progress", "--sequential"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "Traceback" not in err
    assert "the second group failed in training" in err and f"[results file: {out}]" in err
    assert len(out.read_text().splitlines()) == 1  # the first group is stored
    prov = ablation.load_provenance(out)
    assert prov["runs"][-1]["status"] == "failed"
    stored = ablation.load_stored(out)
    assert not stored.current and "failed" in stored.why


def test_sigterm_stops_a_run_as_ctrl_c_does(tiny_grid, tmp_path, capsys, monkeypatch):
    """SIGTERM (``kill``) during a run: exit status 130, the groups finished before it stay, the
    provenance's last run is "interrupted", and the process's own SIGTERM handler is back
    afterwards."""
    import os
    import signal

    calls = []
    real = runner._group_records

    def terminated_during_second(configs, *args, **kwargs):
        calls.append(len(configs))
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(configs, *args, **kwargs)

    monkeypatch.setattr(runner, "_group_records", terminated_during_second)
    before = signal.getsignal(signal.SIGTERM)
    out = tmp_path / "r.jsonl"
    argv = ["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
            "--out", str(out), "--no-progress", "--sequential"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 130 and "interrupted" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 1  # the first group is stored
    assert ablation.load_provenance(out)["runs"][-1]["status"] == "interrupted"
    assert signal.getsignal(signal.SIGTERM) == before


def test_merge_joins_files_made_in_parallel(tiny_grid, tmp_path, capsys):
    base = ["ablate", "--grid", "tiny", "--dataset", "gaussians", "--device", "cpu",
            "--no-progress"]
    parts = [tmp_path / "part0.jsonl", tmp_path / "part1.jsonl"]
    for seed, part in enumerate(parts):
        assert main([*base, "--where", f"seed={seed}", "--out", str(part)]) == 0
    out = tmp_path / "joined.jsonl"
    assert main(["merge", "--out", str(out), *map(str, parts)]) == 0
    assert "4 records from 2 files, current" in capsys.readouterr().out
    joined = ablation.load_stored(out)
    assert joined.current and sorted(r["seed"] for r in joined.records) == [0, 0, 1, 1]
    prov = joined.provenance
    assert prov["merged_from"] == ["part0.jsonl", "part1.jsonl"] and prov["records"] == 4
    assert [r["file"] for r in prov["runs"]] == ["part0.jsonl", "part1.jsonl", "joined.jsonl"]
    assert prov["runs"][-1]["status"] == "finished" and "merge" in prov["command"]
    # refused: an existing output, the same records twice, a stale input
    for argv, message in ((["--out", str(out), *map(str, parts)], "exists already"),
                          (["--out", str(tmp_path / "x.jsonl"), str(parts[0]), str(parts[0])],
                           "is in both"),
                          (["--out", str(tmp_path / "y.jsonl"), str(parts[0])], "two or more")):
        with pytest.raises(SystemExit) as exc:
            main(["merge", *argv])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    prov_path = tmp_path / "part1_provenance.json"
    stale = json.loads(prov_path.read_text())
    stale["runs"][-1]["status"] = "interrupted"
    prov_path.write_text(json.dumps(stale))
    with pytest.raises(SystemExit) as exc:
        main(["merge", "--out", str(tmp_path / "z.jsonl"), *map(str, parts)])
    assert "part1.jsonl is stale" in capsys.readouterr().err and not (tmp_path / "z.jsonl").exists()
