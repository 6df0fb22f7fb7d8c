"""The course website (tools/build_site.py), built once and read in a real browser.

The site is built once per module into a temporary folder from the notebooks' stored outputs and
served from that folder on 127.0.0.1. Headless Chromium (the system's, driven by Playwright, as in
tests/test_decks_browser.py) then opens every page at 1280x720 and on a 390-px-wide phone, with
every request outside the site blocked and counted as a failure. It checks: no console errors,
no failed requests, no broken link inside the site (every ``<a href>`` that points into it, the
anchor included) and no missing image; maths rendered by MathJax on every page whose source has
maths (and no ``$...$`` left as text); nothing wider than the screen (the page never scrolls
sideways; code, tables and display maths scroll inside their own box); the search finds lesson
03 for "feature condition"; and cells tagged ``rigour`` are collapsed until one click opens them
(on a small course built for the purpose, since the lessons may have none yet).

Needs the ``site`` extra (``pip install -e ".[site]"``: Sphinx, myst-nb, sphinx-book-theme) and,
for the browser part, Playwright for Python with a system Chromium (``pip install -e
".[browser]"``, ``apt-get install chromium``). Each part is skipped with a message where its
packages are missing, except where ``MAXENT_REQUIRE_SITE=1`` or ``MAXENT_REQUIRE_BROWSER=1`` (CI)
make it fail instead.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import importlib.util
import os
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
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


build_site = _load("tools_build_site", ROOT / "tools" / "build_site.py")
audit = _load("tools_deck_audit", ROOT / "tools" / "deck_audit.py")  # the browser's launch helper

MISSING = build_site.missing_modules()
SITE_REASON = (f"the site build is skipped: {', '.join(MISSING)} not installed "
               f"(pip install -e \".[site]\")") if MISSING else None
SITE_REQUIRED = os.environ.get("MAXENT_REQUIRE_SITE", "") not in ("", "0")
BROWSER_REASON = audit.unavailable_reason()
BROWSER_REQUIRED = os.environ.get("MAXENT_REQUIRE_BROWSER", "") not in ("", "0")
needs_site = pytest.mark.skipif(SITE_REASON is not None and not SITE_REQUIRED,
                                reason=SITE_REASON or "")
needs_browser = pytest.mark.skipif(
    BROWSER_REASON is not None and not BROWSER_REQUIRED,
    reason=f"browser test of the website skipped: {BROWSER_REASON} (see README, Quick start "
           "step 6)")

#: The build must stay quick on CI's 2 cores (it takes about 10 s there; the limit is generous).
MAX_BUILD_SECONDS = 180
VIEWPORTS = {"desktop": (1280, 720), "phone": (390, 844)}
PAGES = build_site.expected_pages(ROOT)


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def test_site_extra_is_installed() -> None:
    """Fails (instead of skipping) where MAXENT_REQUIRE_SITE is set and the extra is missing."""
    if SITE_REASON is not None and not SITE_REQUIRED:
        pytest.skip(SITE_REASON)
    assert SITE_REASON is None, SITE_REASON


@needs_browser
def test_browser_is_available() -> None:
    """Fails (instead of skipping) where MAXENT_REQUIRE_BROWSER is set and no browser runs."""
    assert BROWSER_REASON is None, BROWSER_REASON


# ---- the build ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a BuildResult
    if SITE_REASON is not None:
        if SITE_REQUIRED:
            pytest.fail(SITE_REASON)
        pytest.skip(SITE_REASON)
    before = _tree_digest(ROOT / "notebooks")
    result = build_site.build(tmp_path_factory.mktemp("site") / "out", ROOT)
    result.notebooks_unchanged = _tree_digest(ROOT / "notebooks") == before
    return result


@needs_site
def test_build_is_quick_and_complete(site) -> None:  # noqa: ANN001
    assert site.seconds < MAX_BUILD_SECONDS, f"the build took {site.seconds:.0f} s"
    assert (site.out / "index.html").is_file()
    missing = sorted(set(PAGES) - set(site.pages))
    assert not missing, f"pages missing from the site: {missing}"
    assert site.notebooks_unchanged, "the build modified notebooks/"


@needs_site
def test_glossary_page_when_the_course_has_one(site) -> None:  # noqa: ANN001
    index = (site.out / "index.html").read_text(encoding="utf-8")
    if build_site.glossary(ROOT) is None:
        assert not (site.out / "notebooks" / "glossary.html").exists()
        return
    assert "notebooks/glossary.html" in site.pages
    assert 'href="notebooks/glossary.html"' in index, "the landing page does not link the glossary"


@needs_site
def test_decks_and_notebooks_are_in_the_site(site) -> None:  # noqa: ANN001
    for lesson in build_site.lessons(ROOT):
        deck = build_site.deck_for(ROOT, lesson)
        page = (site.out / "notebooks" / f"{lesson.stem}.html").read_text(encoding="utf-8")
        assert (site.out / "notebooks" / lesson.name).read_bytes() == lesson.read_bytes()
        assert f'href="{lesson.name}" download' in page, f"{lesson.name}: no download link"
        if deck is not None:
            assert (site.out / "slides" / deck.name).is_file()
            assert f'href="../slides/{deck.name}"' in page, f"{lesson.name}: no link to its deck"
    for asset in build_site.DECK_ASSETS:
        if (ROOT / "slides" / asset).is_dir():
            assert (site.out / "slides" / asset).is_dir(), asset
    assert (site.out / "_static" / "mathjax" / "es5" / "tex-chtml.js").is_file()


@needs_site
def test_launch_links_come_from_the_one_repository_address(site) -> None:  # noqa: ANN001
    repo = build_site.badges.repository(ROOT / "pyproject.toml")
    for lesson in build_site.lessons(ROOT) + build_site.solutions(ROOT):
        rel = lesson.relative_to(ROOT).as_posix()
        page = (site.out / Path(rel).with_suffix(".html")).read_text(encoding="utf-8")
        for url in (build_site.badges.binder_url(repo, rel), build_site.badges.colab_url(repo, rel),
                    f"{repo.url}/blob/{build_site.badges.BRANCH}/{rel}"):
            assert url.replace("&", "&amp;") in page or url in page, (rel, url)
        assert "colab-badge.svg" not in page and "badge_logo.svg" not in page, rel
        assert "google.colab" not in page, f"{rel}: the colab-setup cell is shown"


@needs_site
def test_nothing_is_fetched_from_the_network(site) -> None:  # noqa: ANN001
    """No script, style sheet, font or image of any page comes from another host."""
    remote = re.compile(r"<(?:script|img|link|iframe|source)\b[^>]*\b(?:src|href)=\"(?://|https?:)"
                        r"[^\"]*\"", flags=re.I)
    for page in site.pages:
        html = (site.out / page).read_text(encoding="utf-8")
        found = [m.group(0)[:160] for m in remote.finditer(html)
                 if not re.search(r"rel=\"(?:canonical|alternate)\"", m.group(0))]
        assert not found, (page, found)
        assert "@import url(http" not in html
    for css in (site.out / "_static").rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), css.name


# ---- unit checks of the pre-processing (no Sphinx needed) -------------------------------------

def _ctx(root: Path = ROOT):  # noqa: ANN202 - a build_site.Context
    ctx = build_site.Context(root=root, repo=build_site.badges.Repo(
        "https://github.com/some-owner/some-repo", "some-owner", "some-repo"))
    ctx.pages = {"notebooks/01_a.ipynb", "results/README.md"}
    ctx.copied = {"slides/01_a.slides.html"}
    return ctx


def test_links_are_rewritten_for_the_site() -> None:
    ctx = _ctx()
    text = ("See [lesson](01_a.ipynb#top), [results](../results/README.md), "
            "[deck](../slides/01_a.slides.html), [code](../maxent_lib/ablation.py), "
            "[web](https://example.org), `[not](a link)` and [anchor](#here).\n"
            "```\n[x](../maxent_lib/y.py)\n```\n")
    out = build_site.rewrite_links(text, "notebooks", "notebooks", ctx)
    assert "[lesson](01_a.ipynb#top)" in out and "[results](../results/README.md)" in out
    assert '<a href="../slides/01_a.slides.html">deck</a>' in out
    assert "[code](https://github.com/some-owner/some-repo/blob/main/maxent_lib/ablation.py)" in out
    assert "[web](https://example.org)" in out and "`[not](a link)`" in out
    assert "[anchor](#here)" in out and "[x](../maxent_lib/y.py)" in out  # code is left alone
    # a lesson's paragraph moved to the landing page at the site's root
    moved = build_site.rewrite_links("[next](01_a.ipynb)", "notebooks", "", ctx)
    assert moved == "[next](notebooks/01_a.ipynb)"


def test_display_maths_gets_a_block_of_its_own() -> None:
    text = "the sum\n$$a\n+ b\n- c$$\nwith $x$ and\n> $$q$$\n"
    out = build_site.isolate_display_math(text)
    assert "\n\n$$a\n+ b\n- c$$\n\n" in out  # no longer a list inside a paragraph
    assert "> $$q$$" in out  # inside a quote: left alone
    assert build_site.isolate_display_math("- an item $$x$$\n") == "- an item $$x$$\n"
    assert build_site.isolate_display_math("```\n$$x$$\n```\n") == "```\n$$x$$\n```\n"


def _rigour_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1 + 1)",
                                     metadata={"tags": ["rigour"]})
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    slider = nbformat.v4.new_code_cell("interact(f)")
    slider.outputs = [nbformat.v4.new_output("display_data", data={
        build_site.WIDGET_MIME: {"model_id": "x", "version_major": 2, "version_minor": 0},
        "text/plain": "interactive(children=(FloatSlider(value=4.5),))"})]
    bar = nbformat.v4.new_code_cell("for _ in tqdm(range(3)): pass")
    bar.outputs = [nbformat.v4.new_output("display_data", data={
        build_site.WIDGET_MIME: {"model_id": "y", "version_major": 2, "version_minor": 0},
        "text/plain": "  0%|          | 0/3"})]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · A lesson\n\nIt opens with $x$."),
        nbformat.v4.new_markdown_cell("[![Binder](b.svg)](u)", metadata={"tags": ["badges"]}),
        nbformat.v4.new_code_cell("import google.colab", metadata={"tags": ["colab-setup"]}),
        nbformat.v4.new_markdown_cell("## 5. How sure are we?\n\nThe interval $[a, b]$.\n\n"
                                      "### A detail\n\nMore.", metadata={"tags": ["rigour"]}),
        code, slider, bar,
    ]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    return nb


def test_notebook_is_prepared_for_the_site() -> None:
    nb = _rigour_notebook()
    before = nbformat.writes(nb)
    out = build_site.prepare_notebook(nb, "notebooks/01_a.ipynb", _ctx())
    assert nbformat.writes(nb) == before, "the original notebook was modified"
    sources = [c.source for c in out.cells]
    assert not any("google.colab" in s or "b.svg" in s for s in sources)
    bar = out.cells[1].source
    assert bar.startswith('<p class="launch-bar">')
    for text in ("Launch on Binder", "Open in Colab", "Download notebook", "Source on GitHub",
                 "https://mybinder.org/v2/gh/some-owner/some-repo/main?urlpath=lab/tree/"
                 "notebooks/01_a.ipynb", 'href="01_a.ipynb" download'):
        assert text in bar, text
    rigour_md = out.cells[2].source
    assert rigour_md.startswith("## 5. How sure are we?\n")  # the heading stays visible
    assert ":class: dropdown rigour" in rigour_md and "**A detail**" in rigour_md
    code = out.cells[3]
    assert "hide-cell" in code.metadata["tags"] and "NBVAL" not in code.source
    assert code.metadata["mystnb"]["code_prompt_show"].startswith("How sure are we?")
    assert "interactive widget" in out.cells[4].outputs[0]["text"]
    assert out.cells[5].outputs == []  # a progress bar is dropped
    assert "widgets" not in out.metadata


# ---- the browser --------------------------------------------------------------------------------

class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # no request log in the test output
        pass


@pytest.fixture(scope="module")
def server(site):  # noqa: ANN001, ANN201 - the base URL of the served site
    handler = functools.partial(_Quiet, directory=str(site.out))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


class Browser:
    """A Chromium context that refuses every request outside the site and records it."""

    def __init__(self, ctx) -> None:  # noqa: ANN001
        self.ctx = ctx
        self.blocked: list[str] = []
        ctx.route("**/*", self._route)

    def _route(self, route) -> None:  # noqa: ANN001
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("file:", "data:", "blob:", "about:")) or host in ("127.0.0.1",
                                                                             "localhost"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, url: str, viewport: tuple[int, int]):  # noqa: ANN201 - (page, problems)
        page = self.ctx.new_page()
        page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 else None)
        page.goto(url, wait_until="load")
        page.evaluate("""async () => {
            if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
                await MathJax.startup.promise; }
            await document.fonts.ready; }""")
        return page, problems


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - a Browser
    if BROWSER_REASON is not None:
        if BROWSER_REQUIRED:
            pytest.fail(BROWSER_REASON)
        pytest.skip(BROWSER_REASON)
    with audit.browser_context() as ctx:
        yield Browser(ctx)


_WIDTH_JS = """() => {
  const W = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > W + 1) {
      let p = el.parentElement, clipped = false;
      while (p) { const s = getComputedStyle(p);
        if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)
            && p.getBoundingClientRect().right <= W + 1) { clipped = true; break; }
        p = p.parentElement; }
      if (!clipped) wide.push(el.tagName.toLowerCase() + '.' + String(el.className).slice(0, 40)
                              + ' ' + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: W, wide: wide.slice(0, 5)};
}"""

_LINKS_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach(i => { i.loading = 'eager'; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener('load', r); i.addEventListener('error', r); setTimeout(r, 5000); })));
  return {
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    images: imgs.map(i => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
  };
}"""

