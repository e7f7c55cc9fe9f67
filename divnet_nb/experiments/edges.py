r"""DPP edge pruning against its baselines and against node pruning at the same parameter count.

On the first hidden layer of the Table 1 networks (d inputs, H units, H' units after it):

* **edge rules** (:mod:`divnet_nb.pruning.edge.rules`: ``dpp``, ``random``, ``magnitude``),
  each without and with edge reweighting, keeping k = round(f d) incoming weights of
  every unit for each fraction f of :data:`FRACTIONS`;
* **node rules** at the matched number of parameters: n = ceil(H (k + H') / (d + H'))
  kept units (each unit costs its d incoming and H' outgoing weights; an edge-pruned
  layer keeps H k incoming and all H H' outgoing weights, as in
  Acharyya et al.'s public code), with fusion (eqs. 3-4): DivNet (``dpp``), ``importance`` and this
  project's ``swap`` rule.

The x axis of the figure is the fraction of the first layer's parameters (W1 and W2)
that remain, (k + H') / (d + H') for the edge rules. Claim (3) of that work, "DPP edge
pruning beats the competing methods", is checked on per-network paired differences
(:mod:`divnet_nb.verdicts`) against each competitor at each fraction.

Randomness: each (network, rule) has its own generator keyed by the rule's name
(:func:`~divnet_nb.experiments.settings.method_stream`), so the plain and reweighted variants are scored on the
same masks (a paired design).
"""

from __future__ import annotations

import math
import re
import time

import numpy as np

from ..pruning.registry import get_method
from ..tasks.protocol import register_experiment
from ..verdicts import LEVEL, combine, decide, mean_std, t_interval
from .base import NetworkExperiment
from .reference import environment
from .settings import method_stream

__all__ = [
    "FRACTIONS",
    "EDGE_METHODS",
    "NODE_METHODS",
    "edge_sizes",
    "matched_nodes",
    "edge_part",
    "edge_experiment",
    "Edges",
    "edge_comparisons",
    "summary_table",
]

#: Kept incoming weights per unit, as fractions of d.
FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
EDGE_METHODS = ("dpp", "random", "magnitude")
#: Node rules (with fusion) compared at the matched parameter count.
NODE_METHODS = ("dpp", "importance", "swap")


def edge_sizes(d: int, fractions=FRACTIONS) -> list[int]:
    """k = round(f d), at least 1, for each fraction."""
    return [max(1, min(d, round(f * d))) for f in fractions]


