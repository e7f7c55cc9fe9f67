r"""DPP pruning interleaved with training (the paper's section 3), against random on the same schedule.

The paper reports that pruning with the DPP "concurrently with training iterations" did
"not offer a significant advantage over random pruning", and shows no numbers. This
experiment states a schedule and measures it on the Table 1 networks: every hidden layer
starts at its Table 1 width; after each of the epochs in :data:`SCHEDULE`'s
``prune_after``, every hidden layer is pruned, first to last, by a geometric step towards
``final`` of its width (so the last step reaches it), with fusion (eqs. 3-4); training
then continues, with a fresh optimiser, to ``epochs`` in all. Three arms, on the same
initial network and mini-batch order up to their first difference:

* ``dpp``: DivNet's k-DPP (eq. 2's kernel) at each step;
* ``random``: uniformly random neurons at each step;
* ``post-hoc``: the same epochs without pruning, then DivNet once at the end (k-DPP +
  fusion, no retraining), as the paper's experiments prune.

Parts: ``net<i>-<arm>``, each training its own network (nothing is read from the network
cache: the schedule is the training). :func:`interleaved_comparisons` gives the paired
verdicts on the final test errors, with Holm's correction over its three intervals.
"""

from __future__ import annotations

import re
import time

import numpy as np

from ..tasks.protocol import register_experiment
from ..verdicts import holm_family, paired_row
from .base import NetworkExperiment
from .reference import environment
from .settings import method_stream

__all__ = [
    "ARMS",
    "SCHEDULE",
    "Interleaved",
    "interleaved_comparisons",
    "interleaved_part",
    "schedule",
]

#: The schedule: total epochs, the epochs after which every layer is pruned, the final fraction.
SCHEDULE = {"epochs": 15, "prune_after": (3, 6, 9), "final": 0.25}
#: The same for a fast run (``--fast``).
FAST_SCHEDULE = {"epochs": 30, "prune_after": (5, 10, 15), "final": 0.25}
#: The arms, in the order they are reported.
ARMS = ("dpp", "random", "post-hoc")
#: The paired comparisons: (arm, rival), each "is the arm's final test error below the rival's?".
PAIRS = (("dpp", "random"), ("dpp", "post-hoc"), ("random", "post-hoc"))

_PART = re.compile(r"net(\d+)-(dpp|random|post-hoc)$")


def schedule(settings) -> dict:
    """:data:`SCHEDULE`, or :data:`FAST_SCHEDULE` in fast mode."""
    return dict(FAST_SCHEDULE if settings.fast else SCHEDULE)


def step_sizes(widths, final: float, steps: int) -> list[list[int]]:
    """Each layer's size after each of ``steps`` pruning steps: ``width * final ** (j / steps)``, rounded."""
    return [
        [max(1, int(round(w * final ** (j / steps)))) for w in widths] for j in range(1, steps + 1)
    ]