_MATHS_JS = r"""() => {
  const root = document.querySelector('article') || document.body;
  const copy = root.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, script, style, .cell_output, .output, '
                        + 'textarea').forEach(e => e.remove());
  return {
    rendered: root.querySelectorAll('mjx-container').length,
    errors: root.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    raw: (copy.textContent.match(/\$\$?[^$\n]{1,60}\$\$?/g) || []).slice(0, 3),
    tex: (copy.textContent.match(/\\\(|\\\[/g) || []).length,
  };
}"""


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r"\bid=\"([^\"]+)\"", path.read_text(encoding="utf-8")))


def _broken_links(site_dir: Path, base: str, page: str, hrefs: list[str]) -> list[str]:
    broken = []
    for href in hrefs:
        if not href.startswith(base):
            continue  # another site (Binder, Colab, the repository, the paper)
        parts = urlsplit(href)
        rel = unquote(parts.path[len(urlsplit(base).path):])
        target = site_dir / rel
        if rel == "" or rel.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{page}: {href} (no such file)")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(
                target):
            broken.append(f"{page}: {href} (no such anchor)")
    return broken


def _maths_pages() -> set[str]:
    sources = {p.relative_to(ROOT).with_suffix(".html").as_posix(): p
               for p in build_site.lessons(ROOT) + build_site.solutions(ROOT)}
    gloss = build_site.glossary(ROOT)
    if gloss is not None:
        sources["notebooks/glossary.html"] = gloss
    return {page for page, path in sources.items() if build_site.has_maths(path)}


