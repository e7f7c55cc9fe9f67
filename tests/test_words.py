"""What a reader sees speaks of the project only: no words from how it is worked on.

The README, the notebooks (text and stored outputs), the website's sources and the
assignments must not carry an issue number ("issue 11", "issue #11"), the phrases "the
seeds" or "seed documents" (the project's planning papers, not random seeds), or an
absolute path of some machine ("/home/...", "/work/...", "C:\\Users\\...").
A citation of another project's issue ("DPPy issue #61") is a reference, not a leak.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Name -> pattern of a working-process word.
PATTERNS = {
    "an issue number": re.compile(r"\bissues?\s*#?\d+", re.IGNORECASE),
    '"the seeds"': re.compile(r"\bthe seeds\b", re.IGNORECASE),
    '"seed documents"': re.compile(r"\bseed documents?\b", re.IGNORECASE),
    "a machine path": re.compile(
        r"(?<![\w.~-])/(?:home|work|tmp|root|Users|mnt|opt|private/var|var/folders)/[\w.-]"
        r"|\b[A-Z]:\\\\?Users\\\\?"
    ),
}
#: Other projects whose issues we cite by number.
CITED_PROJECTS = ("DPPy",)


def reader_files() -> list[Path]:
    """Every file a reader of the project sees, outside generated folders."""
    docs = [
        p
        for p in (ROOT / "docs").rglob("*")
        if p.suffix in (".md", ".rst", ".txt", ".html")
        and not {"_build", "_autosummary", ".ipynb_checkpoints"} & set(p.parts)
    ]
    return sorted(
        [ROOT / "README.md"]
        + list((ROOT / "notebooks").glob("*.ipynb"))
        + list((ROOT / "assignments").glob("*.ipynb"))
        + list((ROOT / "assignments").glob("*.md"))
        + docs
    )


def leaks(text: str) -> list[str]:
    """Each working-process word in ``text``, with a little context."""
    found = []
    for name, pattern in PATTERNS.items():
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 12) : m.start()]
            if name == "an issue number" and any(p in before for p in CITED_PROJECTS):
                continue
            found.append(f"{name}: ...{text[max(0, m.start() - 40) : m.end() + 20]!r}...")
    return found


@pytest.mark.parametrize("path", reader_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_working_process_words_reach_a_reader(path):
    found = leaks(path.read_text(errors="replace"))
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "text",
    [
        "as issue 11 specifies",
        "see Issue #7",
        "issues 3 and 4",
        "the seeds say so",
        "from the seed documents",
        "saved in /home/alice/divnet-nb/runs",
        "see /work/main/README.md",
        "at /tmp/pytest-3/site",
        r"C:\Users\bob\data",
    ],
)
def test_each_kind_of_leak_is_found(text):
    assert leaks(text)


@pytest.mark.parametrize(
    "text",
    [
        "divnet-nb gates --seeds 3",
        "over 3 seeds",
        "five seeds per network",
        "DPPy issue #61 (quoted)",
        "https://github.com/home/work/tmp",
        "docs/_build/html/index.html",
        "the network cache in runs/ and ~/tmp/x",
        "an open issue in the paper",
    ],
)
def test_ordinary_words_pass(text):
    assert not leaks(text)
