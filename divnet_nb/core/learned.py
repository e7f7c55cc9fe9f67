r"""A kernel learned from data: the RBF bandwidth, and a quality exponent, fitted to held-out fusion.

Section 2.1.1 of the paper fixes the bandwidth at :math:`\beta = 10/|\mathcal{T}|` because
choosing it "by cross-validation ... would greatly increase the training cost", and
section 4 proposes "kernels learned from data". This module does the cross-validation
cheaply, from the layer's statistics alone, for the task the kernel serves: pruning to k
neurons followed by fusion (eqs. 3-4).

**The family.** With :math:`d_{ij}^2` the squared distance of the activation vectors and
:math:`N` the number of training inputs,

.. math::  L_{c,a} = D^a K_c D^a + \varepsilon I, \qquad
           (K_c)_{ij} = e^{-(c/N)\, d_{ij}^2}, \qquad
           D = \operatorname{diag}(q) / \max_i q_i, \quad q_i = \lVert w_i \rVert
           \sqrt{G_{ii}/N},

where :math:`w_i` is neuron i's row of outgoing weights, so :math:`q_i` is the size of
its contribution to the next layer's input. :math:`c = 10, a = 0` is DivNet's kernel,
bit for bit.

**The objective.** The training inputs are split into two halves, the *fit* rows and the
*held-out* rows (every second row: :func:`divnet_nb.pruning.statistics.held_out_statistics`);
only their Gram matrices are needed, :math:`G_{fit} = G - G_{held}`. For a candidate
:math:`(c, a)`, the kernel is built from the fit half, m k-DPP samples S are drawn from
it, each is fused on the fit half and scored on the held-out half:

.. math::  J(c, a) = \frac{1}{m} \sum_{s=1}^{m}
           \frac{\lVert A_{held} (I - P_{S_s}) W \rVert_F^2}{\lVert A_{held} W \rVert_F^2},
           \qquad S_s \sim k\text{-DPP}(L_{c,a}(G_{fit})),

with :math:`P_S` the fusion fitted on the fit half (:math:`P_S W` keeps rows S of
:math:`G_{SS}^{-1} G_{S,:} W`): the expected relative error that fusion leaves in the next
layer's input on inputs it was not fitted to. Every candidate uses the same random
numbers (common random numbers), so differences between candidates are not sampling
noise of the comparison.

**The optimisation**: coordinate search on a grid, at most 16 evaluations: the factor
:math:`c` over :data:`FACTORS` (:math:`10 \cdot 2^j`, j = -5..5) at a = 0; the exponent
over :data:`EXPONENTS` at the best c; then the two neighbouring factors at the best
exponent. The result is the evaluated point of least J; the paper's (10, 0) wins ties, so
J never rises above the paper's kernel on the samples of the fit. The final kernel is
:math:`L_{c,a}` of the *whole* statistics. Cost: per evaluation one n x n
eigendecomposition, m k-DPP samples and m fusion errors (O(n^3 + m(n k^2 + k^2 n_{out})));
measured against training in ``benchmarks/bench_core.py``.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._validate import as_count, as_gram, as_rng
from .constants import BETA_NUMERATOR

__all__ = [
    "LearnedFit",
    "fit_learned_kernel",
    "held_out_fusion_error",
    "learned_family",
]

#: Bandwidth factors c (beta = c / N) tried first: the paper's 10 times 2^-5 .. 2^5.
FACTORS = tuple(BETA_NUMERATOR * 2.0**j for j in range(-5, 6))
#: Quality exponents tried at the best factor (a = 0, no quality, is the first stage).
EXPONENTS = (0.5, 1.0, 2.0)
#: k-DPP samples per evaluation of the objective.
SAMPLES = 8


class LearnedFit(NamedTuple):
    """The fitted kernel and how it was chosen."""

    kernel: np.ndarray
    factor: float
    beta: float
    exponent: float
    objective: float
    default_objective: float
    samples: int
    evaluations: tuple

    def params(self) -> dict:
        """The parameters used, JSON-able (what :func:`~divnet_nb.core.kernels.build_kernel` records)."""
        return {
            "factor": self.factor,
            "beta": self.beta,
            "exponent": self.exponent,
            "objective": self.objective,
            "default_objective": self.default_objective,
            "samples": self.samples,
        }


def learned_family(G, n_samples: int, factor: float, exponent: float, quality, eps: float):
    """:math:`L_{c,a} = D^a K_c D^a + \\varepsilon I` of the Gram matrix ``G`` (see the module notes).

    ``quality`` is :math:`q / \\max q` (ignored when ``exponent`` is 0).
    """
    from .kernel import rbf_kernel_from_gram

    beta = factor / n_samples
    if exponent == 0:
        return rbf_kernel_from_gram(G, n_samples=n_samples, beta=beta, eps=eps)
    K = rbf_kernel_from_gram(G, n_samples=n_samples, beta=beta, eps=0.0)
    qa = quality**exponent
    L = K * np.outer(qa, qa)  # exactly symmetric, as K is
    L[np.diag_indices_from(L)] += eps
    return L


def _quality(G: np.ndarray, n_samples: int, W: np.ndarray) -> np.ndarray | None:
    q = np.linalg.norm(W, axis=1) * np.sqrt(np.clip(np.diag(G), 0.0, None) / n_samples)
    top = float(q.max())
    return q / top if top > 0 else None


class _HeldOut:
    """Fusion fitted on one Gram matrix and scored on another, from products computed once."""

    def __init__(self, G_fit, G_held, W):
        self.G_fit, self.G_held = G_fit, G_held
        self.GW_fit, self.GW_held = G_fit @ W, G_held @ W
        self.total = float(np.einsum("ij,ij->", W, self.GW_held))

    def error(self, keep) -> float:
        from .objective import _inverse

        S = np.asarray(keep)
        if S.size == 0:
            return self.total
        Y = _inverse(self.G_fit[np.ix_(S, S)], "G_SS of the fit half") @ self.GW_fit[S]
        cross = float(np.einsum("ij,ij->", Y, self.GW_held[S]))
        quad = float(np.einsum("ij,ij->", Y, self.G_held[np.ix_(S, S)] @ Y))
        return max(self.total - 2.0 * cross + quad, 0.0)


def held_out_fusion_error(G_fit, G_held, W, keep) -> float:
    r"""The next layer's input error on held-out rows after fusion fitted on other rows.

    :math:`\lVert A_{held} (I - P_S) W \rVert_F^2` with :math:`P_S` fitted on
    :math:`G_{fit}` (eqs. 3-4); equals :func:`~divnet_nb.core.objective.fusion_error` when
    both Gram matrices are the same. ``W`` has one row per neuron.
    """
    from .objective import _check

    G_fit, W = _check(G_fit, W)
    G_held = as_gram(G_held, "G_held")
    if G_held.shape != G_fit.shape:
        raise ValueError(f"G_held must have shape {G_fit.shape} like G_fit; got {G_held.shape}")
    from ._validate import as_index_set

    keep = as_index_set(keep, G_fit.shape[0], "keep")
    return _HeldOut(G_fit, np.asarray(G_held, dtype=np.float64), W).error(np.sort(keep))


def fit_learned_kernel(
    G,
    n_samples: int,
    held_out,
    W,
    k: int,
    rng=None,
    *,
    eps: float = 0.01,
    samples: int = SAMPLES,
    quality: bool = True,
) -> LearnedFit:
    """Fit the bandwidth factor and quality exponent of the learned kernel (see the module notes).

    Parameters
    ----------
    G : array_like, shape (n, n)
        Gram matrix of the layer's activations over all training inputs.
    n_samples : int
        Number of training inputs N.
    held_out : GramAccumulator
        Statistics of the held-out rows, a subset of those of ``G`` (about half).
    W : array_like, shape (n, n_out)
        Outgoing weights, one row per neuron.
    k : int
        The sample size the kernel is fitted for.
    rng : None, int or numpy.random.Generator
        Seeds the common random numbers of every evaluation.
    eps : float
        The diagonal of every candidate kernel.
    samples : int
        k-DPP samples per evaluation (m).
    quality : bool
        Also fit the quality exponent (False: the bandwidth alone).

    Returns
    -------
    LearnedFit
    """
    from .dpp import eigendecompose
    from .fuse import FusionWarning
    from .objective import _check
    from .sample import sample_kdpp

    G, W = _check(G, W)
    n = G.shape[0]
    n_samples = as_count(n_samples, "n_samples", minimum=2)
    G_held, n_held = held_out.gram, held_out.n_samples
    if G_held.shape != G.shape or not 1 <= n_held < n_samples:
        raise ValueError(
            f"held_out must hold statistics of {n} neurons over a part of the {n_samples} "
            f"training inputs; got {G_held.shape[0]} neurons over {n_held}"
        )
    if not 1 <= k <= n:
        raise ValueError(f"k must satisfy 1 <= k <= {n}; got {k!r}")
    samples = as_count(samples, "samples", minimum=1)
    n_fit = n_samples - n_held
    G_fit = G - G_held
    G_fit = (G_fit + G_fit.T) * 0.5
    q_fit, q_all = (
        (_quality(G_fit, n_fit, W), _quality(G, n_samples, W)) if quality else (None, None)
    )
    scorer = _HeldOut(G_fit, G_held, W)
    seed = int(as_rng(rng).integers(2**63))
    scale = max(scorer.total, np.finfo(float).tiny)
    evaluations: dict[tuple[float, float], float] = {}

    def objective(c: float, a: float) -> float:
        if (c, a) not in evaluations:
            if k == n:
                evaluations[(c, a)] = 0.0
                return 0.0
            eig = eigendecompose(learned_family(G_fit, n_fit, c, a, q_fit, eps))
            gen = np.random.default_rng(seed)
            errors = [scorer.error(sample_kdpp(eig, k, gen)) for _ in range(samples)]
            evaluations[(c, a)] = float(np.mean(errors)) / scale
        return evaluations[(c, a)]

    best = (BETA_NUMERATOR, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FusionWarning)  # a singular G_SS gets the fusion's ridge
        for c in FACTORS:
            if objective(c, 0.0) < objective(*best):
                best = (c, 0.0)
        if q_fit is not None and q_all is not None:
            c0 = best[0]
            for a in EXPONENTS:
                if objective(c0, a) < objective(*best):
                    best = (c0, a)
            if best[1] != 0.0:
                j = FACTORS.index(c0)
                for c in FACTORS[max(j - 1, 0) : j + 2]:
                    if objective(c, best[1]) < objective(*best):
                        best = (c, best[1])
    factor, exponent = best
    L = learned_family(G, n_samples, factor, exponent, q_all, eps)
    return LearnedFit(
        L,
        factor,
        factor / n_samples,
        exponent,
        objective(*best),
        objective(BETA_NUMERATOR, 0.0),
        samples,
        tuple((c, a, j) for (c, a), j in evaluations.items()),
    )
