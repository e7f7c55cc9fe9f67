"""The paper's experiments, shared by the command line and the notebooks.

* :mod:`.settings` - :class:`Settings`, fast mode, kernel subsets, the swept sizes;
* :mod:`.sweeps` - Figures 2-8: one layer pruned alone over a grid of sizes;
* :mod:`.tables` - Table 2: every hidden layer pruned to the same fraction;
* :mod:`.claims` - the paper's claims checked on the measurements;
* :mod:`.experiment` - :class:`Experiment` (one dataset: data, trained instances and
  every measurement) and :func:`reproduce` (all of it, written by :mod:`divnet_nb.report`).

The compared variants come from the method registry (:func:`divnet_nb.pruning.variants`);
``VARIANTS`` are the paper's six (k-DPP, random, importance; each without and with fusion).
"""

from ..pruning.registry import Variant, variants
from .claims import check_claims
from .experiment import Experiment, fusion_warnings, reproduce
from .settings import FAST, Settings, kernel_subset, layer_grid, settings_for
from .sweeps import layer_sweep
from .tables import table2

#: The paper's six variants; ``VARIANT["dpp+fuse"]`` is DivNet.
VARIANTS = variants()
VARIANT = {v.key: v for v in VARIANTS}

__all__ = [
    "FAST",
    "VARIANT",
    "VARIANTS",
    "Experiment",
    "Settings",
    "Variant",
    "check_claims",
    "fusion_warnings",
    "kernel_subset",
    "layer_grid",
    "layer_sweep",
    "reproduce",
    "settings_for",
    "table2",
    "variants",
]
