"""The lecture decks in a real browser: headless Chromium at 1280x720, every deck from file://.

Every committed deck must pass every check of tools/deck_audit.py (no slide taller than its frame
with all fragments shown, no code or display maths cut, also in ?print-pdf, figures at least half
the slide wide, at most about 100 words of prose on a slide, body text and tables large enough to
read from the back of a room, results tables as HTML tables rather than monospace printouts, a
figure in every deck, no test markers, links that resolve to decks, speaker notes on 3 of 4
slides and in the speaker view as soon as it opens). The limits are in tools/build_slides.py.

Decks of lessons listed in ``build_slides.PENDING_LESSONS`` (their notebooks have not had the
deck pass yet) are expected failures, strictly: once such a deck passes, the test fails until the
lesson leaves that list.

Needs Playwright for Python (``pip install -e ".[browser]"``) and a system Chromium
(``apt-get install chromium``; or set ``DECK_BROWSER`` to a Chromium/Chrome executable); skipped
with a message where they are missing, except where ``MAXENT_REQUIRE_BROWSER=1`` (CI).
"""

from __future__ import annotations

import base64
import importlib.util
import io
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):  # noqa: ANN202 - a module
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


audit = _load("tools_deck_audit", ROOT / "tools" / "deck_audit.py")
build_slides = audit.build_slides
REASON = audit.unavailable_reason()
#: CI sets this (.ci/run): there the browser test must run, not skip.
REQUIRED = os.environ.get("MAXENT_REQUIRE_BROWSER", "") not in ("", "0")
pytestmark = pytest.mark.skipif(
    REASON is not None and not REQUIRED,
    reason=f"browser test of the slide decks skipped: {REASON} (see README, Quick start step 6)")


def test_browser_is_available() -> None:
    """Fails (instead of skipping) where MAXENT_REQUIRE_BROWSER is set and no browser runs."""
    assert REASON is None, REASON

DECKS = audit.decks()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - a Playwright browser context
    with audit.browser_context() as ctx:
        yield ctx


def _deck_params() -> list:
    params = []
    for deck in DECKS:
        lesson = deck.name.split(".")[0]
        pending = lesson in build_slides.PENDING_LESSONS
        params.append(pytest.param(deck, id=lesson, marks=pytest.mark.xfail(
            pending, strict=True, reason=f"{lesson} has not had the deck pass yet")))
    return params


@pytest.mark.parametrize("deck", _deck_params())
def test_committed_deck_fits_a_projector(browser, deck: Path) -> None:  # noqa: ANN001
    result = audit.audit_deck(browser, deck)
    assert result.slides, "no slides found"
    assert result.problems() == {}, audit.markdown_table([result.summary()])


def _assets(folder: Path) -> None:
    for asset in ("reveal.js", "mathjax"):
        (folder / asset).symlink_to(ROOT / "slides" / asset, target_is_directory=True)


def test_builder_fits_a_hard_lesson(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """A notebook with code lines of 150 characters, a display formula three slides wide, a
    derivation two slides tall, long tables and outputs, and an old small figure gives a deck
    that passes every check: the build and the deck's fitting do it, not the author."""
    test_slides = _load("tests_test_slides", ROOT / "tests" / "test_slides.py")
    notebook = test_slides.sample_notebook(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    _assets(out)
    deck = build_slides.build(notebook, out, link_dir=out)
    (out / "02_next.slides.html").write_text("<html></html>", encoding="utf-8")
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "x.ipynb").write_text("{}", encoding="utf-8")
    result = audit.audit_deck(browser, deck)
    assert result.problems() == {}, (audit.markdown_table([result.summary()]),
                                     result.problems())
    scales = [s.fit_scale for s in result.slides]
    assert len(result.slides) > 5, "the derivation was not continued on a new slide"
    assert min(scales) >= build_slides.MIN_FIT_SCALE
    maths = [s for s in result.slides if s.maths]
    assert maths and not any(s.maths_cut for s in maths)
    summary = result.summary()
    assert summary["max_prose_words"] <= build_slides.MAX_SLIDE_WORDS
    assert summary["min_text_px"] >= build_slides.MIN_TEXT_PX
    assert summary["html_tables"] >= 3 and summary["printout_tables"] == 0
    assert summary["figures"] == 1
    titles = [s.title for s in result.slides]
    assert titles.count("How sure are we?") == 1  # the rigour section: one slide
    assert "What we found" in titles


def _png(width_px: int, height_px: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_px / 100, height_px / 100), dpi=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def test_audit_finds_every_kind_of_problem(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The checks can fail: a deck made the old way (no fitting, code that does not wrap, a
    small figure, a marker, a link to a notebook, no notes) fails each of them."""
    formula = " + ".join(f"x_{{{i}}}" for i in range(120))
    tall = "".join(f"<p>line {i}</p>" for i in range(60))
    wordy = " ".join(f"word{i}" for i in range(130))
    printed = "a  b  c\n1  2  3\n4  5  6"
    html = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="reveal.js/dist/reveal.css">
<style>pre {{ white-space: pre; overflow: hidden; width: 600px; }}</style>
<script>window.MathJax = {{tex: {{displayMath: [['$$', '$$']]}}}};</script>
<script src="mathjax/es5/tex-chtml.js"></script></head>
<body><div class="reveal"><div class="slides">
<section><section><h2>Tall</h2>{tall}</section>
<section><pre>{"x = 1  " * 60}</pre><p># NBVAL_CHECK_OUTPUT</p>
<p><a href="01_lesson.ipynb">next lesson</a></p>
<img src="data:image/png;base64,{_png(400, 225)}"></section>
<section><p>$${formula}$$</p></section>
<section><p>{wordy}</p><p style="font-size: 16px">small print</p>
<div class="jp-OutputArea-output"><pre>{printed}</pre></div></section></section>
</div></div>
<script src="reveal.js/dist/reveal.js"></script><script src="reveal.js/plugin/notes/notes.js">
</script><script>Reveal.initialize({{width: 1280, height: 720, center: false, margin: 0,
plugins: [RevealNotes]}});</script></body></html>"""
    _assets(tmp_path)
    deck = tmp_path / "01_bad.slides.html"
    deck.write_text(html, encoding="utf-8")
    problems = audit.audit_deck(browser, deck).problems()
    for check in ("too tall", "code cut", "maths cut", "small figure", "test markers",
                  "bad links", "notes coverage", "speaker view", "print-pdf", "too many words",
                  "text too small", "printed tables"):
        assert check in problems, (check, problems)
