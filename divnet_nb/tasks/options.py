"""Argument types the experiments' command-line options share (argparse types only, no checks).

The values are checked by each experiment's settings, never here: an option only turns
text into numbers or names.
"""

from __future__ import annotations

import argparse

__all__ = ["comma_list", "floats", "ints", "names"]


def comma_list(cast, what: str):
    """An argparse type: comma-separated values, each converted by ``cast``."""

    def parse(text: str) -> tuple:
        try:
            return tuple(cast(x) for x in text.split(",") if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {what}, got {text!r}"
            ) from None

    return parse


floats = comma_list(float, "numbers")
ints = comma_list(int, "integers")
names = comma_list(str.strip, "names")
