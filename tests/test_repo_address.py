"""The repository address lives in one setting (pyproject.toml, [project.urls] Repository).

``python tools/badges.py`` writes every copy of it (README badges, clone command and issue link;
the notebooks' badges and Colab cells), the website reads it at build time, and
``python tools/badges.py --where`` lists every place it is used. While it is a known placeholder
the check WARNS (a pytest warning in the summary) instead of failing.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
if "tools_badges" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("tools_badges", ROOT / "tools" / "badges.py")
    sys.modules["tools_badges"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["tools_badges"])
badges = sys.modules["tools_badges"]

PLACEHOLDER = next(iter(badges.PLACEHOLDERS))
REAL = "https://github.com/some-owner/some-repo"
README = f"""# T

<!-- badges:start -->
stale
<!-- badges:end -->

1. Get the course:

   ```bash
   git clone {PLACEHOLDER}.git
   cd maxent-deep-learning
   ```

Open an issue at <{PLACEHOLDER}/issues>.
"""


def _course(root: Path, url: str) -> Path:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    old = badges.repository(ROOT / "pyproject.toml").url
    (root / "pyproject.toml").write_text(text.replace(old, url), encoding="utf-8")
    (root / "README.md").write_text(README, encoding="utf-8")
    (root / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · A lesson")]
    nbformat.write(nb, root / "notebooks" / "01_a.ipynb")
    (root / "results").mkdir()
    (root / "results" / "old.log").write_text(f"cloned {url}\n", encoding="utf-8")
    return root


def test_readme_clone_and_issue_links_follow_the_setting(tmp_path: Path) -> None:
    root = _course(tmp_path, REAL)
    badges.refresh(root)
    text = (root / "README.md").read_text(encoding="utf-8")
    assert f"git clone {REAL}.git\n   cd some-repo\n" in text
    assert f"<{REAL}/issues>" in text and PLACEHOLDER not in text
    assert badges.refresh(root) == []  # idempotent


def test_every_use_is_listed_and_a_placeholder_is_flagged(tmp_path: Path, capsys) -> None:
    root = _course(tmp_path, PLACEHOLDER)
    badges.refresh(root)
    report, placeholder = badges.address_report(root)
    assert placeholder and "WARNING: this address is a placeholder" in report
    for expected in ("pyproject.toml:", "the setting itself", "README.md:",
                     "clone command", "issue-tracker link", "Binder and Colab badges",
                     "notebooks/01_a.ipynb:", "Colab set-up cell", "results/old.log:",
                     "a stored record of a past run", "the course website"):
        assert expected in report, expected
    assert report.count("[placeholder]") == sum(ln.startswith("  ") for ln in report.splitlines())
    # --where prints it and never fails; --check warns without failing when all is current
    assert badges.main(["--root", str(root), "--where"]) == 0
    assert "WARNING" in capsys.readouterr().out
    assert badges.main(["--root", str(root), "--check"]) == 0
    assert "placeholder" in capsys.readouterr().err


def test_a_real_address_gets_no_warning(tmp_path: Path, capsys) -> None:
    root = _course(tmp_path, REAL)
    badges.refresh(root)
    report, placeholder = badges.address_report(root)
    assert not placeholder and "WARNING" not in report and "[placeholder]" not in report
    assert "README.md:" in report and "notebooks/01_a.ipynb:" in report
    assert badges.main(["--root", str(root), "--check"]) == 0
    assert "placeholder" not in capsys.readouterr().err


def test_the_course_repository_address() -> None:
    """Lists where the course's address is used; a placeholder is a warning, not a failure."""
    report, placeholder = badges.address_report(ROOT)
    assert "pyproject.toml:" in report and "README.md:" in report
    if placeholder:
        warnings.warn(f"\n{report}", UserWarning, stacklevel=1)
    else:
        assert "[placeholder]" not in report


def test_site_reads_the_same_setting() -> None:
    """tools/build_site.py takes the address from tools/badges.py, which reads pyproject.toml."""
    text = (ROOT / "tools" / "build_site.py").read_text(encoding="utf-8")
    assert "badges.repository(root / \"pyproject.toml\")" in text
    assert PLACEHOLDER not in text and "github.com/" not in text.replace("github.com/OWNER", "")


@pytest.mark.parametrize("name", ["README.md", "CONTRIBUTING.md", "binder/README.md"])
def test_no_hand_written_copy_of_the_address(name: str) -> None:
    """A copy of the address outside what tools/badges.py writes would not follow the setting."""
    path = ROOT / name
    if not path.exists():
        pytest.skip(f"{name} does not exist")
    rel = path.relative_to(ROOT).as_posix()
    by_hand = [u for u in badges.address_uses(ROOT) if u.path == rel and "by hand" in u.what]
    assert by_hand == [], by_hand
