"""The ``divnet-nb`` command line's parser: every subcommand and option, with its help.

Types only: the values are checked by :mod:`divnet_nb.cli` before any work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__
from .datasets import DATASETS

__all__ = ["build_parser"]


def _comma_list(cast, what: str):
    """An argparse type: comma-separated values, each converted by ``cast``."""

    def parse(text: str) -> tuple:
        try:
            return tuple(cast(x) for x in text.split(",") if x.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated {what}, got {text!r}"
            ) from None

    return parse


_floats = _comma_list(float, "numbers")
_ints = _comma_list(int, "integers")
_names = _comma_list(str.strip, "names")


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (and exit code 2), pointing to --help."""

    def error(self, message):
        self.exit(2, f"divnet-nb: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="divnet-nb",
        description="DivNet (Mariet & Sra, ICLR 2016): prune networks with k-DPPs and fuse the removed neurons.",
    )
    parser.add_argument("--version", action="version", version=f"divnet-nb {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser(
        "reproduce",
        help="train the Table 1 networks and reproduce Figures 2-8 and Table 2",
        description="Train (or load from the cache) the networks, prune them with every method, "
        "and write results.json, one PNG per figure and report.md. Finished parts are kept "
        "in <out>/.parts: the same command resumes an interrupted run.",
    )
    rep.add_argument(
        "--dataset", required=True, choices=DATASETS, help="which dataset (digits works offline)"
    )
    rep.add_argument("--instances", type=int, help="networks to train (Table 1: 5; fast mode: 2)")
    mode = rep.add_mutually_exclusive_group()
    mode.add_argument(
        "--fast",
        action="store_true",
        default=None,
        help="small run of the same code: data subsets, 2 instances, few sizes (also DIVNET_FAST=1)",
    )
    mode.add_argument(
        "--full",
        action="store_false",
        dest="fast",
        help="full run even when DIVNET_FAST or CI is set",
    )
    rep.add_argument(
        "--sizes",
        type=_ints,
        help="neurons kept in the swept layer for Figures 2-8, e.g. 10,50,100",
    )
    rep.add_argument(
        "--fractions",
        type=_floats,
        help="fractions of hidden neurons kept for Table 2, in (0, 1] (default 0.1,0.25,0.5,0.75,1)",
    )
    rep.add_argument(
        "--methods",
        type=_names,
        help="registered neuron-selection methods to compare, each without and with fusion "
        "(default dpp,random,importance)",
    )
    rep.add_argument(
        "--kernel-samples",
        type=int,
        help="training inputs used to build the kernel and the fusion (default: all)",
    )
    rep.add_argument("--train-samples", type=int, help="use a random subset of the training set")
    rep.add_argument("--test-samples", type=int, help="use a random subset of the test set")
    rep.add_argument(
        "--seed",
        type=int,
        default=0,
        help="network i is trained with seed + i; the pruning draws and, unless given, "
        "the data and kernel subsets derive from it too (default 0)",
    )
    rep.add_argument("--data-seed", type=int, help="seed of the data subsets (default: --seed)")
    rep.add_argument("--kernel-seed", type=int, help="seed of the kernel subset (default: --seed)")
    rep.add_argument(
        "--out", type=Path, help="output folder (default results/<dataset>/, or $DIVNET_RESULTS)"
    )
    rep.add_argument(
        "--fresh", action="store_true", help="ignore finished parts of an earlier run; compute all"
    )
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    board = sub.add_parser(
        "leaderboard",
        help="every selection rule with fusion, Table 2 style: which neurons should we keep?",
        description="Prune every hidden layer of the Table 1 networks with every registered rule "
        "(followed by fusion) at 5-75 %% kept, with the budget shared across layers and the "
        "fusion targeted at the original network for the best rules; write leaderboard.json, "
        "leaderboard.md and leaderboard.png. Resumable like reproduce.",
    )
    board.add_argument("--dataset", required=True, choices=DATASETS)
    board.add_argument("--instances", type=int, help="networks (default: Table 1's 5; fast: 2)")
    bmode = board.add_mutually_exclusive_group()
    bmode.add_argument("--fast", action="store_true", default=None, help="data subsets, 2 networks")
    bmode.add_argument("--full", action="store_false", dest="fast", help="full run even in CI")
    board.add_argument("--seed", type=int, default=0, help="as for reproduce (default 0)")
    board.add_argument(
        "--kernel-samples",
        type=int,
        help="training inputs for the statistics of every layer (default: all)",
    )
    board.add_argument(
        "--out", type=Path, help="output folder (default results/leaderboard-<dataset>/)"
    )
    board.add_argument("--fresh", action="store_true", help="ignore finished parts; compute all")
    board.add_argument("--quiet", action="store_true", help="no progress bars")
    edges = sub.add_parser(
        "edges",
        help="DPP edge pruning of the first hidden layer against random, magnitude and node pruning",
        description="Keep 10-90 %% of every first-layer unit's incoming weights with the "
        "registered edge rules (DPP edge, random, magnitude), each with and without edge "
        "reweighting, and prune nodes at the same parameter count (DivNet, importance, swaps, "
        "with fusion); write edges.json, edges.md and edges.png. Resumable like reproduce.",
    )
    edges.add_argument("--dataset", required=True, choices=DATASETS)
    edges.add_argument("--instances", type=int, help="networks (default: Table 1's 5; fast: 2)")
    emode = edges.add_mutually_exclusive_group()
    emode.add_argument("--fast", action="store_true", default=None, help="data subsets, 2 networks")
    emode.add_argument("--full", action="store_false", dest="fast", help="full run even in CI")
    edges.add_argument("--seed", type=int, default=0, help="as for reproduce (default 0)")
    edges.add_argument("--out", type=Path, help="output folder (default results/edges-<dataset>/)")
    edges.add_argument("--fresh", action="store_true", help="ignore finished parts; compute all")
    edges.add_argument("--quiet", action="store_true", help="no progress bars")
    theory = sub.add_parser(
        "theory",
        help="the teacher-student analysis: pruned students' exact errors, node vs edge rules",
        description="Train students on a teacher by online SGD (N inputs, M teacher and K "
        "student units), compare with the ODEs, and prune each student with every node and "
        "edge rule at matched parameter counts; write theory.json, theory.md and theory.png "
        "with the verdicts of claims (1) and (2). Seconds to minutes: not resumable, rerun.",
    )
    tmode = theory.add_mutually_exclusive_group()
    tmode.add_argument("--fast", action="store_true", default=None, help="N = 100, short runs")
    tmode.add_argument("--full", action="store_false", dest="fast", help="full run even in CI")
    theory.add_argument("--students", type=int, default=3, help="independent students (default 3)")
    theory.add_argument("--M", type=int, default=2, help="teacher units (default 2)")
    theory.add_argument("--K", type=int, default=6, help="student units (default 6)")
    theory.add_argument("--seed", type=int, default=0, help="seed of every draw (default 0)")
    theory.add_argument(
        "--out", type=Path, help="output folder (default results/theory-M<M>-K<K>/)"
    )
    theory.add_argument("--quiet", action="store_true", help="no progress bars")
    gates = sub.add_parser(
        "gates",
        help="pruning while training (L0 hard-concrete, DiffPrune-style gates) vs DivNet at matched sizes",
        description="Train the Table 1 MNIST network and LeNet-300-100 from scratch with "
        "neuron and weight gates over a sweep of penalty factors; prune the plain networks "
        "of the same seeds to the same kept neurons (DivNet, greedy + swaps, with fusion) or "
        "weights (magnitude), without and with fine-tuning; write gates.json, gates.md and "
        "gates.png. Resumable like reproduce; --shard I/N lets N processes share the work.",
    )
    gates.add_argument("--dataset", default="mnist", choices=("mnist", "mnist_rot"))
    gates.add_argument("--seeds", type=int, help="seeds per setting (default 3; fast: 1)")
    gmode = gates.add_mutually_exclusive_group()
    gmode.add_argument("--fast", action="store_true", default=None, help="LeNet only, short runs")
    gmode.add_argument("--full", action="store_false", dest="fast", help="full run even in CI")
    gates.add_argument(
        "--shard", default="0/1", help="compute every N-th run starting at I (I/N; default 0/1)"
    )
    gates.add_argument("--out", type=Path, help="output folder (default results/gates-<dataset>/)")
    gates.add_argument("--fresh", action="store_true", help="ignore finished parts; compute all")
    gates.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.add_parser("data", help="where datasets are looked for, and which are there")
    return parser
