"""Neuron selection rules (the ``neuron`` kind): which neurons of a layer to keep.

Each rule is a function of the layer's statistics
(:class:`~divnet_nb.pruning.neuron.layer_data.LayerData`), the number ``k`` of neurons to
keep and a random generator, registered with
:func:`~divnet_nb.pruning.registry.register_method`:

========================  =============================================================
``"dpp"``                 DivNet's choice: a k-DPP with the RBF kernel of eq. 2
                          (beta = 10/|T|, eps = 0.01), scaled to expected size k
``"dpp-nonparametric"``   a plain DPP with that kernel, unscaled: beta decides the size
                          (Appendix B)
``"greedy-map"``          the greedy mode of that k-DPP (section 3.3)
``"dpp-best"``            the most likely of 20 k-DPP samples, largest det(L_S)
                          (section 3.3's other alternative)
``"random"``              k neurons uniformly at random
``"importance"``          He et al. (2014)'s ``onorm``: keep the k neurons with the
                          largest mean absolute outgoing weight
========================  =============================================================

:func:`select_neurons` looks a rule up, gives it what it declared it needs, and checks
what it returns (distinct indices in range, exactly ``k`` of them, sorted), so a rule
written elsewhere (in a notebook, in a test) is held to the same contract.

The four rules that read a kernel use the layer's (:attr:`LayerData.kernel_name
<divnet_nb.pruning.neuron.layer_data.LayerData>`): eq. 2's RBF unless another kernel of
:mod:`divnet_nb.core.kernels` is chosen. A kernel that gives some neurons a zero diagonal
(``"qd"``: neurons that never vary have quality 0) chooses among the others, and a
selection larger than they are is completed with the zero-diagonal neurons by index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...core._validate import as_index_set, as_rng, is_int
from ..registry import get_method, register_method

if TYPE_CHECKING:
    from .layer_data import LayerData

# The samplers are imported inside the rules: registering the rules (which the command
# line does to check a method name) then costs no Numba start-up.

__all__ = ["select_neurons"]

#: Samples drawn by "dpp-best" (the most likely one is kept).
DPP_BEST_SAMPLES = 20


def _on_live(data: LayerData, k: int, choose) -> np.ndarray:
    """``choose(None, k)`` on the whole kernel when every diagonal entry is positive (the
    paper's kernels); else ``choose(L_live, k_live)`` on the neurons with a positive diagonal,
    completed with the others by index."""
    L = data.kernel_at(k)
    live = np.flatnonzero(np.diag(L) > 0)
    if live.size == data.n:
        return choose(None, k)
    k_live = min(k, live.size)
    keep = live[choose(L[np.ix_(live, live)], k_live)] if k_live else live[:0]
    if keep.size < k:
        keep = np.r_[keep, np.setdiff1d(np.arange(data.n), live)[: k - keep.size]]
    return np.sort(keep)


@register_method(
    "dpp",
    "neuron",
    label="k-DPP",
    fused_label="DivNet (k-DPP + fusion)",
    color="tab:blue",
    marker="o",
    needs=("kernel", "rng"),
    options=("scale",),
)
def dpp(data: LayerData, k: int, rng, scale: str = "paper") -> np.ndarray:
    """DivNet's k-DPP sample, the kernel scaled to expected size k ("paper" or "exact" gamma)."""
    from ...core.sample import sample_kdpp

    def choose(L, size):
        return (
            sample_kdpp(data.scaled_eig(k, scale), k, rng)
            if L is None
            else sample_kdpp(L, size, rng)
        )

    return _on_live(data, k, choose)


@register_method(
    "dpp-nonparametric",
    "neuron",
    label="DPP (beta decides the size)",
    color="tab:purple",
    marker="D",
    needs=("kernel", "rng"),
    sized=False,
)
def dpp_nonparametric(data: LayerData, k, rng) -> np.ndarray:
    """A plain DPP sample with DivNet's kernel: the bandwidth beta decides how many neurons stay."""
    from ...core.sample import sample_dpp

    keep = sample_dpp(data.eig, rng)
    if keep.size == 0:
        raise ValueError("the DPP sample is empty: this beta leaves no neuron; use a smaller beta")
    return keep


@register_method(
    "greedy-map", "neuron", label="greedy MAP", color="tab:cyan", marker="v", needs=("kernel",)
)
def greedy(data: LayerData, k: int, rng) -> np.ndarray:
    """The greedy mode of DivNet's k-DPP (section 3.3)."""
    from ...core.sample import greedy_map

    return _on_live(
        data, k, lambda L, size: greedy_map(data.kernel_at(k) if L is None else L, size)
    )


@register_method("random", "neuron", label="random", color="tab:red", marker="s", needs=("rng",))
def random(data: LayerData, k: int, rng) -> np.ndarray:
    """k neurons uniformly at random, without replacement."""
    return np.sort(rng.choice(data.n, size=k, replace=False)).astype(np.int64)


@register_method(
    "importance",
    "neuron",
    label="importance",
    color="tab:green",
    marker="^",
    needs=("importance",),
)
def importance(data: LayerData, k: int, rng) -> np.ndarray:
    """He et al. (2014)'s onorm: the k neurons with the largest mean absolute outgoing weight."""
    order = np.argsort(-np.asarray(data.importance), kind="stable")
    return np.sort(order[:k]).astype(np.int64)


@register_method(
    "dpp-best",
    "neuron",
    label=f"k-DPP, likeliest of {DPP_BEST_SAMPLES}",
    color="navy",
    marker="p",
    needs=("kernel", "rng"),
)
def dpp_best(data: LayerData, k: int, rng) -> np.ndarray:
    """Of 20 k-DPP samples, the one with the largest det(L_S) (section 3.3's alternative)."""
    from ...core.sample import best_of

    def choose(L, size):
        if L is None:
            return best_of(data.kernel_at(k), k, DPP_BEST_SAMPLES, rng, eig=data.eig_at(k))
        return best_of(L, size, DPP_BEST_SAMPLES, rng)

    return _on_live(data, k, choose)


def _check_k(k, n: int, method) -> int | None:
    if not method.sized:
        if k is not None:
            raise ValueError(f"method {method.name!r} chooses the size itself; pass k=None")
        return None
    if not is_int(k) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer with 1 <= k <= {n} (the layer's size); got {k!r}")
    return int(k)


def select_neurons(
    method: str,
    k: int | None,
    layer_data: LayerData,
    *,
    rng=None,
    importance: np.ndarray | None = None,
    **options,
) -> np.ndarray:
    """Indices (sorted int64) of the neurons to keep, by a registered ``neuron`` method.

    Parameters
    ----------
    method : str
        A registered neuron method (see the module notes).
    k : int or None
        Neurons to keep; None for a method that chooses its own size.
    layer_data : LayerData
        The layer's statistics (and, for rules that need them, importance scores or
        outgoing weights).
    rng : None, int or numpy.random.Generator
        Randomness, for methods that need it.
    importance : ndarray, optional
        Importance scores (overrides ``layer_data.importance``).
    **options
        Method-specific options, e.g. ``scale="paper"`` or ``"exact"`` for ``"dpp"``.
    """
    m = get_method(method, "neuron")
    n = layer_data.n
    k = _check_k(k, n, m)
    unknown = set(options) - set(m.options)
    if unknown:
        raise ValueError(
            f"method {m.name!r} takes no option(s) {sorted(unknown)}; "
            f"its options: {', '.join(m.options) or 'none'}"
        )
    if importance is not None:
        if len(importance) != n:
            raise ValueError(
                f"importance must hold one score per neuron ({n}); got {len(importance)}"
            )
        layer_data = layer_data.with_inputs(importance=importance)
    for need, value in (("importance", layer_data.importance), ("weights", layer_data.weights)):
        if need in m.needs and (value is None or len(value) != n):
            raise ValueError(f"method {m.name!r} needs {need} for the {n} neurons in layer_data")
    if k == n:
        return np.arange(n, dtype=np.int64)
    generator = as_rng(rng) if "rng" in m.needs else None
    keep = as_index_set(m.function(layer_data, k, generator, **options), n, f"{m.name}'s selection")
    if keep.size == 0 or (k is not None and keep.size != k):
        raise ValueError(
            f"method {m.name!r} returned {keep.size} neurons; it must return "
            + (f"exactly k = {k}" if k is not None else "at least one")
        )
    return np.sort(keep).astype(np.int64)
