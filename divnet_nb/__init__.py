"""divnet-nb: DivNet (Mariet & Sra, "Diversity Networks", ICLR 2016) for learning and reproduction.

The numerical core, all exported here:

* :mod:`divnet_nb.kernel` - the RBF kernel over neurons (eq. 2) from one Gram matrix,
  and a streaming Gram accumulator;
* :mod:`divnet_nb.dpp` - the DPP distribution (eq. 1): eigendecomposition, expected
  size, the paper's kernel scaling, elementary symmetric polynomials, exact
  inclusion probabilities, log-likelihood;
* :mod:`divnet_nb.sample` - exact DPP and k-DPP samplers (spectral algorithm),
  greedy MAP and best-of-m;
* :mod:`divnet_nb.fuse` - fusing removed neurons into kept ones (eqs. 3-4).
"""

from .dpp import (
    Eigendecomposition,
    ScaledKernel,
    eigendecompose,
    expected_size,
    inclusion_probabilities,
    log_elementary_symmetric,
    log_likelihood,
    marginal_kernel,
    scale_to_size,
    scaling_factor,
)
from .fuse import FusionWarning, fuse, fuse_from_gram, fusion_coefficients
from .kernel import GramAccumulator, default_beta, gram, rbf_kernel, rbf_kernel_from_gram
from .sample import (
    best_of,
    greedy_map,
    sample_dpp,
    sample_kdpp,
    sample_projection,
    select_eigenvectors,
)

__version__ = "0.1.0"

__all__ = [
    "Eigendecomposition",
    "FusionWarning",
    "GramAccumulator",
    "ScaledKernel",
    "best_of",
    "default_beta",
    "eigendecompose",
    "expected_size",
    "fuse",
    "fuse_from_gram",
    "fusion_coefficients",
    "gram",
    "greedy_map",
    "inclusion_probabilities",
    "log_elementary_symmetric",
    "log_likelihood",
    "marginal_kernel",
    "rbf_kernel",
    "rbf_kernel_from_gram",
    "sample_dpp",
    "sample_kdpp",
    "sample_projection",
    "scale_to_size",
    "scaling_factor",
    "select_eigenvectors",
]
