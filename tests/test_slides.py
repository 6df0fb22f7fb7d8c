"""tools/build_slides.py: every lesson builds to an offline reveal.js deck with speaker notes."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("tools_build_slides",
                                              ROOT / "tools" / "build_slides.py")
build_slides = importlib.util.module_from_spec(spec)
sys.modules["tools_build_slides"] = build_slides
spec.loader.exec_module(build_slides)

SLIDES = ROOT / "slides"
MIN_SECTIONS = 5  # a lesson has a title, several sections, a summary and exercises
LESSONS = build_slides.lessons(ROOT)


def _local_refs_exist(html: str) -> list[str]:
    """Relative script/stylesheet references that do not resolve inside slides/."""
    missing = []
    for ref in build_slides.scan(html).refs:
        if ref.startswith("data:"):
            continue
        if not (SLIDES / ref.split("?")[0].split("#")[0]).is_file():
            missing.append(ref)
    return missing


@pytest.fixture(scope="module")
def sample_deck(tmp_path_factory: pytest.TempPathFactory) -> str:
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    warn = code("import warnings; warnings.warn('noise'); print('shown')")
    warn.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noise\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
    slide = {"slideshow": {"slide_type": "slide"}}
    nb.cells = [
        md("# 01 · Sample", metadata={"slideshow": {"slide_type": "slide"}}),
        md("[![Binder](b.svg)](x)", metadata={"tags": ["badges"]}),
        code("SETUP_CELL = 1", metadata={"tags": ["colab-setup"]}),
        md("## 1. Gibbs form\n$p(k) = e^{\\lambda k}/Z$", metadata=slide),
        md("Say this aloud.", metadata={"slideshow": {"slide_type": "notes"}}),
        warn,
        code("PLUMBING = 2", metadata={"slideshow": {"slide_type": "skip"}}),
        md("## Summary", metadata={"slideshow": {"slide_type": "slide"}}),
    ]
    folder = tmp_path_factory.mktemp("nb")
    path = folder / "01_sample.ipynb"
    nbformat.write(nb, path)
    deck = build_slides.build(path, folder / "out")
    assert deck.name == "01_sample.slides.html"
    return deck.read_text(encoding="utf-8")


def test_sample_deck_structure(sample_deck: str) -> None:
    info = build_slides.scan(sample_deck)
    assert info.sections >= 3 and info.notes == 1
    assert "<title>01 · Sample slides</title>" in sample_deck
    assert "Say this aloud." in sample_deck.split('<aside class="notes">')[1]
    assert "\\lambda" in sample_deck  # maths is left for MathJax


def test_sample_deck_hides_plumbing_and_noise(sample_deck: str) -> None:
    assert "shown" in sample_deck
    assert "UserWarning: noise" not in sample_deck  # stderr dropped
    for hidden in ("SETUP_CELL", "PLUMBING", "b.svg"):  # colab-setup, skip, badges
        assert hidden not in sample_deck


def test_sample_deck_is_offline(sample_deck: str) -> None:
    assert build_slides.external_urls(sample_deck) == []
    refs = build_slides.scan(sample_deck).refs
    assert "reveal.js/dist/reveal.js" in refs and "reveal.js/plugin/notes/notes.js" in refs
    assert "mathjax/es5/tex-chtml.js" in refs
    assert _local_refs_exist(sample_deck) == []


def test_external_urls_are_detected() -> None:
    html = ('<script src="https://cdn.example/x.js"></script><link rel="stylesheet" '
            'href="//cdn.example/y.css"><style>@import url("https://fonts.example/z.css");</style>')
    assert len(build_slides.external_urls(html)) == 3


def test_vendored_assets_are_small_and_licensed() -> None:
    for folder in ("reveal.js", "mathjax"):
        assert (SLIDES / folder / "LICENSE").is_file()
    size = sum(p.stat().st_size for d in ("reveal.js", "mathjax")
               for p in (SLIDES / d).rglob("*") if p.is_file())
    assert size < 5 * 2**20, f"vendored assets are {size / 2**20:.1f} MiB"
    theme = (SLIDES / "reveal.js/dist/theme/white.css").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in theme and "http" not in theme.split("@import")[1][:80]


@pytest.mark.skipif(not LESSONS, reason="no lesson notebooks yet")
@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_deck(notebook: Path, tmp_path: Path) -> None:
    html = build_slides.build(notebook, tmp_path).read_text(encoding="utf-8")
    info = build_slides.scan(html)
    assert info.sections >= MIN_SECTIONS, f"only {info.sections} slides"
    assert info.notes >= 1, "no speaker notes (cells with slide_type 'notes')"
    assert build_slides.external_urls(html) == []
    assert _local_refs_exist(html) == []


@pytest.mark.skipif(not LESSONS, reason="no lesson notebooks yet")
def test_committed_decks_are_current() -> None:
    """slides/ holds one deck per lesson, rebuilt after the notebooks last changed."""
    assert build_slides.main(["--check"]) == 0, "run `python tools/build_slides.py`"
