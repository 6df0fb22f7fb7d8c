"""Refresh the Binder/Colab badges and the Colab set-up cell in every notebook, and the README's
badge line, from the one repository address in ``pyproject.toml`` ([project.urls] Repository).

Usage::

    python tools/badges.py           # rewrite what is out of date
    python tools/badges.py notebooks/07_what_holds_up.ipynb   # only some notebooks
    python tools/badges.py --check   # exit 1 (and list the files) if anything would change
    python tools/badges.py --where   # every place the repository address is used

What it writes, in every notebook under ``notebooks/`` (lessons and ``notebooks/solutions/``):

1. right after the title cell, a markdown cell tagged ``badges``: a Binder badge that opens that
   notebook in JupyterLab and a "Open in Colab" badge;
2. right after it, a code cell tagged ``colab-setup`` that, on Google Colab only, clones the
   repository once (the lessons read shipped files such as ``results/``), installs the course
   library from the clone and moves into its ``notebooks/``; running it again (or after a runtime
   restart) reuses the clone. Anywhere else it does nothing and prints nothing.

3. in the README: the badge line between the badge markers, the ``git clone`` command (and the
   ``cd`` into the clone) and the link to the issue tracker.

The course website (``tools/build_site.py``) reads the same setting when it is built. ``--where``
(and ``--check``, after its own report) lists every place the address is used and warns, without
failing, while it is a known placeholder (``PLACEHOLDERS``): then every Binder, Colab, clone and
issue link points nowhere until the real address is set in ``pyproject.toml`` and this tool is run.

Both cells are ``slide_type: skip`` (they never appear on slides). The tool is idempotent: a cell
whose source and metadata are already right is left untouched (outputs and execution counts of
every cell are kept), and a notebook is only rewritten when its text would change. Notebooks are
written the way Jupyter writes them (nbformat, indent 1, sorted keys, trailing newline).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"
BADGES_TAG = "badges"
SETUP_TAG = "colab-setup"
README_START = "<!-- badges:start -->"
README_END = "<!-- badges:end -->"
BINDER_IMAGE = "https://mybinder.org/badge_logo.svg"
COLAB_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


@dataclass(frozen=True)
class Repo:
    """A GitHub repository address split into its parts."""

    url: str
    owner: str
    name: str


def repository(pyproject: Path) -> Repo:
    """Read ``[project.urls] Repository`` from ``pyproject.toml`` (a github.com address)."""
    import tomllib  # Python >= 3.11, as the course requires

    text = pyproject.read_text(encoding="utf-8")
    try:
        url = tomllib.loads(text)["project"]["urls"]["Repository"]
    except KeyError as exc:
        raise ValueError(f"{pyproject} has no [project.urls] Repository entry") from exc
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", url.strip())
    if match is None:
        raise ValueError(f"Repository must be a https://github.com/OWNER/REPO address, got {url!r}")
    owner, name = match.groups()
    return Repo(url=f"https://github.com/{owner}/{name}", owner=owner, name=name)


def binder_url(repo: Repo, path: str) -> str:
    """mybinder.org link that opens ``path`` (relative to the repository root) in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{repo.owner}/{repo.name}/{BRANCH}?urlpath=lab/tree/{path}"


def colab_url(repo: Repo, path: str) -> str:
    """Colab link that opens ``path`` (relative to the repository root) from GitHub."""
    return f"https://colab.research.google.com/github/{repo.owner}/{repo.name}/blob/{BRANCH}/{path}"


def badge_line(repo: Repo, path: str) -> str:
    """The two badges, as one markdown line."""
    return (
        f"[![Binder]({BINDER_IMAGE})]({binder_url(repo, path)}) "
        f"[![Open In Colab]({COLAB_IMAGE})]({colab_url(repo, path)})"
    )


def setup_source(repo: Repo) -> str:
    """The Colab set-up cell: clone, install, cd on Colab; nothing elsewhere."""
    return "\n".join([
        "# Google Colab only: fetch the course (its data and results) and install its library.",
        "# Anywhere else this cell does nothing. Written by tools/badges.py; do not edit.",
        "try:",
        "    import google.colab  # noqa: F401",
        "except ImportError:",
        "    pass",
        "else:",
        "    import os",
        f'    root = os.environ.setdefault("MAXENT_COURSE_ROOT", os.path.abspath("{repo.name}"))',
        "    if not os.path.isdir(root):",
        f"        !git clone --quiet --depth 1 --branch {BRANCH} {repo.url} {{root}}",
        "    %pip install --quiet {root}",
        '    os.chdir(os.path.join(root, "notebooks"))',
    ])


def _meta(tag: str) -> dict:
    return {"slideshow": {"slide_type": "skip"}, "tags": [tag]}


def _tagged(cell: nbformat.NotebookNode, tag: str) -> bool:
    return tag in cell.get("metadata", {}).get("tags", [])


