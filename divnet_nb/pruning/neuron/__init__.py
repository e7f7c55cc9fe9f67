"""The ``neuron`` kind: which neurons of a layer to keep (they are then removed, with or without fusion).

* :mod:`.layer_data` - :class:`~.layer_data.LayerData`, a layer's statistics as the rules
  see them (Gram matrix, the kernel of eq. 2 and its eigendecomposition, importance
  scores, outgoing weights; no torch);
* :mod:`.select` - :func:`~.select.select_neurons` (the contract every rule is held to)
  and the paper's rules: DivNet's k-DPP, the nonparametric DPP, greedy MAP, random,
  importance;
* :mod:`.rules` - rules on the fusion objective E(S), beyond the paper: greedy, swaps,
  the quality-diversity k-DPP, interpolative decomposition;
* :mod:`.lasso` - He et al. (2017)'s LASSO channel selection, from the same statistics;
* :mod:`.sizes` - rules that choose the layer's size: a DPP whose scale is set by the
  fusion error it may lose (sample or mode);
* :mod:`.budget` - a budget of hidden neurons shared across layers (how many neurons
  each layer keeps, from the same objective).

Applying a selection to a network (statistics, selection, fusion, a smaller network) is
:mod:`divnet_nb.pruning.apply`. Importing this package registers the rules; it needs no
torch.
"""

from . import select, rules, lasso, sizes  # noqa: F401, I001 - register the methods in this order (no torch needed)
