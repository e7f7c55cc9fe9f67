"""The ``divnet-nb`` command.

One subcommand per registered experiment (:mod:`divnet_nb.tasks.protocol`: ``reproduce``,
``leaderboard``, ``kernels``, ``edges``, ``theory``, ``gates``), all handled by
:func:`_run`: the experiment's settings are made from the options, the output folder is
checked, the parts run on the chosen executor (this process, ``--jobs N`` local worker
processes, or the Dask cluster of ``--scheduler``) with every finished part kept in
``<out>/.parts``, and the result is written by the experiment's writer
(:mod:`divnet_nb.report.outputs`).
``divnet-nb data`` says where datasets are looked for and which are there.

Every input is checked before any data is read or any network trained, by code that
imports neither torch nor a dataset: a mistake (unknown dataset, impossible sizes or
subsets, a negative seed, a bad ``DIVNET_FAST``, an output folder that cannot be
written, an unknown method, a bad ``--jobs``) ends with a one-line message and exit code
2 at once; so do a missing or corrupt dataset file (its message names the file and how to
fix it) and an unreachable scheduler. A part that fails ends the run with one line naming
the part (exit code 1; its traceback is kept beside the finished parts). An internal
error of the command itself still shows its traceback. A run interrupted with Ctrl-C
keeps every finished part; the same command resumes it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from ._cli_parser import build_parser
from .datasets import DatasetError, DatasetNotFoundError
from .paths import fast_mode, folders, results_dir
from .tasks.protocol import SettingError, get_experiment

__all__ = ["main"]


class UsageError(ValueError):
    """A command-line value that cannot work."""


def _fast(args) -> bool:
    if getattr(args, "fast", None) is not None:
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


def _settings(protocol, args):
    """The experiment's settings; a setting's mistake is shown under its option's name."""
    try:
        return protocol.settings_from_args(args, _fast(args))
    except SettingError as exc:
        names = getattr(protocol, "option_names", {})
        raise UsageError(exc.as_option(names.get(exc.field, exc.field))) from None
    except ValueError as exc:  # any other setting that cannot work: one line, exit code 2
        raise UsageError(str(exc)) from None


def _executor(args):
    """The executor and the threads per part of ``--jobs``, ``--threads`` and ``--scheduler``."""
    from .tasks.executors import default_threads, make_executor

    jobs = getattr(args, "jobs", 1)
    threads = getattr(args, "threads", None)
    scheduler = getattr(args, "scheduler", None)
    if jobs < 1:
        raise UsageError(f"--jobs must be >= 1; got {jobs}")
    if threads is not None and threads < 1:
        raise UsageError(f"--threads must be >= 1; got {threads}")
    try:
        executor = make_executor(jobs, scheduler)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if scheduler is not None:
        try:  # connect now: an unreachable scheduler is a usage error, before any work
            executor.workers  # noqa: B018
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if threads is None and scheduler is not None:
        threads = 1
    elif threads is None and jobs > 1:
        threads = default_threads(jobs)
    return executor, threads


def _run(args) -> int:
    """Run one experiment from the command line: settings, folder, parts, files."""
    import shutil

    from .tasks.driver import run_experiment
    from .tasks.executors import InProcess, PartFailed

    protocol = get_experiment(args.command)
    settings = _settings(protocol, args)
    out = _writable_folder(
        args.out if args.out is not None else results_dir() / protocol.default_out(settings)
    )
    executor, threads = _executor(args)
    parts = out / ".parts"
    if args.fresh and parts.is_dir():
        shutil.rmtree(parts)
    progress = not args.quiet
    try:
        with executor:
            local = protocol.local(settings, progress)
            with local if isinstance(executor, InProcess) else contextlib.nullcontext():
                result = run_experiment(
                    protocol,
                    settings,
                    store_root=parts,
                    executor=executor,
                    threads=threads,
                    progress=progress,
                )
    except KeyboardInterrupt:
        print(
            f"divnet-nb: interrupted; the finished parts are kept in {parts}: run the same "
            f"command again to resume",
            file=sys.stderr,
        )
        return 130
    except PartFailed as exc:
        where = getattr(exc, "log", None)
        print(
            f"divnet-nb: error: {exc}" + (f" (traceback in {where})" if where else ""),
            file=sys.stderr,
        )
        return 1
    from .report.outputs import write_outputs

    report = write_outputs(result, out)
    if progress:
        print(f"divnet-nb: {protocol.name}: report written to {report}", file=sys.stderr)
    print(
        f"divnet-nb: {protocol.name} on {result.get('dataset', settings.dataset)}: report at {report}"
    )
    failing = [
        c for c in result.get("claims", []) if isinstance(c, dict) and c.get("holds") is False
    ]
    if failing:
        print(
            f"divnet-nb: {len(failing)} of the paper's claims do not hold on these "
            f"measurements; see the report"
        )
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
        if args.command == "data":
            return _data(args)
        return _run(args)
    except (UsageError, DatasetNotFoundError, DatasetError) as exc:
        message = " ".join(str(exc).split())
        print(f"divnet-nb: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("divnet-nb: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
