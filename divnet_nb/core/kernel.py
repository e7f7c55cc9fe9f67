r"""The RBF kernel over neurons (DivNet eq. 2) and the Gram matrix it is built from.

Column ``i`` of an activation matrix ``A`` (shape ``(n_samples, n_neurons)``) is
neuron ``i``'s activation vector :math:`v_i` over the training inputs. DivNet's
kernel is

.. math::  L'_{ij} = \exp(-\beta \lVert v_i - v_j \rVert^2) + \varepsilon\,\delta_{ij},
           \qquad \beta = 10 / |\mathcal{T}|,\ \varepsilon = 0.01.

Since :math:`\lVert v_i - v_j \rVert^2 = G_{ii} + G_{jj} - 2 G_{ij}` with the Gram
matrix :math:`G = A^\top A`, the whole kernel costs one BLAS matrix product over
the activations plus O(n^2) elementwise work; no array of pairwise differences
is ever formed. The same Gram matrix also drives the fusion step
(:mod:`divnet_nb.core.fuse`), so a pruning pipeline computes it once, and
:class:`GramAccumulator` builds it from mini-batches so that memory stays
O(n^2) whatever the number of samples.

Precision: float64 activations give a float64 Gram matrix from one BLAS call.
float32 activations are multiplied by float32 BLAS in row blocks of
:data:`BLOCK_ROWS` whose products are summed in float64: as fast as one float32
product, and about as accurate as the float32 data themselves (relative error
~1e-7 instead of ~1e-6 for one long float32 sum). Results are always float64.
"""

from __future__ import annotations

import sys

import numpy as np

from ._config import jit
from ._validate import as_float_array, as_gram, as_positive_real, is_int, raise_not_finite
from .constants import BETA_NUMERATOR, DEFAULT_EPS

__all__ = [
    "BETA_NUMERATOR",
    "DEFAULT_EPS",
    "GramAccumulator",
    "default_beta",
    "gram",
    "rbf_kernel",
    "rbf_kernel_from_gram",
]

#: Rows per float32 BLAS block; block products are accumulated in float64.
BLOCK_ROWS = 2048


def default_beta(n_samples: int) -> float:
    r"""The paper's bandwidth :math:`\beta = 10 / |\mathcal{T}|` (section 2.1.1)."""
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1; got {n_samples}")
    return BETA_NUMERATOR / n_samples


def _batch_gram(A: np.ndarray, name: str) -> np.ndarray:
    """``A^T A`` in float64 (see the module notes on precision), checked for NaN and infinity.

    A NaN or infinite entry ``a_ti`` always reaches the diagonal entry
    ``G_ii = sum_t a_ti^2``, so checking the O(n) diagonal of the product
    replaces a scan of all O(n_samples n) entries of ``A``.
    """
    with np.errstate(all="ignore"):  # non-finite input is reported below, as a ValueError
        if A.dtype == np.float64:
            G = A.T @ A
        else:
            G = np.zeros((A.shape[1], A.shape[1]))
            for start in range(0, A.shape[0], BLOCK_ROWS):
                block = A[start : start + BLOCK_ROWS]
                G += block.T @ block
    if not np.isfinite(np.diagonal(G)).all():
        raise_not_finite(A, name)
    return G


