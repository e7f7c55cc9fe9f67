"""The ``divnet-nb`` command line's parser, generated from the registered experiments.

Every experiment of :mod:`divnet_nb.tasks.protocol` is one subcommand: its own options
come from its :meth:`~divnet_nb.tasks.protocol.ExperimentProtocol.add_arguments`, and the
options they share (:data:`~divnet_nb.tasks.protocol.SHARED_OPTIONS`: ``--fast``/``--full``,
``--out``, ``--fresh``, ``--quiet``, ``--jobs``, ``--threads``, ``--scheduler``) are
defined once here, as argparse parent parsers, and given to each experiment that lists
them. ``data`` is a plain command. Types only: the values are checked by each
experiment's settings and by :mod:`divnet_nb.cli` before any work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__
from .tasks.protocol import experiments

__all__ = ["build_parser"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (and exit code 2), pointing to --help."""

    def error(self, message):
        self.exit(2, f"divnet-nb: error: {message} (see {self.prog} --help)\n")


def _shared() -> dict[str, argparse.ArgumentParser]:
    """One parent parser per shared option."""

    def parent():
        return argparse.ArgumentParser(add_help=False)

    out = {
        name: parent() for name in ("fast", "out", "fresh", "quiet", "jobs", "threads", "scheduler")
    }
    mode = out["fast"].add_mutually_exclusive_group()
    mode.add_argument(
        "--fast",
        action="store_true",
        default=None,
        help="small run of the same code: data subsets, fewer networks and sizes (also DIVNET_FAST=1)",
    )
    mode.add_argument(
        "--full",
        action="store_false",
        dest="fast",
        help="full run even when DIVNET_FAST or CI is set",
    )
    out["out"].add_argument(
        "--out",
        type=Path,
        help="output folder (default: a folder named after the command under results/, or $DIVNET_RESULTS)",
    )
    out["fresh"].add_argument(
        "--fresh", action="store_true", help="ignore finished parts of an earlier run; compute all"
    )
    out["quiet"].add_argument("--quiet", action="store_true", help="no progress bars")
    out["jobs"].add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="run parts on N local worker processes (default 1: in this process)",
    )
    out["threads"].add_argument(
        "--threads",
        type=int,
        metavar="T",
        help="BLAS and torch threads inside every part (default: the machine's cores / N; "
        "1 on a Dask cluster)",
    )
    out["scheduler"].add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run parts on the workers of a Dask scheduler, e.g. tcp://127.0.0.1:8786 "
        "(pip install 'divnet-nb[cluster]')",
    )
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="divnet-nb",
        description="DivNet (Mariet & Sra, ICLR 2016): prune networks with k-DPPs and fuse the removed neurons.",
    )
    parser.add_argument("--version", action="version", version=f"divnet-nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    shared = _shared()
    for exp in experiments():
        command = sub.add_parser(
            exp.name,
            help=exp.help,
            description=exp.description,
            parents=[shared[name] for name in exp.options],
        )
        exp.add_arguments(command)
    sub.add_parser("data", help="where datasets are looked for, and which are there")
    return parser
