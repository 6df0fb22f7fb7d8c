"""The results hash in both directions (maxent_lib.store.codehash): a change to a constant or to
a line of code that computes a stored result changes the hash; a comment, a docstring, a
re-formatting, a type annotation, a move of code between modules or a change to code the result
does not reach leaves it unchanged. Each case edits a copy of the package in a temporary folder
and hashes the copy."""

from __future__ import annotations

import io
import re
import shutil
import tokenize
from pathlib import Path

import pytest

from maxent_lib.ablation.configs import ABLATION_CODE
from maxent_lib.conditions.coverage import COVERAGE_CODE
from maxent_lib.store.codehash import CodeIndex, code_hash, reached_files

PACKAGE = Path(__file__).resolve().parents[1] / "maxent_lib"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "maxent_lib"
    shutil.copytree(PACKAGE, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _hash(root: Path, entry_points: tuple[str, ...]) -> str:
    return CodeIndex(root).hash(entry_points)


def _edit(root: Path, rel: str, old: str, new: str) -> None:
    """Replace every occurrence of ``old`` in ``rel``."""
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new))


def test_the_copy_hashes_like_the_package(copy: Path) -> None:
    assert _hash(copy, ABLATION_CODE) == code_hash(ABLATION_CODE)
    assert _hash(copy, COVERAGE_CODE) == code_hash(COVERAGE_CODE)
    assert code_hash(ABLATION_CODE) != code_hash(COVERAGE_CODE)


# ---------------------------------------------------------------- changes that must move it

@pytest.mark.parametrize("entry, rel, old, new", [
    # module constants reached through other modules
    (COVERAGE_CODE, "conditions/_common.py", "DEFAULT_ALPHA = 1e-4", "DEFAULT_ALPHA = 2e-4"),
    (COVERAGE_CODE, "conditions/coverage.py", "class_covariance_gaussians(seed=0), None, None",
     "class_covariance_gaussians(seed=1), None, None"),
    # a private helper two calls away from the entry point
    (ABLATION_CODE, "ablation/training.py", "per_example.mean(-1).sum()",
     "per_example.mean(-1).sum() * 1.0"),
    (ABLATION_CODE, "ablation/configs.py", '"lr": 1e-3,', '"lr": 2e-3,'),
    ((*ABLATION_CODE, "maxent_lib.ablation.configs:shortcut_grid"), "ablation/configs.py",
     '("mlp", 8): 960', '("mlp", 8): 1000'),
    (ABLATION_CODE, "metrics.py", "n_bins: int = 15", "n_bins: int = 10"),
    (ABLATION_CODE, "ablation/fit.py", "default_rng([int(seed), 2])",
     "default_rng([int(seed), 3])"),
])
def test_a_change_to_reached_code_changes_the_hash(copy, entry, rel, old, new) -> None:
    before = _hash(copy, entry)
    _edit(copy, rel, old, new)
    assert _hash(copy, entry) != before


def test_a_changed_line_inside_a_function_changes_the_hash(copy: Path) -> None:
    """A line of _feature_scale (softmax.py), reached from the coverage simulation through the
    linear read-out, changes: the stored coverage results must go stale."""
    before = _hash(copy, COVERAGE_CODE)
    text = (copy / "softmax.py").read_text()
    body = text[text.index("def _feature_scale("):]
    body = body[: body.index("\n\n\n")]
    line = [s for s in body.splitlines() if "return" in s][0]
    _edit(copy, "softmax.py", line, line.replace("return ", "return 1.0 * "))
    assert _hash(copy, COVERAGE_CODE) != before


# ---------------------------------------------------------------- changes that must not

def _reformat(text: str) -> str:
    """The same code re-spaced by the tokenizer (every token, other spacing), with a comment
    after every statement line."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NEWLINE:
            out.append((tokenize.COMMENT, "# re-formatted"))
        out.append((tok.type, tok.string))
    return tokenize.untokenize(out)


def test_comments_docstrings_formatting_and_annotations_do_not_change_it(copy: Path) -> None:
    before = (_hash(copy, ABLATION_CODE), _hash(copy, COVERAGE_CODE))
    for path in copy.rglob("*.py"):
        text = path.read_text()
        text = text.replace('"""', '"""Edited. ', 1)  # the module docstring
        text = re.sub(r'(:\n\s+""")', r"\1Edited. ", text)  # functions' and classes' docstrings
        text = re.sub(r"\) -> [A-Za-z_\[\], .|]+:\n", "):\n", text)  # return annotations
        path.write_text(_reformat(text))
    assert (_hash(copy, ABLATION_CODE), _hash(copy, COVERAGE_CODE)) == before


