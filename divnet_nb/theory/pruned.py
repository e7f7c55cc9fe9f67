r"""Pruned students in the teacher-student model: masks, pruning rules and their exact errors.

A student (W, v) with K hidden units and N inputs (see :mod:`.teacher_student`) is pruned
in one of two ways.

* **Node pruning** keeps k of the K units: the pruned student is (W[S], v[S]); a removed
  unit's outgoing weight goes with it. Its error is :func:`generalization_error` of the
  kept block of the order parameters, (Q_SS, R_S, T, v_S, v*), which equals the error of
  the whole student with v_k set to 0 for the removed units (their terms vanish): that is
  how many masks are scored at once. With ``fuse=True`` the kept units' outgoing weights
  are refitted as in DivNet's fusion (eqs. 3-4), by least squares over their activations
  g(lambda) on the P inputs: v~_S = v_S + G_SS^{-1} G_SR v_R with G = A^T A, A the P x K
  matrix of g(lambda_k(x_p)). That is our teacher-student analogue of DivNet's fusion, not
  part of the analysed work.
* **Edge pruning** keeps all K units and masks the first-layer weights: W~ = W * E for a
  boolean K x N mask E. Its error is :func:`generalization_error` of the masked order
  parameters Q~ = W~ W~^T / N, R~ = W~ W*^T / N (T and v unchanged).

Node rules (:data:`NODE_RULES`), for k kept units:

* ``"random"`` - k units uniformly at random;
* ``"dpp-linear"`` - a k-DPP with the linear kernel L = H^T H / P of the pre-activations,
  H the P x K matrix of lambda_k(x_p) = w_k . x_p / sqrt N on P fresh inputs (so L ~ Q).
  A student whose units are (near-)copies of each other has a (nearly) rank-deficient L,
  and a k-DPP with k above the numerical rank is undefined; :data:`LINEAR_RIDGE` times
  the mean diagonal is therefore added to L (ours), which changes nothing visible for a
  well-conditioned L and makes every k-subset possible, subsets of copies with
  probability ~ the ridge;
* ``"dpp-rbf"`` - a k-DPP with DivNet's RBF kernel (eq. 2) over the K activation vectors
  g(lambda_k) on the P inputs, beta = 10 / P, eps = 0.01;
* ``"importance"`` - the k largest ``|v_k|`` (deterministic; ties go to the lower index).

Edge rules (:data:`EDGE_RULES`), for e kept edges per unit:

* ``"random-bernoulli"`` - each edge kept independently with probability c = e / N;
* ``"random"`` - exactly e of each unit's N edges, uniformly at random;
* ``"magnitude"`` - each unit's e largest ``|W_ha|`` (deterministic; ties to the lower index);
* ``"dpp"`` - :func:`divnet_nb.core.edges.dpp_edge_masks`: per unit h a k-DPP of size e
  over its N edges with kernel exp(-beta ||C_a - C_b||^2) + eps I, C_a = X[:, a] W_ha,
  from the Gram matrix G = X^T X of the P inputs X.

The P inputs (default :data:`DEFAULT_INPUTS`) play the role of DivNet's training set:
one draw serves every kernel and the fusion of a call; pass ``X`` to fix them. Random
rules draw a fresh mask per sample; DPP rules draw a fresh k-DPP sample per mask from
the one kernel.

numpy and scipy (and the torch-free :mod:`divnet_nb.core`) only.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from ..core._validate import as_count, as_float_array, as_rng, as_size
from .teacher_student import _asin_term, generalization_error, order_parameters

__all__ = [
    "DEFAULT_INPUTS",
    "EDGE_RULES",
    "LINEAR_RIDGE",
    "NODE_RULES",
    "average_error",
    "edge_masks",
    "mask_errors",
    "measured_error",
    "node_kernel",
    "node_masks",
    "prune",
    "pruned_error",
]

NODE_RULES = ("random", "dpp-linear", "dpp-rbf", "importance")
EDGE_RULES = ("random-bernoulli", "random", "magnitude", "dpp")
#: Rules whose mask is a function of the weights alone (one mask is all there is).
DETERMINISTIC = {("node", "importance"), ("edge", "magnitude")}
#: P, the number of fresh inputs behind the DPP kernels and the fusion (DivNet's training set).
DEFAULT_INPUTS = 1000
#: Ridge of the linear node kernel, relative to its mean diagonal (see the module notes).
LINEAR_RIDGE = 1e-6
#: Masks scored per batch (bounds the memory of the masked weights to ~ CHUNK x K x N floats).
CHUNK = 128


# ---------------------------------------------------------------- input checks
def _student(W, v) -> tuple[np.ndarray, np.ndarray]:
    W = np.asarray(as_float_array(W, "W", 2), dtype=np.float64)
    v = np.asarray(as_float_array(v, "v", 1), dtype=np.float64)
    if v.size != W.shape[0]:
        raise ValueError(f"v must have one entry per row of W ({W.shape[0]}); got {v.size}")
    return W, v


def _teacher(W_star, v_star, N: int) -> tuple[np.ndarray, np.ndarray]:
    W_star = np.asarray(as_float_array(W_star, "W_star", 2), dtype=np.float64)
    v_star = np.asarray(as_float_array(v_star, "v_star", 1), dtype=np.float64)
    if W_star.shape[1] != N:
        raise ValueError(
            f"W and W_star must have the same input dimension N; got {N} and {W_star.shape[1]}"
        )
    if v_star.size != W_star.shape[0]:
        raise ValueError(
            f"v_star must have one entry per row of W_star ({W_star.shape[0]}); got {v_star.size}"
        )
    return W_star, v_star


def _kind_rule(kind: str, rule: str) -> tuple[str, str]:
    rules = {"node": NODE_RULES, "edge": EDGE_RULES}
    if kind not in rules:
        raise ValueError(f"kind must be 'node' or 'edge'; got {kind!r}")
    if rule not in rules[kind]:
        raise ValueError(f"rule must be one of {rules[kind]} for {kind} pruning; got {rule!r}")
    return kind, rule


def _inputs(X, n_inputs, N: int, rng) -> np.ndarray:
    """The P inputs: ``X`` checked (P x N), or ``n_inputs`` fresh Gaussian rows."""
    if X is not None:
        X = np.asarray(as_float_array(X, "X", 2), dtype=np.float64)
        if X.shape[1] != N:
            raise ValueError(f"X must have N = {N} columns; got {X.shape[1]}")
        return X
    n_inputs = as_count(n_inputs, "n_inputs", minimum=1)
    return as_rng(rng).standard_normal((n_inputs, N))


def _node_mask(mask, K: int) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != (K,):
        raise ValueError(
            f"node_mask must be a boolean array of shape ({K},); got {mask.dtype} {mask.shape}"
        )
    if not mask.any():
        raise ValueError("node_mask must keep at least one unit")
    return mask


def _edge_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool or mask.shape != shape:
        raise ValueError(
            f"edge_mask must be a boolean array of shape {shape}; got {mask.dtype} {mask.shape}"
        )
    return mask


def _activations(W: np.ndarray, X: np.ndarray) -> np.ndarray:
    """g(lambda) = erf(w_k . x / sqrt(2 N)) for every row of X: the P x K activation matrix."""
    return scipy.special.erf(X @ W.T / math.sqrt(2.0 * W.shape[1]))


# ---------------------------------------------------------------- masks
def node_kernel(W, X, kernel: str = "linear") -> np.ndarray:
    r"""The K x K DPP kernel over the student's units, from the P inputs ``X`` (P x N).

    ``kernel="linear"``: :math:`L = H^\top H / P + \rho\,\bar{d}\,I`, H the pre-activations
    :math:`\lambda_k(x_p)`, :math:`\bar d` the mean of diag(H^T H / P), :math:`\rho` =
    :data:`LINEAR_RIDGE`. ``kernel="rbf"``: DivNet's eq. 2 over the activation vectors
    :math:`g(\lambda_k)`, :math:`L_{ij} = \exp(-\beta\lVert a_i - a_j\rVert^2) + 0.01\,\delta_{ij}`,
    :math:`\beta = 10 / P`.
    """
    W = np.asarray(as_float_array(W, "W", 2), dtype=np.float64)
    X = _inputs(X, None, W.shape[1], None)
    if kernel == "linear":
        H = X @ W.T / math.sqrt(W.shape[1])
        L = H.T @ H / X.shape[0]
        L = (L + L.T) * 0.5
        return L + LINEAR_RIDGE * float(np.mean(np.diag(L))) * np.eye(W.shape[0])
    if kernel == "rbf":
        from ..core.kernel import rbf_kernel

        return rbf_kernel(_activations(W, X))
    raise ValueError(f"kernel must be 'linear' or 'rbf'; got {kernel!r}")


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest scores along the last axis; ties go to the lower index."""
    order = np.argsort(-scores, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask


def _uniform_subsets(shape: tuple[int, ...], n: int, k: int, rng) -> np.ndarray:
    """Masks of shape (*shape, n) with exactly k True per row, each k-subset equally likely."""
    if k == n:
        return np.ones((*shape, n), dtype=bool)
    draws = rng.random((*shape, n))
    chosen = np.argpartition(draws, k - 1, axis=-1)[..., :k]
    mask = np.zeros((*shape, n), dtype=bool)
    np.put_along_axis(mask, chosen, True, axis=-1)
    return mask


def node_masks(
    W, v, k, rule, *, n_masks=1, X=None, n_inputs=DEFAULT_INPUTS, rng=None
) -> np.ndarray:
    """``n_masks`` node masks keeping exactly ``k`` of the K units by ``rule`` (:data:`NODE_RULES`).

    Returns a boolean array (n_masks, K). The DPP rules build their kernel once
    (:func:`node_kernel` on ``X`` or on ``n_inputs`` fresh inputs) and draw an independent
    k-DPP sample per mask; ``"importance"`` repeats its one mask.
    """
    W, v = _student(W, v)
    K = W.shape[0]
    k = as_size(k, K, "k", upper="K")
    _kind_rule("node", rule)
    n_masks = as_count(n_masks, "n_masks", minimum=1)
    rng = as_rng(rng)
    if rule == "random":
        return _uniform_subsets((n_masks,), K, k, rng)
    if rule == "importance":
        return np.repeat(_top(np.abs(v), k)[None], n_masks, axis=0)
    from ..core.dpp import eigendecompose
    from ..core.sample import sample_kdpp

    X = _inputs(X, n_inputs, W.shape[1], rng)
    eig = eigendecompose(node_kernel(W, X, "linear" if rule == "dpp-linear" else "rbf"))
    masks = np.zeros((n_masks, K), dtype=bool)
    for i in range(n_masks):
        masks[i, sample_kdpp(None, k, rng, eig=eig)] = True
    return masks


def edge_masks(W, e, rule, *, n_masks=1, X=None, n_inputs=DEFAULT_INPUTS, rng=None) -> np.ndarray:
    """``n_masks`` edge masks keeping ``e`` of each unit's N incoming edges by ``rule`` (:data:`EDGE_RULES`).

    Returns a boolean array (n_masks, K, N). Every rule keeps exactly ``e`` edges per unit
    except ``"random-bernoulli"``, which keeps each edge with probability c = e / N
    (e per unit on average). ``"dpp"`` uses :func:`divnet_nb.core.edges.dpp_edge_masks`
    with G = X^T X over the P inputs.
    """
    W = np.asarray(as_float_array(W, "W", 2), dtype=np.float64)
    K, N = W.shape
    e = as_size(e, N, "e", upper="N")
    _kind_rule("edge", rule)
    n_masks = as_count(n_masks, "n_masks", minimum=1)
    rng = as_rng(rng)
    if rule == "random-bernoulli":
        return rng.random((n_masks, K, N)) < e / N
    if rule == "random":
        return _uniform_subsets((n_masks, K), N, e, rng)
    if rule == "magnitude":
        return np.repeat(_top(np.abs(W), e)[None], n_masks, axis=0)
    return _dpp_edge_masks(W, [e], n_masks, _inputs(X, n_inputs, N, rng), rng)[e]


def _dpp_edge_masks(W: np.ndarray, es, n_masks: int, X: np.ndarray, rng) -> dict[int, np.ndarray]:
    """{e: (n_masks, K, N)}: ``n_masks`` independent draws of
    :func:`~divnet_nb.core.edges.dpp_edge_masks` (all sizes per draw).

    Each draw is what ``dpp_edge_masks(X^T X, W, es, rng, n_samples=P)`` returns (units in
    order, sizes increasing; the same random stream), with each unit's eigendecomposition
    computed once for all draws instead of once per draw.
    """
    from ..core.edges import edge_eigendecomposition, sample_edges

    G = X.T @ X
    G = (G + G.T) * 0.5
    eigs = [edge_eigendecomposition(G, w, n_samples=X.shape[0]) for w in W]
    es = sorted({int(e) for e in es})
    out = {e: np.zeros((n_masks, *W.shape), dtype=bool) for e in es}
    for i in range(n_masks):
        for h, eig in enumerate(eigs):
            for e in es:
                out[e][i, h, sample_edges(eig, e, rng)] = True
    return out


# ---------------------------------------------------------------- pruned students
def _fused_v(W: np.ndarray, v: np.ndarray, keep: np.ndarray, X: np.ndarray) -> np.ndarray:
    """DivNet's fusion of the removed units' v onto the kept ones (length K, 0 off ``keep``)."""
    from ..core.fuse import fuse_from_gram

    A = _activations(W, X)
    out = np.zeros_like(v)
    idx = np.flatnonzero(keep)
    out[idx] = fuse_from_gram(A.T @ A, idx, v[:, None])[:, 0]
    return out


def prune(
    W, v, *, node_mask=None, edge_mask=None, fuse=False, X=None, n_inputs=DEFAULT_INPUTS, rng=None
) -> tuple[np.ndarray, np.ndarray]:
    """The pruned student (W', v'): edges masked (W * edge_mask), then units kept by node_mask.

    ``fuse=True`` (needs ``node_mask``) refits the kept units' v by DivNet's least squares
    on the P inputs (``X`` or ``n_inputs`` fresh ones; see the module notes). Returns
    copies; rows of W' and entries of v' follow the kept units in increasing order.
    """
    W, v = _student(W, v)
    if X is not None:
        X = _inputs(X, None, W.shape[1], None)
    if edge_mask is not None:
        W = W * _edge_mask(edge_mask, W.shape)
    if node_mask is None:
        if fuse:
            raise ValueError("fuse=True needs a node_mask (fusion moves removed units' weights)")
        return W, v.copy()
    keep = _node_mask(node_mask, W.shape[0])
    if fuse:
        v = _fused_v(W, v, keep, _inputs(X, n_inputs, W.shape[1], rng))
    return W[keep], v[keep]


def pruned_error(
    W,
    v,
    W_star,
    v_star,
    *,
    node_mask=None,
    edge_mask=None,
    fuse=False,
    X=None,
    n_inputs=DEFAULT_INPUTS,
    rng=None,
) -> float:
    """Exact eps_g of the pruned student (:func:`prune`) from its order parameters (Q~, R~, T)."""
    W, v = _student(W, v)
    W_star, v_star = _teacher(W_star, v_star, W.shape[1])
    Wp, vp = prune(
        W, v, node_mask=node_mask, edge_mask=edge_mask, fuse=fuse, X=X, n_inputs=n_inputs, rng=rng
    )
    return generalization_error(*order_parameters(Wp, W_star), vp, v_star)


def measured_error(
    W,
    v,
    W_star,
    v_star,
    *,
    node_mask=None,
    edge_mask=None,
    fuse=False,
    n_test=100_000,
    X=None,
    n_inputs=DEFAULT_INPUTS,
    rng=None,
) -> tuple[float, float]:
    """eps_g of the pruned student measured on ``n_test`` fresh inputs: (mean, standard error).

    The mean of (y_hat - y)^2 / 2 over x ~ N(0, I_N), noise-free teacher; the standard error
    is the sample standard deviation (ddof = 1) over sqrt(n_test). ``X`` is the fusion's
    inputs only; the test inputs are always fresh.
    """
    W, v = _student(W, v)
    W_star, v_star = _teacher(W_star, v_star, W.shape[1])
    n_test = as_count(n_test, "n_test", minimum=2)
    rng = as_rng(rng)
    Wp, vp = prune(
        W, v, node_mask=node_mask, edge_mask=edge_mask, fuse=fuse, X=X, n_inputs=n_inputs, rng=rng
    )
    total = total_sq = 0.0
    for start in range(0, n_test, 8192):
        Xt = rng.standard_normal((min(8192, n_test - start), W.shape[1]))
        half_sq = 0.5 * (_activations(Wp, Xt) @ vp - _activations(W_star, Xt) @ v_star) ** 2
        total += float(half_sq.sum())
        total_sq += float(np.square(half_sq).sum())
    mean = total / n_test
    var = max(total_sq - n_test * mean * mean, 0.0) / (n_test - 1)
    return mean, math.sqrt(var / n_test)


# ---------------------------------------------------------------- many masks
def _batched_error(Q, R, T, v, v_star) -> np.ndarray:
    """generalization_error over leading axes of Q (..., K, K), R (..., K, M) and v (..., K)."""
    dq, dt = np.diagonal(Q, axis1=-2, axis2=-1), np.diag(T)
    sq = np.sqrt(1.0 + dq)
    student = np.arcsin(np.clip(Q / (sq[..., :, None] * sq[..., None, :]), -1.0, 1.0))
    cross = np.arcsin(np.clip(R / (sq[..., :, None] * np.sqrt(1.0 + dt)), -1.0, 1.0))
    teacher = v_star @ _asin_term(T, dt, dt) @ v_star
    s = np.einsum("...i,...ij,...j->...", v, student, v)
    c = np.einsum("...i,...in,n->...", v, cross, v_star)
    return (s + teacher - 2.0 * c) / math.pi


def _node_errors(W, v, W_star, v_star, masks, fuse, X) -> np.ndarray:
    Q, R, T = order_parameters(W, W_star)
    if fuse:
        V = np.stack([_fused_v(W, v, m, X) for m in masks])
    else:
        V = v[None, :] * masks
    return _batched_error(Q, R, T, V, v_star)


def _edge_errors(W, v, W_star, v_star, masks) -> np.ndarray:
    N = W.shape[1]
    T = W_star @ W_star.T / N
    out = np.empty(masks.shape[0])
    for start in range(0, masks.shape[0], CHUNK):
        Wm = W[None] * masks[start : start + CHUNK]
        Q = np.einsum("mkn,mjn->mkj", Wm, Wm) / N
        R = Wm @ W_star.T / N
        out[start : start + CHUNK] = _batched_error(Q, R, T, v, v_star)
    return out


def mask_errors(
    W,
    v,
    W_star,
    v_star,
    kind,
    rule,
    size,
    *,
    n_masks=500,
    how="exact",
    fuse=False,
    n_test=10_000,
    X=None,
    n_inputs=DEFAULT_INPUTS,
    rng=None,
) -> np.ndarray:
    """eps_g of ``n_masks`` students pruned by one rule at one size: an array (n_masks,).

    ``kind`` is ``"node"`` (``size`` = k kept units, ``rule`` in :data:`NODE_RULES`) or
    ``"edge"`` (``size`` = e kept edges per unit, ``rule`` in :data:`EDGE_RULES`).
    ``how="exact"`` scores each mask by the masked order parameters; ``how="measured"``
    by :func:`measured_error` on ``n_test`` fresh inputs per mask (independent across
    masks). A deterministic rule has one mask: scored once when exact, ``n_masks`` times
    on fresh inputs when measured. ``fuse`` is for node pruning only.
    """
    W, v = _student(W, v)
    W_star, v_star = _teacher(W_star, v_star, W.shape[1])
    kind, rule = _kind_rule(kind, rule)
    if how not in ("exact", "measured"):
        raise ValueError(f"how must be 'exact' or 'measured'; got {how!r}")
    if fuse and kind == "edge":
        raise ValueError("fuse=True is for node pruning only")
    n_masks = as_count(n_masks, "n_masks", minimum=1)
    if how == "exact" and (kind, rule) in DETERMINISTIC:
        n_masks = 1  # measured: the one mask is measured n_masks times on fresh inputs
    rng = as_rng(rng)
    X = _inputs(X, n_inputs, W.shape[1], rng) if (fuse or "dpp" in rule) else None
    make = node_masks if kind == "node" else edge_masks
    masks = make(*((W, v) if kind == "node" else (W,)), size, rule, n_masks=n_masks, X=X, rng=rng)
    if how == "measured":
        key = "node_mask" if kind == "node" else "edge_mask"
        return np.array(
            [
                measured_error(
                    W, v, W_star, v_star, **{key: m}, fuse=fuse, X=X, n_test=n_test, rng=rng
                )[0]
                for m in masks
            ]
        )
    if kind == "node":
        return _node_errors(W, v, W_star, v_star, masks, fuse, X)
    return _edge_errors(W, v, W_star, v_star, masks)


def average_error(*args, **kwargs) -> tuple[float, float]:
    """(mean, standard error) of :func:`mask_errors` over its masks (same arguments).

    The standard error is the spread over masks (ddof = 1) over sqrt(n_masks); 0 for a
    deterministic rule scored exactly (one mask, no randomness).
    """
    errors = mask_errors(*args, **kwargs)
    if errors.size < 2:
        return float(errors[0]), 0.0
    return float(errors.mean()), float(errors.std(ddof=1) / math.sqrt(errors.size))
