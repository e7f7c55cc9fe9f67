"""The ``divnet-nb`` command.

``divnet-nb reproduce --dataset mnist`` trains (or loads) the Table 1 networks and
writes Figures 2-8, Table 2 and a report to ``results/mnist/``; ``divnet-nb data``
says where datasets are looked for and which are there. Mistakes in the command
(unknown dataset, impossible sizes, missing data) end with a one-line message and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__
from .datasets import DATASETS, DatasetNotFoundError
from .paths import cache_dir, data_dir, fast_mode, results_dir

__all__ = ["main"]


class UsageError(ValueError):
    """A command-line value that cannot work."""


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


def _parser() -> argparse.ArgumentParser:
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
        "and write results.json, one PNG per figure and report.md.",
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
    rep.add_argument("--seed", type=int, default=0, help="first instance's seed (default 0)")
    rep.add_argument(
        "--out", type=Path, help="output folder (default results/<dataset>/, or $DIVNET_RESULTS)"
    )
    rep.add_argument("--quiet", action="store_true", help="no progress bars")
    sub.add_parser("data", help="where datasets are looked for, and which are there")
    return parser


def _settings(args):
    from .experiments import settings_for
    from .nets import table1_sizes
    from .pruning import variants

    overrides = {"seed": args.seed}
    if args.methods is not None:
        try:
            variants(args.methods)
        except ValueError as exc:
            raise UsageError(f"--methods: {exc}") from None
        overrides["methods"] = tuple(args.methods)
    if args.instances is not None and args.instances < 1:
        raise UsageError(f"--instances must be >= 1; got {args.instances}")
    layer_sizes = table1_sizes(args.dataset)[1:-1]
    if args.sizes is not None:
        smallest = min(layer_sizes[:2])
        bad = [k for k in args.sizes if not 1 <= k < smallest]
        if bad or not args.sizes:
            raise UsageError(
                f"--sizes must be kept-neuron counts with 1 <= k < {smallest} (the layer size); "
                f"got {list(args.sizes)}"
            )
        overrides["sweep_fractions"] = tuple(k / smallest for k in args.sizes)
    if args.fractions is not None:
        bad = [f for f in args.fractions if not 0.0 < f <= 1.0]
        if bad or not args.fractions:
            raise UsageError(f"--fractions must lie in (0, 1]; got {list(args.fractions)}")
        overrides["table_fractions"] = tuple(args.fractions)
    for flag, key in (
        ("kernel_samples", "n_kernel"),
        ("train_samples", "n_train"),
        ("test_samples", "n_test"),
    ):
        value = getattr(args, flag)
        if value is not None:
            if value < 1:
                raise UsageError(f"--{flag.replace('_', '-')} must be >= 1; got {value}")
            overrides[key] = value
    return settings_for(args.dataset, fast=args.fast, instances=args.instances, **overrides)


def _reproduce(args) -> int:
    from .experiments import reproduce
    from .report import write_report

    settings = _settings(args)
    out = args.out if args.out is not None else results_dir() / args.dataset
    results = reproduce(args.dataset, settings=settings, progress=not args.quiet)
    report = write_report(results, out)
    if not args.quiet:
        print(f"divnet-nb: report written to {report}", file=sys.stderr)
    claims = [c for c in results["claims"] if c["holds"] is False]
    print(f"divnet-nb: {args.dataset}: {settings.instances} networks, report at {report}")
    if claims:
        print(
            f"divnet-nb: {len(claims)} of the paper's claims do not hold on these measurements; see the report"
        )
    return 0


def _data(_args) -> int:
    from .datasets import status

    print(f"data folder:  {data_dir()}  (set DIVNET_DATA to change)")
    print(f"cache folder: {cache_dir()}  (set DIVNET_CACHE to change)")
    print(f"fast mode:    {'on' if fast_mode() else 'off'}  (DIVNET_FAST)")
    for name, line in status(verify=False).items():
        print(f"  {name:10s} {line}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``divnet-nb`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "reproduce":
            return _reproduce(args)
        return _data(args)
    except (UsageError, DatasetNotFoundError) as exc:
        message = " ".join(str(exc).split())
        print(f"divnet-nb: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("divnet-nb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
