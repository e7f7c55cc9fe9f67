"""Edge pruning (the ``edge`` kind): a mask over each unit's incoming weights instead of fewer units.

An edge rule sees the layer's *input* statistics (:class:`EdgeData`: the Gram matrix of
the inputs the layer's producer reads, and its incoming weights, one row per unit) and
returns, for each asked size k, a boolean mask of shape (units, inputs) that keeps
exactly k incoming weights of every unit (the rules are in
:mod:`~divnet_nb.pruning.edge.rules`). :func:`prune_edges` reads the statistics through the
layer's site in one pass over the data, asks the registered rule for the mask, checks it,
optionally *reweights* the kept edges (the edge counterpart of eq. 3's fusion: for unit
h with kept inputs S and removed inputs R, the kept weights gain
:math:`\\delta_h = \\arg\\min_\\delta \\lVert X_S \\delta - X_R w_{R,h} \\rVert^2`, solved from
blocks of the one input Gram matrix, :func:`divnet_nb.core.edges.reweight_edge_weights`),
and attaches the mask to a copy of the model with :mod:`torch.nn.utils.prune`, so it
persists and shows in the state dict.

A layer is given as a hidden-layer index or as its site
(:func:`~divnet_nb.nets.sites.as_site`). The steps one by one, for a caller that scores
several rules on one layer: ``site = as_site(model, 0)``, ``edge_statistics(model, site,
X)``, :func:`select_edge_masks`, :func:`reweight_edges`, ``site.mask_incoming(model,
mask, weights)``: one walk of the model in all.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...core._validate import as_rng, as_size, is_int
from ...core.edges import reweight_edge_weights
from ...core.fuse import FusionWarning
from ...core.kernel import GramAccumulator
from ...nets.sites import LayerSite, as_site
from ..registry import get_method

__all__ = [
    "EdgeData",
    "count_parameters",
    "edge_statistics",
    "prune_edges",
    "reweight_edges",
    "select_edges",
    "select_edge_masks",
]


@dataclass
class EdgeData:
    """What an edge rule reads about one layer.

    Attributes
    ----------
    stats : GramAccumulator
        Gram matrix ``X^T X`` (and column sums) of the layer's inputs over the data.
    weights : ndarray, shape (units, d)
        The layer's incoming weights (float64), row h for unit h.
    batch : GramAccumulator, optional
        The same statistics over the first rows of the data only, for the ``batch``
        bandwidth of the DPP edge kernel (:mod:`~divnet_nb.pruning.edge.bandwidth`).
    """

    stats: GramAccumulator
    weights: np.ndarray
    batch: GramAccumulator | None = None

    @property
    def n_units(self) -> int:
        return self.weights.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.weights.shape[1]


def edge_statistics(
    model: nn.Module,
    layer: int | LayerSite,
    data,
    *,
    batch_size: int = 8192,
    batch_rows: int | None = None,
) -> EdgeData:
    """The input Gram matrix and incoming weights of hidden layer ``layer`` (index or site; one pass over ``data``).

    With ``batch_rows``, the Gram matrix of the first ``batch_rows`` rows of ``data`` too
    (``EdgeData.batch``, for the ``batch`` bandwidth).
    """
    site = as_site(model, layer)
    if batch_rows is not None:  # checked before any pass over the data
        batch_rows = as_size(batch_rows, len(data), "batch_rows", upper="the rows of data")
    acc = GramAccumulator()
    site.read(model, data, acc.update, batch_size=batch_size, inputs=True)
    batch = None
    if batch_rows is not None:
        rows = batch_rows
        batch = GramAccumulator()
        site.read(model, data[:rows], batch.update, batch_size=batch_size, inputs=True)
    return EdgeData(acc, np.asarray(site.incoming(model), dtype=np.float64), batch)


def select_edge_masks(
    method: str, sizes, edge_data: EdgeData, *, rng=None, **options
) -> dict[int, np.ndarray]:
    """Masks (units, inputs) keeping exactly k incoming weights per unit, for each k in ``sizes``, by an edge rule.

    One call serves a whole sweep: a rule's expensive part (the DPP rule's
    eigendecompositions) is done once for every size.
    """
    m = get_method(method, "edge")
    d = edge_data.n_inputs
    if not np.all(np.isfinite(edge_data.weights)):
        raise ValueError("the layer's incoming weights (edge_data.weights) must be finite")
    if is_int(sizes):
        sizes = [sizes]
    sizes = sorted({as_size(k, d, "k", upper="the number of inputs d") for k in sizes})
    if not sizes:
        raise ValueError("sizes must name at least one k")
    unknown = set(options) - set(m.options)
    if unknown:
        raise ValueError(f"method {m.name!r} takes no option(s) {sorted(unknown)}")
    masks = m.function(edge_data, tuple(sizes), as_rng(rng), **options)
    shape = (edge_data.n_units, d)
    if not isinstance(masks, dict) or sorted(masks) != sizes:
        raise ValueError(
            f"edge method {m.name!r} must return a dict with one mask per size {sizes}"
        )
    for k in sizes:
        mask = np.asarray(masks[k])
        if mask.dtype != bool or mask.shape != shape:
            raise ValueError(
                f"method {m.name!r} must return boolean masks of shape {shape}; got {mask.dtype} {mask.shape}"
            )
        counts = mask.sum(axis=1)
        if not np.all(counts == k):
            bad = np.flatnonzero(counts != k)
            raise ValueError(
                f"method {m.name!r} kept {counts[bad[0]]} edges of unit {bad[0]}; every unit must keep k = {k}"
            )
        masks[k] = mask
    return masks


def select_edges(method: str, k: int, edge_data: EdgeData, *, rng=None, **options) -> np.ndarray:
    """Boolean mask (units, inputs) keeping exactly ``k`` incoming weights per unit, by an edge rule."""
    k = as_size(k, edge_data.n_inputs, "k", upper="the number of inputs d")
    return select_edge_masks(method, [k], edge_data, rng=rng, **options)[k]


def reweight_edges(stats: GramAccumulator, mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Incoming weights after moving each unit's removed edges onto its kept ones by least squares.

    For unit h, with kept inputs S = ``mask[h]``, the kept weights become
    :math:`w_{S,h} + G_{SS}^{-1} G_{SR} w_{R,h}` (eq. 3-4's fusion over the inputs of one
    unit), all from the one input Gram matrix; removed weights become 0. Singular blocks
    (inputs that are linearly dependent on the data) are solved with a small ridge, as
    fusion does; one :class:`~divnet_nb.FusionWarning` says for how many units.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FusionWarning)
        out = reweight_edge_weights(stats.gram, mask, weights)
    ridged = [w for w in caught if issubclass(w.category, FusionWarning)]
    for w in caught:
        if not issubclass(w.category, FusionWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if ridged:
        warnings.warn(
            f"edge reweighting: the kept inputs' Gram block was singular for {len(ridged)} of "
            f"{mask.shape[0]} units; solved with a small ridge (see FusionWarning)",
            FusionWarning,
            stacklevel=3,
        )
    return out


def prune_edges(
    model: nn.Module,
    layer: int | LayerSite,
    k: int,
    method: str = "dpp",
    reweight: bool = False,
    rng=None,
    *,
    data=None,
    edge_data: EdgeData | None = None,
    mask=None,
    batch_size: int = 8192,
    **options,
) -> nn.Module:
    """A copy of ``model`` whose hidden layer ``layer`` keeps exactly ``k`` incoming weights per unit.

    Parameters
    ----------
    model : torch.nn.Module
        A trained sequential network; not modified.
    layer : int or LayerSite
        Hidden-layer index, or its site.
    k : int
        Incoming weights kept per unit, 1 <= k <= d (the layer's inputs).
    method : str, default "dpp"
        A registered ``edge`` method: ``"dpp"``, ``"random"``, ``"magnitude"`` or your own
        (:mod:`~divnet_nb.pruning.edge.rules`).
    reweight : bool
        Move the removed edges' contributions onto the kept ones (:func:`reweight_edges`).
    rng : None, int or numpy.random.Generator
    data : array_like
        Training inputs (not needed with ``edge_data``).
    edge_data : EdgeData, optional
        Precomputed statistics of this layer's inputs.
    mask : array_like of bool, shape (units, d), optional
        Edges already chosen (by :func:`select_edges` with ``method`` and ``k``), applied
        instead of choosing again: the same edges with and without reweighting, one
        selection. Exactly ``k`` True per row; ``rng`` and ``options`` must not be given.

    Returns
    -------
    torch.nn.Module
        The removed weights are exactly zero and stay zero (a persistent mask).
    """
    site = as_site(model, layer)
    if edge_data is None:
        if data is None:
            raise ValueError("pass data (training inputs) or edge_data")
        edge_data = edge_statistics(model, site, data, batch_size=batch_size)
    if mask is None:
        mask = select_edges(method, k, edge_data, rng=rng, **options)
    else:
        mask = _given_mask(mask, k, edge_data, rng, options)
    weights = reweight_edges(edge_data.stats, mask, edge_data.weights) if reweight else None
    return site.mask_incoming(model, mask, weights)


def _given_mask(mask, k, edge_data: EdgeData, rng, options) -> np.ndarray:
    """A caller's mask, checked: boolean, one row per unit, exactly ``k`` kept edges per row."""
    if rng is not None or options:
        raise ValueError("a given mask is applied as it is: pass no rng or rule options with it")
    mask = np.asarray(mask)
    shape = (edge_data.n_units, edge_data.n_inputs)
    if mask.dtype != bool or mask.shape != shape:
        raise ValueError(
            f"mask must be a boolean array of shape {shape}; got {mask.dtype} {mask.shape}"
        )
    k = as_size(k, edge_data.n_inputs, "k", upper="the number of inputs d")
    kept = mask.sum(axis=1)
    if np.any(kept != k):
        raise ValueError(
            f"mask must keep exactly k = {k} edges per unit; rows keep {kept.min()} to {kept.max()}"
        )
    return mask


def count_parameters(model: nn.Module) -> int:
    """Weights and biases a model keeps: masked-out weights (``torch.nn.utils.prune``) not counted."""
    total = 0
    for module in model.modules():
        for name, param in module.named_parameters(recurse=False):
            base = name.removesuffix("_orig")
            mask = getattr(module, base + "_mask", None) if name.endswith("_orig") else None
            total += int(mask.sum()) if isinstance(mask, torch.Tensor) else param.numel()
    return total
