"""Networks: the Table 1 MLPs, their error rates, and their prunable layers (sites).

* :mod:`.mlp` - :class:`MLP` (sigmoid hidden layers, logits out) and :func:`table1_sizes`;
* :mod:`.sites` - :class:`LayerSite`: a producer -> activation -> consumer triple that
  every pruning family reads activations through and shrinks or masks through;
* :mod:`.evaluate` - :func:`error_rate`, the one measurement every experiment reports.
"""

from .evaluate import as_tensor, default_device, error_rate
from .mlp import MLP, table1_sizes
from .sites import DenseSite, LayerSite, find_sites, site_for

__all__ = [
    "MLP",
    "DenseSite",
    "LayerSite",
    "as_tensor",
    "default_device",
    "error_rate",
    "find_sites",
    "site_for",
    "table1_sizes",
]
