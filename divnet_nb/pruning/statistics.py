"""Reading a layer's statistics from a network, through the layer's site.

The Gram matrix and column sums of a layer's activations over the training inputs are
streamed through its site into a :class:`~divnet_nb.GramAccumulator` (memory O(n^2)
whatever the number of inputs); the outgoing weights and importance scores come from
the site too. What the neuron rules read is
:class:`~divnet_nb.pruning.neuron.layer_data.LayerData`.

Every function takes the layer as a hidden-layer index or as its site
(:func:`~divnet_nb.nets.sites.as_site`): pass the site when reading several things about
one layer, and the model is walked once, not once per call.

These functions read a network, whatever rule then looks at what they read: the neuron
pipeline (:mod:`~divnet_nb.pruning.apply`), the budget across layers
(:mod:`~divnet_nb.pruning.neuron.budget`), the experiments and the notebooks all use them,
so they sit beside :mod:`~divnet_nb.pruning.apply` rather than inside one family.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..core.kernel import GramAccumulator
from ..nets.chain import model_inputs
from ..nets.sites import LayerSite, as_site

__all__ = [
    "layer_statistics",
    "held_out_statistics",
    "collect_activations",
    "cross_statistics",
    "importance_scores",
    "outgoing_weights",
]


def layer_statistics(
    model: nn.Module,
    layer: int | LayerSite,
    data,
    *,
    batch_size: int = 8192,
    dtype: torch.dtype | None = torch.float64,
) -> GramAccumulator:
    """Gram matrix and column sums of hidden layer ``layer``'s activations over ``data``.

    The activations are computed by running only the part of the model up to the
    layer (its site's feature map) and streamed batch by batch into a
    :class:`~divnet_nb.GramAccumulator`, which computes each batch's products with
    torch on the model's device. Memory: O(n^2 + batch_size n).

    Precision: by default the activations (float32 for a float32 network) are
    converted to float64 and their products formed in float64, so the Gram matrix is
    exact to float64 round-off for the activations the network computed, and eq. 3
    is solved from it to the precision of a float64 Cholesky factorisation; the
    singularity test of :mod:`divnet_nb.core.fuse` assumes exactly that. Pass
    ``dtype=None`` to form the products in the network's own dtype (float32 blocks
    summed in float64: relative error ~1e-7, faster, but the conditioning of G_SS can
    amplify that error a million-fold in the fused weights).
    """
    acc = GramAccumulator()
    as_site(model, layer).read(
        model, data, lambda batch: _accumulate(acc, batch, dtype), batch_size=batch_size,
        maps=True,
    )  # fmt: skip
    return acc


#: Rows per block when a convolution's maps are converted to float64 before their products.
MAP_BLOCK_ROWS = 65536


def _accumulate(acc: GramAccumulator, batch: torch.Tensor, dtype) -> None:
    """Add ``batch`` (rows, or a convolution's maps (N, C, P)) to ``acc`` in ``dtype``.

    Maps are converted block by block (about :data:`MAP_BLOCK_ROWS` rows at a time), so a
    large batch is never copied whole into float64.
    """
    if dtype is None or batch.dtype == dtype or batch.ndim == 2:
        acc.update(batch if dtype is None else batch.to(dtype))
        return
    step = max(1, MAP_BLOCK_ROWS // batch.shape[2])
    for start in range(0, batch.shape[0], step):
        acc.update(batch[start : start + step].to(dtype))


def held_out_statistics(
    model: nn.Module, layer: int | LayerSite, data, *, batch_size: int = 8192
) -> GramAccumulator:
    """Statistics of hidden layer ``layer`` over the held-out half of ``data``: every second row.

    The rows are a subset of those of :func:`layer_statistics` over ``data``, so the other
    half's Gram matrix is the difference of the two. A kernel fitted to data (``"learned"``,
    :mod:`divnet_nb.core.learned`) is fitted on one half and scored on this one; alternate
    rows keep both halves alike even when the inputs are sorted (by class, say).
    """
    if len(data) < 4:
        raise ValueError(f"a held-out half needs at least 4 inputs; got {len(data)}")
    return layer_statistics(model, layer, data[1::2], batch_size=batch_size)


def collect_activations(
    model: nn.Module,
    layer: int | LayerSite,
    data,
    *,
    batch_size: int = 8192,
    dtype: torch.dtype | None = None,
) -> np.ndarray:
    """Hidden layer ``layer``'s activations over ``data``, shape ``(n_samples, n_neurons)``.

    Column i is the paper's activation vector v_i. In the model's dtype (float32
    for a float32 network) unless ``dtype`` says otherwise. Memory O(n_samples n);
    for pruning, :func:`layer_statistics` needs only O(n^2).
    """
    parts: list[np.ndarray] = []
    as_site(model, layer).read(
        model,
        data,
        lambda rows: parts.append((rows if dtype is None else rows.to(dtype)).cpu().numpy()),
        batch_size=batch_size,
    )
    return np.concatenate(parts, axis=0)


def cross_statistics(
    model: nn.Module, original: nn.Module, layer: int | LayerSite, data, *, batch_size: int = 8192
) -> tuple[GramAccumulator, np.ndarray]:
    """Statistics of layer ``layer`` in ``model`` and against the same layer of ``original``.

    Returns the Gram accumulator of ``model``'s activations A' (float64 products) and the
    cross products X = A'^T A with ``original``'s activations A, both over ``data``, the
    two networks run batch by batch in lockstep. Used to fuse a deeper layer towards the
    original network's next-layer input (:func:`divnet_nb.core.fuse.fuse_to_target`).
    Sites hold positions, so the one site of ``layer`` serves both networks (a pruned
    copy keeps the layout of its original).
    """
    site = as_site(model, layer)
    site.check(original)
    part_m, part_o = site.feature_map(model), site.feature_map(original)
    param = next(model.parameters())
    X = model_inputs(model, data, param.dtype)
    acc = GramAccumulator()
    cross = torch.zeros(
        (site.width(model), site.width(original)), dtype=torch.float64, device=param.device
    )
    modes = (model.training, original.training)
    model.eval()
    original.eval()
    try:
        with torch.no_grad():
            for s in range(0, X.shape[0], batch_size):
                xb = X[s : s + batch_size].to(param.device)
                a = site.rows(part_m(xb)).double()
                acc.update(a)
                cross += a.T @ site.rows(part_o(xb)).double()
    finally:
        model.train(modes[0])
        original.train(modes[1])
    return acc, cross.cpu().numpy()


def importance_scores(model: nn.Module, layer: int | LayerSite) -> np.ndarray:
    r"""He et al. (2014)'s ``onorm``: :math:`\frac{1}{n_{\ell+1}} \sum_j |w^{\ell+1}_{ij}|` for each neuron i."""
    return as_site(model, layer).importance(model)


def outgoing_weights(model: nn.Module, layer: int | LayerSite) -> np.ndarray:
    """Outgoing weights ``W`` of hidden layer ``layer`` (one row per neuron), float64."""
    return np.asarray(as_site(model, layer).outgoing(model)[0], dtype=np.float64)