def _place(cells: list, want: nbformat.NotebookNode, tag: str, position: int) -> list:
    """Put one cell tagged ``tag`` at ``position``; reuse an existing one if it is already right
    (so its outputs and execution count are kept), drop duplicates."""
    existing = [c for c in cells if _tagged(c, tag)]
    rest = [c for c in cells if not _tagged(c, tag)]
    keep = None
    for cell in existing:
        same = (cell.cell_type == want.cell_type and cell.source == want.source
                and cell.metadata == want.metadata and cell.get("id") == want.get("id"))
        if same:
            keep = cell
            break
    return rest[:position] + [keep if keep is not None else want] + rest[position:]


def refresh_notebook(nb: nbformat.NotebookNode, repo: Repo, path: str) -> nbformat.NotebookNode:
    """Return a copy of ``nb`` with the badges cell and the Colab set-up cell right after the
    title cell (the first cell). ``path`` is the notebook's path relative to the repository."""
    nb = copy.deepcopy(nb)
    if not nb.cells:
        raise ValueError(f"{path} has no cells; it needs a title cell first")
    badges = nbformat.v4.new_markdown_cell(badge_line(repo, path), metadata=_meta(BADGES_TAG))
    setup = nbformat.v4.new_code_cell(setup_source(repo), metadata=_meta(SETUP_TAG))
    if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) >= 5:
        badges["id"], setup["id"] = BADGES_TAG, SETUP_TAG
    else:
        badges.pop("id", None)
        setup.pop("id", None)
    cells = _place(list(nb.cells), badges, BADGES_TAG, 1)
    cells = _place(cells, setup, SETUP_TAG, 2)
    nb.cells = cells
    return nb


def notebook_text(nb: nbformat.NotebookNode) -> str:
    """Serialise as Jupyter does: JSON, indent 1, sorted keys, trailing newline."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


#: The README's clone command (with the ``cd`` into the clone) and its link to the issue tracker.
README_CLONE = re.compile(
    r"(git clone )https://github\.com/[\w.-]+/[\w.-]+?\.git(\s*\n\s*cd )[\w.-]+")
README_ISSUES = re.compile(r"<https://github\.com/[\w.-]+/[\w.-]+/issues>")


def refresh_readme(text: str, repo: Repo) -> str:
    """Replace what lies between the badge markers by the Binder and Colab badges of lesson 00,
    and point the clone command and the issue-tracker link at ``repo``."""
    text = README_CLONE.sub(lambda m: f"{m.group(1)}{repo.url}.git{m.group(2)}{repo.name}", text)
    text = README_ISSUES.sub(f"<{repo.url}/issues>", text)
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < 0 or end < start:
        return text
    line = badge_line(repo, "notebooks/00_start_here.ipynb")
    return text[: start + len(README_START)] + "\n" + line + "\n" + text[end:]


def notebooks(root: Path) -> list[Path]:
    """Every notebook under ``notebooks/`` (lessons and solutions), sorted."""
    folder = root / "notebooks"
    found = sorted(folder.glob("*.ipynb")) + sorted((folder / "solutions").glob("*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def refresh(root: Path = ROOT, check: bool = False,
            only: Iterable[Path] | None = None) -> list[Path]:
    """Refresh every notebook (or only the notebooks ``only``) and the README under ``root``;
    return the files that changed (or, with ``check``, that would change, without writing)."""
    repo = repository(root / "pyproject.toml")
    changed: list[Path] = []
    selected = notebooks(root) if only is None else [Path(p).resolve() for p in only]
    for path in selected:
        old = path.read_text(encoding="utf-8")
        nb = nbformat.reads(old, as_version=4)
        new = notebook_text(refresh_notebook(nb, repo, path.relative_to(root).as_posix()))
        if new != old:
            changed.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    readme = root / "README.md"
    if readme.exists():
        old = readme.read_text(encoding="utf-8")
        new = refresh_readme(old, repo)
        if new != old:
            changed.append(readme)
            if not check:
                readme.write_text(new, encoding="utf-8")
    return changed


# ---- where the address is used ---------------------------------------------------------------

#: Addresses known not to be a public repository: the course's starting value.
PLACEHOLDERS = frozenset({"https://github.com/maxent-course/maxent-deep-learning"})
#: Folders never searched (environments, build outputs).
_SKIP_DIRS = {".git", ".venv", ".ci-venv", "venv", "node_modules", "__pycache__", "_site",
              "build", "dist", ".ipynb_checkpoints", ".pytest_cache"}
_TEXT_SUFFIXES = {".md", ".toml", ".ipynb", ".py", ".txt", ".log", ".yml", ".yaml", ".cfg",
                  ".html", ".json", ".jsonl", ".sh", ".j2", ".css", ".js", ".rst", ""}


@dataclass(frozen=True)
class Use:
    """One place the repository address appears."""

    path: str
    line: int
    what: str


def _files(root: Path) -> list[Path]:
    """The repository's files: those git tracks, else every file outside environments and
    build folders."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True,
                             check=True, timeout=30).stdout.decode()
        found = [root / name for name in out.split("\0") if name]
        if found:
            return sorted(p for p in found if p.is_file())
    except (OSError, subprocess.SubprocessError):
        pass
    return sorted(p for p in root.rglob("*") if p.is_file()
                  and not _SKIP_DIRS & set(p.relative_to(root).parts[:-1]))


