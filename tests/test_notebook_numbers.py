"""Numbers in the notebooks' prose come from the run (issue 14, point 1).

A number that a markdown cell states is accepted only when

* it also appears in a code cell of the same notebook, as a setting the code uses or as the
  value an ``assert`` checks (so "3000 samples" beside ``n = 2000`` fails), or
* it is listed in the notebook's own metadata, ``metadata["divnet_nb"]["quoted_numbers"]``
  (number as written -> why it is not a result of ours: a number quoted from a paper, a
  mathematical constant, a data set's size), so the list travels with the notebook.

Results are never typed into markdown: a code cell renders them (``display(Markdown(...))``
or a print), and outputs are not scanned. The scan looks at decimals (``0.522``),
scientific numbers (``3.3e-15``), percentages and integers of three digits or more; numbers
in headings, links, architectures (``784-500-500-10``), years, and references such as
"Section 3.3", "eq. 4", "Table 2", "notebook 05" are not statements of results.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SERIES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9]*.ipynb"))


def load(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def quoted(nb) -> dict[str, str]:
    """The notebook's allow-list: {number as written: why it is not one of our results}."""
    return dict(nb.metadata.get("divnet_nb", {}).get("quoted_numbers", {}))


NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:e[-+]?\d+)?)(?![\w])")
REFERENCE = re.compile(
    r"(?:Sections?|section|Sec\.|§|eqs?\.|Eqs?\.|equations?|Equations?|Tables?|"
    r"Figures?|Figs?\.|notebooks?|Notebooks?|Appendix|Theorem|Lemma|Proposition)"
    r"\s*\(?\d+(?:\.\d+)*(?:\s*(?:[-–,]|and|to)\s*\d+(?:\.\d+)*)*",
)
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"https?://\S+")
HEADING = re.compile(r"^#.*$", re.M)
ARCHITECTURE = re.compile(r"\d+(?:\s*[-x×]\s*\d+){2,}")


def stated_numbers(markdown: str) -> list[str]:
    """The numbers a markdown cell states, as written, by the module docstring's rules."""
    text = LINK_TARGET.sub("]", markdown)
    for pattern in (URL, HEADING, ARCHITECTURE, REFERENCE):
        text = pattern.sub(" ", text)
    found = []
    for match in NUMBER.finditer(text):
        token = match.group(1)
        if "." in token or "e" in token:
            found.append(token)
            continue
        rest = text[match.end() : match.end() + 2].lstrip()
        value = int(token)
        if rest.startswith("%") or (value >= 100 and not 1900 <= value <= 2100):
            found.append(token)
    return found


def _code_literals(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def unchecked_numbers(name: str) -> list[str]:
    nb = load(name)
    code = _code_literals(nb)
    literals = set(NUMBER.findall(code))
    allowed = quoted(nb)
    bad = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for token in stated_numbers(cell.source):
            if token not in literals and token not in allowed:
                bad.append(f"cell {index}: {token}")
    return bad


def test_the_scan_finds_what_it_should():
    text = (
        "## 3.1 Setup\nWe draw 3000 samples; the error is 0.522 (paper: 0.51), 3.3e-15 and "
        "12 % of the weights. See Section 3.3, eq. 4, eqs. 1-4, Table 2, notebook 05, "
        "[the paper](https://arxiv.org/abs/1511.05077) of 2016, the 784-500-500-10 network, "
        "k = 50 and 10 seeds."
    )
    assert stated_numbers(text) == ["3000", "0.522", "0.51", "3.3e-15", "12"]


@pytest.mark.parametrize("name", SERIES)
def test_markdown_numbers_are_computed_checked_or_quoted(name):
    bad = unchecked_numbers(name)
    assert not bad, (
        f"{name}: numbers typed into markdown that no code cell uses or asserts and that are "
        f"not allow-listed with a reason: {bad}. Render results from a code cell instead."
    )


@pytest.mark.parametrize("name", SERIES)
def test_allowed_numbers_occur_and_say_why(name):
    """Every allow-listed number still occurs in the prose, so the list cannot go stale."""
    nb = load(name)
    prose = [t for c in nb.cells if c.cell_type == "markdown" for t in stated_numbers(c.source)]
    for token, reason in quoted(nb).items():
        assert token in prose, f"{name}: allow-listed {token} no longer occurs; remove it"
        assert len(reason) > 10, f"{name}: say why {token} is not one of our results"