MATHS_PAGES = _maths_pages()


@needs_site
@needs_browser
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("page", PAGES)
def test_page_in_the_browser(site, server, browser, page: str, viewport: str) -> None:  # noqa: ANN001
    tab, problems = browser.open(server + page, VIEWPORTS[viewport])
    try:
        width = tab.evaluate(_WIDTH_JS)
        assert width["scroll"] <= width["width"], (
            f"{page} scrolls sideways at {viewport} ({width['scroll']} px > {width['width']} px):"
            f" {width['wide']}")
        if viewport == "desktop":
            found = tab.evaluate(_LINKS_JS)
            broken = _broken_links(site.out, server, page, found["links"])
            broken += [f"{page}: image {i['src'][:80]} did not load" for i in found["images"]
                       if not i["ok"]]
            assert not broken, broken
            if page in MATHS_PAGES or page == "index.html":
                maths = tab.evaluate(_MATHS_JS)
                assert maths["errors"] == 0, f"{page}: MathJax errors"
                assert not maths["raw"] and not maths["tex"], f"{page}: maths left as text {maths}"
                if page in MATHS_PAGES:
                    assert maths["rendered"] > 0, f"{page}: no maths rendered"
        assert not problems, problems
        assert not browser.blocked, f"requests outside the site: {browser.blocked}"
    finally:
        tab.close()