def test_a_docstring_space_does_not_change_it(copy: Path) -> None:
    before = _hash(copy, ABLATION_CODE)
    _edit(copy, "ablation/stacked.py", "Many small networks", "Many  small networks")
    assert _hash(copy, ABLATION_CODE) == before


def test_the_bad_values_a_constraint_lists_do_not_change_it(copy: Path) -> None:
    """A constraint's bad_values (the bad-input suite's cases) never run in a computation."""
    before = _hash(copy, ABLATION_CODE)
    _edit(copy, "validation/scalars.py", 'out = [*super().bad_values(example), ',
          'out = [("extra", "x", "type"), *super().bad_values(example), ')
    assert _hash(copy, ABLATION_CODE) == before


def test_the_wording_of_an_error_message_does_not_change_it(copy: Path) -> None:
    """Messages of raised errors (in the training code and in the argument checks it calls) do
    not compute anything; the condition that raises them does."""
    before = _hash(copy, ABLATION_CODE)
    _edit(copy, "_checks.py", "must be an integer, got", "must be a whole number, got")
    _edit(copy, "ablation/configs.py", "leaves no training examples", "leaves no examples")
    assert _hash(copy, ABLATION_CODE) == before
    _edit(copy, "_checks.py", "if low is not None and value < low:",
          "if low is not None and value <= low:")
    assert _hash(copy, ABLATION_CODE) != before


def _cut(root: Path, rel: str, name: str) -> str:
    """Remove the top-level function ``name`` from ``rel`` and return its source."""
    text = (root / rel).read_text()
    start = text.rindex("\n\n\n", 0, text.index(f"def {name}(")) + 3  # with its decorators
    end = text.index("\n\n\n", start) + 3
    (root / rel).write_text(text[:start] + text[end:])
    return text[start:end]


def test_moving_code_between_modules_does_not_change_it(copy: Path) -> None:
    """data_split moves from ablation/fit.py to ablation/configs.py (fit.py imports it from
    there); fit_temperature moves from metrics.py to a new module that metrics.py re-exports,
    while fit.py still calls it as ``metrics.fit_temperature``."""
    before = _hash(copy, ABLATION_CODE)
    func = _cut(copy, "ablation/fit.py", "data_split")
    _edit(copy, "ablation/fit.py", "from .configs import ", "from .configs import data_split, ")
    (copy / "ablation/configs.py").write_text((copy / "ablation/configs.py").read_text()
                                              + "\n\n" + func)
    moved = _cut(copy, "metrics.py", "fit_temperature")
    (copy / "temperature.py").write_text(
        '"""Moved."""\n\nimport math\n\nimport torch\n\n'
        "from ._checks import check_int, check_log_probabilities, check_number, check_tensor\n"
        "\n\n" + moved)
    (copy / "metrics.py").write_text((copy / "metrics.py").read_text()
                                     + "\nfrom .temperature import fit_temperature  # noqa\n")
    index = CodeIndex(copy)
    assert ("maxent_lib.temperature", "fit_temperature") in index.reach(ABLATION_CODE)
    assert ("maxent_lib.ablation.configs", "data_split") in index.reach(ABLATION_CODE)
    assert index.hash(ABLATION_CODE) == before


def test_one_grid_s_budget_does_not_make_another_grid_stale(copy: Path) -> None:
    """The regularisation grid's hash covers its own definition, not the shortcut grid's."""
    reg = (*ABLATION_CODE, "maxent_lib.ablation.configs:regularization_grid")
    before = _hash(copy, reg)
    _edit(copy, "ablation/configs.py", '("mlp", 8): 960', '("mlp", 8): 1000')
    assert _hash(copy, reg) == before


def test_code_the_result_does_not_reach_does_not_change_it(copy: Path) -> None:
    before = (_hash(copy, ABLATION_CODE), _hash(copy, COVERAGE_CODE))
    for rel, name in (("plots.py", "use_course_style"), ("coursemap.py", "format_map"),
                      ("ablation/executors.py", "warm_up")):
        _edit(copy, rel, f"def {name}(", f"def _unused():\n    return 1\n\n\ndef {name}(")
    assert (_hash(copy, ABLATION_CODE), _hash(copy, COVERAGE_CODE)) == before


def test_reach_names_the_files_and_refuses_unknown_entry_points() -> None:
    files = reached_files(ABLATION_CODE)
    assert "maxent_lib/ablation/training.py" in files and "maxent_lib/metrics.py" in files
    assert "maxent_lib/plots.py" not in files and "maxent_lib/ablation/runner.py" not in files
    assert "maxent_lib/softmax.py" in reached_files(COVERAGE_CODE)
    with pytest.raises(ValueError, match="not defined"):
        code_hash(["maxent_lib.ablation.fit:no_such_function"])
    with pytest.raises(TypeError):
        code_hash("maxent_lib.ablation.fit:fit_group")
