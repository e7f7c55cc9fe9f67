"""Committed reference results, and the regression check of a reproduction against them.

``reference/<dataset>.json`` holds the per-network numbers of one full reproduction
(every Table 2 cell and every sweep point, for every network), the verdicts of the
paper's claims, and where they came from (package versions, machine, commit). A new
run is checked cell by cell (:func:`compare`): the means of the two runs must agree to

    |ours - reference| <= max(ABS_TOL, SE_FACTOR x sqrt(s_ours^2 / n_ours + s_ref^2 / n_ref))

(s the standard deviations over networks, ddof = 1). Why a statistical tolerance: the
trained networks, and random and importance pruning, come out the same to the last digit
on another machine of the same kind, but the k-DPP samples do not (eigenvectors of
near-repeated eigenvalues are not unique, and the BLAS build and thread count decide
which basis LAPACK returns), so DPP rows are reproducible in distribution only. With the
same networks on both sides the bound is conservative for those rows.

``python -m divnet_nb.experiments.reference results/mnist/results.json`` writes
``reference/mnist.json`` from a finished run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._io import atomic_write
from ..paths import REPO_ROOT, NotACheckoutError, require_checkout
from ..tasks.provenance import environment

__all__ = [
    "ABS_TOL",
    "SE_FACTOR",
    "Mismatch",
    "compare",
    "environment",
    "make_reference",
    "reference_path",
    "load_reference",
    "write_reference",
]

#: Agreement always accepted (0.3 percentage points of error): the round-off of cells that
#: come out the same on both sides (random and importance rows on the same networks).
#: Provenance: set when the references were committed (commit c10114d), not from reruns.
ABS_TOL = 0.003
#: Standard errors of the difference of the two means accepted beyond ABS_TOL: it covers
#: the k-DPP rows, reproducible in distribution only. Provenance: set by design (a normal
#: two-sided tail of 0.3 % per cell) in commit c10114d, not from reruns; a fusion replaced by
#: plain deletion fails it (tests/test_reference.py).
SE_FACTOR = 3.0
#: Where the committed references live (only a checkout of the repository has them).
REFERENCE_DIR = REPO_ROOT / "reference"
_WHAT = "The committed references (reference/*.json)"


def reference_path(dataset: str) -> Path:
    """``reference/<dataset>.json`` in the repository (NotACheckoutError outside a checkout)."""
    require_checkout(_WHAT)
    return REFERENCE_DIR / f"{dataset}.json"


def load_reference(dataset: str) -> dict:
    """The committed reference of a dataset (raises FileNotFoundError when there is none,
    :class:`~divnet_nb.paths.NotACheckoutError`, one of those, outside a checkout)."""
    return json.loads(reference_path(dataset).read_text())


def make_reference(results: dict) -> dict:
    """The part of a reproduction's results that a later run is checked against."""
    env = results.get("environment")
    if env is None:  # a run made before runs recorded their environment
        env = dict(environment(), recorded="when this file was written, not by the run itself")
    else:
        env = dict(env, recorded="by the run")
    return {
        "experiment": "reproduce",
        "dataset": results["dataset"],
        "settings": results["settings"],
        "environment": env,
        "variants": results["variants"],
        "instances": [
            {k: i[k] for k in ("seed", "epochs", "train_error", "test_error", "reached")}
            for i in results["instances"]
        ],
        "sweeps": results["sweeps"],
        "table2": results["table2"],
        "claims": [
            {"claim": c["claim"], "verdict": c["verdict"], "per_size": c["per_size"]}
            for c in results["claims"]
        ],
    }


@dataclass(frozen=True)
class Mismatch:
    """One cell or point where a run and the reference disagree beyond the tolerance."""

    where: str
    ours: float
    reference: float
    tolerance: float

    def __str__(self) -> str:
        return (
            f"{self.where}: ours {self.ours:.4f}, reference {self.reference:.4f}, "
            f"|difference| {abs(self.ours - self.reference):.4f} > tolerance {self.tolerance:.4f}"
        )


def _tolerance(ours: np.ndarray, ref: np.ndarray) -> float:
    se2 = 0.0
    for values in (ours, ref):
        if values.size > 1:
            se2 += float(np.var(values, ddof=1)) / values.size
        else:
            se2 = math.inf
    return max(ABS_TOL, SE_FACTOR * math.sqrt(se2))


def _check(where, ours, ref, out: list[Mismatch], counted: list[float]) -> None:
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    tol = _tolerance(ours, ref)
    diff = abs(float(ours.mean()) - float(ref.mean()))
    counted.append(diff / tol if math.isfinite(tol) else 0.0)
    if diff > tol:
        out.append(Mismatch(where, float(ours.mean()), float(ref.mean()), tol))


