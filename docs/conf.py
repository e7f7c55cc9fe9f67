"""Sphinx configuration of the divnet-nb website (``make docs``).

The site is built from what is committed: the README as the landing page, the numbered
notebooks with their stored full-mode outputs (never re-executed here), the assignments'
student handouts (built by ``assignments/build.py``) and an API reference read from the
package's numpydoc docstrings. Everything is served locally, MathJax included, so the
site renders offline. ``tests/test_docs.py`` builds it and opens every page in headless
Chromium.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS))

from _site import prepare  # noqa: E402

import divnet_nb  # noqa: E402

project = "divnet-nb"
author = "divnet-nb developers"
copyright = "divnet-nb developers"
release = version = divnet_nb.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static: no CDN
]

root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# Notebooks are shown with the outputs of their committed full-mode run.
nb_execution_mode = "off"
nb_merge_streams = True
nb_render_markdown_format = "myst"  # Markdown outputs get the same maths as the cells
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_mock_imports: list[str] = []
napoleon_numpy_docstring = True
napoleon_google_docstring = False

html_theme = "sphinx_book_theme"
html_title = "divnet-nb"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
}
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # one mode: the figures are drawn on white

# Docstrings write cardinalities as in the paper, |T|; docutils would read a substitution.
_LITERAL = re.compile(r"(``.*?``|:math:`[^`]*`)")
_CARDINALITY = re.compile(r"(?<![`\\|])\|([^|\s`][^|`]{0,40}?)\|(?![`|_])")


def _escape_cardinalities(app, what, name, obj, options, lines) -> None:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("+") or (stripped.startswith("|") and stripped.endswith("|")):
            continue  # a grid table
        parts = _LITERAL.split(line)  # odd parts are inline literals and maths
        parts[::2] = [_CARDINALITY.sub(r"\|\1\|", part) for part in parts[::2]]
        lines[i] = "".join(parts)


def setup(app):
    # Git-ignored, written at each build: docs/notebooks/, docs/assignments/, docs/api.md.
    app.connect("autodoc-process-docstring", _escape_cardinalities)
    app.connect("builder-inited", lambda app: prepare(ROOT, DOCS))
