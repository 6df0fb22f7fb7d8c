"""tools/build_slides.py: every lesson builds to an offline reveal.js deck; what a notebook's cell
metadata asks for (skip, summary, notes, hide-input) and what the build does by itself (markers
removed, long cells shortened, figures sized, links to decks, the title slide's notes).
How the decks look in a browser is tested in tests/test_decks_browser.py."""

from __future__ import annotations

import base64
import importlib.util
import io
import re
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
PENDING = build_slides.PENDING_LESSONS


def _pending(notebook: Path, what: str, strict: bool) -> pytest.MarkDecorator:
    return pytest.mark.xfail(notebook.stem in PENDING, strict=strict,
                             reason=f"{notebook.stem} has not had the deck pass yet ({what})")


def _lesson_params(what: str, strict: bool = True) -> list:
    """Lessons, with the pending ones marked as expected failures; ``strict``: a pending lesson
    that passes fails the test (it must leave PENDING_LESSONS)."""
    return [pytest.param(p, id=p.stem, marks=_pending(p, what, strict)) for p in LESSONS]


def _local_refs_exist(html: str, *folders: Path) -> list[str]:
    """Relative script/stylesheet references that resolve in none of ``folders`` (default
    slides/): the vendored assets live in slides/, a fresh build's style sheets beside it."""
    missing = []
    for ref in build_slides.scan(html).refs:
        if ref.startswith("data:"):
            continue
        path = ref.split("?")[0].split("#")[0]
        if not any((folder / path).is_file() for folder in folders or (SLIDES,)):
            missing.append(ref)
    return missing