@needs_site
@needs_browser
def test_landing_page_read_from_disk(site, browser) -> None:  # noqa: ANN001
    """Opened straight from the folder (file://), offline, the landing page works too."""
    tab, problems = browser.open((site.out / "index.html").as_uri(), VIEWPORTS["desktop"])
    try:
        assert tab.locator("h1").first.inner_text().strip()
        assert not problems and not browser.blocked, (problems, browser.blocked)
    finally:
        tab.close()


@needs_site
@needs_browser
def test_search_finds_the_feature_conditions_lesson(site, server, browser) -> None:  # noqa: ANN001
    tab, problems = browser.open(server + "search.html?q=feature+condition", VIEWPORTS["desktop"])
    try:
        tab.wait_for_selector("#search-results ul.search li a", timeout=30000)
        tab.wait_for_function("() => !document.querySelector('#search-progress')"
                              " || document.querySelector('#search-progress').innerText === ''"
                              " || document.querySelectorAll('#search-results li').length > 0")
        hrefs = tab.eval_on_selector_all("#search-results ul.search li > a",
                                         "els => els.map(a => a.getAttribute('href'))")
        lessons = [h.split("#")[0] for h in hrefs if re.search(r"notebooks/\d\d_", h)]
        assert lessons, f"no lesson found: {hrefs}"
        assert lessons[0] == "notebooks/03_feature_conditions.html", hrefs
        assert not problems and not browser.blocked, (problems, browser.blocked)
    finally:
        tab.close()