def _what(rel: str, text_line: str) -> str:
    if rel == "pyproject.toml":
        return "the setting itself ([project.urls] Repository)"
    if rel == "README.md":
        if "git clone" in text_line:
            return "clone command (written by tools/badges.py)"
        if "/issues" in text_line:
            return "issue-tracker link (written by tools/badges.py)"
        if "mybinder.org" in text_line or "colab" in text_line:
            return "Binder and Colab badges (written by tools/badges.py)"
        return "README text (by hand: not refreshed by tools/badges.py)"
    if rel.endswith(".ipynb") and rel.startswith("notebooks/"):
        if "git clone" in text_line or "MAXENT_COURSE_ROOT" in text_line:
            return "Colab set-up cell (written by tools/badges.py)"
        return "Binder and Colab badges (written by tools/badges.py)"
    if rel == "tools/badges.py":
        return "the list of known placeholders (PLACEHOLDERS)"
    if rel.startswith("results/"):
        return "a stored record of a past run (kept as it was)"
    return "by hand: not refreshed by tools/badges.py"


def address_uses(root: Path = ROOT, repo: Repo | None = None) -> list[Use]:
    """Every line of the repository's files that holds the address (``owner/name`` of a
    github.com, mybinder.org or Colab link, or the clone folder's ``cd``)."""
    repo = repo or repository(root / "pyproject.toml")
    needle = re.compile(rf"(github\.com|/gh|/github)/{re.escape(repo.owner)}/"
                        rf"{re.escape(repo.name)}\b")
    uses = []
    for path in _files(root):
        if path.suffix not in _TEXT_SUFFIXES or path.stat().st_size > 5_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(text.splitlines(), 1):
            if needle.search(line):
                uses.append(Use(rel, number, _what(rel, line)))
    return uses


def address_report(root: Path = ROOT) -> tuple[str, bool]:
    """A listing of where the address is used, and whether it is a known placeholder."""
    repo = repository(root / "pyproject.toml")
    placeholder = repo.url in PLACEHOLDERS
    lines = [f"repository address: {repo.url} (pyproject.toml, [project.urls] Repository)"]
    if placeholder:
        lines.append(
            "WARNING: this address is a placeholder: no public repository is known there, so "
            "every Binder, Colab, clone, source and issue link made from it points nowhere. Set "
            "the real address in pyproject.toml, run `python tools/badges.py` and rebuild the "
            "site (`python tools/build_site.py`).")
    lines.append("where it is used:")
    grouped: dict[tuple[str, str], list[int]] = {}
    for use in address_uses(root, repo):
        grouped.setdefault((use.path, use.what), []).append(use.line)
    for (path, what), numbers in grouped.items():
        flag = "  [placeholder]" if placeholder else ""
        lines.append(f"  {path}:{','.join(map(str, numbers))}  {what}{flag}")
    lines.append("  the course website (tools/build_site.py): launch links, source and issue "
                 "buttons, read from pyproject.toml at build time"
                 + ("  [placeholder]" if placeholder else ""))
    return "\n".join(lines), placeholder


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="only these notebooks (default: every notebook under notebooks/)")
    parser.add_argument("--check", action="store_true", help="exit 1 if anything would change")
    parser.add_argument("--where", action="store_true",
                        help="only list where the repository address is used (warns while it is "
                             "a placeholder; never fails)")
    parser.add_argument("--root", type=Path, default=ROOT, help="repository root (default: here)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.where:
        report, _ = address_report(args.root.resolve())
        print(report)
        return 0
    changed = refresh(args.root.resolve(), check=args.check, only=args.notebooks or None)
    for path in changed:
        verb = "out of date" if args.check else "updated"
        print(f"{verb}: {path.relative_to(args.root.resolve()).as_posix()}")
    if args.check:
        report, placeholder = address_report(args.root.resolve())
        if placeholder:  # a warning, not a failure
            places = sum(line.startswith("  ") for line in report.splitlines())
            print("\n".join(report.splitlines()[:2]) + f"\n(used in {places} places: "
                  "`python tools/badges.py --where` lists them)", file=sys.stderr)
    if args.check and changed:
        print("run `python tools/badges.py` to refresh the badges", file=sys.stderr)
        return 1
    if not changed:
        print("badges are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