def _png(width_in: float, height_in: float, dpi: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


#: A table as ``maxent_lib.tables.format_table`` prints it (right-aligned columns).
PRINTED_TABLE = """C0 on the sample (seeds [0, 1, 2]): supported
 setting  seeds  effect      95% interval  call
 X -> T1      3  -0.504  [-0.761, -0.248]   for
T1 -> T2      3  -0.223  [-0.330, -0.116]   for
"""
#: A verdict table as ``format_table(..., markdown=True)`` writes it for ``display(Markdown())``.
VERDICT_TABLE = ("| claim | verdict | calls |\n|---|---|---|\n| C0 | supported | 3 for |\n"
                 "| C5 | inconclusive | 1 for, 2 unclear |")
#: A section of about 280 words of prose in one cell, three paragraphs.
LONG_STORY = "## 6. A long story\n\n" + "\n\n".join(
    " ".join(f"Sentence {i} of part {p} tells a little more of the story." for i in range(7))
    for p in range(3))


def sample_notebook(folder: Path) -> Path:
    """A small lesson that uses every deck feature (also used by the browser test)."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    slide = {"slideshow": {"slide_type": "slide"}}
    notes = {"slideshow": {"slide_type": "notes"}}
    nb = nbformat.v4.new_notebook()
    warn = code("import warnings; warnings.warn('noise'); print('shown')")
    warn.outputs = [nbformat.v4.new_output("stream", name="stderr", text="UserWarning: noise\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="shown\n")]
    long_code = code("# NBVAL_CHECK_OUTPUT\n" + "\n".join(
        f"value_{i} = {i} * 2  # a line of plumbing that the deck shortens" for i in range(30))
        + "\nprint('long line: ' + 'x' * 150)")
    long_code.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                text="".join(f"row {i}\n" for i in range(40)))]
    figure = code("plt.plot(x)", metadata={"tags": ["hide-input"]})
    figure.outputs = [nbformat.v4.new_output("display_data",
                                             data={"image/png": _png(6, 3.5, 80),
                                                   "text/plain": "<Figure>"})]
    table = "| k | value |\n|---|---|\n" + "".join(f"| {i} | {i * i} |\n" for i in range(30))
    summarised = code("big_table()", metadata={"deck": {"summary": "The table: **30 rows**."}})
    summarised.outputs = [nbformat.v4.new_output("stream", name="stdout", text="SECRET ROWS\n")]
    printed = code("print(format_table(rows, columns))")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PRINTED_TABLE)]
    verdicts = code("display(Markdown(format_table(rows, columns, markdown=True)))",
                    metadata={"tags": ["hide-input"]})
    verdicts.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": VERDICT_TABLE, "text/plain": "<IPython.core.display.Markdown>"})]
    rigour = {"tags": ["rigour"]}
    rigour_code = code("assert RIGOUR_SECRET", metadata=rigour)
    rigour_code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="RIGOUR OUT\n")]
    found = code("print(found_sentences())", metadata={"tags": ["what-we-found"],
                                                      "slideshow": {"slide_type": "fragment"}})
    found.outputs = [nbformat.v4.new_output("stream", name="stdout", text=(
        "- C0 on the sample: supported (3 of 3 settings for the prediction).\n"
        "- C5 on the sample: we could not tell (inconclusive).\n(profile quick, seeds [0, 1])\n"))]
    wide_maths = " + ".join(f"\\lambda_{{{i}}} f_{{{i}}}(k)" for i in range(40))
    tall = "\n\n".join(f"Paragraph {i} of a long derivation, which the deck has to continue on "
                       "another slide because it does not fit on one." for i in range(24))
    nb.cells = [
        md("# 01 · Sample", metadata=slide),
        md("[![Binder](b.svg)](x)", metadata={"tags": ["badges"]}),
        code("SETUP_CELL = 1", metadata={"tags": ["colab-setup"]}),
        md("- **Time:** (measured by tools/run_notebooks.py)"),
        md("> **Lecturer's note.** Open with the question.", metadata=notes),
        md("## 1. Gibbs form\n$p(k) = e^{\\lambda k}/Z$\n\n$$\\log Z = " + wide_maths + "$$",
           metadata=slide),
        md("> **Lecturer's note.** Say this aloud.", metadata=notes),
        warn,
        code("PLUMBING = 2", metadata={"slideshow": {"slide_type": "skip"}}),
        code("ALSO_PLUMBING = 3", metadata={"tags": ["deck-skip"],
                                            "slideshow": {"slide_type": "slide"}}),
        md("## 2. Long things", metadata={"slideshow": {"slide_type": "-"}}),
        md("Speaker notes: an old-style note.", metadata=notes),
        long_code,
        md("## 3. A figure\n\n" + table, metadata=slide),
        md("> **Lecturer's note.** Point at the crossing.", metadata=notes),
        figure,
        summarised,
        md("## 4. A derivation\n\n" + tall, metadata=slide),
        md("> **Lecturer's note.** Go slowly.", metadata=notes),
        md("## 5. Results\n\nThe verdicts, as the cells print and display them:", metadata=slide),
        md("> **Lecturer's note.** Read one row aloud.", metadata=notes),
        printed,
        verdicts,
        md(LONG_STORY, metadata=slide),
        md("> **Lecturer's note.** Tell it, do not read it.", metadata=notes),
        md("## How sure are we?\n\nTwo checks behind the results.\n\n### The sums are exact\n\n"
           "Each sum is computed twice.", metadata={**rigour, **slide}),
        md("> **Lecturer's note.** Skippable in a short lecture.",
           metadata={**rigour, **notes}),
        rigour_code,
        md("**A second solver agrees.** It finds the same numbers.", metadata=rigour),
        md("## Summary", metadata=slide),
        md("**Takeaway.** The sample's point, in words: the verdicts hold, and the long story "
           "is continued on slides below its first one.", metadata={"slideshow": {
               "slide_type": "fragment"}}),
        found,
        md("> **Lecturer's note.** Recap in one sentence.", metadata=notes),
        md("Next: [lesson 02](02_next.ipynb), the [solutions](solutions/x.ipynb)."),
    ]
    path = folder / "01_sample.ipynb"
    nbformat.write(nb, path)
    nbformat.write(nbformat.v4.new_notebook(), folder / "02_next.ipynb")
    return path


@pytest.fixture(scope="module")
def sample_deck(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("nb")
    deck = build_slides.build(sample_notebook(folder), folder / "out",
                              timings={"runs": {"01_sample.ipynb": {"quick": {
                                  "seconds": 12.3, "machine": "a 2-core CPU"}}}})
    assert deck.name == "01_sample.slides.html"
    return deck.read_text(encoding="utf-8")


def _notes(html: str) -> list[str]:
    return re.findall(r'<aside class="notes">(.*?)</aside>', html, flags=re.S)


def test_sample_deck_structure(sample_deck: str) -> None:
    info = build_slides.scan(sample_deck)
    assert info.sections >= 5
    assert "<title>01 · Sample slides</title>" in sample_deck
    assert "\\lambda" in sample_deck  # maths is left for MathJax
    assert "width: 1280" in sample_deck and "height: 720" in sample_deck
    assert "courseDeckFit(" in sample_deck  # the fitting step runs before reveal.js starts


def test_lecturer_notes_lose_their_label_in_the_deck(sample_deck: str) -> None:
    notes = " ".join(_notes(sample_deck))
    for text in ("Open with the question.", "Say this aloud.", "an old-style note.",
                 "Point at the crossing."):
        assert text in notes
    assert "Lecturer" not in notes and "Speaker notes" not in notes


def test_title_slide_notes_give_the_outline_and_time(sample_deck: str) -> None:
    first = sample_deck.split("</section>", 1)[0]
    assert "Outline:" in first and "1. Gibbs form" in first and "Summary" in first
    assert "12 s on a 2-core CPU" in first
    assert "Open with the question." in first


def test_sample_deck_hides_plumbing_and_noise(sample_deck: str) -> None:
    assert "shown" in sample_deck
    assert "UserWarning: noise" not in sample_deck  # stderr dropped
    for hidden in ("SETUP_CELL", "PLUMBING", "ALSO_PLUMBING", "b.svg", "NBVAL", "plt.plot",
                   "SECRET ROWS", "big_table"):
        assert hidden not in sample_deck, hidden
    assert "The table: <strong>30 rows</strong>." in sample_deck


def test_sample_deck_shortens_long_cells(sample_deck: str) -> None:
    assert "value_14" in sample_deck and "value_20" not in sample_deck
    assert "more lines in the notebook" in sample_deck  # code and text output
    assert "row 10" in sample_deck and "row 30" not in sample_deck
    assert "more rows in the notebook" in sample_deck
    assert "<td>10</td>" in sample_deck and "<td>20</td>" not in sample_deck


def test_sample_deck_links_point_at_decks(sample_deck: str) -> None:
    assert 'href="02_next.slides.html"' in sample_deck
    assert 'href="../solutions/x.ipynb"' in sample_deck  # other links: relative to the deck


def test_sample_deck_figure_is_sized(sample_deck: str) -> None:
    width = int(re.search(r"<img [^>]*?width=\"?(\d+)", sample_deck, flags=re.S).group(1))
    assert width >= build_slides.FIGURE_MIN_FRACTION * build_slides.FRAME[0]


def test_sample_deck_is_offline(sample_deck: str) -> None:
    assert build_slides.external_urls(sample_deck) == []
    refs = build_slides.scan(sample_deck).refs
    assert "reveal.js/dist/reveal.js" in refs and "reveal.js/plugin/notes/notes.js" in refs
    assert "mathjax/es5/tex-chtml.js" in refs


def test_a_skipped_slide_start_moves_to_the_next_cell(tmp_path: Path) -> None:
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [md("# 01 · T", metadata={"slideshow": {"slide_type": "slide"}}),
                md("gone", metadata={"slideshow": {"slide_type": "slide"},
                                     "tags": ["deck-skip"]}),
                md("kept")]
    out = build_slides.prepare(nb, "01_t", timings={})
    assert [c.source for c in out.cells] == ["# 01 · T", "kept"]
    assert build_slides.slide_type(out.cells[1]) == "slide"


def test_external_urls_are_detected() -> None:
    html = ('<script src="https://cdn.example/x.js"></script><link rel="stylesheet" '
            'href="//cdn.example/y.css"><style>@import url("https://fonts.example/z.css");</style>')
    assert len(build_slides.external_urls(html)) == 3


def test_large_blocks_move_to_shared_files(tmp_path: Path) -> None:
    """Large style and plain script blocks go to one shared file each (named by their
    content, written once); small blocks and data scripts (e.g. widget state) stay inline;
    files no deck links any more are removed."""
    big_css, big_js = "p { color: red; }\n" * 200, "var x = 1;\n" * 300
    state = '<script type="application/vnd.jupyter.widget-state+json">' + "{}" * 2000 + "</script>"
    html = (f"<style>{big_css}</style><style>b {{}}</style><script>{big_js}</script>"
            f"<script>var y = 2;</script>{state}")
    out = build_slides.externalise_blocks(html, tmp_path)
    assert build_slides.externalise_blocks(html, tmp_path) == out  # same names on a rebuild
    shared = build_slides.linked_shared(out)
    assert [s.split("/")[0] for s in shared] == ["css", "js"]
    assert (tmp_path / shared[0]).read_text() == big_css
    assert (tmp_path / shared[1]).read_text() == big_js
    assert "<style>b {}</style>" in out and "<script>var y = 2;</script>" in out and state in out
    (tmp_path / "a.slides.html").write_text(out, encoding="utf-8")
    (tmp_path / "js" / "0123456789ab.js").write_text("old", encoding="utf-8")
    removed = build_slides.remove_unused_shared(tmp_path)
    assert [p.name for p in removed] == ["0123456789ab.js"]
    assert all((tmp_path / s).exists() for s in shared)


def test_note_format_round_trip() -> None:
    written = build_slides.format_note("Stress this.\n\nThen that.")
    assert written.startswith("> **Lecturer's note.** Stress this.")
    assert all(line.startswith(">") for line in written.splitlines())
    assert build_slides.note_text(written) == "Stress this.\n\nThen that."
    assert build_slides.note_text("Speaker notes: old style") == "old style"


def test_note_lint_finds_unlabelled_notes() -> None:
    nb = nbformat.v4.new_notebook()
    notes = {"slideshow": {"slide_type": "notes"}}
    nb.cells = [nbformat.v4.new_markdown_cell("Stress this.", metadata=notes),
                nbformat.v4.new_markdown_cell(build_slides.format_note("Fine."), metadata=notes),
                nbformat.v4.new_code_cell("x = 1", metadata=notes)]
    problems = build_slides.note_problems(nb)
    assert len(problems) == 2 and "cell 0" in problems[0] and "markdown" in problems[1]


@pytest.mark.parametrize(("size", "expected_width"), [
    ((880, 495), 996),    # course style 16:9: as large as fits 1200 x 560
    ((480, 280), 960),    # old small figure: scaled up
    ((1210, 495), 1200),  # two panels: the text column's width
    ((400, 400), 691),    # square: at least FIGURE_MIN_FRACTION of the slide
])
def test_figure_size(size: tuple[int, int], expected_width: int) -> None:
    w, h = build_slides.figure_size(*size)
    assert w == expected_width
    assert w >= build_slides.MIN_FIGURE_FRACTION / build_slides.MIN_FIT_SCALE * 1280
    assert abs(h / w - size[1] / size[0]) < 0.01


def test_shortening_helpers() -> None:
    assert build_slides.strip_markers("# NBVAL_CHECK_OUTPUT\nx = 1  # NBVAL_IGNORE_OUTPUT\n") \
        == "x = 1\n"
    assert build_slides.visual_lines("a" * 250 + "\nb") == 4
    short = build_slides.shorten_code("\n".join(f"l{i}" for i in range(20)), 5)
    assert short.splitlines()[-1] == "# ... 16 more lines in the notebook"
    html = "<table><tbody>" + "".join(f"<tr><td>{i}</td></tr>" for i in range(9)) + \
        "</tbody></table>"
    cut = build_slides.shorten_html_tables(html, 4)
    assert cut.count("<tr>") == 4 and "6 more rows" in cut
    assert build_slides.shorten_html_tables(html, 9) == html


# ---- what a slide shows: words, rigour sections, the Takeaway, tables -----------------------

@pytest.fixture(scope="module")
def sample_prepared(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    notebook = sample_notebook(tmp_path_factory.mktemp("prepared"))
    return build_slides.prepare(nbformat.read(notebook, as_version=4), "01_sample", timings={})


def _shown(group: list) -> list:
    """A slide's cells that show content (not notes, not the build's "(continued)" label)."""
    return [c for c in group if not build_slides.is_note(c)
            and "deck-continued" not in c.metadata.get("tags", [])]


def test_prose_words_count_what_a_reader_reads() -> None:
    text = ("## Title\n\nTwo words $x^2$ here, [a link](x.md).\n\n$$a + b = c$$\n\n"
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\ncode is not prose\n```\n\n- a list item")
    assert build_slides.prose_words(text) == 1 + 6 + 3
    assert build_slides.prose_words("<p>a <b>b</b></p><table><tr><td>no</td></tr></table>") == 2


def test_blocks_and_sentences() -> None:
    blocks = build_slides.markdown_blocks("# T\n\npara one\n\n$$\nx\n\ny\n$$\n\n- item\n\n"
                                          "  more of the item\n\n```\na\n\nb\n```")
    assert blocks == ["# T", "para one", "$$\nx\n\ny\n$$", "- item\n\n  more of the item",
                      "```\na\n\nb\n```"]
    text = ("**Takeaway.** The first sentence has $a. B$ inside it. The second sentence (e.g. "
            "This one) ends here. Short one. The last sentence closes the paragraph.")
    assert build_slides._sentences(text) == [
        "**Takeaway.** The first sentence has $a. B$ inside it.",
        "The second sentence (e.g. This one) ends here.",
        "Short one. The last sentence closes the paragraph."]


def test_no_slide_carries_more_than_the_word_limit(sample_prepared: nbformat.NotebookNode) -> None:
    """A section of about 280 words is continued on slides below its first one, cut between
    paragraphs, each continuation labelled; nothing of it is lost or repeated."""
    groups = build_slides.slide_groups(sample_prepared.cells)
    words = [sum(build_slides.cell_words(c) for c in g) for g in groups]
    assert max(words) <= build_slides.SPLIT_WORDS <= build_slides.MAX_SLIDE_WORDS
    story = [g for g in groups if any("of part" in c.source for c in _shown(g))]
    assert len(story) == 3
    assert all('<div class="deck-continued">6. A long story (continued)</div>' in g[0].source
               and build_slides.slide_type(g[0]) == "subslide" for g in story[1:])
    text = "\n".join(c.source for g in story for c in _shown(g))
    for p in range(3):
        for i in range(7):
            assert text.count(f"Sentence {i} of part {p} ") == 1
    notes = [c.source for g in story for c in g if build_slides.is_note(c)]
    assert notes[0] == "Tell it, do not read it." and all("(continued)" in n for n in notes[1:])


def test_rigour_section_is_one_summary_slide(sample_prepared: nbformat.NotebookNode,
                                             sample_deck: str) -> None:
    """A "How sure are we?" section becomes one slide: its heading, what it checks (its
    sub-headings and bold lead-ins), where the details are; its cells stay in the notebook."""
    assert not any("rigour" in c.metadata.get("tags", []) for c in sample_prepared.cells)
    groups = build_slides.slide_groups(sample_prepared.cells)
    rigour = [g for g in groups if "deck-rigour" in g[0].metadata.get("tags", [])]
    assert len(rigour) == 1
    summary = rigour[0][0].source
    assert summary.startswith("## How sure are we?")
    assert "- The sums are exact" in summary and "- A second solver agrees" in summary
    assert "Details in the notebook" in summary
    notes = " ".join(c.source for c in rigour[0] if build_slides.is_note(c))
    assert "Skippable in a short lecture." in notes and "collapsed" in notes
    for hidden in ("RIGOUR_SECRET", "RIGOUR OUT", "Each sum is computed twice"):
        assert hidden not in sample_deck


def test_takeaway_and_what_we_found_have_their_own_slides(
        sample_prepared: nbformat.NotebookNode, sample_deck: str) -> None:
    groups = build_slides.slide_groups(sample_prepared.cells)
    take = next(g for g in groups if any(build_slides.is_takeaway(c) for c in g))
    assert [c.source.split("\n")[0][:14] for c in _shown(take)] == ["## Summary", "**Takeaway.** "]
    found = next(g for g in groups if any("deck-found" in c.metadata.get("tags", [])
                                          for c in g))
    assert len(_shown(found)) == 1 and build_slides.slide_type(found[0]) == "subslide"
    assert found[0].source.startswith("### What we found")
    assert "<li>C0 on the sample: supported (3 of 3 settings for the prediction).</li>" \
        in found[0].source
    after = groups[groups.index(found) + 1]
    assert "Summary (continued)" in after[0].source and "Next:" in _shown(after)[0].source
    assert "found_sentences" not in sample_deck  # the code of "What we found" is not shown


def test_printed_tables_are_found() -> None:
    (start, end, rows, header), = build_slides.text_tables(PRINTED_TABLE)
    assert (start, end, header) == (1, 4, True)
    assert rows[0] == ["setting", "seeds", "effect", "95% interval", "call"]
    assert rows[2] == ["T1 -> T2", "3", "-0.223", "[-0.330, -0.116]", "for"]
    (_, _, rows, header), = build_slides.text_tables("intro\n" + VERDICT_TABLE + "\nafter")
    assert header and rows[2] == ["C5", "inconclusive", "1 for, 2 unclear"]
    not_tables = ["mean 5.0   : lambda =    0.630, p(6) = 0.4781",
                  "mean 5.99  : lambda =    4.615, p(6) = 0.9901",
                  "mean 5.999 : lambda =    6.909, p(6) = 0.9990"]
    assert build_slides.text_tables("\n".join(not_tables)) == []
    assert build_slides.text_tables("one line of prose\nand another\nand a third") == []


def test_results_tables_are_html_tables(sample_deck: str) -> None:
    """A table a cell prints, and a markdown table it displays, are HTML tables on the slide
    (numbers right-aligned), not monospace printouts; the line printed above stays with it."""
    assert sample_deck.count("<table") >= 3
    assert '<table class="deck-table deck-plain"><thead><tr><th>setting</th>' in sample_deck
    assert '<td class="num">-0.504</td>' in sample_deck
    assert not re.search(r"<pre>[^<]*X -&gt; T1", sample_deck)
    assert '<div class="deck-printed deck-plain"><p>C0 on the sample (seeds [0, 1, 2]): ' \
        "supported</p></div>" in sample_deck
    assert re.search(r"<td[^>]*>inconclusive</td>", sample_deck)


@pytest.mark.skipif(not LESSONS, reason="no lesson notebooks yet")
@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_deck(notebook: Path, tmp_path: Path) -> None:
    html = build_slides.build(notebook, tmp_path, link_dir=SLIDES).read_text(encoding="utf-8")
    info = build_slides.scan(html)
    assert info.sections >= MIN_SECTIONS, f"only {info.sections} slides"
    assert info.notes >= 1, "no speaker notes (cells with slide_type 'notes')"
    assert build_slides.external_urls(html) == []
    assert _local_refs_exist(html, tmp_path, SLIDES) == []
    assert "NBVAL_" not in html


def _rigour_runs(cells: list) -> int:
    tagged = ["rigour" in c.metadata.get("tags", []) for c in cells]
    return sum(t and (i == 0 or not tagged[i - 1]) for i, t in enumerate(tagged))


def _shown_figures(cells: list) -> int:
    """Figures of the cells a deck shows (not skipped, summarised, rigour or hidden output)."""
    return sum("image/png" in o.get("data", {}) for c in cells if c.cell_type == "code"
               and not set(c.metadata.get("tags", [])) & (build_slides.SKIP_TAGS | {
                   "remove-cell", "hide-output", "rigour"})
               and build_slides.slide_type(c) != "skip" and "summary" not in c.metadata.get(
                   "deck", {}) for o in c.get("outputs", []))


@pytest.mark.skipif(not LESSONS, reason="no lesson notebooks yet")
@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_deck_shape(notebook: Path) -> None:
    """Every slide of a lesson's deck carries at most MAX_SLIDE_WORDS words of prose; each
    "How sure are we?" section is one slide; the Takeaway and "What we found" have slides of
    their own; every figure the lesson shows outside those sections is on a slide."""
    nb = nbformat.read(notebook, as_version=4)
    prepared = build_slides.prepare(nb, notebook.stem, timings={})
    groups = build_slides.slide_groups(prepared.cells)
    words = {i: sum(build_slides.cell_words(c) for c in g) for i, g in enumerate(groups)}
    over = {i: w for i, w in words.items() if w > build_slides.MAX_SLIDE_WORDS}
    assert not over, f"slides over {build_slides.MAX_SLIDE_WORDS} words: {over}"
    summaries = [g for g in groups if "deck-rigour" in g[0].metadata.get("tags", [])]
    assert len(summaries) == _rigour_runs(nb.cells)
    assert all(len(_shown(g)) == 1 for g in summaries)
    for group in groups:
        shown = _shown(group)
        special = [c for c in shown if build_slides.is_takeaway(c)
                   or "deck-found" in c.metadata.get("tags", [])]
        rest = [c for c in shown if c not in special and not build_slides._heading_only(c)]
        assert not (special and rest), f"the Takeaway or 'What we found' shares a slide: {rest}"
    figures = sum("image/png" in o.get("data", {}) for c in prepared.cells
                  if c.cell_type == "code" and "hide-output" not in c.metadata.get("tags", [])
                  for o in c.get("outputs", []))
    assert figures == _shown_figures(nb.cells)


@pytest.mark.parametrize("notebook", _lesson_params("lecturer's notes", strict=False))
def test_lesson_notes_are_marked_for_students(notebook: Path) -> None:
    """Every notes cell is a labelled quote, and the title slide has a lecturer's note."""
    assert build_slides.lint(notebook) == []


