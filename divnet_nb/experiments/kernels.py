r"""Which kernel over neurons? Every kernel with every k-DPP selector, on the Table 1 networks.

The paper fixes the RBF kernel of eq. 2 and calls a more thorough evaluation of kernel
choice future work (section 2.1.1); it proposes scale-invariant kernels and kernels
learned from data (section 4). This experiment measures them: every kernel of
:mod:`divnet_nb.core.kernels` (:data:`KERNELS`) with each way of choosing from its k-DPP
(:data:`SELECTORS`: one sample, the greedy mode, the likeliest of 20 samples; section
3.3), every hidden layer pruned to the same fraction (:data:`FRACTIONS`) and fused
(eqs. 3-4), no retraining; importance + fusion beside them.

Parts: ``train-net<i>`` (the networks, as for every experiment on them), then
``net<i>-kernel-<name>`` (one kernel, every selector and fraction) and
``net<i>-importance``. Random streams are keyed by (network, selector, fraction) only, as
the leaderboard's are: every kernel sees the same random numbers (a paired design), and
``rbf`` with ``dpp`` repeats the leaderboard's DivNet entry number for number.

:func:`kernel_comparisons` decides, at every fraction, whether each kernel's error is below the
paper's kernel with the same selector, and below importance + fusion, on per-network
differences: the 95 % t-interval of each, and a verdict with Holm's correction over all
the intervals of its family (one family per rival).
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
    "FAST_FRACTIONS",
    "KERNELS",
    "SELECTORS",
    "Kernels",
    "gather_kernels",
    "kernel_comparisons",
    "kernel_entry",
    "kernel_fractions",
    "kernel_part",
]

FRACTIONS = (0.05, 0.1, 0.25, 0.5, 0.75)
#: Fractions of a fast run (``--fast``).
FAST_FRACTIONS = (0.1, 0.5)
#: The kernels compared, the paper's first.
KERNELS = ("rbf", "linear", "cosine", "rbf-standardised", "rbf-median", "qd", "learned")
#: How a subset is chosen from each kernel's k-DPP.
SELECTORS = ("dpp", "greedy-map", "dpp-best")
#: The baseline beside them (with fusion).
BASELINE = "importance"

_PART = re.compile(r"net(\d+)-(kernel-([a-z0-9-]+)|importance)$")


def kernel_fractions(settings) -> tuple[float, ...]:
    """The fractions measured: :data:`FRACTIONS`, or :data:`FAST_FRACTIONS` in fast mode."""
    return FAST_FRACTIONS if settings.fast else FRACTIONS


def kernel_part(exp, i: int, kernel: str | None, fractions, progress=None) -> dict:
    """Network ``i`` pruned with ``kernel`` and each selector (or, for None, importance), fused.

    Returns ``{"test_error": {selector: [error per fraction]}, "relative_E_layer1":
    {selector: [...]}, "kernel_params": [first layer's kernel parameters per fraction],
    "ridged_solves": n}`` (parameters only for a kernel that chooses some: the median's beta,
    the learned fit; ``n`` the fusions whose kept block was singular and got a small ridge,
    counted instead of warned about one by one).
    """
    from ..core.objective import fusion_error
    from ..nets.evaluate import error_rate
    from ..pruning.apply import prune_network, read_layer_data, sizes_for_fraction
    from .fusion import fusion_warnings

    model, x = exp.model(i), exp.x_kernel
    first = read_layer_data(model, 0, x, kernel=kernel or "rbf")
    W1 = first.weights if first.weights is not None else _weights(model)
    G1 = first.gram
    scale1 = float(np.einsum("ij,ij->", W1, G1 @ W1))
    selectors = SELECTORS if kernel is not None else (BASELINE,)
    out = {"test_error": {}, "relative_E_layer1": {}, "kernel_params": []}
    with fusion_warnings() as ridged:  # counted, not printed once per pruned network
        for selector in selectors:
            out["test_error"][selector], out["relative_E_layer1"][selector] = [], []
            for fi, f in enumerate(fractions):
                rng = exp._rng(i, 300, method_stream(selector), fi)  # the leaderboard's streams
                pruned, keeps = prune_network(
                    model, f, selector, True, rng, data=x, first_layer_data=first,
                    return_keep=True,
                )  # fmt: skip
                errors = error_rate(pruned, exp.data.x_test, exp.data.y_test)
                out["test_error"][selector].append(errors)
                out["relative_E_layer1"][selector].append(fusion_error(G1, W1, keeps[0]) / scale1)
                if progress is not None:
                    progress.update(1)
    out["ridged_solves"] = ridged["count"]
    if kernel is not None:
        widths = sizes_for_fraction(model, 1.0)
        ks = [max(1, int(round(f * widths[0]))) for f in fractions]
        out["kernel_params"] = [
            _json(first.built_kernel(k).params) if k < widths[0] else {} for k in ks
        ]
    else:
        out["unpruned_test_error"] = error_rate(model, exp.data.x_test, exp.data.y_test)
    return out


def _weights(model):
    from ..pruning.statistics import outgoing_weights

    return outgoing_weights(model, 0)


def _json(params: dict) -> dict:
    return {
        k: float(v) if isinstance(v, (int, float, np.floating)) else v for k, v in params.items()
    }


def kernel_entry(kernel: str, selector: str) -> str:
    """``"cosine | greedy-map"``: a kernel with a selector."""
    return f"{kernel} | {selector}"


def gather_kernels(settings, parts: dict) -> dict:
    """The result from every part (see :class:`Kernels`)."""
    n = settings.instances
    fractions = kernel_fractions(settings)
    test, rel, params = {}, {}, {}
    for kernel in KERNELS:
        rows = [parts[f"net{i}-kernel-{kernel}"] for i in range(n)]
        for selector in SELECTORS:
            key = kernel_entry(kernel, selector)
            test[key] = [r["test_error"][selector] for r in rows]
            rel[key] = [r["relative_E_layer1"][selector] for r in rows]
        params[kernel] = [r["kernel_params"] for r in rows]
    base = [parts[f"net{i}-importance"] for i in range(n)]
    ridged = sum(p.get("ridged_solves", 0) for p in parts.values() if isinstance(p, dict))
    return {
        "experiment": "kernels",
        "dataset": settings.dataset,
        "fractions": list(fractions),
        "kernels": list(KERNELS),
        "selectors": list(SELECTORS),
        "test_error": test,
        "importance_test_error": [b["test_error"][BASELINE] for b in base],
        "relative_E_layer1": rel,
        "importance_relative_E_layer1": [b["relative_E_layer1"][BASELINE] for b in base],
        "kernel_params": params,
        "unpruned_test_error": [b["unpruned_test_error"] for b in base],
        "ridged_solves": ridged,
        "settings": settings.to_dict(),
        "environment": environment(),
    }


def kernel_comparisons(result: dict) -> dict:
    """Every kernel against the paper's with the same selector, and against importance + fusion.

    Returns ``{"rbf": [...], "importance": [...]}``, one family per rival; each row holds the
    kernel, selector and fraction, the mean paired difference (kernel - rival, so negative
    is better), its 95 % t-interval and uncorrected verdict, the p-value, Holm's adjusted
    p-value over the family and the verdict with that correction.
    """
    out = {}
    fr = result["fractions"]
    for rival in ("rbf", "importance"):
        rows = []
        for kernel in result["kernels"]:
            if rival == "rbf" and kernel == "rbf":
                continue
            for selector in result["selectors"]:
                ours = np.asarray(result["test_error"][kernel_entry(kernel, selector)])
                other = np.asarray(
                    result["test_error"][kernel_entry("rbf", selector)]
                    if rival == "rbf"
                    else result["importance_test_error"]
                )
                rows += [
                    paired_row(
                        ours[:, j] - other[:, j], kernel=kernel, selector=selector, fraction=f
                    )
                    for j, f in enumerate(fr)
                ]
        out[rival] = holm_family(rows)
    return out


@register_experiment
class Kernels(NetworkExperiment):
    """Every kernel over neurons with every k-DPP selector, with fusion, on the Table 1 networks."""

    name = "kernels"
    help = "which kernel over neurons? every kernel with every k-DPP selector, with fusion"
    description = (
        "Prune every hidden layer of the Table 1 networks to 5-75 % (fast: 10 and 50 %) with "
        "each kernel over neurons (rbf, linear, cosine, rbf-standardised, rbf-median, qd, "
        "learned) and each way of choosing from its k-DPP (a sample, the greedy mode, the "
        "likeliest of 20), followed by fusion; importance + fusion beside them. Write "
        "kernels.json, kernels.md and kernels.png. Resumable like reproduce."
    )
    file_stem = "kernels"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        kernel_samples_argument(parser)

    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        measure = [f"net{i}-kernel-{k}" for i in range(n) for k in KERNELS]
        return [self.training_phase(settings), measure + [f"net{i}-importance" for i in range(n)]]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None or (m[3] is not None and m[3] not in KERNELS):
            raise ValueError(f"no part {key!r} in kernels")
        from .sweeps import progress_bar

        fractions = kernel_fractions(exp.settings)
        count = len(fractions) * (len(SELECTORS) if m[3] else 1)
        bar = progress_bar(count, f"network {m[1]}, {m[3] or BASELINE}", exp.progress)
        try:
            return kernel_part(exp, int(m[1]), m[3], fractions, progress=bar)
        finally:
            bar.close()

    def gather(self, settings, parts: dict) -> dict:
        return gather_kernels(settings, parts)

    def describe_reference(self, result: dict) -> str:
        n = len(result["unpruned_test_error"])
        return (
            f"{n} networks, {len(result['kernels'])} kernels x {len(result['selectors'])} selectors"
        )
