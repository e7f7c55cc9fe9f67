r"""Can the DPP choose the layer's size? Sizes set by one scale, against fixed k and a shared budget.

The paper's section 4 proposes that DPPs "reflect different distributions over the sampled
set sizes" to "remove the burden of choosing the layer's size". Here every hidden layer,
first to last, is pruned by a rule that chooses its size
(:mod:`divnet_nb.pruning.neuron.sizes`): the plain DPP with kernel gamma L (``dpp-sized``)
and its greedy mode, the k-DPP with the size prior gamma^|S| (``map-sized``), gamma the
smallest scale that loses at most a fraction ``tolerance`` of the next layer's input
(:data:`TOLERANCES`, the same on every layer of every dataset). Then, with the sizes the
rule chose, two rivals that are given those sizes instead of choosing them:

* ``<rule> | k-dpp``: DivNet's k-DPP with fixed k, layer by layer the same sizes. For
  ``dpp-sized`` this is a check more than a rival: a DPP sample conditioned on its size k
  is a k-DPP sample, so the two differ only by chance;
* ``<rule> | uniform``: the rule's fixed-size counterpart (:data:`FIXED`: the k-DPP sample
  for the DPP sample, greedy MAP for the mode) with the same total, the same fraction of
  every layer (as Table 2 prunes);
* ``<rule> | budget``: the same counterpart at the sizes that a budget shared across
  layers (:func:`divnet_nb.pruning.neuron.budget.allocate`) gives the same total.

The last two ask whether the DPP's split of the total between layers prunes better than
the two other ways of splitting it. All are fused (eqs. 3-4), no retraining. Parts:
``train-net<i>``, then ``net<i>-sizes``.

:func:`size_comparisons` decides, for each rule and tolerance, whether the rule's error
is below each rival's, on per-network paired differences: the 95 % t-interval, and the
verdict with Holm's correction over every interval of the experiment.
"""

from __future__ import annotations

import re

import numpy as np

from ..tasks.protocol import register_experiment
from ..verdicts import holm_family, paired_row
from .base import NetworkExperiment, kernel_samples_argument
from .reference import environment
from .settings import method_stream

__all__ = [
    "FIXED",
    "RIVALS",
    "RULES",
    "TOLERANCES",
    "Sizes",
    "gather_sizes",
    "size_comparisons",
    "size_part",
    "uniform_sizes",
]

#: The tolerances: the share of the next layer's input energy a layer may lose.
TOLERANCES = (0.01, 0.05)
#: The rules that choose the size.
RULES = ("dpp-sized", "map-sized")
#: What each rule is compared with, at the sizes it chose or with their total.
RIVALS = ("k-dpp", "uniform", "budget")
#: Each rule's fixed-size counterpart, which the ``uniform`` and ``budget`` rivals use.
FIXED = {"dpp-sized": "dpp", "map-sized": "greedy-map"}

_PART = re.compile(r"net(\d+)-sizes$")


def entry(rule: str, rival: str | None = None) -> str:
    """``"dpp-sized"``, or ``"dpp-sized | budget"``: a rival at the sizes ``rule`` chose."""
    return rule if rival is None else f"{rule} | {rival}"


def uniform_sizes(widths, total: int) -> list[int]:
    """``total`` kept neurons split in proportion to the layers' widths (largest remainders),
    each layer keeping at least one and at most its width."""
    widths = np.asarray(widths)
    if not len(widths) <= total <= widths.sum():
        raise ValueError(f"total must be between {len(widths)} and {widths.sum()}; got {total}")
    exact = total * widths / widths.sum()
    sizes = np.clip(np.floor(exact).astype(int), 1, widths)
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable"):
        if sizes.sum() >= total:
            break
        if sizes[i] < widths[i]:
            sizes[i] += 1
    while sizes.sum() > total:  # only when the floor of 1 added neurons
        sizes[np.argmax(sizes)] -= 1
    return sizes.tolist()


