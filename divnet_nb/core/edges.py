r"""DPP edge pruning from one input Gram matrix (the kernel over a unit's incoming edges).

For hidden unit h with incoming weights :math:`w_{\cdot h}` and training inputs X (one row
per input, :math:`|\mathcal{T}|` rows), the *contribution* of input a to h is the column
:math:`C_a = X_{\cdot a} w_{ah}`. DPP edge pruning (Acharyya et al.) applies DivNet's
kernel (eq. 2) to these columns instead of to neurons' activation vectors,

.. math::  L^{(h)}_{ab} = \exp\big(-\beta \lVert C_a - C_b \rVert^2\big) + \varepsilon \delta_{ab},

and keeps a k-DPP sample of h's d incoming edges (exactly k per unit). Every squared
distance comes from the one Gram matrix :math:`G = X^\top X` of the layer's inputs,

.. math::  \lVert C_a - C_b \rVert^2 = w_{ah}^2 G_{aa} + w_{bh}^2 G_{bb} - 2 w_{ah} w_{bh} G_{ab},

that is, :math:`L^{(h)}` is the RBF kernel of the Gram matrix
:math:`\operatorname{diag}(w_{\cdot h})\, G \operatorname{diag}(w_{\cdot h})`: one pass over
the data serves every unit of the layer, never a pass per unit.

*Reweighting* (the edge counterpart of eqs. 3-4's fusion) moves the removed inputs R of
unit h onto its kept inputs S by least squares,

.. math::  \delta_h = \arg\min_\delta \lVert X_S \delta - X_R w_{R,h} \rVert^2
           = G_{SS}^{-1} G_{SR} w_{R,h}, \qquad w_{S,h} \leftarrow w_{S,h} + \delta_h,

again from blocks of the same G.

Cost per unit: one d x d kernel (O(d^2), jitted), one symmetric eigendecomposition
(O(d^3), LAPACK), then O(d k^2) per sample of size k. A sample of size k > d/2 is drawn as
the complement of a projection-DPP sample of size d - k over the eigenvectors *not*
chosen in phase 1 (the complement of a projection DPP with marginal kernel
:math:`V_J V_J^\top` is the projection DPP with kernel :math:`I - V_J V_J^\top =
V_{J^c} V_{J^c}^\top`), which costs O(d min(k, d - k)^2): the same distribution, fewer
operations.

numpy, scipy and Numba only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ._validate import as_float_array, as_gram, as_rng, as_size, is_int
from .constants import DEFAULT_EPS
from .dpp import Eigendecomposition, _clean_values
from .fuse import _solve_spd
from .kernel import rbf_kernel_from_gram
from .sample import _phase2_projection, select_eigenvectors

__all__ = [
    "dpp_edge_masks",
    "edge_eigendecomposition",
    "edge_gram",
    "edge_kernel",
    "median_beta",
    "reweight_edge_weights",
    "sample_edges",
    "shifted_gram",
]


def _check_pair(G, W) -> tuple[np.ndarray, np.ndarray]:
    G = as_gram(G, "G")
    W = as_float_array(W, "W", 2).astype(np.float64, copy=False)
    if W.shape[1] != G.shape[0]:
        raise ValueError(
            f"W must have one column per input (G is {G.shape[0]} x {G.shape[0]}); got shape {W.shape}"
        )
    return G, W


def edge_gram(G, w) -> np.ndarray:
    r"""Gram matrix of one unit's edge contributions, :math:`\operatorname{diag}(w)\,G\,\operatorname{diag}(w)`.

    Entry (a, b) is :math:`C_a \cdot C_b` with :math:`C_a = X_{\cdot a} w_a`.
    """
    G = as_gram(G, "G")
    w = as_float_array(w, "w", 1).astype(np.float64, copy=False)
    if w.shape[0] != G.shape[0]:
        raise ValueError(f"w must have {G.shape[0]} entries (one per input); got {w.shape[0]}")
    return G * np.outer(w, w)


def shifted_gram(G, sums, n_samples: int, shift: float) -> np.ndarray:
    r"""Gram matrix of the rows :math:`x - c` (c a scalar) from that of the rows x.

    .. math::  (X - c)^\top (X - c) = G - c\,(\mathbf{1} s^\top + s \mathbf{1}^\top)
               + |\mathcal{T}|\, c^2\, \mathbf{1}\mathbf{1}^\top,

    with s the column sums of X. With c the inputs' mean value, the contributions
    :math:`(x_a - c)\, w_{ah}` are those of a network trained on standardised inputs
    (x - c) / sigma, whose weights are sigma times ours: the kernel setting of the later
    public scripts of the edge work (c = 0.1307 on MNIST).
    """
    G = as_gram(G, "G")
    sums = as_float_array(sums, "sums", 1).astype(np.float64, copy=False)
    if sums.shape[0] != G.shape[0]:
        raise ValueError(
            f"sums must have {G.shape[0]} entries (one per input); got {sums.shape[0]}"
        )
    if not is_int(n_samples) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
    shift = float(shift)
    if not np.isfinite(shift):
        raise ValueError(f"shift must be finite; got {shift}")
    ones = np.ones_like(sums)
    return G - shift * (np.outer(ones, sums) + np.outer(sums, ones)) + n_samples * shift**2


def median_beta(Ge) -> float:
    r"""A unit's data-driven bandwidth: 1 / the median squared distance between its edges' contributions.

    ``Ge`` is the unit's edge Gram matrix (:func:`edge_gram`); the distances are those of
    the pairs a < b, :math:`\lVert C_a - C_b \rVert^2 = Ge_{aa} + Ge_{bb} - 2 Ge_{ab}`. The
    median heuristic puts half of the kernel's off-diagonal entries above
    :math:`e^{-1}` and half below, whatever the scale of the contributions. Where more
    than half of the pairs coincide (contributions that are all zero), the median of the
    pairs at a positive distance is used.
    """
    Ge = as_gram(Ge, "Ge")
    diag = np.diag(Ge)
    upper = np.triu_indices(Ge.shape[0], 1)
    if upper[0].size == 0:
        raise ValueError("a bandwidth needs at least two edges")
    dist = np.maximum(diag[upper[0]] + diag[upper[1]] - 2.0 * Ge[upper], 0.0)
    median = float(np.median(dist))
    if median <= 0.0:
        positive = dist[dist > 0.0]
        if positive.size == 0:
            raise ValueError("every pair of edges has the same contribution: no bandwidth")
        median = float(np.median(positive))
    return 1.0 / median


def edge_kernel(
    G, w, *, n_samples: int | None = None, beta: float | str | None = None, eps: float = DEFAULT_EPS
) -> np.ndarray:
    r"""DivNet's RBF kernel (eq. 2) over one unit's incoming edges, from the input Gram matrix.

    Parameters
    ----------
    G : array_like, shape (d, d)
        Gram matrix :math:`X^\top X` of the layer's inputs.
    w : array_like, shape (d,)
        The unit's incoming weights.
    n_samples : int, optional
        :math:`|\mathcal{T}|`, the number of rows of X; needed when ``beta`` is None.
    beta : float or "median", optional
        Bandwidth; default :math:`10 / |\mathcal{T}|` as in DivNet; ``"median"``: this
        unit's :func:`median_beta`.
    eps : float, default 0.01
        Diagonal perturbation.

    Returns
    -------
    ndarray of float64, shape (d, d)
        :math:`L_{ab} = \exp(-\beta \lVert C_a - C_b\rVert^2) + \varepsilon\delta_{ab}`.
    """
    Ge = edge_gram(G, w)
    if isinstance(beta, str):
        if beta != "median":
            raise ValueError(f'beta must be a positive number, None or "median"; got {beta!r}')
        beta = median_beta(Ge)
    return rbf_kernel_from_gram(Ge, n_samples=n_samples, beta=beta, eps=eps)


def edge_eigendecomposition(
    G, w, *, n_samples: int | None = None, beta: float | str | None = None, eps: float = DEFAULT_EPS
) -> Eigendecomposition:
    """Eigendecomposition of :func:`edge_kernel` (LAPACK ``syevd`` through numpy), ready for :func:`sample_edges`."""
    L = edge_kernel(G, w, n_samples=n_samples, beta=beta, eps=eps)
    values, vectors = np.linalg.eigh(L)
    return Eigendecomposition._trusted(_clean_values(values, "L"), vectors)


def sample_edges(eig: Eigendecomposition, k: int, rng=None) -> np.ndarray:
    r"""One exact k-DPP sample of a unit's edges, given its kernel's eigendecomposition.

    Phase 1 chooses k eigenvectors J (as :func:`~divnet_nb.core.sample.select_eigenvectors`).
    Phase 2 samples the projection DPP of :math:`V_J` when :math:`k \le d/2`, and otherwise
    the projection DPP of the other :math:`d - k` eigenvectors, whose sample is the
    complement of the edges kept (see the module notes). Draws d + min(k, d - k) uniforms.

    With ``eps = 0`` the kernel of a unit with repeated contributions (inputs that are zero
    on every row, say) is rank-deficient, and a k above its rank raises; the default
    ``eps = 0.01`` makes every k in [1, d] possible.

    Returns
    -------
    ndarray of int64, shape (k,)
        Sorted indices of the kept edges.
    """
    if not isinstance(eig, Eigendecomposition):
        raise ValueError("eig must be an Eigendecomposition (see edge_eigendecomposition)")
    d = eig.values.shape[0]
    k = as_size(k, d, "k", upper="the number of inputs d")
    rng = as_rng(rng)
    chosen = select_eigenvectors(None, k, rng, eig=eig)
    complement = 2 * k > d
    if complement:
        cols = np.ones(d, dtype=bool)
        cols[chosen] = False
        cols = np.flatnonzero(cols)
    else:
        cols = chosen
    r = cols.size
    u = rng.random(r)
    picked = np.empty(r, dtype=np.int64)
    if r:
        _phase2_projection(np.ascontiguousarray(eig.vectors[:, cols]), u, picked)
    if not complement:
        return np.sort(picked)
    keep = np.ones(d, dtype=bool)
    keep[picked] = False
    return np.flatnonzero(keep)


def _as_sizes(ks, d: int) -> list[int]:
    if is_int(ks):
        ks = [ks]
    sizes = [as_size(k, d, "k", upper="the number of inputs d") for k in ks]
    if not sizes:
        raise ValueError("ks must name at least one size")
    return sorted(set(sizes))


def dpp_edge_masks(
    G,
    W,
    ks: int | Iterable[int],
    rng=None,
    *,
    n_samples: int | None = None,
    beta: float | str | None = None,
    eps: float = DEFAULT_EPS,
    progress: Callable[[int], None] | None = None,
) -> dict[int, np.ndarray]:
    r"""DPP edge pruning of a whole layer: for every unit, a k-DPP over its incoming edges.

    Parameters
    ----------
    G : array_like, shape (d, d)
        Gram matrix :math:`X^\top X` of the layer's inputs over :math:`|\mathcal{T}|` rows.
    W : array_like, shape (units, d)
        Incoming weights, row h for unit h.
    ks : int or iterable of int
        Edges kept per unit, each in [1, d]. One eigendecomposition per unit serves every size.
    rng : None, int or numpy.random.Generator
        Units are visited in order and, for each unit, the sizes in increasing order; every
        random number comes from ``rng`` outside the jitted code.
    n_samples, beta, eps
        As in :func:`edge_kernel` (``beta`` defaults to 10 / n_samples; ``"median"`` gives
        every unit its own :func:`median_beta`).
    progress : callable, optional
        Called with 1 after each unit (e.g. a tqdm bar's ``update``).

    Returns
    -------
    dict
        Size k -> boolean mask of shape (units, d) with exactly k True per row.
    """
    G, W = _check_pair(G, W)
    sizes = _as_sizes(ks, G.shape[0])
    rng = as_rng(rng)
    masks = {k: np.zeros(W.shape, dtype=bool) for k in sizes}
    for h in range(W.shape[0]):
        eig = edge_eigendecomposition(G, W[h], n_samples=n_samples, beta=beta, eps=eps)
        for k in sizes:
            masks[k][h, sample_edges(eig, k, rng)] = True
        if progress is not None:
            progress(1)
    return masks


def reweight_edge_weights(G, mask, W) -> np.ndarray:
    r"""Incoming weights after moving each unit's removed edges onto its kept ones (least squares).

    Row h becomes :math:`w_{S,h} + G_{SS}^{-1} G_{SR} w_{R,h}` on its kept inputs S and 0
    elsewhere. The products :math:`G_{SR} w_{R,h}` of every unit come from one matrix
    product :math:`G R^\top` (R: the removed weights of every unit, zero elsewhere), so each
    unit costs one Cholesky factorisation of its k x k block and one solve with a single
    right-hand side, O(k^3 / 3), instead of a solve for every removed input. A singular
    block is solved with a small ridge, as fusion's (:func:`~divnet_nb.core.fuse.fuse_from_gram`)
    is. Inputs that are zero on every row of X (:math:`G_{aa} = 0`, e.g. MNIST's border
    pixels) contribute nothing and can absorb nothing, so they are left out of the
    system; a kept dead input keeps its weight.
    """
    G, W = _check_pair(G, W)
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != W.shape:
        raise ValueError(
            f"mask must be a boolean array of shape {W.shape}; got {mask.dtype} {mask.shape}"
        )
    G = np.asarray(G, dtype=np.float64)
    live = np.diag(G) > 0.0
    out = np.where(mask, W, 0.0)
    moved = G @ np.where(~mask & live, W, 0.0).T  # column h: G_{., R} w_{R,h}
    for h in range(W.shape[0]):
        keep = np.flatnonzero(mask[h] & live)
        if keep.size == 0 or keep.size == np.count_nonzero(live):
            continue
        delta = _solve_spd(G[np.ix_(keep, keep)], moved[keep, h, None], keep, None)
        out[h, keep] += delta[:, 0]
    return out
