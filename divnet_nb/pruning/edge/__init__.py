"""The ``edge`` kind: which incoming weights of each unit to keep (a mask, not fewer units).

* :mod:`.masks` - :class:`~.masks.EdgeData` (a layer's input statistics) and the path
  from statistics to a masked network: :func:`~.masks.edge_statistics`,
  :func:`~.masks.select_edge_masks`, :func:`~.masks.reweight_edges`,
  :func:`~.masks.prune_edges`, and :func:`~.masks.count_parameters`;
* :mod:`.rules` - the registered edge rules: DPP edge pruning (Acharyya et al.), random,
  magnitude;
* :mod:`.bandwidth` - the settings of the DPP edge kernel's bandwidth.

Importing this package registers the rules; it needs no torch.
"""

from . import rules  # noqa: F401 - register the methods (no torch needed)
