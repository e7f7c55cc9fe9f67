"""The paper's experiments, shared by the command line and the notebooks.

* :mod:`.settings` - :class:`Settings`, fast mode, kernel subsets, the swept sizes;
* :mod:`.sweeps` - Figures 2-8: one layer pruned alone over a grid of sizes;
* :mod:`.tables` - Table 2: every hidden layer pruned to the same fraction;
* :mod:`.claims` - the paper's claims checked on the measurements;
* :mod:`.experiment` - :class:`Experiment` (one dataset: data, trained instances and
  every measurement) and :func:`reproduce` (all of it, written by :mod:`divnet_nb.report`);
* :mod:`.leaderboard` - every selection rule with fusion, in one table;
* :mod:`.kernels` - every kernel over neurons with every k-DPP selector, with fusion;
* :mod:`.edges` - DPP edge pruning against its baselines and node pruning at the same
  parameter count (:func:`edge_experiment`);
* :mod:`.gates` - learned gates against post-hoc pruning at the same sizes;
* :mod:`.base`, :mod:`.reproduce` - what the experiments on the Table 1 networks share,
  and ``divnet-nb reproduce``; every command is an experiment of :mod:`divnet_nb.tasks`;
* :mod:`.reference` - committed references and the regression check against them.

Two modules have a ``FRACTIONS`` (the leaderboard's and the edge experiment's) and the
leaderboard has its ``METHODS``: read them from their modules.

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
        "base": [
            "NetworkExperiment",
            "dataset_argument",
            "kernel_argument",
            "kernel_samples_argument",
        ],
        "claims": ["CLAIMS", "check_claims"],
        "edges": [
            "EDGE_METHODS",
            "Edges",
            "NODE_METHODS",
            "edge_comparisons",
            "edge_experiment",
            "edge_part",
            "edge_sizes",
            "matched_nodes",
            "summary_table",
        ],
        "experiment": ["Experiment", "attached", "context", "reproduce"],
        "fusion": ["fusion_warnings"],
        "gates": [
            "BASES",
            "GateSettings",
            "Gates",
            "NETWORKS",
            "NEURON_GATES",
            "POSTHOC",
            "WEIGHT_GATES",
            "gate_descriptions",
            "gate_experiment",
            "gate_runs",
            "gate_settings",
            "kept_weights",
        ],
        "leaderboard": [
            "CONTENDERS",
            "FOCUS",
            "FUSIONS",
            "Leaderboard",
            "comparisons",
            "entries",
            "entry_key",
            "fusion_options",
            "leaderboard",
            "leaderboard_part",
        ],
        "kernels": [
            "FAST_FRACTIONS",
            "KERNELS",
            "Kernels",
            "SELECTORS",
            "gather_kernels",
            "kernel_comparisons",
            "kernel_entry",
            "kernel_fractions",
            "kernel_part",
        ],
        "reference": [
            "ABS_TOL",
            "SE_FACTOR",
            "Mismatch",
            "compare",
            "environment",
            "load_reference",
            "make_reference",
            "reference_path",
            "write_reference",
        ],
        "reproduce": ["Reproduce"],
        "settings": [
            "FAST",
            "Settings",
            "kernel_subset",
            "layer_grid",
            "method_stream",
            "settings_for",
        ],
        "sweeps": ["layer_sweep", "progress_bar"],
        "tables": ["table2"],
    },
)

#: The paper's six variants; ``VARIANT["dpp+fuse"]`` is DivNet.
VARIANTS = variants()
VARIANT = {v.key: v for v in VARIANTS}

__all__ = sorted([*_lazy_all, "VARIANT", "VARIANTS", "Variant", "variants"])