def compare(results: dict, reference: dict) -> tuple[list[Mismatch], dict]:
    """Every Table 2 cell and sweep point of ``reference``, checked against ``results``.

    When the run has fewer networks than the reference (and they are the reference's
    first ones, the same seeds), it is compared with those networks of the reference
    only, at the standard error their number implies. Returns the mismatches and a
    summary (number of comparisons, networks compared, the largest |difference| /
    tolerance). Cells the run lacks are mismatches too.
    """
    reference = _same_networks(results, reference)
    out: list[Mismatch] = []
    ratios: list[float] = []
    t_ref, t_ours = reference["table2"], results.get("table2", {})
    for j, fraction in enumerate(t_ref["fractions"]):
        for key, by_set in t_ref["errors"].items():
            for which, values in by_set.items():
                where = f"Table 2, {key}, {which}, {fraction:.0%}"
                try:
                    k = t_ours["fractions"].index(fraction)
                    ours = [row[k] for row in t_ours["errors"][key][which]]
                except (KeyError, ValueError):
                    out.append(Mismatch(where + " (missing)", math.nan, math.nan, 0.0))
                    continue
                _check(where, ours, [row[j] for row in values], out, ratios)
    for layer, sweep in reference["sweeps"].items():
        mine = results.get("sweeps", {}).get(layer)
        for j, size in enumerate(sweep["sizes"]):
            for key, values in sweep["test_error"].items():
                where = f"layer {int(layer) + 1} sweep, {key}, {size} kept"
                try:
                    k = mine["sizes"].index(size)
                    ours = [row[k] for row in mine["test_error"][key]]
                except (KeyError, ValueError, TypeError):
                    out.append(Mismatch(where + " (missing)", math.nan, math.nan, 0.0))
                    continue
                _check(where, ours, [row[j] for row in values], out, ratios)
    summary = {
        "comparisons": len(ratios),
        "networks": len(reference.get("instances", [])) or None,
        "largest_ratio": max(ratios, default=0.0),
    }
    return out, summary


def _same_networks(results: dict, reference: dict) -> dict:
    """The reference restricted to the run's networks, when those are the reference's first ones."""
    ours = [i["seed"] for i in results.get("instances", [])]
    theirs = [i["seed"] for i in reference.get("instances", [])]
    if not ours or len(ours) >= len(theirs) or theirs[: len(ours)] != ours:
        return reference
    n = len(ours)
    ref = dict(reference, instances=reference["instances"][:n])
    ref["table2"] = dict(
        reference["table2"],
        errors={
            k: {w: rows[:n] for w, rows in by.items()}
            for k, by in reference["table2"]["errors"].items()
        },
    )
    ref["sweeps"] = {
        layer: dict(sweep, test_error={k: rows[:n] for k, rows in sweep["test_error"].items()})
        for layer, sweep in reference["sweeps"].items()
    }
    return ref


def write_reference(result: dict, folder: Path = REFERENCE_DIR) -> tuple[Path, str]:
    """Commit a full run's result as its experiment's reference file; (path, what it holds).

    The kind of the result is its ``"experiment"`` key (every result written by this
    package has one); the experiment decides the file's name and content
    (:meth:`~divnet_nb.tasks.protocol.ExperimentProtocol.reference`), which names its
    experiment too. A fast run is refused.
    """
    from ..tasks.protocol import get_experiment

    require_checkout(_WHAT)
    kind = result.get("experiment")
    if kind is None:
        raise ValueError(
            "the file names no experiment (written by an older version?): run the command again"
        )
    if result["settings"].get("fast"):
        raise ValueError("a reference must come from a full run, not --fast")
    protocol = get_experiment(kind)
    name, content = protocol.reference(result)
    content = {"experiment": kind, **{k: v for k, v in content.items() if k != "experiment"}}
    path = Path(folder) / name
    with atomic_write(path, "w") as f:
        json.dump(content, f, indent=1)
        f.write("\n")
    return path, protocol.describe_reference(content)


def main(argv=None) -> int:
    """Write ``reference/<name>.json`` from a finished full run of any experiment (results.json,
    leaderboard.json, edges.json, gates.json, theory.json)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("results", type=Path, help="the JSON file a divnet-nb command wrote")
    args = parser.parse_args(argv)
    try:
        path, what = write_reference(json.loads(args.results.read_text()))
    except (ValueError, NotACheckoutError) as exc:
        print(f"divnet-nb: {exc}", file=sys.stderr)
        return 2
    print(f"{path}: {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
