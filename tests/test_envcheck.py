"""maxent_lib.envcheck and maxent_lib.coursemap: lesson 00's environment check and course map."""

from __future__ import annotations

import importlib.metadata as metadata
from pathlib import Path

import nbformat
import numpy as np
import pytest

from maxent_lib import coursemap, envcheck

ROOT = Path(__file__).resolve().parents[1]


def test_read_pins_of_the_course(tmp_path: Path) -> None:
    pins = envcheck.read_pins(ROOT / "requirements.txt")
    assert pins["numpy"] and "torch" in pins and "-e" not in " ".join(pins)
    path = tmp_path / "r.txt"
    path.write_text("# c\n--extra-index-url https://x\ntorch==2.0.0+cpu  # cpu\n-e .\nfoo>=1\n")
    assert envcheck.read_pins(path) == {"torch": "2.0.0+cpu"}


def test_read_pins_rejects_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        envcheck.read_pins(tmp_path / "nope.txt")
    (tmp_path / "r.txt").write_text("# nothing\n")
    with pytest.raises(ValueError, match="pins no package"):
        envcheck.read_pins(tmp_path / "r.txt")


def test_find_requirements_from_a_subfolder(tmp_path: Path) -> None:
    assert envcheck.find_requirements(ROOT / "notebooks") == ROOT / "requirements.txt"
    (tmp_path / "requirements.txt").write_text("-e .\nnumpy==1\n")
    (tmp_path / "notebooks").mkdir()
    assert envcheck.find_requirements(tmp_path / "notebooks") == tmp_path / "requirements.txt"


def test_ok_for_the_installed_version() -> None:
    row = envcheck.check_package("numpy", np.__version__)
    assert (row.status, row.installed) == ("OK", np.__version__)


def test_local_build_label_is_ignored() -> None:
    version = metadata.version("torch")
    row = envcheck.check_package("torch", version.split("+")[0] + "+cpu")
    assert row.status == "OK"


def test_version_differs() -> None:
    row = envcheck.check_package("numpy", "0.0.1")
    assert row.status == "VERSION DIFFERS" and "0.0.1" in row.note


def test_missing_package_says_how_to_install() -> None:
    row = envcheck.check_package("surely-not-a-real-package-xyz", "1.0")
    assert row.status == "MISSING" and row.installed is None
    assert "pip install surely-not-a-real-package-xyz==1.0" in row.note


def test_import_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str):
        raise ImportError("libfoo.so not found")

    monkeypatch.setattr(envcheck.importlib, "import_module", broken)
    row = envcheck.check_package("numpy", np.__version__, import_it=True)
    assert row.status == "IMPORT FAILS" and "libfoo.so" in row.note


def test_table_and_summary() -> None:
    rows = [envcheck.PackageCheck("a", "1", "1", "OK"),
            envcheck.PackageCheck("b", "2", None, "MISSING", "pip install b==2")]
    table = envcheck.format_table(rows).splitlines()
    assert table[0].split() == ["package", "pinned", "installed", "status", "note"]
    assert table[2].split()[:4] == ["b", "2", "-", "MISSING"]
    assert envcheck.summary(rows).startswith("Not ready: b")
    assert envcheck.summary(rows[:1]).startswith("Ready:")
    differs = [envcheck.PackageCheck("c", "1", "2", "VERSION DIFFERS")]
    assert "other versions of c" in envcheck.summary(differs)
    with pytest.raises(ValueError):
        envcheck.check_packages({})


def _lesson(path: Path, title: str, header: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_markdown_cell(header)]
    nbformat.write(nb, path)


def test_course_map_reads_titles_and_times(tmp_path: Path) -> None:
    _lesson(tmp_path / "01_x.ipynb", "# 01 · Max-ent", "**Learning goals**\n\n**Time:** 2 min")
    _lesson(tmp_path / "02_y.ipynb", "# 02 · Softmax", "no time here")
    _lesson(tmp_path / "03_z.ipynb", "# 03 · FC",
            "- **Time:** 2 min (quick,\n  2-core CPU); 1 min (full)\n- **Next**: x")
    _lesson(tmp_path / "04_w.ipynb", "# 04 · DNN",
            "**Time:** about 1 min (measured\nat the end).\n\n**Other**: y")
    entries = {e.number: e for e in coursemap.course_map(tmp_path)}
    assert list(entries) == list(coursemap.LESSONS)
    assert (entries["01"].title, entries["01"].time) == ("01 · Max-ent", "2 min")
    assert entries["02"].time == "not stated"
    assert entries["03"].time == "2 min (quick, 2-core CPU); 1 min (full)"
    assert entries["04"].time == "about 1 min (measured at the end)."
    assert entries["05"].file is None and entries["05"].title == "(not written yet)"
    table = coursemap.format_map(list(entries.values()))
    assert "| 01 | [01 · Max-ent](01_x.ipynb) | 2 min |" in table


def test_course_map_needs_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        coursemap.course_map(tmp_path / "missing")


def test_study_time_rule(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    words = " ".join(["word"] * 300)
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · X"),
        nbformat.v4.new_markdown_cell(f"{words}\n\n$$a = b \\tag{{1}}$$ and $x$ inline"),
        nbformat.v4.new_markdown_cell("> **Lecturer's note.** " + words),  # not counted
        nbformat.v4.new_markdown_cell("**Exercise 1.** do it\n\n**Exercise 2.** again"),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("y = 2"),
    ]
    hidden = nbformat.v4.new_markdown_cell(words + "\n$$c$$")
    hidden.metadata["tags"] = ["rigour"]  # one click away: not on the main path
    nb.cells.append(hidden)
    nbformat.write(nb, tmp_path / "01_x.ipynb")
    counts = coursemap.study_counts(tmp_path / "01_x.ipynb")
    # "X"; 300 words, "and", "inline" (maths is not words); "Exercise do it Exercise again"
    assert counts == {"words": 1 + 302 + 5, "equations": 1, "code cells": 2, "exercises": 2}
    exact = dict(counts, words=300)
    # 300/150 + 1.5 + 2 * 0.5 + 2 * 5 + 120 s / 60 = 16.5 minutes -> 20
    assert coursemap.study_minutes(exact, 120.0) == 20
    assert coursemap.study_minutes(dict(exact, exercises=0), 0.0) == 5
    assert coursemap.study_minutes({"words": 0, "equations": 0, "code cells": 0,
                                    "exercises": 0}) == 5
    with pytest.raises(ValueError):
        coursemap.study_minutes(dict(exact, words=-1))


def test_course_map_shows_the_study_time(tmp_path: Path) -> None:
    _lesson(tmp_path / "01_x.ipynb", "# 01 · Max-ent",
            "**Time:** quick profile: 600 s on a 2-core CPU\n\n" + " ".join(["w"] * 10))
    entry = {e.number: e for e in coursemap.course_map(tmp_path)}["01"]
    assert entry.study == 15  # about 11 words, no cells to run, 10 minutes of running
    assert "| about 15 min |" in coursemap.format_map([entry])
