"""divnet-nb: DivNet (Mariet & Sra, "Diversity Networks", ICLR 2016) for learning and reproduction.

``import divnet_nb as dn`` gives the numerical core (:mod:`divnet_nb.core`: eq. 2's
kernel, eq. 1's DPPs and their samplers, eqs. 3-4's fusion), all re-exported here.
The rest of the package is one subpackage per stage, and data flows one way through
them::

    datasets -> training -> nets (sites) -> pruning (registry: neuron, edge, gate kinds)
             -> experiments -> report;   cli.py drives them all

* :mod:`divnet_nb.datasets` - the paper's datasets, found offline first;
* :mod:`divnet_nb.nets` - the Table 1 networks, error rates, and *sites* (the
  prunable layers of a model, described as data);
* :mod:`divnet_nb.training` - the training loop (with a penalty hook) and its cache;
* :mod:`divnet_nb.pruning` - the method registry and every pruning family;
  :mod:`divnet_nb.prune` is its public face (``prune_layer``, ``prune_network``,
  ``prune_edges``, ``train_gated`` and every other name a user calls);
* :mod:`divnet_nb.experiments`, :mod:`divnet_nb.report` - the paper's experiments and
  what they write.

The core's names are loaded on first use (:mod:`lazy_loader`): ``import divnet_nb``
itself is nearly free, so the command line answers a mistake at once, and it never
imports torch.
"""

__version__ = "0.1.0"

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "core": [
            "BETA_NUMERATOR",
            "DEFAULT_EPS",
            "DEFAULT_KERNEL",
            "Eigendecomposition",
            "FusionWarning",
            "GramAccumulator",
            "KernelSpec",
            "LearnedFit",
            "NeuronKernel",
            "ScaledKernel",
            "best_of",
            "build_kernel",
            "default_beta",
            "eigendecompose",
            "expected_size",
            "fuse",
            "fuse_from_gram",
            "fuse_to_target",
            "fit_learned_kernel",
            "fusion_coefficients",
            "get_kernel",
            "gram",
            "greedy_map",
            "held_out_fusion_error",
            "inclusion_probabilities",
            "kernel_names",
            "learned_family",
            "log_elementary_symmetric",
            "log_likelihood",
            "marginal_kernel",
            "neuron_kernel",
            "rbf_kernel",
            "rbf_kernel_from_gram",
            "register_kernel",
            "sample_dpp",
            "sample_kdpp",
            "sample_projection",
            "scale_to_size",
            "scaling_factor",
            "select_eigenvectors",
            "unregister_kernel",
        ]
    },
)
