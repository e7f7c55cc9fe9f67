"""The numerical core of DivNet: numpy, scipy and Numba only (importing it never imports torch).

* :mod:`~divnet_nb.core.kernel` - the RBF kernel over neurons (eq. 2) from one Gram
  matrix, and a streaming Gram accumulator;
* :mod:`~divnet_nb.core.kernels` - every kernel over neurons by name (eq. 2's RBF, linear,
  cosine, standardised, median bandwidth, quality-diversity, learned), each from the same
  statistics; :mod:`~divnet_nb.core.learned` fits the learned one;
* :mod:`~divnet_nb.core.dpp` - the DPP distribution (eq. 1): eigendecomposition,
  expected size, the paper's kernel scaling, elementary symmetric polynomials, exact
  inclusion probabilities, log-likelihood;
* :mod:`~divnet_nb.core.sample` - exact DPP and k-DPP samplers (spectral algorithm),
  greedy MAP and best-of-m;
* :mod:`~divnet_nb.core.fuse` - fusing removed neurons into kept ones (eqs. 3-4);
* :mod:`~divnet_nb.core.objective` - the fusion objective E(S) and greedy, backward,
  swap and pivoted-Cholesky selections on it;
* :mod:`~divnet_nb.core.constants` - the paper's kernel constants (beta's numerator, eps);
* ``_config`` (the Numba flags, in one place) and ``_validate`` (input checks shared
  by every public function).

Everything listed in ``__all__`` is re-exported by :mod:`divnet_nb` itself, so
``import divnet_nb as dn; dn.rbf_kernel(A)`` is the usual spelling. Names are loaded on
first use (:mod:`lazy_loader`), so a module that needs only the input checks does not
pay for Numba's start-up.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "dpp": [
            "Eigendecomposition",
            "ScaledKernel",
            "eigendecompose",
            "expected_size",
            "inclusion_probabilities",
            "log_elementary_symmetric",
            "log_likelihood",
            "marginal_kernel",
            "scale_to_size",
            "scaling_factor",
        ],
        "fuse": [
            "FusionWarning",
            "fuse",
            "fuse_from_gram",
            "fuse_to_target",
            "fusion_coefficients",
        ],
        "constants": ["BETA_NUMERATOR", "DEFAULT_EPS"],
        "kernel": ["GramAccumulator", "default_beta", "gram", "rbf_kernel", "rbf_kernel_from_gram"],
        "kernels": [
            "DEFAULT_KERNEL",
            "KernelSpec",
            "NeuronKernel",
            "build_kernel",
            "get_kernel",
            "kernel_names",
            "neuron_kernel",
            "register_kernel",
            "unregister_kernel",
        ],
        "learned": ["LearnedFit", "fit_learned_kernel", "held_out_fusion_error", "learned_family"],
        "sample": [
            "best_of",
            "greedy_map",
            "sample_dpp",
            "sample_kdpp",
            "sample_projection",
            "select_eigenvectors",
        ],
    },
)
