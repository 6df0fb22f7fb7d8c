"""Sphinx configuration of the course website, used by ``tools/build_site.py``.

Do not run sphinx-build on this folder directly: the build tool lays out a source tree in a
temporary folder (pre-processed copies of the notebooks, generated pages), copies this file into it
and writes ``_site_settings.json`` beside it with the values below that come from the repository
(its address, read from ``pyproject.toml``, and the pages that exist).

Nothing is fetched from the network, at build time or when a page is read: notebooks are rendered
from their stored outputs (``nb_execution_mode = "off"``), MathJax is the course's own copy
(``slides/mathjax``, copied into ``_static/mathjax`` by the build), the theme's fonts and icons are
in its package, and the widget JavaScript that myst-nb would load from a CDN is switched off.
"""

from __future__ import annotations

import json
from pathlib import Path

_settings = json.loads((Path(__file__).parent / "_site_settings.json").read_text(encoding="utf-8"))

project = _settings["title"]
author = "The maxent course authors"
copyright = "2026, The maxent course authors"  # noqa: A001 - Sphinx's name
language = "en"

extensions = ["myst_nb", "sphinx_togglebutton"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_site_settings.json"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["site.css"]
html_favicon = "_static/favicon.svg"
# the search puts first a page whose title holds every word of the query
html_search_scorer = str(Path(__file__).parent / "search_scorer.js")

# ---- notebooks: stored outputs only -------------------------------------------------------------
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no require.js / widget manager from a CDN
nb_render_markdown_format = "myst"  # $...$ in markdown outputs is maths, as in the cells
nb_merge_streams = True
nb_code_prompt_show = "Show code cell {type}"
nb_code_prompt_hide = "Hide code cell {type}"
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "html_image",
                          "smartquotes", "strikethrough"]
myst_dmath_double_inline = True
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# ---- maths: the course's own MathJax 3, no CDN ------------------------------------------------
mathjax_path = "mathjax/es5/tex-chtml.js"  # relative to _static

# ---- theme: sphinx-book-theme, launch buttons from the one repository address -----------------
html_theme = "sphinx_book_theme"
html_title = _settings["title"]
html_copy_source = False  # the "download notebook" link gives the stored notebook itself
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": _settings["repository"],
    "repository_branch": _settings["branch"],
    "path_to_docs": "",  # the source tree mirrors the repository: notebooks/..., results/...
    "use_repository_button": True,
    "use_issues_button": True,
    "use_source_button": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "footer_content_items": ["licence-footer.html"],
    "navigation_with_keys": False,
}
html_context = {"content_licence": _settings["content_licence"],
                "default_mode": "light"}  # figures are drawn on white; a reader can switch
