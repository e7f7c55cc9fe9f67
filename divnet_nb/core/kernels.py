r"""Kernels over neurons, by name: DivNet's RBF kernel (eq. 2) and the alternatives the paper names.

The paper builds its DPP kernel from the activation vectors :math:`v_i` (column i of the
layer's activations over the training inputs :math:`\mathcal{T}`) with a Gaussian RBF,
and leaves the choice open: "a more thorough evaluation of kernel choice is future work"
(section 2.1.1); the RBF kernel "is not scale invariant", so two collinear but unequal
activation vectors are not duplicates to it (section 3.3); and section 4 proposes
"kernels invariant to the scaling of the activation vectors, or even kernels learned from
data". Each kernel here is built from the layer's statistics in one pass: the Gram
matrix :math:`G = A^\top A`, the column sums :math:`s` and :math:`N = |\mathcal{T}|`
(a :class:`~divnet_nb.core.kernel.GramAccumulator`), plus, for two of them, the outgoing
weights :math:`W` (one row :math:`w_i` per neuron). With :math:`d_{ij}^2 = G_{ii} + G_{jj}
- 2G_{ij}` and :math:`\varepsilon` = ``eps`` (0.01, as in the paper):

========================  ==================================================================
``"rbf"``                 :math:`e^{-\beta d_{ij}^2} + \varepsilon\delta_{ij}`,
                          :math:`\beta = 10/N`: eq. 2, the default
``"linear"``              :math:`G_{ij}/N + \varepsilon \bar g\,\delta_{ij}`, :math:`\bar g` the
                          mean of :math:`G_{ii}/N`: the "simple linear kernel" of section 2.1.1
``"cosine"``              :math:`G_{ij}/\sqrt{G_{ii}G_{jj}} + \varepsilon\delta_{ij}`: unchanged
                          when any neuron's activations are multiplied by a positive number
                          (section 4); collinear neurons are exact duplicates
``"rbf-standardised"``    the RBF kernel of the standardised activations
                          :math:`z_i = (v_i - \bar v_i)/\sigma_i`, i.e.
                          :math:`e^{-2\beta N (1 - \rho_{ij})} + \varepsilon\delta_{ij}` with the
                          correlation :math:`\rho`; unchanged by positive scalings and shifts
``"rbf-median"``          :math:`e^{-d_{ij}^2/m} + \varepsilon\delta_{ij}`, :math:`m` the median
                          of the positive :math:`d_{ij}^2` (the median heuristic)
``"qd"``                  the quality-diversity kernel :math:`q_i (R_{ij} + \varepsilon
                          \delta_{ij}) q_j`, :math:`q_i = \lVert w_i\rVert \sigma_i`, R the
                          correlation (Kulesza & Taskar 2012, section 3.1): the weights-aware case
``"learned"``             the RBF bandwidth, and a quality exponent, fitted to the expected
                          fusion error of k-DPP samples on a held-out half of the training
                          inputs (:mod:`divnet_nb.core.learned`)
========================  ==================================================================

:func:`build_kernel` returns the matrix and the parameters used (the median's bandwidth,
the learned factor and exponent); :func:`neuron_kernel` only the matrix. Every kernel is
positive semidefinite by construction at the parameters it admits, and a parameter
outside them (a negative bandwidth, a negative ``eps``) is refused with the reason. A
kernel registered with ``psd=False`` (:func:`register_kernel`) is checked by its
eigenvalues when built and refused, naming its smallest eigenvalue, if it is not: no
kernel that is not positive semidefinite reaches a sampler.

Costs: one Gram matrix (the caller's, or one
:class:`~divnet_nb.core.kernel.GramAccumulator` pass over the activations) plus O(n^2)
elementwise work; ``"learned"`` adds its fit (see its module).
This module imports no Numba until a kernel is built, so the command line can check a
kernel's name cheaply.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ._validate import as_float_array, as_positive_real, check_psd_eigenvalues, is_int
from .constants import BETA_NUMERATOR, DEFAULT_EPS

__all__ = [
    "DEFAULT_KERNEL",
    "KernelSpec",
    "NeuronKernel",
    "build_kernel",
    "get_kernel",
    "kernel_names",
    "neuron_kernel",
    "register_kernel",
    "unregister_kernel",
]

#: The paper's kernel (eq. 2); every experiment's default.
DEFAULT_KERNEL = "rbf"
#: What a kernel may need beyond the Gram matrix and the number of samples.
NEEDS = frozenset({"weights", "held_out", "k", "rng"})
#: A neuron whose variance is below this fraction of its mean square is constant.
CONSTANT = 1e-10


@dataclass(frozen=True)
class KernelSpec:
    """A registered kernel: its builder, the parameters it takes, what it needs, what it claims.

    Attributes
    ----------
    name : str
        What users type (``kernel="cosine"``, ``--kernel cosine``).
    build : callable
        ``build(inputs, **params) -> (L, used)``: the matrix and the parameters used.
    params : tuple of str
        The keyword parameters it takes (``"beta"``, ``"eps"``, ...).
    needs : frozenset
        A subset of ``{"weights", "held_out", "k", "rng"}``.
    scale_invariant : bool
        The kernel is unchanged when a neuron's activations are multiplied by a positive
        number (tested).
    psd : bool
        Positive semidefinite by construction at every admitted parameter; if False,
        every built matrix is checked by its eigenvalues.
    description : str
        One line, for listings.
    """

    name: str
    build: Callable
    params: tuple = ("eps",)
    needs: frozenset = frozenset()
    scale_invariant: bool = False
    psd: bool = True
    description: str = ""


class NeuronKernel(NamedTuple):
    """A built kernel: the matrix, the kernel's name, the parameters used (JSON-able)."""

    matrix: np.ndarray
    name: str
    params: dict


