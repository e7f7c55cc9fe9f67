"""A layer's statistics: what every selection rule reads, computed once and shared.

Selection is a function of a layer's statistics, not of how the network is built: the
Gram matrix and column sums of its activations over the training inputs (streamed
through the layer's site into a :class:`~divnet_nb.GramAccumulator`, so memory stays
O(n^2) whatever the number of inputs), and, on demand, the RBF kernel of eq. 2, its
eigendecomposition, the outgoing weights and the units' importance scores.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from torch import nn

from ..core.dpp import Eigendecomposition, eigendecompose, scaling_factor
from ..core.kernel import DEFAULT_EPS, GramAccumulator
from ..nets.sites import site_for

__all__ = [
    "LayerData",
    "layer_statistics",
    "collect_activations",
    "importance_scores",
    "outgoing_weights",
]


def layer_statistics(
    model: nn.Module,
    layer: int,
    data,
    *,
    batch_size: int = 8192,
    dtype: torch.dtype | None = None,
) -> GramAccumulator:
    """Gram matrix and column sums of hidden layer ``layer``'s activations over ``data``.

    The activations are computed by running only the part of the model up to the
    layer (its site's feature map) and streamed batch by batch into a
    :class:`~divnet_nb.GramAccumulator`, which computes each batch's products with
    torch on the model's device. Memory: O(n^2 + batch_size n).

    Precision: by default the products are formed in the network's own dtype. For
    a float32 network, float32 products of 2048-row blocks are summed in float64:
    about as accurate as the float32 activations themselves (relative error
    ~1e-7). ``dtype=torch.float64`` converts the activations first and forms the
    products in double precision,
    for when the fused weights must match eq. 3 solved in float64 to many digits
    (the conditioning of G_SS can amplify 1e-7 in the Gram matrix to 1e-3 in
    weights, while the network's outputs agree to ~1e-6 either way).
    """
    acc = GramAccumulator()
    site_for(model, layer).read(
        model,
        data,
        lambda rows: acc.update(rows if dtype is None else rows.to(dtype)),
        batch_size=batch_size,
    )
    return acc


def collect_activations(
    model: nn.Module,
    layer: int,
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
    site_for(model, layer).read(
        model,
        data,
        lambda rows: parts.append((rows if dtype is None else rows.to(dtype)).cpu().numpy()),
        batch_size=batch_size,
    )
    return np.concatenate(parts, axis=0)


def importance_scores(model: nn.Module, layer: int) -> np.ndarray:
    r"""He et al. (2014)'s ``onorm``: :math:`\frac{1}{n_{\ell+1}} \sum_j |w^{\ell+1}_{ij}|` for each neuron i."""
    return site_for(model, layer).importance(model)


def outgoing_weights(model: nn.Module, layer: int) -> np.ndarray:
    """Outgoing weights ``W`` of hidden layer ``layer`` (one row per neuron), float64."""
    return np.asarray(site_for(model, layer).outgoing(model)[0], dtype=np.float64)


@dataclass
class LayerData:
    """What selection and fusion need about one layer, each piece computed once on demand.

    Parameters
    ----------
    stats : GramAccumulator
        Gram matrix, column sums and number of samples of the layer's activations.
    beta : float, optional
        Kernel bandwidth; default 10/|T| with |T| = ``stats.n_samples``.
    eps : float
        Diagonal perturbation of the kernel (0.01 in the paper).
    importance : ndarray, optional
        Importance scores of the neurons (He et al.'s onorm), for rules that need them.
    weights : ndarray, optional
        Outgoing weights ``W`` (one row per neuron), for rules that need them.
    """

    stats: GramAccumulator
    beta: float | None = None
    eps: float = DEFAULT_EPS
    importance: np.ndarray | None = None
    weights: np.ndarray | None = None
    _scaled: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return self.stats.n_features

    @cached_property
    def kernel(self) -> np.ndarray:
        """The RBF kernel L' + eps I of eq. 2."""
        return self.stats.kernel(beta=self.beta, eps=self.eps)

    @cached_property
    def eig(self) -> Eigendecomposition:
        return eigendecompose(self.kernel)

    def scaled_eig(self, k: int, scale: str = "paper") -> Eigendecomposition:
        """Eigendecomposition of gamma (L' + eps I), gamma scaling the expected size to k."""
        key = (k, scale)
        if key not in self._scaled:
            self._scaled[key] = self.eig.scaled(scaling_factor(self.eig.values, k, scale))
        return self._scaled[key]

    def with_inputs(self, *, importance=None, weights=None) -> LayerData:
        """A copy that shares the computed kernel and eigendecompositions, with scores or weights set."""
        new = copy.copy(self)
        if importance is not None:
            new.importance = np.asarray(importance, dtype=np.float64)
        if weights is not None:
            new.weights = np.asarray(weights, dtype=np.float64)
        return new
