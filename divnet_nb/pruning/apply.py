"""Pruning hidden layers of a trained network by neuron selection, with or without fusion.

One layer at a time, in the paper's order of operations, each step through the layer's
site (:mod:`divnet_nb.nets.sites`), so nothing here depends on how the network is built:

1. **activations** - the layer's statistics over the training inputs
   (:func:`~divnet_nb.pruning.statistics.layer_statistics`);
2. **select** - which neurons to keep, by a registered ``neuron`` method
   (:func:`~divnet_nb.pruning.neuron.select.select_neurons`);
3. **fuse** (``reweight=True``) - move the removed neurons' contributions onto the kept
   ones by least squares (eqs. 3-4), or simply delete them (``reweight=False``);
4. a **new, physically smaller** model: the layer loses units and the next layer loses
   inputs and gets the fused weights. The model passed in is never changed.

DivNet is ``method="dpp", reweight=True``. The paper shows that the fusion step helps
every selection method, so it can be combined with any of them.

A layer is given as a hidden-layer index or as its site
(:func:`~divnet_nb.nets.sites.as_site`); each function resolves it once, at its entry,
and :func:`prune_network` finds the sites of the whole network once.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..core._validate import as_index_set, as_positive_real, as_rng
from ..core.fuse import fuse_from_gram, fuse_to_target
from ..core.kernel import DEFAULT_EPS, GramAccumulator
from ..core.kernels import DEFAULT_KERNEL, get_kernel
from ..nets.chain import model_inputs
from ..nets.sites import LayerSite, as_site, find_sites
from .neuron.layer_data import LayerData
from .neuron.select import select_neurons
from .registry import get_method
from .statistics import cross_statistics, held_out_statistics, layer_statistics

__all__ = [
    "apply_pruning",
    "next_layer_error",
    "prune_layer",
    "prune_network",
    "read_layer_data",
    "sizes_for_fraction",
]


def apply_pruning(
    model: nn.Module,
    layer: int | LayerSite,
    keep,
    stats: GramAccumulator | None = None,
    *,
    intercept: bool = False,
    ridge: float | None = None,
    cross: np.ndarray | None = None,
) -> nn.Module:
    """A new model that keeps only neurons ``keep`` of hidden layer ``layer``.

    With ``stats`` (the layer's activation statistics) the removed neurons are fused
    into the kept ones (eqs. 3-4, :func:`~divnet_nb.fuse_from_gram`); without, they
    are simply deleted. With ``cross`` as well
    (:func:`~divnet_nb.pruning.statistics.cross_statistics` against the original network)
    the kept neurons' outgoing weights are fitted to the original network's next-layer
    input instead (:func:`~divnet_nb.core.fuse.fuse_to_target`).
    ``intercept`` adds a constant term to the fusion; ``ridge`` (relative to the mean
    diagonal) is always added to its system (default: only when the system is singular).
    ``model`` is not modified; ``layer`` is a hidden-layer index or its site.
    """
    site = as_site(model, layer)
    keep = np.sort(as_index_set(keep, site.width(model), "keep"))
    if keep.size == 0:
        raise ValueError("keep must hold at least one neuron index")
    outgoing = None
    if stats is not None:
        W, b = site.outgoing(model)
        if cross is not None:
            if intercept:
                raise ValueError("fusion towards the original network has no intercept option")
            outgoing = fuse_to_target(stats.gram, keep, W, cross, b, ridge=ridge)
        else:
            if intercept:
                site.check_intercept(model)
            outgoing = fuse_from_gram(stats, keep, W, b, intercept=intercept, ridge=ridge)
    return site.shrink(model, keep, outgoing)


@torch.no_grad()
def next_layer_error(
    model: nn.Module,
    layer: int | LayerSite,
    keep,
    data,
    stats: GramAccumulator | None = None,
    *,
    intercept: bool = False,
) -> float:
    """Relative squared change of the next layer's input after keeping only ``keep`` in ``layer``.

    The next layer's pre-activations ``z = W a + b`` over ``data`` are compared before
    and after :func:`apply_pruning` (with fusion when ``stats`` is given, plain
    deletion otherwise): ``||z' - z||^2 / ||z||^2``. This is the quantity eq. 3
    minimises (on the data the statistics came from).
    """
    site = as_site(model, layer)
    pruned = apply_pruning(model, site, keep, stats, intercept=intercept)
    param = next(model.parameters())
    X = model_inputs(model, data, param.dtype).to(param.device)
    was_training = model.training
    model.eval()
    try:
        z, z_new = site.through_consumer(model)(X), site.through_consumer(pruned)(X)
    finally:
        model.train(was_training)
    return float(((z_new - z) ** 2).sum() / (z**2).sum())


def read_layer_data(
    model: nn.Module,
    layer: int | LayerSite,
    data,
    *,
    kernel: str = DEFAULT_KERNEL,
    beta: float | None = None,
    eps: float = DEFAULT_EPS,
    batch_size: int = 8192,
) -> LayerData:
    """A layer's :class:`LayerData` over ``data``, with what its ``kernel`` reads from the model.

    The statistics of :func:`~divnet_nb.pruning.statistics.layer_statistics`; for a kernel
    that needs them, the outgoing weights and the held-out half's statistics
    (:func:`~divnet_nb.pruning.statistics.held_out_statistics`) as well.
    """
    site = as_site(model, layer)
    spec = get_kernel(kernel)
    layer_data = LayerData(
        layer_statistics(model, site, data, batch_size=batch_size),
        beta=beta, eps=eps, kernel_name=kernel,
    )  # fmt: skip
    return _kernel_inputs(model, site, layer_data, data, spec.needs, batch_size)


def _kernel_inputs(model, site, layer_data, data, needs, batch_size) -> LayerData:
    """``layer_data`` with the outgoing weights and held-out statistics a kernel ``needs``."""
    held = None
    if "held_out" in needs and layer_data.held_out is None:
        if data is None:
            raise ValueError(
                f"kernel {layer_data.kernel_name!r} needs held-out statistics: pass data"
            )
        held = held_out_statistics(model, site, data, batch_size=batch_size)
    weights = site.outgoing(model)[0] if "weights" in needs else None
    return layer_data.with_inputs(weights=weights, held_out=held)


def _check_kernel(kernel, method) -> None:
    """A kernel given by name must be registered, and read by the method."""
    if kernel is None:
        return
    get_kernel(kernel)
    if "kernel" not in get_method(method, "neuron").needs:
        raise ValueError(f"method {method!r} reads no kernel; kernel={kernel!r} would be ignored")


def _layer_data(model, site, method, layer_data, data, beta, eps, batch_size, kernel=None):
    """The layer's statistics (given or computed), with whatever ``method`` (and the kernel it
    reads) needs from the model."""
    if layer_data is None:
        if data is None:
            raise ValueError("pass data (training inputs) or layer_data")
        layer_data = LayerData(
            layer_statistics(model, site, data, batch_size=batch_size),
            beta=beta, eps=eps, kernel_name=kernel or DEFAULT_KERNEL,
        )  # fmt: skip
    elif beta is not None or eps != DEFAULT_EPS:
        raise ValueError(
            "beta and eps define the kernel of layer_data, which is already built: "
            "pass them to LayerData instead"
        )
    elif kernel is not None and kernel != layer_data.kernel_name:
        raise ValueError(
            f"layer_data's kernel is {layer_data.kernel_name!r}, not {kernel!r}: pass the kernel "
            f"to LayerData instead"
        )
    if layer_data.n != site.width(model):
        raise ValueError(
            f"layer_data is for {layer_data.n} neurons but layer {site.layer} has {site.width(model)}"
        )
    needs = get_method(method, "neuron").needs
    if "kernel" in needs:
        layer_data = _kernel_inputs(
            model, site, layer_data, data, layer_data.kernel_spec.needs, batch_size
        )
    return layer_data.with_inputs(
        importance=site.importance(model) if "importance" in needs else None,
        weights=site.outgoing(model)[0] if "weights" in needs else None,
    )


def prune_layer(
    model: nn.Module,
    layer: int | LayerSite,
    k: int | None,
    method: str = "dpp",
    reweight: bool = True,
    rng=None,
    *,
    data=None,
    layer_data: LayerData | None = None,
    intercept: bool = False,
    ridge: float | None = None,
    beta: float | None = None,
    eps: float = DEFAULT_EPS,
    kernel: str | None = None,
    batch_size: int = 8192,
    **options,
) -> nn.Module:
    """Prune hidden layer ``layer`` of ``model`` to ``k`` neurons and return the new, smaller model.

    Parameters
    ----------
    model : torch.nn.Module
        A trained sequential network (e.g. :class:`~divnet_nb.nets.MLP`); not modified.
    layer : int or LayerSite
        Hidden-layer index, 0 for the first, or its site
        (:func:`~divnet_nb.nets.sites.find_sites`).
    k : int or None
        Neurons to keep (None for a method that chooses its own size, like
        ``"dpp-nonparametric"``).
    method : str
        A registered ``neuron`` method (:func:`divnet_nb.pruning.method_names`).
    reweight : bool
        Fuse the removed neurons into the kept ones (eqs. 3-4).
    rng : None, int or numpy.random.Generator
        Randomness for the methods that need it.
    data : array_like, shape (n_samples, n_features)
        Training inputs whose activations define the kernel and the fusion (all of
        them, or a subset: the paper's accuracy/time trade-off). Not needed when
        ``layer_data`` is given.
    layer_data : LayerData, optional
        Precomputed statistics of this layer (share them across calls that prune the
        same layer of the same model).
    intercept, ridge
        Fusion with a constant term; a ridge (relative to the mean diagonal) always
        added to the fusion system (default None: only when it is singular).
    beta, eps
        Kernel bandwidth (default 10/|T|) and diagonal (only when the statistics are
        computed here).
    kernel : str, optional
        The kernel over neurons of the rules that read one (``"dpp"``, ``"greedy-map"``,
        ``"dpp-best"``, ``"dpp-nonparametric"``): a name of
        :func:`divnet_nb.core.kernels.kernel_names`, e.g. ``"cosine"``; default ``"rbf"``
        (eq. 2), or ``layer_data``'s own.
    **options
        Method options, e.g. ``scale="exact"`` for ``"dpp"``.

    Examples
    --------
    >>> smaller = prune_layer(model, 0, 50, "dpp", data=X, kernel="cosine")  # doctest: +SKIP
    """
    site = as_site(model, layer)
    fusion = _fusion(intercept, ridge)
    if intercept and reweight:
        site.check_intercept(model)
    _check_kernel(kernel, method)
    layer_data = _layer_data(model, site, method, layer_data, data, beta, eps, batch_size, kernel)
    return _prune_one(model, site, k, method, reweight, rng, layer_data, fusion, options)[0]


def _fusion(intercept, ridge) -> dict:
    """The fusion settings, checked before any work."""
    if not isinstance(intercept, (bool, np.bool_)):
        raise ValueError(f"intercept must be True or False; got {intercept!r}")
    if ridge is not None:
        ridge = as_positive_real(ridge, "ridge (None, or a relative ridge)", allow_zero=True)
    return {"intercept": bool(intercept), "ridge": ridge}


def _prune_one(model, site, k, method, reweight, rng, layer_data, fusion, options, cross=None):
    """Select and apply for one layer: (new model, kept indices). The model is copied, never modified."""
    keep = select_neurons(method, k, layer_data, rng=rng, **options)
    if keep.size == layer_data.n and cross is None:
        return copy.deepcopy(model), keep
    stats = layer_data.stats if reweight else None
    return apply_pruning(model, site, keep, stats, cross=cross, **fusion), keep


def sizes_for_fraction(model: nn.Module, fraction: float) -> list[int]:
    """Kept sizes when every hidden layer keeps ``fraction`` of its neurons (Table 2), at least 1 each."""
    return _sizes_for_fraction(_hidden_sizes(model, find_sites(model)), fraction)


def _sizes_for_fraction(widths: list[int], fraction) -> list[int]:
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, numbers.Real)
        or not 0.0 < fraction <= 1.0
    ):
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    return [max(1, int(round(fraction * n))) for n in widths]


def _hidden_sizes(model, sites) -> list[int]:
    return [site.width(model) for site in sites]


def prune_network(
    model: nn.Module,
    sizes: float | Sequence[int] | None,
    method: str = "dpp",
    reweight: bool = True,
    rng=None,
    *,
    data,
    first_layer_data: LayerData | None = None,
    return_keep: bool = False,
    intercept: bool = False,
    ridge: float | None = None,
    beta: float | None = None,
    eps: float = DEFAULT_EPS,
    kernel: str | None = None,
    batch_size: int = 8192,
    target: str = "pruned",
    **options,
):
    """Prune every hidden layer, first to last, each on the activations of the network pruned so far.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified.
    sizes : float, sequence of int, or None
        A fraction in (0, 1] kept in every hidden layer (Table 2's "remaining hidden
        neurons": the same fraction of each layer, hence of all of them), or one kept
        size per hidden layer; None with a method that chooses its own size.
    method, reweight, rng
        As in :func:`prune_layer`; one generator serves all layers in turn.
    data : array_like
        Training inputs for the activations.
    first_layer_data : LayerData, optional
        Statistics of the first hidden layer of ``model`` (the only layer whose
        activations do not depend on earlier pruning), to share across calls. Its
        kernel settings are its own: passing ``beta`` or ``eps`` as well is an error.
    return_keep : bool
        Also return the kept indices of each layer.
    intercept, ridge, beta, eps, kernel, batch_size, **options
        As in :func:`prune_layer`; every layer reads the same kernel (``first_layer_data``'s
        when ``kernel`` is not given).
    target : {"pruned", "original"}
        What fusion reproduces in the layers after the first: the next-layer input of
        the network pruned so far (the paper's choice), or that of the original network
        (the kept neurons' outgoing weights then also correct the earlier layers'
        errors). Selection uses the pruned network's activations either way.

    Returns
    -------
    model, or (model, list of ndarray) with ``return_keep``.
    """
    sites = find_sites(model)  # once: a pruned copy keeps the positions of the layers
    hidden = _hidden_sizes(model, sites)
    m = get_method(method, "neuron")
    if sizes is None:
        if m.sized:
            raise ValueError(
                f"sizes=None is only for methods that choose their own size (like "
                f"'dpp-nonparametric'); {method!r} needs sizes"
            )
        ks: list[int | None] = [None] * len(hidden)
    elif isinstance(sizes, numbers.Real) and not isinstance(sizes, bool):
        ks = _sizes_for_fraction(hidden, sizes)
    else:
        ks = list(sizes)
        if len(ks) != len(hidden):
            raise ValueError(
                f"sizes must give one kept size per hidden layer ({len(hidden)}); got {len(ks)}"
            )
    if target not in ("pruned", "original"):
        raise ValueError(f"target must be 'pruned' or 'original'; got {target!r}")
    if target == "original" and intercept:
        raise ValueError("fusion towards the original network has no intercept option")
    rng = as_rng(rng)
    fusion = _fusion(intercept, ridge)
    if intercept and reweight:
        for site in sites:
            site.check_intercept(model)
    _check_kernel(kernel, method)
    deeper = kernel or (first_layer_data.kernel_name if first_layer_data is not None else None)
    current, keeps = model, []
    for layer, (site, k) in enumerate(zip(sites, ks, strict=True)):
        given = first_layer_data if layer == 0 else None
        cross = None
        if target == "original" and reweight and layer > 0:
            stats, cross = cross_statistics(current, model, site, data, batch_size=batch_size)
            given = LayerData(stats, beta=beta, eps=eps, kernel_name=deeper or DEFAULT_KERNEL)
            beta_used, eps_used = None, DEFAULT_EPS  # already in the LayerData
        else:
            beta_used, eps_used = beta, eps
        layer_data = _layer_data(
            current, site, method, given, data, beta_used, eps_used, batch_size,
            kernel if layer == 0 else (None if given is not None else deeper),
        )  # fmt: skip
        current, keep = _prune_one(
            current, site, k, method, reweight, rng, layer_data, fusion, options, cross
        )
        keeps.append(keep)
    return (current, keeps) if return_keep else current
