"""tools/badges.py: badges and the Colab set-up cell, on temporary copies of a small repository."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("tools_badges", ROOT / "tools" / "badges.py")
badges = importlib.util.module_from_spec(spec)
sys.modules["tools_badges"] = badges
spec.loader.exec_module(badges)

URL = "https://github.com/some-owner/some-repo"


def _notebook(title: str = "# 01 · A lesson") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(41 + 1)", execution_count=3)
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    nb.cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_markdown_cell("Header"), code]
    return nb


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    old = badges.repository(ROOT / "pyproject.toml").url
    (tmp_path / "pyproject.toml").write_text(text.replace(old, URL), encoding="utf-8")
    (tmp_path / "README.md").write_text(
        "# T\n\n<!-- badges:start -->\nstale\n<!-- badges:end -->\n\nrest\n", encoding="utf-8")
    (tmp_path / "notebooks" / "solutions").mkdir(parents=True)
    nbformat.write(_notebook(), tmp_path / "notebooks" / "01_lesson.ipynb")
    nbformat.write(_notebook("# 01 · Solutions"),
                   tmp_path / "notebooks" / "solutions" / "01_solutions.ipynb")
    return tmp_path


def _cells(path: Path) -> list:
    return nbformat.read(path, as_version=4).cells


def test_repository_is_read_from_pyproject(repo: Path) -> None:
    got = badges.repository(repo / "pyproject.toml")
    assert (got.owner, got.name, got.url) == ("some-owner", "some-repo", URL)


def test_repository_rejects_non_github_address(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project.urls]\nRepository = "https://example.org/x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="github.com"):
        badges.repository(path)


def test_badges_and_setup_cell_follow_the_title(repo: Path) -> None:
    changed = badges.refresh(repo)
    assert len(changed) == 3  # two notebooks and the README
    for path in badges.notebooks(repo):
        rel = path.relative_to(repo).as_posix()
        cells = _cells(path)
        assert cells[0].source.startswith("# 01")
        assert cells[1].metadata["tags"] == ["badges"]
        assert cells[1].metadata["slideshow"]["slide_type"] == "skip"
        assert (f"https://mybinder.org/v2/gh/some-owner/some-repo/main?urlpath=lab/tree/{rel})"
                in cells[1].source)
        assert (f"https://colab.research.google.com/github/some-owner/some-repo/blob/main/{rel})"
                in cells[1].source)
        assert cells[2].cell_type == "code" and cells[2].metadata["tags"] == ["colab-setup"]
        assert cells[2].metadata["slideshow"]["slide_type"] == "skip"
        assert URL in cells[2].source
        # the other cells, with their outputs, are kept in order
        assert [c.source for c in cells[3:]] == ["Header", "print(41 + 1)"]
        assert cells[4].outputs[0]["text"] == "42\n" and cells[4].execution_count == 3


def test_idempotent_and_check_mode(repo: Path) -> None:
    assert badges.main(["--root", str(repo), "--check"]) == 1
    badges.refresh(repo)
    before = {p: p.read_bytes() for p in [*badges.notebooks(repo), repo / "README.md"]}
    assert badges.refresh(repo) == []
    assert badges.main(["--root", str(repo), "--check"]) == 0
    assert {p: p.read_bytes() for p in before} == before


def test_written_as_jupyter_writes(repo: Path) -> None:
    badges.refresh(repo)
    path = repo / "notebooks" / "01_lesson.ipynb"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_outputs_of_setup_cell_survive_a_second_run(repo: Path) -> None:
    badges.refresh(repo)
    path = repo / "notebooks" / "01_lesson.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].execution_count = 1  # as after a run
    nbformat.write(nb, path)
    assert badges.refresh(repo) == []
    assert _cells(path)[2].execution_count == 1


def test_stale_cells_are_replaced_and_moved(repo: Path) -> None:
    path = repo / "notebooks" / "01_lesson.ipynb"
    nb = nbformat.read(path, as_version=4)
    stale = [nbformat.v4.new_markdown_cell("old badge", metadata={"tags": ["badges"]})
             for _ in range(2)]
    nb.cells = [*nb.cells, *stale]  # at the end, twice
    nbformat.write(nb, path)
    badges.refresh(repo)
    cells = _cells(path)
    tagged = [i for i, c in enumerate(cells) if "badges" in c.metadata.get("tags", [])]
    assert tagged == [1] and "old badge" not in cells[1].source
    assert len(cells) == 5


def test_readme_badge_line(repo: Path) -> None:
    badges.refresh(repo)
    text = (repo / "README.md").read_text(encoding="utf-8")
    assert "stale" not in text and text.endswith("\n\nrest\n")
    block = text.split("<!-- badges:start -->")[1].split("<!-- badges:end -->")[0]
    assert "mybinder.org/v2/gh/some-owner/some-repo/main?urlpath=lab/tree/notebooks/" in block


def _run_setup_cell(source: str, on_colab: bool, monkeypatch: pytest.MonkeyPatch) -> list:
    """Run the set-up cell's Python (as IPython transforms it) with a recording get_ipython."""
    calls: list = []
    shell = types.SimpleNamespace(
        system=lambda cmd: calls.append(("!", cmd)),
        run_line_magic=lambda name, arg, *a: calls.append(("%" + name, arg)),
        getoutput=lambda cmd: calls.append(("!", cmd)),
    )
    if on_colab:
        google = types.ModuleType("google")
        colab = types.ModuleType("google.colab")
        google.colab = colab
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:
        monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "<colab-setup>", "exec"), {"get_ipython": lambda: shell})
    return calls


