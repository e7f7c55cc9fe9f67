"""Networks: the Table 1 MLPs, their error rates, and their prunable layers (sites).

* :mod:`.mlp` - :class:`MLP` (sigmoid hidden layers, logits out) and :func:`table1_sizes`;
* :mod:`.sites` - :class:`~.site_base.LayerSite`: a producer -> activation -> consumer triple
  that every pruning family reads activations through and shrinks or masks through; found
  once (:func:`~.sites.find_sites`) and handed on (:func:`~.sites.as_site`);
* :mod:`.conv_sites` - :class:`~.conv_sites.ConvSite`: the channels of a ``Conv2d``;
* :mod:`.chain` - a model read as a chain of modules (nested containers, torch.fx);
* :mod:`.evaluate` - :func:`error_rate`, the one measurement every experiment reports;
* :mod:`.table1` - :func:`table1_sizes` (no torch: the command line checks sizes with it).

Names are loaded on first use (:mod:`lazy_loader`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "evaluate": ["as_tensor", "default_device", "error_rate"],
        "mlp": ["ACTIVATIONS", "MLP"],
        "table1": ["table1_sizes"],
        "sites": [
            "DenseSite",
            "ELEMENTWISE",
            "PER_CHANNEL",
            "LayerSite",
            "as_site",
            "find_sites",
            "site_for",
        ],
        "conv_sites": ["ConvSite"],
        "architectures": [
            "CNN",
            "Architecture",
            "architecture_names",
            "get_architecture",
            "register_architecture",
        ],
        "chain": ["as_chain", "chain_modules", "model_inputs"],
    },
)