@dataclass(frozen=True)
class Inputs:
    """What a builder reads: the layer's statistics and, for some kernels, more."""

    gram: np.ndarray
    n_samples: int
    sums: np.ndarray | None
    weights: np.ndarray | None = None
    held_out: object = None
    k: int | None = None
    rng: np.random.Generator | None = None

    @property
    def n(self) -> int:
        return self.gram.shape[0]


_KERNELS: dict[str, KernelSpec] = {}


def register_kernel(
    name: str,
    *,
    params=("eps",),
    needs=(),
    scale_invariant: bool = False,
    psd: bool = True,
    description: str = "",
    replace: bool = False,
):
    """Decorator that declares a kernel over neurons (see :class:`KernelSpec`).

    ``psd=False`` for a kernel that is not positive semidefinite at every parameter it
    takes: each built matrix is then checked, and refused with its smallest eigenvalue.
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c == "-" for c in name):
        raise ValueError(f"kernel name must be letters, digits and '-'; got {name!r}")
    needs = frozenset(needs)
    if not needs <= NEEDS:
        raise ValueError(f"kernel {name!r}: needs {sorted(needs - NEEDS)} unknown")
    if name in _KERNELS and not replace:
        raise ValueError(f"kernel {name!r} is already registered (pass replace=True to override)")

    def decorator(build: Callable) -> Callable:
        doc = description or (build.__doc__ or "").strip().split("\n")[0]
        _KERNELS[name] = KernelSpec(
            name, build, tuple(params), needs, bool(scale_invariant), bool(psd), doc
        )
        return build

    return decorator


def unregister_kernel(name: str) -> None:
    """Remove a kernel from the registry (for tests and interactive work)."""
    _KERNELS.pop(name, None)


def kernel_names() -> tuple[str, ...]:
    """The registered kernels, in registration order."""
    return tuple(_KERNELS)


def get_kernel(name) -> KernelSpec:
    """The registered kernel ``name``; a one-line ValueError listing the registered ones otherwise."""
    if isinstance(name, str) and name in _KERNELS:
        return _KERNELS[name]
    raise ValueError(
        f"kernel must be one of the registered kernels: {', '.join(_KERNELS)}; got {name!r}"
    )


def _statistics(stats):
    """(Gram matrix, column sums or None, number of samples) of an accumulator or activations."""
    from .kernel import GramAccumulator

    if not isinstance(stats, GramAccumulator):
        stats = GramAccumulator().update(
            as_float_array(stats, "activations", 2, check_finite=False)
        )
    try:
        sums = stats.sums
    except ValueError:  # made with track_sums=False: only the kernels that centre need them
        sums = None
    return stats.gram, sums, stats.n_samples


def build_kernel(
    name: str, stats, *, weights=None, held_out=None, k=None, rng=None, **params
) -> NeuronKernel:
    """Build the registered kernel ``name`` over a layer's neurons.

    Parameters
    ----------
    name : str
        A registered kernel (:func:`kernel_names`).
    stats : GramAccumulator or array_like, shape (n_samples, n_neurons)
        The layer's statistics, or its activations (column i is neuron i's :math:`v_i`).
    weights : array_like, shape (n_neurons, n_out), optional
        Outgoing weights, one row per neuron (``"qd"``, ``"learned"``).
    held_out : GramAccumulator, optional
        Statistics of the held-out half of the rows of ``stats`` (``"learned"``).
    k : int, optional
        The sample size the kernel is fitted for (``"learned"``).
    rng : None, int or numpy.random.Generator
        Randomness of a fit (``"learned"``).
    **params
        The kernel's parameters (e.g. ``beta``, ``eps``); see :func:`get_kernel`.

    Returns
    -------
    NeuronKernel
        ``(matrix, name, params)``: the float64 kernel, exactly symmetric, and the
        parameters used.

    Raises
    ------
    ValueError
        An unknown kernel or parameter, a missing input, a parameter at which the kernel
        is not positive semidefinite, or (for a kernel registered with ``psd=False``) a
        built matrix that is not.
    """
    spec = get_kernel(name)
    unknown = set(params) - set(spec.params)
    if unknown:
        raise ValueError(
            f"kernel {name!r} takes no parameter(s) {sorted(unknown)}; "
            f"its parameters: {', '.join(spec.params) or 'none'}"
        )
    given = {"weights": weights, "held_out": held_out, "k": k, "rng": rng}
    for need in sorted(spec.needs - {"rng"}):
        if given[need] is None:
            raise ValueError(f"kernel {name!r} needs {need}=...")
    G, sums, n_samples = _statistics(stats)
    if weights is not None and "weights" in spec.needs:
        weights = np.asarray(as_float_array(weights, "weights", 2), dtype=np.float64)
        if weights.shape[0] != G.shape[0]:
            raise ValueError(
                f"weights must have one row per neuron ({G.shape[0]}); got shape {weights.shape}"
            )
    if k is not None and (not is_int(k) or not 1 <= k <= G.shape[0]):
        raise ValueError(f"k must be an integer with 1 <= k <= {G.shape[0]}; got {k!r}")
    inputs = Inputs(G, n_samples, sums, weights, held_out, k, rng)
    L, used = spec.build(inputs, **params)
    if not spec.psd:
        _refuse_indefinite(L, name, used)
    return NeuronKernel(L, name, used)


def neuron_kernel(name: str, stats, **kwargs) -> np.ndarray:
    """The matrix of :func:`build_kernel` (same arguments).

    Examples
    --------
    >>> import numpy as np
    >>> from divnet_nb import neuron_kernel
    >>> A = np.array([[1.0, 2.0, 0.0], [1.0, 2.0, 1.0]])   # neurons 0 and 1 are collinear
    >>> np.round(neuron_kernel("cosine", A, eps=0.0), 4)
    array([[1.    , 1.    , 0.7071],
           [1.    , 1.    , 0.7071],
           [0.7071, 0.7071, 1.    ]])
    """
    return build_kernel(name, stats, **kwargs).matrix


def _refuse_indefinite(L: np.ndarray, name: str, used: dict) -> None:
    import scipy.linalg

    at = ", ".join(f"{key} = {value:g}" for key, value in used.items()) or "its defaults"
    w = scipy.linalg.eigvalsh(L, check_finite=False)
    try:
        check_psd_eigenvalues(w, "L")
    except ValueError:
        raise ValueError(
            f"kernel {name!r} is not positive semidefinite at {at}: its smallest eigenvalue is "
            f"{w.min():.3g} (largest {w.max():.3g}), so no DPP has it as a kernel; refused"
        ) from None


# ---------------------------------------------------------------- parameters
def _negative(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value < 0


def _eps(eps, name: str) -> float:
    if _negative(eps):
        raise ValueError(
            f"kernel {name!r} is not positive semidefinite at eps = {eps:g} in general (a "
            f"negative diagonal shift can make it indefinite); eps must be >= 0"
        )
    return as_positive_real(eps, "eps", allow_zero=True)


def _beta(beta, n_samples: int, name: str) -> float:
    if beta is None:
        return BETA_NUMERATOR / n_samples
    if _negative(beta):
        raise ValueError(
            f"kernel {name!r} is not positive semidefinite at beta = {beta:g}: exp(-beta d^2) "
            f"then grows with the distance d; beta must be > 0"
        )
    return as_positive_real(beta, "beta")


def _live_scale(variances: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """1 / sqrt(variance) of the neurons that vary (relative to their energy), 0 for the others."""
    live = variances > CONSTANT * energy
    return np.where(live, 1.0 / np.sqrt(np.where(live, variances, 1.0)), 0.0)


# ---------------------------------------------------------------- the kernels
@register_kernel("rbf", params=("beta", "eps"))
def _rbf(x: Inputs, beta=None, eps=DEFAULT_EPS):
    """DivNet's eq. 2: exp(-beta ||v_i - v_j||^2) + eps delta_ij, beta = 10 / |T| (section 2.1.1)."""
    from .kernel import rbf_kernel_from_gram

    beta, eps = _beta(beta, x.n_samples, "rbf"), _eps(eps, "rbf")
    L = rbf_kernel_from_gram(x.gram, n_samples=x.n_samples, beta=beta, eps=eps)
    return L, {"beta": beta, "eps": eps}