# ---- a small course with the cases the lessons may not have yet --------------------------------

@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a BuildResult
    """A course of one lesson with "How sure are we?" cells and a glossary, built like the real
    one (its maths from the course's MathJax)."""
    if SITE_REASON is not None:
        if SITE_REQUIRED:
            pytest.fail(SITE_REASON)
        pytest.skip(SITE_REASON)
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "README.md").write_text(
        "# A small course\n\nOne lesson.\n\n## For self-study\n\n1. Read it.\n",
        encoding="utf-8")
    (root / "notebooks").mkdir()
    nbformat.write(_rigour_notebook(), root / "notebooks" / "01_a.ipynb")
    (root / "notebooks" / "glossary.md").write_text(
        "# Glossary\n\nFeature condition\n: see [lesson 01](01_a.ipynb), $T(x)$.\n",
        encoding="utf-8")
    (root / "slides").mkdir()
    (root / "slides" / "mathjax").symlink_to(ROOT / "slides" / "mathjax", target_is_directory=True)
    (root / "LICENSE").write_text("MIT\n", encoding="utf-8")
    return build_site.build(tmp_path_factory.mktemp("small") / "out", root)


@needs_site
def test_glossary_page_is_built_when_the_file_exists(small_site) -> None:  # noqa: ANN001
    assert "notebooks/glossary.html" in small_site.pages
    index = (small_site.out / "index.html").read_text(encoding="utf-8")
    assert 'href="notebooks/glossary.html"' in index
    glossary = (small_site.out / "notebooks" / "glossary.html").read_text(encoding="utf-8")
    assert 'href="01_a.html"' in glossary


@needs_site
@needs_browser
def test_rigour_cells_are_collapsed_until_clicked(small_site, browser) -> None:  # noqa: ANN001
    page = small_site.out / "notebooks" / "01_a.html"
    tab, problems = browser.open(page.as_uri(), VIEWPORTS["desktop"])
    try:
        note = tab.locator("div.admonition.rigour")
        assert note.count() == 1
        body = note.locator("p", has_text="The interval")
        assert not body.is_visible(), "the rigour text is open before a click"
        note.locator(".admonition-title").click()
        body.wait_for(state="visible", timeout=5000)
        assert tab.locator("h2", has_text="How sure are we?").is_visible()

        code = tab.locator("details.hide", has_text="How sure are we? Show the check")
        assert code.count() == 1
        assert code.get_attribute("open") is None, "the rigour code cell is open before a click"
        output = code.locator(".cell_output")
        assert not output.is_visible()
        code.locator("summary").click()
        output.wait_for(state="visible", timeout=5000)
        assert "NBVAL" not in code.inner_text()
        assert tab.locator("mjx-container").count() >= 2
        assert not problems and not browser.blocked, (problems, browser.blocked)
    finally:
        tab.close()


def test_build_tool_reports_time_and_pages(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """``python tools/build_site.py --out DIR`` prints the time and the page count (a stand-in
    build, so that this runs without the extra)."""
    result = build_site.BuildResult(tmp_path, 12.34, ["index.html", "search.html"], ["index"], [],
                                    [])
    original = build_site.build
    build_site.build = lambda *a, **k: result
    try:
        assert build_site.main(["--out", str(tmp_path)]) == 0
    finally:
        build_site.build = original
    out = capsys.readouterr().out
    assert "built 1 pages" in out and "in 12.3 s" in out and "index.html" in out