def _is_tensor(x) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _tensor_gram(batch, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Gram matrix and column sums of a torch tensor, computed by torch on the tensor's device.

    Same precision rules as for arrays (float32 blocks summed in float64). Running
    the products in torch keeps them in the thread pool (or on the GPU) that just
    computed the activations: interleaving torch with numpy's BLAS makes the two
    thread pools compete for the cores (measured: 0.78 s instead of 0.48 s for
    60000 x 500 on 2 cores), and on a GPU only the n x n result is copied back.
    """
    import torch

    A = batch.detach()
    if A.ndim not in (2, 3):
        raise ValueError(f"{name} must be a 2-D array; got shape {tuple(A.shape)}")
    if not A.is_floating_point():
        A = A.double()
    elif A.dtype not in (torch.float32, torch.float64):
        A = A.float()
    if A.ndim == 3:
        # maps (N, n, P): the rows are the N P (sample, position) pairs, and the Gram
        # matrix is the sum of the N per-sample products, with no (N P, n) copy
        G = torch.bmm(A, A.transpose(1, 2)).sum(dim=0, dtype=torch.float64)
        sums = A.sum(dim=(0, 2), dtype=torch.float64)
    elif A.dtype == torch.float64:
        G, sums = A.T @ A, A.sum(dim=0)
    else:
        G = torch.zeros((A.shape[1], A.shape[1]), dtype=torch.float64, device=A.device)
        sums = torch.zeros(A.shape[1], dtype=torch.float64, device=A.device)
        ones = torch.ones(min(BLOCK_ROWS, A.shape[0]), dtype=A.dtype, device=A.device)
        for start in range(0, A.shape[0], BLOCK_ROWS):
            block = A[start : start + BLOCK_ROWS]
            G += (block.T @ block).double()
            sums += (
                ones[: block.shape[0]] @ block
            ).double()  # a GEMV: 10x faster than sum(dtype=float64)
    G, sums = G.cpu().numpy(), sums.cpu().numpy()
    if not (np.isfinite(np.diagonal(G)).all() and np.isfinite(sums).all()):
        rows = A.transpose(1, 2).reshape(-1, A.shape[1]) if A.ndim == 3 else A
        raise_not_finite(rows.cpu().numpy(), name)
    return G, sums


def _column_sums(A: np.ndarray) -> np.ndarray:
    """Column sums in float64 (float32 blocks summed by BLAS, then accumulated in float64)."""
    with np.errstate(all="ignore"):  # callers check the sums for NaN and infinity
        if A.dtype == np.float64:
            return np.ones(A.shape[0]) @ A
        ones = np.ones(min(BLOCK_ROWS, A.shape[0]), dtype=A.dtype)
        total = np.zeros(A.shape[1])
        for start in range(0, A.shape[0], BLOCK_ROWS):
            block = A[start : start + BLOCK_ROWS]
            total += ones[: block.shape[0]] @ block
    return total


class GramAccumulator:
    r"""Streaming Gram matrix :math:`G = A^\top A` and column sums over mini-batches.

    Feed the rows of an activation matrix in any number of batches; the result
    equals :func:`gram` of the stacked batches, while memory stays O(n^2).
    The column sums and the number of samples are kept too: the first gives the
    neurons' mean activations (used by the intercept option of
    :func:`~divnet_nb.core.fuse.fuse_from_gram`), the second the paper's default
    bandwidth :math:`\beta = 10/|\mathcal{T}|`.

    Parameters
    ----------
    n_features : int, optional
        Number of neurons (columns). If omitted it is taken from the first batch.
    track_sums : bool, default True
        Keep the column sums (one more pass over each batch). :func:`gram`
        and :func:`rbf_kernel` switch it off because they do not need them.

    Examples
    --------
    >>> import numpy as np
    >>> from divnet_nb import GramAccumulator, gram
    >>> A = np.random.default_rng(0).random((1000, 20))
    >>> acc = GramAccumulator()
    >>> for batch in np.array_split(A, 7):
    ...     acc.update(batch)
    >>> np.allclose(acc.gram, gram(A))
    True
    """

    def __init__(self, n_features: int | None = None, *, track_sums: bool = True):
        self._n = None
        self._G = None
        self._sums = None
        self._count = 0
        self._track_sums = bool(track_sums)
        if n_features is not None:
            if not is_int(n_features) or n_features < 1:
                raise ValueError(f"n_features must be a positive integer; got {n_features!r}")
            self._allocate(int(n_features))

    def _allocate(self, n: int) -> None:
        self._n = n
        self._G = np.zeros((n, n), dtype=np.float64)
        self._sums = np.zeros(n, dtype=np.float64) if self._track_sums else None

    def update(self, batch) -> GramAccumulator:
        """Add a batch of rows (shape ``(m, n_features)``); returns ``self``.

        ``batch`` may be a numpy array or a torch tensor; a tensor's products are
        computed by torch on its own device (see :func:`_tensor_gram`). A tensor may also
        hold maps, shape ``(N, n_features, P)`` (a convolution's channels at P positions):
        its rows are the N P (sample, position) pairs, read without copying them out.
        """
        if _is_tensor(batch):
            G, sums = _tensor_gram(batch, "batch")
            shape = tuple(batch.shape)
            if len(shape) == 3:  # maps (N, n, P): N P rows of n features
                shape = (shape[0] * shape[2], shape[1])
        else:
            A = as_float_array(batch, "batch", 2, check_finite=False)
            G, sums, shape = None, None, A.shape
        if self._n is None:
            self._allocate(shape[1])
        elif shape[1] != self._n:
            raise ValueError(
                f"batch must have {self._n} columns (one per neuron) like the earlier "
                f"batches; got shape {shape}"
            )
        if G is None:
            G = _batch_gram(A, "batch")
            sums = _column_sums(A) if self._track_sums else None
        self._G += G
        if self._track_sums:
            self._sums += sums
        self._count += shape[0]
        return self

    def _check_nonempty(self) -> None:
        if self._count == 0:
            raise ValueError("GramAccumulator is empty: call update() with at least one batch")

    @property
    def n_features(self) -> int | None:
        """Number of neurons (columns), or None before the first batch."""
        return self._n

    @property
    def n_samples(self) -> int:
        """Number of rows seen so far (the paper's :math:`|\\mathcal{T}|`)."""
        return self._count

    @property
    def gram(self) -> np.ndarray:
        """The Gram matrix ``A^T A`` (float64, exactly symmetric, a new array)."""
        self._check_nonempty()
        return (self._G + self._G.T) * 0.5

    @property
    def sums(self) -> np.ndarray:
        """Column sums of ``A`` (float64, a new array)."""
        self._check_nonempty()
        if self._sums is None:
            raise ValueError("this GramAccumulator was created with track_sums=False")
        return self._sums.copy()

    @property
    def means(self) -> np.ndarray:
        """Mean activation of each neuron."""
        return self.sums / self._count

    def kernel(self, beta: float | None = None, eps: float = DEFAULT_EPS) -> np.ndarray:
        """The RBF kernel (eq. 2) of the accumulated activations; see :func:`rbf_kernel`."""
        return rbf_kernel_from_gram(self.gram, n_samples=self._count, beta=beta, eps=eps)


def gram(A) -> np.ndarray:
    r"""Gram matrix :math:`G = A^\top A` of an activation matrix.

    Parameters
    ----------
    A : array_like, shape (n_samples, n_neurons)
        Activations; column ``i`` is neuron ``i``'s activation vector.

    Returns
    -------
    G : ndarray of float64, shape (n_neurons, n_neurons)
        Exactly symmetric. float64 input is multiplied by one BLAS call;
        float32 input by float32 BLAS in row blocks summed in float64 (see the
        module notes on precision).
    """
    A = as_float_array(A, "A", 2, check_finite=False)
    G = _batch_gram(A, "A")
    return (G + G.T) * 0.5


@jit
def _rbf_from_gram(G, beta, eps, out):
    n = G.shape[0]
    for i in range(n):
        out[i, i] = 1.0 + eps
        gii = G[i, i]
        for j in range(i + 1, n):
            d2 = gii + G[j, j] - 2.0 * G[i, j]
            if d2 < 0.0:  # round-off for (nearly) identical activation vectors
                d2 = 0.0
            value = np.exp(-beta * d2)
            out[i, j] = value
            out[j, i] = value


def rbf_kernel_from_gram(
    G, *, n_samples: int | None = None, beta: float | None = None, eps: float = DEFAULT_EPS
) -> np.ndarray:
    r"""DivNet's RBF kernel (eq. 2) from a Gram matrix.

    Parameters
    ----------
    G : array_like, shape (n, n)
        Gram matrix :math:`A^\top A` of the activations (see :func:`gram` and
        :class:`GramAccumulator`).
    n_samples : int, optional
        Number of rows of ``A`` (:math:`|\mathcal{T}|`); needed when ``beta`` is None.
    beta : float, optional
        Bandwidth; default :math:`10 / |\mathcal{T}|` as in the paper.
    eps : float, default 0.01
        Diagonal perturbation :math:`\varepsilon` that makes the kernel
        strictly positive definite.

    Returns
    -------
    L : ndarray of float64, shape (n, n)
        :math:`L'_{ij} = \exp(-\beta (G_{ii} + G_{jj} - 2G_{ij})) + \varepsilon\delta_{ij}`,
        exactly symmetric, with round-off negative squared distances set to 0.
    """
    G = as_gram(G)
    if beta is None:
        if n_samples is None:
            raise ValueError("pass n_samples (for the default beta = 10 / n_samples) or beta")
        if not is_int(n_samples):
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}")
        beta = default_beta(int(n_samples))
    beta = as_positive_real(beta, "beta")
    eps = as_positive_real(eps, "eps", allow_zero=True)
    G = np.ascontiguousarray(G, dtype=np.float64)
    out = np.empty_like(G)
    _rbf_from_gram(G, beta, eps, out)
    return out


def rbf_kernel(A, beta: float | None = None, eps: float = DEFAULT_EPS) -> np.ndarray:
    r"""DivNet's RBF kernel over neurons (eq. 2).

    .. math::  L'_{ij} = \exp(-\beta \lVert v_i - v_j \rVert^2) + \varepsilon\,\delta_{ij}

    Parameters
    ----------
    A : array_like, shape (n_samples, n_neurons)
        Activations; column ``i`` is neuron ``i``'s activation vector :math:`v_i`.
        float32 and float64 are accepted.
    beta : float, optional
        Bandwidth. Default :math:`10 / |\mathcal{T}|` = ``10 / n_samples``, the
        paper's fixed choice (section 2.1.1): squared distances grow linearly
        with the number of samples, so this keeps the kernel's scale the same
        whatever the size of the training set.
    eps : float, default 0.01
        Diagonal perturbation :math:`\varepsilon` ensuring strict positive
        definiteness.

    Returns
    -------
    L : ndarray of float64, shape (n_neurons, n_neurons)

    Notes
    -----
    Costs one Gram matrix :math:`A^\top A` (a BLAS product, see :func:`gram`)
    plus O(n^2) work; pairwise differences are never formed.

    Examples
    --------
    >>> import numpy as np
    >>> from divnet_nb import rbf_kernel
    >>> A = np.array([[0.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    >>> np.round(rbf_kernel(A, beta=1.0), 4)
    array([[1.01  , 0.3679, 1.    ],
           [0.3679, 1.01  , 0.3679],
           [1.    , 0.3679, 1.01  ]])
    """
    A = as_float_array(A, "A", 2, check_finite=False)
    return rbf_kernel_from_gram(gram(A), n_samples=A.shape[0], beta=beta, eps=eps)