def test_setup_cell_does_nothing_off_colab(repo: Path, monkeypatch, capsys) -> None:
    source = badges.setup_source(badges.repository(repo / "pyproject.toml"))
    assert _run_setup_cell(source, on_colab=False, monkeypatch=monkeypatch) == []
    assert capsys.readouterr().out == ""


def test_setup_cell_installs_from_the_repository_on_colab(repo: Path, monkeypatch,
                                                          tmp_path: Path) -> None:
    work = tmp_path / "content"
    (work / "some-repo" / "notebooks").mkdir(parents=True)  # as after the first clone
    monkeypatch.chdir(work)
    monkeypatch.setenv("MAXENT_COURSE_ROOT", "unset")  # restored (removed) after the test
    monkeypatch.delenv("MAXENT_COURSE_ROOT")
    source = badges.setup_source(badges.repository(repo / "pyproject.toml"))
    calls = _run_setup_cell(source, on_colab=True, monkeypatch=monkeypatch)
    assert calls == [("%pip", "install --quiet {root}")]  # IPython expands {root}; no re-clone
    assert Path.cwd() == work / "some-repo" / "notebooks"
    assert f"git clone --quiet --depth 1 --branch main {URL} {{root}}" in source


def test_setup_cell_clones_when_there_is_no_clone(repo: Path, monkeypatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAXENT_COURSE_ROOT", "unset")  # restored (removed) after the test
    monkeypatch.delenv("MAXENT_COURSE_ROOT")
    calls: list = []

    def system(cmd: str) -> None:  # the "clone": make the folder the cell then moves into
        calls.append(cmd)
        (tmp_path / "some-repo" / "notebooks").mkdir(parents=True)

    shell = types.SimpleNamespace(system=system,
                                  run_line_magic=lambda name, arg, *a: calls.append(name))
    google = types.ModuleType("google")
    google.colab = types.ModuleType("google.colab")
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    source = badges.setup_source(badges.repository(repo / "pyproject.toml"))
    exec(compile(TransformerManager().transform_cell(source), "<colab-setup>", "exec"),
         {"get_ipython": lambda: shell})
    assert calls[0].startswith("git clone") and calls[1] == "pip"
    assert Path.cwd() == tmp_path / "some-repo" / "notebooks"
    assert os.environ["MAXENT_COURSE_ROOT"] == str(tmp_path / "some-repo")


def test_title_cell_required(repo: Path) -> None:
    nb = nbformat.v4.new_notebook()
    with pytest.raises(ValueError, match="no cells"):
        badges.refresh_notebook(nb, badges.repository(repo / "pyproject.toml"), "x.ipynb")


def test_repository_notebooks_are_current() -> None:
    """The committed notebooks carry the badges of the address in pyproject.toml."""
    if not badges.notebooks(ROOT):
        pytest.skip("no notebooks yet")
    assert badges.refresh(ROOT, check=True) == [], "run `python tools/badges.py`"


def test_copy_of_repository_is_refreshed_without_changes_elsewhere(tmp_path: Path) -> None:
    if not badges.notebooks(ROOT):
        pytest.skip("no notebooks yet")
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "notebooks", copy / "notebooks")
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    badges.refresh(copy)
    for path in badges.notebooks(copy):
        cells = _cells(path)
        assert "badges" in cells[1].metadata.get("tags", [])
        assert "colab-setup" in cells[2].metadata.get("tags", [])


def test_only_selected_notebooks(repo: Path) -> None:
    lesson = repo / "notebooks" / "01_lesson.ipynb"
    solution = repo / "notebooks" / "solutions" / "01_solutions.ipynb"
    before = solution.read_bytes()
    changed = badges.refresh(repo, only=[lesson])
    assert lesson in changed and solution not in changed and solution.read_bytes() == before
