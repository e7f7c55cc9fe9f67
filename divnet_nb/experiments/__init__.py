"""The paper's experiments, shared by the command line and the notebooks.

* :mod:`.settings` - :class:`Settings`, fast mode, kernel subsets, the swept sizes;
* :mod:`.sweeps` - Figures 2-8: one layer pruned alone over a grid of sizes;
* :mod:`.tables` - Table 2: every hidden layer pruned to the same fraction;
* :mod:`.claims` - the paper's claims checked on the measurements;
* :mod:`.experiment` - :class:`Experiment` (one dataset: data, trained instances and
  every measurement) and :func:`reproduce` (all of it, written by :mod:`divnet_nb.report`);
* :mod:`.leaderboard` - every selection rule with fusion, in one table;
* :mod:`.edges` - DPP edge pruning against its baselines and node pruning at the same
  parameter count (:func:`edge_experiment`).

The compared variants come from the method registry (:func:`divnet_nb.pruning.variants`);
``VARIANTS`` are the paper's six (k-DPP, random, importance; each without and with fusion).
Names are loaded on first use (:mod:`lazy_loader`): reading the settings imports no torch.
"""

import lazy_loader as lazy

from ..pruning.registry import Variant as Variant
from ..pruning.registry import variants

__getattr__, __dir__, _lazy_all = lazy.attach(
    __name__,
    submod_attrs={
        "claims": ["check_claims"],
        "edges": ["edge_comparisons", "edge_experiment", "matched_nodes"],
        "experiment": ["Experiment", "fusion_warnings", "reproduce"],
        "settings": ["FAST", "Settings", "kernel_subset", "layer_grid", "settings_for"],
        "sweeps": ["layer_sweep"],
        "tables": ["table2"],
    },
)

#: The paper's six variants; ``VARIANT["dpp+fuse"]`` is DivNet.
VARIANTS = variants()
VARIANT = {v.key: v for v in VARIANTS}

__all__ = sorted([*_lazy_all, "VARIANT", "VARIANTS", "Variant", "variants"])
