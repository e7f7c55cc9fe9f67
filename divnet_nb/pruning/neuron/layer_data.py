"""A layer's statistics as selection rules see them: :class:`LayerData` (no torch here).

Selection is a function of a layer's statistics, not of how the network is built: the
Gram matrix and column sums of its activations over the training inputs, and, computed
once on demand, the kernel over its neurons (eq. 2's RBF by default, or any kernel of
:mod:`divnet_nb.core.kernels`) and its eigendecomposition; plus, for the rules and
kernels that need them, the outgoing weights, the units' importance scores and the
statistics of a held-out half of the inputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ...core.dpp import Eigendecomposition, eigendecompose, scaling_factor
from ...core.kernel import DEFAULT_EPS, GramAccumulator
from ...core.kernels import DEFAULT_KERNEL, NeuronKernel, build_kernel, get_kernel
from ...tasks.executors import thread_limits

__all__ = ["LayerData"]


@dataclass
class LayerData:
    """What selection and fusion need about one layer, each piece computed once on demand.

    Parameters
    ----------
    stats : GramAccumulator
        Gram matrix, column sums and number of samples of the layer's activations.
    beta : float, optional
        Kernel bandwidth, for the kernels that take one; default ``10 / |T|`` with
        ``|T| = stats.n_samples``.
    eps : float
        Diagonal perturbation of the kernel (0.01 in the paper).
    importance : ndarray, optional
        Importance scores of the neurons (He et al.'s onorm), for rules that need them.
    weights : ndarray, optional
        Outgoing weights ``W`` (one row per neuron), for rules and kernels that need them.
    kernel_name : str
        The kernel over neurons (:func:`divnet_nb.core.kernels.kernel_names`); default
        ``"rbf"``, the paper's eq. 2.
    held_out : GramAccumulator, optional
        Statistics of a held-out part of the same inputs, for a kernel fitted to them
        (``"learned"``; :func:`divnet_nb.pruning.statistics.held_out_statistics`).
    kernel_params : dict, optional
        The kernel's other parameters (e.g. ``{"quality": False}`` for ``"learned"``).
    """

    stats: GramAccumulator
    beta: float | None = None
    eps: float = DEFAULT_EPS
    importance: np.ndarray | None = None
    weights: np.ndarray | None = None
    kernel_name: str = DEFAULT_KERNEL
    held_out: GramAccumulator | None = None
    kernel_params: dict | None = None
    _scaled: dict = field(default_factory=dict, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)
    _kernels: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        spec = get_kernel(self.kernel_name)
        if self.beta is not None and "beta" not in spec.params:
            raise ValueError(
                f"kernel {self.kernel_name!r} takes no beta (its parameters: "
                f"{', '.join(spec.params)})"
            )

    @property
    def n(self) -> int:
        return self.stats.n_features

    @property
    def kernel_spec(self):
        """The registered kernel (:class:`~divnet_nb.core.kernels.KernelSpec`)."""
        return get_kernel(self.kernel_name)

    def _key(self, k: int | None):
        """The size a kernel is built for: ``k`` for a kernel fitted to a size, else None."""
        if "k" not in self.kernel_spec.needs:
            return None
        if k is None:
            raise ValueError(
                f"kernel {self.kernel_name!r} is fitted for a sample size k: use kernel_at(k), "
                f"and a rule that keeps a given number of neurons"
            )
        return int(k)

    def built_kernel(self, k: int | None = None) -> NeuronKernel:
        """The kernel for sample size ``k`` (the same for every k unless the kernel is fitted
        to it) with the parameters used; built once."""
        key = self._key(k)
        if key not in self._kernels:
            spec = self.kernel_spec
            params = {name: getattr(self, name) for name in ("beta", "eps") if name in spec.params}
            params |= self.kernel_params or {}
            inputs = {
                "weights": self.weights,
                "held_out": self.held_out,
                "k": key,
                "rng": np.random.default_rng([key or 0, self.n]),
            }
            missing = [f"{need}" for need in ("weights", "held_out") if
                       need in spec.needs and inputs[need] is None]  # fmt: skip
            if missing:
                raise ValueError(
                    f"kernel {self.kernel_name!r} needs the layer's {' and '.join(missing)}: "
                    f"set them on LayerData (read_layer_data does)"
                )
            used = {name: value for name, value in inputs.items() if name in spec.needs}
            # A kernel fitted to a size solves many small dense problems: one BLAS thread
            # each is as fast, and, on a shared machine, not 40x slower (measured: a fit on
            # 100 neurons took 17 s with two OpenBLAS threads beside other work, 0.4 s with one).
            with thread_limits(1 if key is not None else None, torch_too=False):
                built = build_kernel(self.kernel_name, self.stats, **used, **params)
            self._kernels[key] = built
        return self._kernels[key]

    def kernel_at(self, k: int | None = None) -> np.ndarray:
        """The kernel matrix for sample size ``k`` (see :meth:`built_kernel`)."""
        return self.built_kernel(k).matrix

    @property
    def kernel(self) -> np.ndarray:
        """The kernel matrix: L' + eps I of eq. 2 for ``"rbf"``; a kernel fitted to a size
        has none without k (:meth:`kernel_at`)."""
        return self.kernel_at(None)

    def eig_at(self, k: int | None = None) -> Eigendecomposition:
        """Eigendecomposition of :meth:`kernel_at` (computed once per kernel)."""
        key = ("eig", self._key(k))
        if key not in self._kernels:
            self._kernels[key] = eigendecompose(self.kernel_at(k))
        return self._kernels[key]

    @property
    def eig(self) -> Eigendecomposition:
        return self.eig_at(None)

    def scaled_eig(self, k: int, scale: str = "paper") -> Eigendecomposition:
        """Eigendecomposition of gamma (L' + eps I), gamma scaling the expected size to k."""
        key = (k, scale)
        if key not in self._scaled:
            eig = self.eig_at(k)
            self._scaled[key] = eig.scaled(scaling_factor(eig.values, k, scale))
        return self._scaled[key]

    @property
    def gram(self) -> np.ndarray:
        """The Gram matrix of the activations (computed once)."""
        return self.cached("gram", lambda: self.stats.gram)

    @property
    def centred_gram(self) -> np.ndarray:
        """The Gram matrix of the centred activations, G - s s^T / N (computed once)."""
        from ...core.objective import centred_gram

        return self.cached(
            "centred_gram", lambda: centred_gram(self.gram, self.stats.sums, self.stats.n_samples)
        )

    def cached(self, key, compute):
        """A value computed once per layer (and per set of outgoing weights), e.g. a greedy path."""
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def with_inputs(self, *, importance=None, weights=None, held_out=None) -> LayerData:
        """A copy that shares the computed kernel and eigendecompositions, with scores, weights
        or held-out statistics set.

        Values cached from the outgoing weights (greedy paths, and a kernel that reads
        them) are shared only while the weights are the same; a kernel fitted on held-out
        statistics is not shared with a copy that has new ones.
        """
        new = copy.copy(self)
        if held_out is not None:
            new.held_out = held_out
            if "held_out" in self.kernel_spec.needs:
                new._kernels, new._scaled = {}, {}
        if importance is not None:
            new.importance = np.asarray(importance, dtype=np.float64)
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if self.weights is None or not np.array_equal(self.weights, weights):
                new._cache = {k: v for k, v in self._cache.items() if k in ("gram", "centred_gram")}
                if "weights" in self.kernel_spec.needs:
                    new._kernels, new._scaled = {}, {}
            new.weights = weights
        return new