def size_part(exp, i: int, progress=None) -> dict:
    """Network ``i``: each rule at each tolerance, and the rivals at the sizes it chose.

    Returns ``{"sizes": {entry: [sizes per layer, per tolerance]}, "test_error": {entry:
    [error per tolerance]}, "unpruned_test_error": e, "ridged_solves": n}``.
    """
    from ..nets.evaluate import error_rate
    from ..pruning.apply import prune_network, read_layer_data
    from ..pruning.neuron.budget import allocate, relative_error_curves
    from .fusion import fusion_warnings

    model, x = exp.model(i), exp.x_kernel
    first = read_layer_data(model, 0, x)
    curves = relative_error_curves(model, x)
    widths = [c.size - 1 for c in curves]
    sizes, errors = {}, {}

    def run(key, t, sizes_or_none, method, **options):
        rng = exp._rng(i, 500, method_stream(key), t)
        pruned, keeps = prune_network(
            model, sizes_or_none, method, True, rng, data=x, first_layer_data=first,
            return_keep=True, **options,
        )  # fmt: skip
        sizes.setdefault(key, []).append([int(len(k)) for k in keeps])
        errors.setdefault(key, []).append(error_rate(pruned, exp.data.x_test, exp.data.y_test))
        if progress is not None:
            progress.update(1)
        return sizes[key][-1]

    with fusion_warnings() as ridged:
        for t, tolerance in enumerate(TOLERANCES):
            for rule in RULES:
                chosen = run(entry(rule), t, None, rule, tolerance=tolerance)
                run(entry(rule, "k-dpp"), t, chosen, "dpp")
                fixed = FIXED[rule]
                run(entry(rule, "uniform"), t, uniform_sizes(widths, sum(chosen)), fixed)
                run(entry(rule, "budget"), t, allocate(model, sum(chosen), curves=curves), fixed)
    return {
        "sizes": sizes,
        "test_error": errors,
        "unpruned_test_error": error_rate(model, exp.data.x_test, exp.data.y_test),
        "ridged_solves": ridged["count"],
    }


def gather_sizes(settings, parts: dict) -> dict:
    """The result from every part (see :class:`Sizes`)."""
    from ..nets.table1 import table1_sizes

    rows = [parts[f"net{i}-sizes"] for i in range(settings.instances)]
    keys = [entry(r, v) for r in RULES for v in (None, *RIVALS)]
    return {
        "experiment": "sizes",
        "dataset": settings.dataset,
        "tolerances": list(TOLERANCES),
        "rules": list(RULES),
        "rivals": list(RIVALS),
        "widths": list(table1_sizes(settings.dataset)[1:-1]),
        "sizes": {k: [r["sizes"][k] for r in rows] for k in keys},
        "test_error": {k: [r["test_error"][k] for r in rows] for k in keys},
        "unpruned_test_error": [r["unpruned_test_error"] for r in rows],
        "ridged_solves": sum(r["ridged_solves"] for r in rows),
        "settings": settings.to_dict(),
        "environment": environment(),
    }


def size_comparisons(result: dict) -> list[dict]:
    """Each rule against each rival at every tolerance: rule - rival per network (negative is better).

    One row per (rule, rival, tolerance) with the mean difference, its 95 % t-interval and
    uncorrected verdict, the p-value, Holm's adjusted p-value over all the rows, and the
    verdict with that correction.
    """
    rows = []
    for rule in result["rules"]:
        ours = np.asarray(result["test_error"][entry(rule)])
        for rival in result["rivals"]:
            other = np.asarray(result["test_error"][entry(rule, rival)])
            rows += [
                paired_row(ours[:, t] - other[:, t], rule=rule, rival=rival, tolerance=tolerance)
                for t, tolerance in enumerate(result["tolerances"])
            ]
    return holm_family(rows)


@register_experiment
class Sizes(NetworkExperiment):
    """Layer sizes chosen by the DPP, against fixed-k and shared-budget pruning at those sizes."""

    name = "sizes"
    help = "can the DPP choose the layer's size? sizes from one scale, against fixed k and a budget"
    description = (
        "Prune every hidden layer of the Table 1 networks with a DPP that chooses the size "
        "(a sample of the plain DPP, or its greedy mode), its scale the smallest that loses at "
        "most 1 % or 5 % of the next layer's input; then DivNet's k-DPP at the same sizes, and "
        "at the sizes of a budget shared across layers with the same total; all fused. Write "
        "sizes.json, sizes.md and sizes.png. Resumable like reproduce."
    )
    file_stem = "sizes"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        kernel_samples_argument(parser)

    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        return [self.training_phase(settings), [f"net{i}-sizes" for i in range(n)]]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None:
            raise ValueError(f"no part {key!r} in sizes")
        from .sweeps import progress_bar

        count = len(TOLERANCES) * len(RULES) * (1 + len(RIVALS))
        bar = progress_bar(count, f"network {m[1]}, sizes", exp.progress)
        try:
            return size_part(exp, int(m[1]), progress=bar)
        finally:
            bar.close()

    def gather(self, settings, parts: dict) -> dict:
        return gather_sizes(settings, parts)

    def describe_reference(self, result: dict) -> str:
        n = len(result["unpruned_test_error"])
        return f"{n} networks, {len(result['rules'])} size rules x {len(result['tolerances'])} tolerances"