def matched_nodes(H: int, k: int, d: int, H_next: int) -> int:
    """Units a node-pruned layer keeps for the parameters of k edges per unit: ceil(H (k + H') / (d + H'))."""
    for name, value in (("H", H), ("k", k), ("d", d), ("H_next", H_next)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if k > d:
        raise ValueError(f"k must satisfy 1 <= k <= d = {d}; got {k}")
    return min(H, math.ceil(H * (k + H_next) / (d + H_next)))


def _key(method: str, reweight: bool) -> str:
    return method + ("+rw" if reweight else "")


def edge_part(
    exp,
    i: int,
    fractions=FRACTIONS,
    bar=None,
    *,
    edge_methods=EDGE_METHODS,
    node_methods=NODE_METHODS,
    dpp_options: dict | None = None,
    edge_data=None,
) -> dict:
    """One network: test error of every edge variant and matched node rule at every fraction.

    ``edge_methods`` and ``node_methods`` choose the rules (all by default);
    ``dpp_options`` go to the DPP edge rule (e.g. ``{"bandwidth": "median"}``). Each rule
    draws from its own generator, keyed by its name, whichever others are run.
    ``edge_data``: the layer's statistics (:func:`~divnet_nb.pruning.edge.masks.edge_statistics`),
    if the caller has read them already.
    """
    from ..nets.evaluate import error_rate
    from ..nets.sites import site_for
    from ..pruning.apply import prune_layer
    from ..pruning.edge.bandwidth import BATCH_ROWS
    from ..pruning.edge.masks import edge_statistics
    from ..pruning.neuron.layer_data import LayerData
    from ..pruning.statistics import importance_scores, layer_statistics, outgoing_weights
    from .fusion import fusion_warnings

    model = exp.model(i)
    x, xt, yt = exp.x_kernel, exp.data.x_test, exp.data.y_test
    site = site_for(model, 0)  # the first hidden layer, found once for every call below
    t0 = time.perf_counter()
    dpp_options = dict(dpp_options or {})
    batch = dpp_options.get("bandwidth") == "batch"
    data = edge_data or edge_statistics(model, site, x, batch_rows=BATCH_ROWS if batch else None)
    seconds = {"input_gram": time.perf_counter() - t0}
    H, d = data.n_units, data.n_inputs
    W = outgoing_weights(model, site)
    H_next = W.shape[1]
    ks = edge_sizes(d, fractions)
    errors: dict[str, list[float]] = {}
    nodes = [matched_nodes(H, k, d, H_next) for k in ks]
    first = None  # the layer's statistics over neurons, read only for the node rules
    if node_methods:
        first = LayerData(layer_statistics(model, site, x)).with_inputs(
            weights=W, importance=importance_scores(model, site)
        )
    with fusion_warnings() as ridged:
        _edge_rules(exp, i, model, site, data, ks, errors, seconds, bar, edge_methods, dpp_options)
        for method in node_methods:
            rng = exp._rng(i, 401, method_stream(method))
            t0 = time.perf_counter()
            errors["node " + method] = [
                error_rate(prune_layer(model, site, n, method, True, rng, layer_data=first), xt, yt)
                for n in nodes
            ]
            seconds["node " + method] = time.perf_counter() - t0
            if bar is not None:
                bar.update(H)
    return {
        "test_error": errors,
        "unpruned_test_error": error_rate(model, xt, yt),
        "seconds": seconds,
        "ridged_solves": ridged["count"],
    }


def _edge_rules(exp, i, model, site, data, ks, errors, seconds, bar, methods, dpp_options) -> None:
    """Each edge rule, plain and reweighted, at every size (fills ``errors`` and ``seconds``)."""
    from ..nets.evaluate import error_rate
    from ..pruning.edge.masks import reweight_edges, select_edge_masks

    xt, yt = exp.data.x_test, exp.data.y_test
    for method in methods:
        rng = exp._rng(i, 400, method_stream(method))
        options = dict(dpp_options) if method == "dpp" else {}
        if method == "dpp" and bar is not None:
            options["progress"] = bar.update
        t0 = time.perf_counter()
        masks = select_edge_masks(method, ks, data, rng=rng, **options)
        seconds[method] = time.perf_counter() - t0
        errors[method], errors[_key(method, True)] = [], []
        t0 = time.perf_counter()
        for k in ks:
            plain = site.mask_incoming(model, masks[k])
            errors[method].append(error_rate(plain, xt, yt))
            weights = reweight_edges(data.stats, masks[k], data.weights)
            errors[_key(method, True)].append(
                error_rate(site.mask_incoming(model, masks[k], weights), xt, yt)
            )
        seconds[_key(method, True)] = time.perf_counter() - t0
        if bar is not None and method != "dpp":
            bar.update(data.n_units)


def gather_edges(settings, parts: list[dict], fractions=FRACTIONS) -> dict:
    """The edge experiment's result from every network's part."""
    from ..nets.table1 import table1_sizes

    d, H, H_next = table1_sizes(settings.dataset)[:3]
    ks = edge_sizes(d, fractions)
    keys = list(parts[0]["test_error"])
    return {
        "dataset": settings.dataset,
        "fractions": list(fractions),
        "k": ks,
        "d": d,
        "H": H,
        "H_next": H_next,
        "matched_nodes": [matched_nodes(H, k, d, H_next) for k in ks],
        "parameter_fraction": [(k + H_next) / (d + H_next) for k in ks],
        "variants": {key: _describe(key) for key in keys},
        "test_error": {key: [p["test_error"][key] for p in parts] for key in keys},
        "unpruned_test_error": [p["unpruned_test_error"] for p in parts],
        "seconds": [p["seconds"] for p in parts],
        "ridged_solves": [p.get("ridged_solves", 0) for p in parts],
        "settings": settings.to_dict(),
        "environment": environment(),
    }


def edge_experiment(exp, fractions=FRACTIONS, *, executor=None, threads=None) -> dict:
    """The edge experiment on ``exp``'s networks (an :class:`~divnet_nb.experiments.Experiment`).

    With the default fractions it is the ``edges`` experiment, its parts kept in ``exp``'s
    store and computed in this process or on ``executor``; with others each network's
    part is computed here and not stored.
    """
    if tuple(fractions) == FRACTIONS:
        return exp.run("edges", executor=executor, threads=threads)
    parts = [edge_part(exp, i, fractions, _bar(exp)) for i in range(exp.settings.instances)]
    return gather_edges(exp.settings, parts, fractions)


def _bar(exp):
    """A progress bar over one network's units and rules (shown when ``exp`` shows progress)."""
    from .sweeps import progress_bar

    H = exp.sizes[1]
    return progress_bar(H * (len(EDGE_METHODS) + len(NODE_METHODS)), "edges", exp.progress)


_PART = re.compile(r"net(\d+)-edges$")


@register_experiment
class Edges(NetworkExperiment):
    """DPP edge pruning of the first hidden layer against its baselines and node pruning."""

    name = "edges"
    help = "DPP edge pruning of the first hidden layer against random, magnitude and node pruning"
    description = (
        "Keep 10-90 % of every first-layer unit's incoming weights with the registered edge "
        "rules (DPP edge, random, magnitude), each with and without edge reweighting, and "
        "prune nodes at the same parameter count (DivNet, importance, swaps, with fusion); "
        "write edges.json, edges.md and edges.png. Resumable like reproduce."
    )
    file_stem = "edges"

    def phases(self, settings) -> list[list[str]]:
        n = settings.instances
        return [self.training_phase(settings), [f"net{i}-edges" for i in range(n)]]

    def measure(self, exp, key: str):
        m = _PART.match(key)
        if m is None:
            raise ValueError(f"no part {key!r} in edges")
        bar = _bar(exp)
        try:
            return edge_part(exp, int(m[1]), FRACTIONS, bar)
        finally:
            bar.close()

    def gather(self, settings, parts: dict) -> dict:
        return gather_edges(settings, [parts[f"net{i}-edges"] for i in range(settings.instances)])

    def describe_reference(self, result: dict) -> str:
        return (
            f"{len(result['unpruned_test_error'])} networks, edge fractions {result['fractions']}"
        )


def _describe(key: str) -> dict:
    """Label and plot style of a result key (so a report needs no registry)."""
    if key.startswith("node "):
        m = get_method(key[5:], "neuron")
        return {"label": f"node: {m.variant_label(True)}", "color": m.color,
                "linestyle": ":", "marker": m.marker}  # fmt: skip
    reweight = key.endswith("+rw")
    m = get_method(key.removesuffix("+rw"), "edge")
    return {"label": m.variant_label(reweight), "color": m.color,
            "linestyle": "-" if reweight else "--", "marker": m.marker}  # fmt: skip


def edge_comparisons(result: dict) -> list[dict]:
    """Claim (3): DPP edge pruning below each competitor, paired over networks, at each fraction.

    DPP edge is compared with random and magnitude edges at the same reweighting
    setting, and DPP edge with reweighting with each node rule at the matched parameter
    count. Each comparison gets a verdict per fraction and a combined one.
    """
    errors = {k: np.asarray(v, dtype=float) for k, v in result["test_error"].items()}
    pairs = [("dpp", "random"), ("dpp", "magnitude"), ("dpp+rw", "random+rw"),
             ("dpp+rw", "magnitude+rw")]  # fmt: skip
    pairs += [("dpp+rw", "node " + m) for m in NODE_METHODS if "node " + m in errors]
    out = []
    for a, b in pairs:
        if a not in errors or b not in errors:
            continue
        rows = []
        for j, f in enumerate(result["fractions"]):
            diff = errors[a][:, j] - errors[b][:, j]
            mean, low, high = t_interval(diff)
            verdict = decide(low, high, "<0")
            rows.append({"fraction": f, "difference": mean, "low": low, "high": high,
                         "verdict": verdict})  # fmt: skip
        out.append({"a": a, "b": b, "level": LEVEL, "rows": rows,
                    "verdict": combine([r["verdict"] for r in rows])})  # fmt: skip
    return out


def summary_table(result: dict, fractions=(0.2, 0.5)) -> list[dict]:
    """Mean and standard deviation of every variant's test error at the given edge fractions."""
    rows = []
    for key, values in result["test_error"].items():
        mean, std = mean_std(values)
        row = {"key": key, "label": result["variants"][key]["label"]}
        for f in fractions:
            j = min(range(len(result["fractions"])), key=lambda j: abs(result["fractions"][j] - f))
            row[f] = (float(mean[j]), float(std[j]))
        rows.append(row)
    return rows
