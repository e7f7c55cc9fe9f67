"""A layer's statistics as selection rules see them: :class:`LayerData` (no torch here).

Selection is a function of a layer's statistics, not of how the network is built: the
Gram matrix and column sums of its activations over the training inputs, and, computed
once on demand, the RBF kernel of eq. 2 and its eigendecomposition; plus, for the rules
that need them, the outgoing weights and the units' importance scores.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...core.dpp import Eigendecomposition, eigendecompose, scaling_factor
from ...core.kernel import DEFAULT_EPS, GramAccumulator

__all__ = ["LayerData"]


@dataclass
class LayerData:
    """What selection and fusion need about one layer, each piece computed once on demand.

    Parameters
    ----------
    stats : GramAccumulator
        Gram matrix, column sums and number of samples of the layer's activations.
    beta : float, optional
        Kernel bandwidth; default ``10 / |T|`` with ``|T| = stats.n_samples``.
    eps : float
        Diagonal perturbation of the kernel (0.01 in the paper).
    importance : ndarray, optional
        Importance scores of the neurons (He et al.'s onorm), for rules that need them.
    weights : ndarray, optional
        Outgoing weights ``W`` (one row per neuron), for rules that need them.
    """

    stats: GramAccumulator
    beta: float | None = None
    eps: float = DEFAULT_EPS
    importance: np.ndarray | None = None
    weights: np.ndarray | None = None
    _scaled: dict = field(default_factory=dict, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return self.stats.n_features

    @cached_property
    def kernel(self) -> np.ndarray:
        """The RBF kernel L' + eps I of eq. 2."""
        return self.stats.kernel(beta=self.beta, eps=self.eps)

    @cached_property
    def eig(self) -> Eigendecomposition:
        return eigendecompose(self.kernel)

    def scaled_eig(self, k: int, scale: str = "paper") -> Eigendecomposition:
        """Eigendecomposition of gamma (L' + eps I), gamma scaling the expected size to k."""
        key = (k, scale)
        if key not in self._scaled:
            self._scaled[key] = self.eig.scaled(scaling_factor(self.eig.values, k, scale))
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

    def with_inputs(self, *, importance=None, weights=None) -> LayerData:
        """A copy that shares the computed kernel and eigendecompositions, with scores or weights set.

        Values cached from the outgoing weights (greedy paths) are shared only while the
        weights are the same.
        """
        new = copy.copy(self)
        if importance is not None:
            new.importance = np.asarray(importance, dtype=np.float64)
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            if self.weights is None or not np.array_equal(self.weights, weights):
                new._cache = {k: v for k, v in self._cache.items() if k in ("gram", "centred_gram")}
            new.weights = weights
        return new
