"""The ``divnet-nb`` command.

``divnet-nb reproduce --dataset mnist`` trains (or loads) the Table 1 networks and
writes Figures 2-8, Table 2 and a report to ``results/mnist/``; ``divnet-nb data`` says
where datasets are looked for and which are there.

Every input is checked before any data is read or any network trained, by code that
imports neither torch nor a dataset: a mistake (unknown dataset, impossible sizes or
subsets, a negative seed, a bad ``DIVNET_FAST``, an output folder that cannot be
written, an unknown method) ends with a one-line message and exit code 2 at once. So
do a missing or corrupt dataset file (its message names the file and how to fix it).
An internal error still shows its traceback. A run interrupted with Ctrl-C keeps every
finished part; the same command resumes it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from . import __version__
from .datasets import DATASETS, DatasetError, DatasetNotFoundError, splits
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
    sub.add_parser("data", help="where datasets are looked for, and which are there")
    return parser


def _fast(args) -> bool:
    if args.fast is not None:
        return args.fast
    try:
        return fast_mode()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _writable_folder(path: Path) -> Path:
    """Create ``path`` (with parents) and check that files can be written in it."""
    path = Path(path).expanduser().absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".divnet-nb-write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UsageError(
            f"--out {path} cannot be used: {exc.strerror or exc} (choose a folder you can write)"
        ) from None
    return path


def _checked(args):
    """Settings and output folder for ``reproduce``, every input checked; no torch, no data."""
    from .experiments.settings import FAST, settings_for
    from .nets.table1 import table1_sizes
    from .pruning.registry import variants

    fast = _fast(args)
    for flag in ("seed", "data_seed", "kernel_seed"):
        value = getattr(args, flag)
        if value is not None and value < 0:
            raise UsageError(f"--{flag.replace('_', '-')} must be >= 0; got {value}")
    overrides = {"seed": args.seed, "data_seed": args.data_seed, "kernel_seed": args.kernel_seed}
    if args.instances is not None and args.instances < 1:
        raise UsageError(f"--instances must be >= 1; got {args.instances}")
    if args.methods is not None:
        try:
            variants(args.methods)
        except ValueError as exc:
            raise UsageError(f"--methods: {exc}") from None
        overrides["methods"] = tuple(args.methods)
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
    n_train, n_test = splits(args.dataset)
    fast_subsets = FAST.get(args.dataset, {}) if fast else {}
    for flag, key, total, split in (
        ("train_samples", "n_train", n_train, "training"),
        ("test_samples", "n_test", n_test, "test"),
    ):
        value = getattr(args, flag)
        if value is not None:
            if not 1 <= value <= total:
                raise UsageError(
                    f"--{flag.replace('_', '-')} must be between 1 and {total} (the {split} "
                    f"set of {args.dataset}); got {value}"
                )
            overrides[key] = value
    if args.kernel_samples is not None:
        available = overrides.get("n_train", fast_subsets.get("n_train", n_train))
        if not 1 <= args.kernel_samples <= available:
            raise UsageError(
                f"--kernel-samples must be between 1 and {available} (the training inputs "
                f"used); got {args.kernel_samples}"
            )
        overrides["n_kernel"] = args.kernel_samples
    settings = settings_for(args.dataset, fast=fast, instances=args.instances, **overrides)
    out = _writable_folder(args.out if args.out is not None else results_dir() / args.dataset)
    return settings, out


def _reproduce(args) -> int:
    settings, out = _checked(args)
    from .experiments import reproduce
    from .report import write_report

    parts = out / ".parts"
    if args.fresh and parts.is_dir():
        import shutil

        shutil.rmtree(parts)
    try:
        results = reproduce(
            args.dataset, settings=settings, progress=not args.quiet, store_root=parts
        )
    except KeyboardInterrupt:
        print(
            f"divnet-nb: interrupted; the finished parts are kept in {parts}: run the same "
            f"command again to resume",
            file=sys.stderr,
        )
        return 130
    report = write_report(results, out)
    if not args.quiet:
        print(f"divnet-nb: report written to {report}", file=sys.stderr)
    failing = [c for c in results["claims"] if c["holds"] is False]
    print(f"divnet-nb: {args.dataset}: {settings.instances} networks, report at {report}")
    if failing:
        print(
            f"divnet-nb: {len(failing)} of the paper's claims do not hold on these measurements; see the report"
        )
    return 0


def _leaderboard(args) -> int:
    from .experiments.settings import FAST, settings_for

    fast = _fast(args)
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0; got {args.seed}")
    if args.instances is not None and args.instances < 1:
        raise UsageError(f"--instances must be >= 1; got {args.instances}")
    extra = {}
    if args.kernel_samples is not None:
        n_train = FAST.get(args.dataset, {}).get("n_train") if fast else None
        available = n_train or splits(args.dataset)[0]
        if not 1 <= args.kernel_samples <= available:
            raise UsageError(
                f"--kernel-samples must be between 1 and {available} (the training inputs "
                f"used); got {args.kernel_samples}"
            )
        extra["n_kernel"] = args.kernel_samples
    settings = settings_for(
        args.dataset, fast=fast, instances=args.instances, seed=args.seed, **extra
    )
    out = _writable_folder(
        args.out if args.out is not None else results_dir() / f"leaderboard-{args.dataset}"
    )
    import json

    from ._io import atomic_write
    from .experiments import Experiment
    from .experiments.leaderboard import leaderboard, summarise
    from .pruning.registry import get_method
    from .report.figures import plot_leaderboard, save_figure

    parts = out / ".parts"
    if args.fresh and parts.is_dir():
        import shutil

        shutil.rmtree(parts)
    try:
        exp = Experiment(args.dataset, settings, progress=not args.quiet, store_root=parts)
        board = leaderboard(exp)
    except KeyboardInterrupt:
        print(f"divnet-nb: interrupted; finished parts are kept in {parts}", file=sys.stderr)
        return 130
    labels = {e["method"]: get_method(e["method"]).label for e in board["entries"]}
    with atomic_write(out / "leaderboard.json", "w") as f:
        json.dump(board, f, indent=1)
    with atomic_write(out / "leaderboard.md", "w") as f:
        f.write(summarise(board, labels))
    save_figure(lambda ax: plot_leaderboard(board, labels, ax=ax), out / "leaderboard.png",
                figsize=(7.2, 4.6))  # fmt: skip
    print(f"divnet-nb: {args.dataset}: leaderboard at {out / 'leaderboard.md'}")
    return 0


def _edges(args) -> int:
    from .experiments.settings import settings_for

    fast = _fast(args)
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0; got {args.seed}")
    if args.instances is not None and args.instances < 1:
        raise UsageError(f"--instances must be >= 1; got {args.instances}")
    settings = settings_for(args.dataset, fast=fast, instances=args.instances, seed=args.seed)
    out = _writable_folder(
        args.out if args.out is not None else results_dir() / f"edges-{args.dataset}"
    )
    import json

    from ._io import atomic_write
    from .experiments import Experiment
    from .experiments.edges import edge_experiment
    from .report.edges import edges_markdown, plot_edges
    from .report.figures import save_figure

    parts = out / ".parts"
    if args.fresh and parts.is_dir():
        import shutil

        shutil.rmtree(parts)
    try:
        exp = Experiment(args.dataset, settings, progress=not args.quiet, store_root=parts)
        result = edge_experiment(exp)
    except KeyboardInterrupt:
        print(f"divnet-nb: interrupted; finished parts are kept in {parts}", file=sys.stderr)
        return 130
    with atomic_write(out / "edges.json", "w") as f:
        json.dump(result, f, indent=1)
    with atomic_write(out / "edges.md", "w") as f:
        f.write(edges_markdown(result) + "\n")
    save_figure(lambda ax: plot_edges(result, ax=ax), out / "edges.png", figsize=(7.2, 4.6))
    print(f"divnet-nb: {args.dataset}: edge pruning at {out / 'edges.md'}")
    return 0


def _theory(args) -> int:
    fast = _fast(args)
    for name in ("students", "M", "K"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name} must be >= 1; got {getattr(args, name)}")
    if args.K < 2:
        raise UsageError(f"--K must be >= 2 (a student to prune); got {args.K}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0; got {args.seed}")
    out = _writable_folder(
        args.out if args.out is not None else results_dir() / f"theory-M{args.M}-K{args.K}"
    )
    import json

    from matplotlib.figure import Figure

    from ._io import atomic_write
    from .theory.experiment import (
        FAST_SETTINGS,
        plot_learning_curves,
        plot_pruned,
        teacher_student_experiment,
        theory_markdown,
    )

    settings = dict(FAST_SETTINGS) if fast else {}
    result = teacher_student_experiment(
        M=args.M, K=args.K, students=args.students, seed=args.seed, progress=not args.quiet,
        **settings,
    )  # fmt: skip
    from .experiments.reference import environment

    result["environment"] = environment()
    with atomic_write(out / "theory.json", "w") as f:
        json.dump(result, f, indent=1)
    with atomic_write(out / "theory.md", "w") as f:
        f.write(theory_markdown(result) + "\n")
    fig = Figure(figsize=(12, 4.6))
    left, right = fig.subplots(1, 2)
    plot_pruned(result, left)
    plot_learning_curves(result, right)
    fig.tight_layout()
    with atomic_write(out / "theory.png") as handle:
        fig.savefig(handle, dpi=120, format="png")
    print(f"divnet-nb: teacher-student analysis at {out / 'theory.md'}")
    return 0


def _data(_args) -> int:
    from .datasets import status

    print(f"data folder:  {data_dir()}  (set DIVNET_DATA to change)")
    print(f"cache folder: {cache_dir()}  (set DIVNET_CACHE to change)")
    try:
        fast = "on" if fast_mode() else "off"
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"fast mode:    {fast}  (DIVNET_FAST)")
    for name, line in status(verify=False).items():
        print(f"  {name:10s} {line}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``divnet-nb`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "reproduce":
            return _reproduce(args)
        if args.command == "leaderboard":
            return _leaderboard(args)
        if args.command == "edges":
            return _edges(args)
        if args.command == "theory":
            return _theory(args)
        return _data(args)
    except (UsageError, DatasetNotFoundError, DatasetError) as exc:
        message = " ".join(str(exc).split())
        print(f"divnet-nb: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("divnet-nb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