def interleaved_part(exp, i: int, arm: str, progress: bool = False) -> dict:
    """Network ``i`` trained on the schedule with ``arm``'s pruning.

    Returns ``{"sizes": [hidden sizes after each step], "trajectory": [{"epoch", "hidden",
    "test_error", "event"}], "test_error": final, "train_error": final, "seconds": s}``;
    ``event`` is ``"trained"`` at the end of a stretch of training, ``"pruned"`` just after
    a step.
    """
    import dataclasses

    import torch

    from ..nets.evaluate import error_rate
    from ..nets.mlp import MLP
    from ..nets.table1 import table1_sizes
    from ..pruning.apply import prune_network
    from ..training.loop import fit
    from .fusion import fusion_warnings

    plan = schedule(exp.settings)
    sizes = table1_sizes(exp.dataset)
    seed = exp.settings.seed + i
    steps = step_sizes(sizes[1:-1], plan["final"], len(plan["prune_after"]))
    torch.manual_seed(seed)
    model = MLP(sizes, seed=seed)
    x, x_test, y_test = exp.x_kernel, exp.data.x_test, exp.data.y_test
    trajectory, kept, start, epoch = [], [], time.perf_counter(), 0
    result = None

    def record(event):
        trajectory.append({
            "epoch": epoch, "hidden": list(model.hidden_sizes), "event": event,
            "test_error": error_rate(model, x_test, y_test),
        })  # fmt: skip

    def prune(target, method, j):
        rng = exp._rng(i, 600, method_stream(method), j)
        pruned = prune_network(model, target, method, True, rng, data=x)
        kept.append(list(pruned.hidden_sizes))
        return pruned

    stops = [*plan["prune_after"], plan["epochs"]]
    with fusion_warnings() as ridged:
        for j, stop in enumerate(stops):
            config = dataclasses.replace(exp.settings.train, max_epochs=stop - epoch)
            result = fit(model, exp.data, seed * 1000 + j, config, progress=progress,
                         until_threshold=False)  # fmt: skip
            model, epoch = result.model, stop
            record("trained")
            if j < len(plan["prune_after"]) and arm != "post-hoc":
                model = prune(steps[j], arm, j)
                record("pruned")
        if arm == "post-hoc":
            model = prune(steps[-1], "dpp", len(stops))
            record("pruned")
    return {
        "sizes": kept,
        "trajectory": trajectory,
        "test_error": trajectory[-1]["test_error"],
        "train_error": float(result.train_error),
        "ridged_solves": ridged["count"],
        "seconds": time.perf_counter() - start,
    }


def gather_interleaved(settings, parts: dict) -> dict:
    """The result from every part (see :class:`Interleaved`)."""
    n = settings.instances
    runs = {arm: [parts[f"net{i}-{arm}"] for i in range(n)] for arm in ARMS}
    return {
        "experiment": "interleaved",
        "dataset": settings.dataset,
        "schedule": schedule(settings),
        "arms": list(ARMS),
        "test_error": {arm: [r["test_error"] for r in rows] for arm, rows in runs.items()},
        "sizes": {arm: [r["sizes"] for r in rows] for arm, rows in runs.items()},
        "trajectory": {arm: [r["trajectory"] for r in rows] for arm, rows in runs.items()},
        "seconds": {arm: [r["seconds"] for r in rows] for arm, rows in runs.items()},
        "ridged_solves": sum(r["ridged_solves"] for rows in runs.values() for r in rows),
        "settings": settings.to_dict(),
        "environment": environment(),
    }


def interleaved_comparisons(result: dict) -> list[dict]:
    """Each pair of :data:`PAIRS`: arm - rival per network (negative: the arm is better).

    Rows hold the mean difference, its 95 % t-interval and uncorrected verdict, the
    p-value, Holm's adjusted p-value over the pairs and the verdict with it.
    """
    errors = {arm: np.asarray(e) for arm, e in result["test_error"].items()}
    return holm_family(
        [paired_row(errors[arm] - errors[rival], arm=arm, rival=rival) for arm, rival in PAIRS]
    )


@register_experiment
class Interleaved(NetworkExperiment):
    """DPP pruning interleaved with training, against random on the same schedule and post-hoc DivNet."""

    name = "interleaved"
    help = "DPP pruning interleaved with training, against random on the same schedule"
    description = (
        "Train the Table 1 networks for 15 epochs (fast: 30 on a small subset), pruning every hidden layer after "
        "epochs 3, 6 and 9 (fast: 5, 10, 15) by geometric steps to 25 % of its width, with fusion, "
        "choosing neurons by DivNet's k-DPP or at random; beside them, the same epochs unpruned "
        "and DivNet once at the end. Write interleaved.json, interleaved.md and "
        "interleaved.png. Resumable like reproduce."
    )
    file_stem = "interleaved"

    def phases(self, settings) -> list[list[str]]:
        return [[f"net{i}-{arm}" for i in range(settings.instances) for arm in ARMS]]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None:
            raise ValueError(f"no part {key!r} in interleaved")
        return interleaved_part(exp, int(m[1]), m[2], progress=exp.progress)

    def gather(self, settings, parts: dict) -> dict:
        return gather_interleaved(settings, parts)

    def describe_reference(self, result: dict) -> str:
        n = len(result["test_error"]["dpp"])
        return f"{n} networks, {len(result['arms'])} arms, {result['schedule']['epochs']} epochs"
