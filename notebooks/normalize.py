"""Normalise executed notebooks before they are committed (run by ``make notebooks``).

* kernelspec ``python3`` and a language_info without version numbers, so a notebook
  does not change when run on another machine;
* no memory addresses (``0x7f...``) and no absolute paths in outputs: the repository,
  the data and cache folders and the home folder become ``<repo>``, ``$DIVNET_DATA``,
  ``$DIVNET_CACHE`` and ``~``; other temporary paths become ``<tmp>``;
* no widget state; execution counts are kept.

Usage: ``python notebooks/normalize.py notebooks/*.ipynb`` (``--check`` only reports).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def _replacements() -> list[tuple[str, str]]:
    pairs = []
    for var, label in (("DIVNET_DATA", "$DIVNET_DATA"), ("DIVNET_CACHE", "$DIVNET_CACHE")):
        value = os.environ.get(var)
        if value:
            pairs.append((str(Path(value).resolve()), label))
    pairs += [(str(REPO / "data"), "$DIVNET_DATA"), (str(REPO / "runs"), "$DIVNET_CACHE"),
              (str(REPO.parent / "shared" / "data"), "$DIVNET_DATA"), (str(REPO), "<repo>"),
              (str(Path.home()), "~")]
    return sorted(pairs, key=lambda p: -len(p[0]))  # longest first


TMP = re.compile(r"/tmp/[^\s'\")\]]*")


def clean_text(text: str) -> str:
    for old, new in _replacements():
        text = text.replace(old, new)
    text = TMP.sub("<tmp>", text)
    return ADDRESS.sub("0x...", text)


def normalize(nb) -> None:
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if "text" in out:
                out["text"] = clean_text(out["text"])
            for key, value in out.get("data", {}).items():
                if key.startswith("text/") and isinstance(value, str):
                    out["data"][key] = clean_text(value)
            out.get("metadata", {}).pop("application/vnd.jupyter.widget-view+json", None)
            if out.get("output_type") == "display_data":
                out["data"].pop("application/vnd.jupyter.widget-view+json", None)


def problems(nb) -> list[str]:
    """What normalisation would change (used by --check and by the tests)."""
    found = []
    if nb.metadata.get("kernelspec", {}).get("name") != "python3":
        found.append("kernelspec is not python3")
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items()
                                             if k.startswith("text/") and isinstance(v, str)]
            for text in texts:
                if ADDRESS.search(text):
                    found.append(f"cell {i}: memory address {ADDRESS.search(text).group()}")
                for absolute in (str(REPO), str(Path.home()) + "/", "/tmp/"):
                    if absolute in text:
                        found.append(f"cell {i}: absolute path {absolute!r}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report problems, change nothing")
    args = parser.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.check:
            for p in problems(nb):
                print(f"{path}: {p}")
                bad += 1
            continue
        normalize(nb)
        nbformat.write(nb, path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
