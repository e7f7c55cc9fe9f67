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

import os
import sys
import tempfile
from pathlib import Path

from ._cli_parser import build_parser
from .datasets import DatasetError, DatasetNotFoundError, splits
from .paths import fast_mode, folders, results_dir

__all__ = ["main"]


class UsageError(ValueError):
    """A command-line value that cannot work."""


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
    from .experiments import Experiment
    from .experiments.leaderboard import leaderboard, summarise
    from .pruning.registry import get_method
    from .report.figures import plot_leaderboard, save_figure

    def labels(board):
        return {e["method"]: get_method(e["method"]).label for e in board["entries"]}

    return _run_resumable(
        args,
        "leaderboard",
        lambda parts: leaderboard(
            Experiment(args.dataset, settings, progress=not args.quiet, store_root=parts)
        ),
        lambda board: summarise(board, labels(board)),
        lambda board, path: save_figure(
            lambda ax: plot_leaderboard(board, labels(board), ax=ax), path, figsize=(7.2, 4.6)
        ),
        "leaderboard",
    )


def _edges(args) -> int:
    from .experiments.settings import settings_for

    fast = _fast(args)
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0; got {args.seed}")
    if args.instances is not None and args.instances < 1:
        raise UsageError(f"--instances must be >= 1; got {args.instances}")
    settings = settings_for(args.dataset, fast=fast, instances=args.instances, seed=args.seed)
    from .experiments import Experiment
    from .experiments.edges import edge_experiment
    from .report.edges import edges_markdown, plot_edges
    from .report.figures import save_figure

    return _run_resumable(
        args,
        "edges",
        lambda parts: edge_experiment(
            Experiment(args.dataset, settings, progress=not args.quiet, store_root=parts)
        ),
        lambda result: edges_markdown(result) + "\n",
        lambda result, path: save_figure(
            lambda ax: plot_edges(result, ax=ax), path, figsize=(7.2, 4.6)
        ),
        "edge pruning",
    )


def _shard(text: str) -> tuple[int, int]:
    try:
        index, count = (int(p) for p in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard must be I/N with integers, e.g. 0/2; got {text!r}") from None
    if not (count >= 1 and 0 <= index < count):
        raise UsageError(f"--shard I/N needs 0 <= I < N; got {text!r}")
    return index, count


def _gates(args) -> int:
    fast = _fast(args)
    shard = _shard(args.shard)
    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1; got {args.seeds}")
    from .experiments.gates import gate_settings

    overrides = {"dataset": args.dataset}
    if args.seeds is not None:
        overrides["seeds"] = args.seeds
    settings = gate_settings(fast, **overrides)
    from .experiments.gates import gate_experiment
    from .report.gates import gates_markdown, save_gates_figure

    return _run_resumable(
        args,
        "gates",
        lambda parts: gate_experiment(
            settings, store_root=parts, progress=not args.quiet, shard=shard
        ),
        lambda result: gates_markdown(result) + "\n",
        save_gates_figure,
        "gated training vs post-hoc pruning",
    )


def _run_resumable(args, name: str, compute, markdown, figure, what: str) -> int:
    """What the resumable commands share: the output folder, --fresh, Ctrl-C, the three files.

    ``compute(parts)`` runs the experiment with its store under ``<out>/.parts`` and returns
    the result (None when a shard has done its share); ``<name>.json``, ``<name>.md``
    (``markdown(result)``) and ``<name>.png`` (``figure(result, path)``) are written.
    """
    out = _writable_folder(
        args.out if args.out is not None else results_dir() / f"{name}-{args.dataset}"
    )
    parts = out / ".parts"
    if args.fresh and parts.is_dir():
        import shutil

        shutil.rmtree(parts)
    try:
        result = compute(parts)
    except KeyboardInterrupt:
        print(f"divnet-nb: interrupted; finished parts are kept in {parts}", file=sys.stderr)
        return 130
    if result is None:
        print(f"divnet-nb: shard {args.shard} done; run again without --shard to gather")
        return 0
    import json

    from ._io import atomic_write

    with atomic_write(out / f"{name}.json", "w") as f:
        json.dump(result, f, indent=1)
    with atomic_write(out / f"{name}.md", "w") as f:
        f.write(markdown(result))
    figure(result, out / f"{name}.png")
    print(f"divnet-nb: {args.dataset}: {what} at {out / f'{name}.md'}")
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

    for name, folder in folders().items():
        print(f"{name + ' folder:':16s}{folder.path}  ({folder.why})")
    try:
        fast = "on" if fast_mode() else "off"
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"{'fast mode:':16s}{fast}  (DIVNET_FAST)")
    for name, line in status(verify=False).items():
        print(f"  {name:10s} {line}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``divnet-nb`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "reproduce":
            return _reproduce(args)
        if args.command == "leaderboard":
            return _leaderboard(args)
        if args.command == "edges":
            return _edges(args)
        if args.command == "theory":
            return _theory(args)
        if args.command == "gates":
            return _gates(args)
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