@pytest.mark.parametrize("notebook", _lesson_params("deck not rebuilt"))
def test_committed_deck_is_current(notebook: Path) -> None:
    """slides/ holds this lesson's deck, rebuilt after the notebook last changed."""
    assert build_slides.stale_decks([notebook], SLIDES) == [], \
        "run `python tools/build_slides.py`"


def test_check_passes_with_pending_lessons() -> None:
    """`--check` fails only for decks of lessons that are not pending."""
    assert build_slides.main(["--check"]) == 0, "run `python tools/build_slides.py`"


def test_vendored_assets_are_small_and_licensed() -> None:
    for folder in ("reveal.js", "mathjax"):
        assert (SLIDES / folder / "LICENSE").is_file()
    size = sum(p.stat().st_size for d in ("reveal.js", "mathjax")
               for p in (SLIDES / d).rglob("*") if p.is_file())
    assert size < 5 * 2**20, f"vendored assets are {size / 2**20:.1f} MiB"
    theme = (SLIDES / "reveal.js/dist/theme/white.css").read_text(encoding="utf-8")
    assert "fonts.googleapis" not in theme and "http" not in theme.split("@import")[1][:80]


def test_browser_test_explains_a_missing_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Chromium the browser test skips with a message that says how to install it."""
    spec_audit = importlib.util.spec_from_file_location("tools_deck_audit_probe",
                                                        ROOT / "tools" / "deck_audit.py")
    audit = importlib.util.module_from_spec(spec_audit)
    monkeypatch.setitem(sys.modules, "tools_deck_audit_probe", audit)
    spec_audit.loader.exec_module(audit)
    monkeypatch.setenv("DECK_BROWSER", "/nonexistent/chromium")
    monkeypatch.setattr(audit, "BROWSERS", ("/nonexistent/chromium-browser",))
    monkeypatch.setattr(audit.shutil, "which", lambda name: None)
    reason = audit.unavailable_reason()
    if reason and "Playwright" in reason:
        pytest.skip("Playwright is not installed here")
    assert reason is not None and "apt-get install chromium" in reason