@register_kernel("linear")
def _linear(x: Inputs, eps=DEFAULT_EPS):
    """A^T A / |T| + eps (mean diagonal) I: the linear kernel of section 2.1.1's comparison."""
    eps = _eps(eps, "linear")
    L = x.gram / x.n_samples
    scale = float(np.mean(np.diag(L)))
    L[np.diag_indices(x.n)] += eps * (scale if scale > 0 else 1.0)
    return L, {"eps": eps}


@register_kernel("cosine", scale_invariant=True)
def _cosine(x: Inputs, eps=DEFAULT_EPS):
    """Cosine similarity of the activation vectors + eps I: scale invariant (section 4)."""
    eps = _eps(eps, "cosine")
    d = np.diag(x.gram)
    inv = _live_scale(d, np.zeros_like(d))  # a neuron that is never active has no direction
    L = x.gram * np.outer(inv, inv)  # exactly symmetric: inv_i inv_j = inv_j inv_i
    L[np.diag_indices(x.n)] = np.where(inv > 0, 1.0, 0.0) + eps
    return L, {"eps": eps}


@register_kernel("rbf-standardised", params=("beta", "eps"), scale_invariant=True)
def _rbf_standardised(x: Inputs, beta=None, eps=DEFAULT_EPS):
    """The RBF kernel of eq. 2 on standardised activations: exp(-2 beta |T| (1 - rho_ij)) + eps."""
    from .kernel import rbf_kernel_from_gram
    from .objective import centred_gram

    if x.sums is None:
        raise ValueError("kernel 'rbf-standardised' needs the column sums (track_sums=True)")
    beta, eps = _beta(beta, x.n_samples, "rbf-standardised"), _eps(eps, "rbf-standardised")
    C = centred_gram(x.gram, x.sums, x.n_samples)
    inv = _live_scale(np.diag(C), np.diag(x.gram))  # a constant neuron standardises to 0
    Z = C * np.outer(inv, inv)  # the correlation; a constant neuron has none
    Z[np.diag_indices(x.n)] = np.where(inv > 0, 1.0, 0.0)
    Z = (Z + Z.T) * (0.5 * x.n_samples)  # the Gram matrix of the standardised activations
    L = rbf_kernel_from_gram(Z, n_samples=x.n_samples, beta=beta, eps=eps)
    return L, {"beta": beta, "eps": eps}


