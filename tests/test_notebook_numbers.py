"""Numbers in the notebooks' prose come from the run.

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

import io
import re
import tokenize
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


NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?![\d_])")
# 60,000 and 1\,012\,010 (LaTeX thin spaces) are one number each.
GROUPED = re.compile(r"(?<![\d.,])\d{1,3}(?:(?:,|\\,|\u2009|\u202f)\d{3})+(?![\d.])")
SEPARATORS = re.compile(r",|\\,|\u2009|\u202f")
REFERENCE = re.compile(
    r"(?:Sections?|section|Sec\.|§|eqs?\.|Eqs?\.|equations?|Equations?|Tables?|"
    r"Figures?|Figs?\.|notebooks?|Notebooks?|Appendix|Theorem|Lemma|Proposition)"
    r"\s*\(?\d+(?:\.\d+)*(?:\s*(?:[-–,]|and|to)\s*\d+(?![.\d]))*",
)
# A year is exempt only where a citation puts it: "Mariet & Sra, ICLR 2016", "Solla 1995".
CITATION = re.compile(r"(?:et al\.?,?|ICLR|ICML|NeurIPS|NIPS|AISTATS|[A-Z][A-Za-z-]+,?)\s*\(?$")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
URL = re.compile(r"https?://\S+")
HEADING = re.compile(r"^#.*$", re.M)
ARCHITECTURE = re.compile(r"\d+(?:\s*[-x×]\s*\d+){2,}|[A-Za-z]+(?:-\d+){2,}")  # LeNet-300-100


def stated_numbers(markdown: str) -> list[str]:
    """The numbers a markdown cell states, as written, by the module docstring's rules."""
    text = LINK_TARGET.sub("]", markdown)
    for pattern in (URL, HEADING, ARCHITECTURE, REFERENCE):
        text = pattern.sub(" ", text)
    text = GROUPED.sub(lambda m: SEPARATORS.sub("", m.group()), text)
    found = []
    for match in NUMBER.finditer(text):
        token = match.group(1)
        if "." in token or "e" in token.lower():
            found.append(token)
            continue
        rest = text[match.end() : match.end() + 9].lstrip()
        value = int(token)
        percent = rest.startswith(("%", "\\%", "percent"))
        year = 1900 <= value <= 2100 and CITATION.search(
            text[max(0, match.start() - 30) : match.start()]
        )
        if percent or (value >= 100 and not year):
            found.append(token)
    return found


def _value(token: str) -> float:
    return float(token.replace("_", ""))


def code_values(nb) -> set[float]:
    """The numeric literals of the notebook's code: not its comments, not its strings."""
    values = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(
            "" if line.lstrip().startswith(("%", "!")) else line
            for line in cell.source.splitlines()
        )
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(source + "\n").readline))
        except (tokenize.TokenError, SyntaxError):
            tokens = []
        values |= {
            _value(t.string) for t in tokens if t.type == tokenize.NUMBER and "j" not in t.string
        }
    return values


def unchecked_numbers(name: str) -> list[str]:
    nb = load(name)
    literals = code_values(nb)
    allowed = quoted(nb)
    bad = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for token in stated_numbers(cell.source):
            if _value(token) not in literals and token not in allowed:
                bad.append(f"cell {index}: {token}")
    return bad


def test_the_scan_finds_what_it_should():
    text = (
        "## 3.1 Setup\nWe draw 3000 samples; the error is 0.522 (paper: 0.51), 3.3e-15 and "
        "12 % of the weights. See Section 3.3, eq. 4, eqs. 1-4, Table 2, notebook 05, "
        "[the paper](https://arxiv.org/abs/1511.05077) (Mariet & Sra, 2016), the 784-500-500-10 network, "
        "k = 50 and 10 seeds."
    )
    assert stated_numbers(text) == ["3000", "0.522", "0.51", "3.3e-15", "12"]
    more = (
        "We draw 2000 samples of 60,000 images (1\\,012\\,010 weights); Table 2, 0.54; it took "
        "1.5s, 2.5x faster, 3.3E-15, 12\\% and 7 percent (Saad & Solla 1995; Mariet & Sra, ICLR 2016)."
    )
    assert stated_numbers(more) == [
        "2000", "60000", "1012010", "0.54", "1.5", "2.5", "3.3E-15", "12", "7"
    ]  # fmt: skip


def test_only_code_counts_not_comments_or_strings():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "%matplotlib inline\nn = 2_000  # 3000 in a comment\nprint('0.5')"
        ),
        nbformat.v4.new_code_cell("assert abs(err - 0.0201) < 1e-4"),
    ]
    assert code_values(nb) == {2000.0, 0.0201, 1e-4}


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
