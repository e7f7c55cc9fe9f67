"""Rules that choose the layer's size themselves: a DPP whose one scale is set by the fusion error.

Both are registered ``sized=False`` (called with ``k=None``; ``prune_network(model, None,
...)``), read the layer's kernel (eq. 2's RBF unless another is chosen), Gram matrix and
outgoing weights, and take the option ``tolerance`` (default :data:`TOLERANCE`): the
largest share of the next layer's input energy the selection may lose,
E(S) / tr(W^T G W) (:mod:`divnet_nb.core.sizes`).

=================  ==================================================================
``"dpp-sized"``    one sample of the plain DPP with kernel gamma L, gamma the smallest
                   scale whose samples lose at most ``tolerance`` on average
``"map-sized"``    the greedy mode of that DPP (the k-DPP with the size prior
                   gamma^|S|), gamma the smallest scale whose mode loses at most
                   ``tolerance``
=================  ==================================================================

A selection never comes back empty: an empty DPP sample keeps the neuron with the largest
diagonal in the kernel, with a warning that says so.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from ..registry import register_method

if TYPE_CHECKING:
    from .layer_data import LayerData

__all__ = ["TOLERANCE", "SizeWarning"]

#: The default tolerance: at most 1 % of the next layer's input energy lost to pruning.
TOLERANCE = 0.01


class SizeWarning(UserWarning):
    """A size rule kept one neuron because its choice would have kept none."""


@register_method(
    "dpp-sized",
    "neuron",
    label="DPP, size from the error",
    color="darkviolet",
    marker="P",
    needs=("kernel", "rng", "weights"),
    sized=False,
    options=("tolerance",),
)
def dpp_sized(data: LayerData, k, rng, tolerance: float = TOLERANCE) -> np.ndarray:
    """A plain DPP sample, its scale the smallest whose samples lose at most ``tolerance``."""
    from ...core.sample import sample_dpp
    from ...core.sizes import dpp_scale_for_error

    if data.n == 1:  # nothing to choose, and a DPP over one item has no size to scale
        return np.arange(1)
    choice = dpp_scale_for_error(None, data.gram, data.weights, tolerance, rng, eig=data.eig)
    keep = sample_dpp(None, rng, eig=data.eig.scaled(choice.gamma))
    if keep.size == 0:
        keep = np.array([int(np.argmax(np.diag(data.kernel)))])
        warnings.warn(
            f"the DPP sample at gamma = {choice.gamma:.3g} was empty; kept one neuron "
            f"(the largest kernel diagonal, {keep[0]})",
            SizeWarning,
            stacklevel=2,
        )
    return keep


@register_method(
    "map-sized",
    "neuron",
    label="DPP mode, size from the error",
    color="indigo",
    marker="X",
    needs=("kernel", "weights"),
    sized=False,
    options=("tolerance",),
)
def map_sized(data: LayerData, k, rng, tolerance: float = TOLERANCE) -> np.ndarray:
    """The greedy mode of gamma L, gamma the smallest whose mode loses at most ``tolerance``."""
    from ...core.sizes import map_for_error

    return map_for_error(data.kernel, data.gram, data.weights, tolerance).keep