@register_kernel("rbf-median")
def _rbf_median(x: Inputs, eps=DEFAULT_EPS):
    """The RBF kernel with beta = 1 / median of the positive squared distances (median heuristic)."""
    from .kernel import rbf_kernel_from_gram

    eps = _eps(eps, "rbf-median")
    d = np.diag(x.gram)
    d2 = (d[:, None] + d[None, :] - 2.0 * x.gram)[np.triu_indices(x.n, 1)]
    d2 = d2[d2 > 1e-12 * max(float(d.max()), np.finfo(float).tiny)]  # not round-off of a duplicate
    beta = 1.0 / float(np.median(d2)) if d2.size else BETA_NUMERATOR / x.n_samples
    L = rbf_kernel_from_gram(x.gram, n_samples=x.n_samples, beta=beta, eps=eps)
    return L, {"beta": beta, "eps": eps}


@register_kernel("qd", needs=("weights",))
def _quality_diversity(x: Inputs, eps=DEFAULT_EPS):
    """D (R + eps I) D: quality ||w_i|| sigma_i, R the activations' correlation (weights-aware)."""
    from .objective import centred_gram

    eps = _eps(eps, "qd")
    if x.sums is None:
        raise ValueError("kernel 'qd' needs the column sums (track_sums=True)")
    cov = centred_gram(x.gram, x.sums, x.n_samples) / x.n_samples
    sigma = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    live = sigma > 1e-12 * max(float(sigma.max()), np.finfo(float).tiny)
    inv = np.where(live, 1.0 / np.where(live, sigma, 1.0), 0.0)
    R = cov * inv[:, None] * inv[None, :]
    np.fill_diagonal(R, np.where(live, 1.0, 0.0))
    q = np.linalg.norm(x.weights, axis=1) * sigma
    L = q[:, None] * (R + eps * np.eye(x.n)) * q[None, :]
    return (L + L.T) * 0.5, {"eps": eps}


@register_kernel(
    "learned",
    params=("eps", "samples", "quality"),
    needs=("weights", "held_out", "k", "rng"),
)
def _learned(x: Inputs, eps=DEFAULT_EPS, samples=None, quality=True):
    """RBF bandwidth and quality exponent fitted to the held-out fusion error of k-DPP samples."""
    from .learned import SAMPLES, fit_learned_kernel

    eps = _eps(eps, "learned")
    fit = fit_learned_kernel(
        x.gram, x.n_samples, x.held_out, x.weights, x.k, x.rng,
        eps=eps, samples=SAMPLES if samples is None else samples, quality=quality,
    )  # fmt: skip
    return fit.kernel, {"eps": eps, **fit.params()}
