"""tools/run_notebooks.py: fresh-kernel execution, machine paths stripped, failures reported."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("tools_run_notebooks",
                                              ROOT / "tools" / "run_notebooks.py")
runner = importlib.util.module_from_spec(spec)
sys.modules["tools_run_notebooks"] = runner
spec.loader.exec_module(runner)

ENV = {"MAXENT_PROFILE": "quick", "MAXENT_DEVICE": "cpu", "TQDM_DISABLE": "1"}


def _write(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T")]
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_strip_machine_paths_in_outputs(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.ipynb", "x")
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [
        nbformat.v4.new_output(
            "stream", name="stderr",
            text=f"{sys.prefix}/lib/site.py:1: UserWarning\n{tmp_path}/data.csv\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"'{ROOT}/results/x.jsonl'"}),
    ]
    left = runner.strip_machine_paths(nb, path)
    text = nb.cells[1].outputs[0]["text"]
    assert text == "<python>/lib/site.py:1: UserWarning\ndata.csv\n"
    assert nb.cells[1].outputs[1]["data"]["text/plain"] == "'results/x.jsonl'"
    assert left == []


def test_run_stores_outputs_in_the_notebook_folder(tmp_path: Path) -> None:
    path = _write(tmp_path / "b.ipynb", "import os\nprint(os.getcwd())",
                  "print(os.environ['MAXENT_PROFILE'], os.environ['TQDM_DISABLE'])")
    result = runner.run(path, timeout=60, env=ENV)
    assert result.ok and result.cells == 2 and result.seconds > 0
    assert result.peak_mib is None or result.peak_mib > 1
    cells = nbformat.read(path, as_version=4).cells
    assert cells[1].outputs[0]["text"] == ".\n"  # the cwd was the notebook's folder
    assert cells[2].outputs[0]["text"] == "quick 1\n"
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_failing_notebook_is_reported_and_not_written(tmp_path: Path) -> None:
    path = _write(tmp_path / "c.ipynb", "raise RuntimeError('boom')")
    before = path.read_bytes()
    result = runner.run(path, timeout=60, env=ENV)
    assert not result.ok and "boom" in result.error
    assert path.read_bytes() == before
    assert "FAILED" in runner.table([result], "quick")
