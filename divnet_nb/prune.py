"""Pruning hidden layers of a trained MLP: DivNet and the baselines, with or without fusion.

One layer at a time, in the paper's order of operations:

1. **activations** - the layer's outputs over the training inputs, read by a forward
   hook on its sigmoid and streamed into a :class:`~divnet_nb.GramAccumulator`, so
   memory stays O(n^2) whatever the number of inputs (:func:`layer_statistics`);
2. **select** - which neurons to keep (:func:`select_neurons`):

   ``"dpp"``                DivNet's choice: a k-DPP with the RBF kernel of eq. 2
                            (beta = 10/|T|, eps = 0.01), scaled to expected size k;
   ``"dpp-nonparametric"``  a plain DPP with that kernel, unscaled: beta decides the size
                            (Appendix B);
   ``"greedy-map"``         the greedy mode of that k-DPP (section 3.3);
   ``"random"``             k neurons uniformly at random;
   ``"importance"``         He et al. (2014)'s ``onorm``: keep the k neurons with the
                            largest mean absolute outgoing weight;

3. **fuse** (``reweight=True``) - move the removed neurons' contributions onto the kept
   ones by least squares (eqs. 3-4), or simply delete them (``reweight=False``);
4. a **new, physically smaller** model: the layer's ``nn.Linear`` loses rows, the next
   one loses columns and gets the fused weights. The model passed in is never changed.

DivNet is ``method="dpp", reweight=True``. The paper shows that the fusion step helps
every selection method, so it can be combined with any of them.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch
from torch import nn

from ._validate import as_index_set, as_rng, is_int
from .dpp import Eigendecomposition, eigendecompose, scaling_factor
from .evaluate import as_tensor
from .fuse import fuse_from_gram
from .kernel import DEFAULT_EPS, GramAccumulator
from .models import MLP
from .sample import greedy_map, sample_dpp, sample_kdpp

__all__ = [
    "METHODS",
    "LayerData",
    "layer_statistics",
    "collect_activations",
    "importance_scores",
    "select_neurons",
    "apply_pruning",
    "next_layer_error",
    "prune_layer",
    "prune_network",
    "sizes_for_fraction",
]

METHODS = ("dpp", "dpp-nonparametric", "greedy-map", "random", "importance")


class _StopForward(Exception):
    """Raised by the hook once the layer of interest has been computed."""


def _batches(data, batch_size: int, param: torch.Tensor):
    X = as_tensor(data, dtype=param.dtype)
    if X.ndim != 2:
        raise ValueError(
            f"data must be a 2-D array of inputs (n_samples, n_features); got shape {tuple(X.shape)}"
        )
    for s in range(0, X.shape[0], batch_size):
        yield X[s : s + batch_size].to(param.device)


def _run_hooked(model: MLP, layer: int, data, batch_size: int, sink) -> None:
    """Feed ``data`` through ``model`` up to hidden layer ``layer``; pass each batch of its outputs to ``sink``."""
    model.check_layer(layer)
    param = next(model.parameters())

    def hook(_module, _inputs, output):
        sink(output.detach())
        raise _StopForward

    handle = model.activations[layer].register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for xb in _batches(data, batch_size, param):
                try:
                    model(xb)
                except _StopForward:
                    pass
    finally:
        handle.remove()
        model.train(was_training)


def layer_statistics(
    model: MLP, layer: int, data, *, batch_size: int = 8192, dtype: torch.dtype | None = None
) -> GramAccumulator:
    """Gram matrix and column sums of hidden layer ``layer``'s activations over ``data``.

    The activations are read by a forward hook on the layer's sigmoid and streamed
    batch by batch into a :class:`~divnet_nb.GramAccumulator`, which computes each
    batch's products with torch on the model's device; the forward pass stops at
    that layer. Memory: O(n^2 + batch_size n).

    Precision: by default the products are formed in the network's own dtype. For
    a float32 network, float32 products of 2048-row blocks are summed in float64:
    about as accurate as the float32 activations themselves (relative error
    ~1e-7). ``dtype=torch.float64`` converts the activations first and forms the
    products in double precision,
    for when the fused weights must match eq. 3 solved in float64 to many digits
    (the conditioning of G_SS can amplify 1e-7 in the Gram matrix to 1e-3 in
    weights, while the network's outputs agree to ~1e-6 either way).
    """
    acc = GramAccumulator()
    _run_hooked(
        model,
        layer,
        data,
        batch_size,
        lambda out: acc.update(out if dtype is None else out.to(dtype)),
    )
    return acc


def collect_activations(
    model: MLP, layer: int, data, *, batch_size: int = 8192, dtype: torch.dtype | None = None
) -> np.ndarray:
    """Hidden layer ``layer``'s activations over ``data``, shape ``(n_samples, n_neurons)``.

    Column i is the paper's activation vector v_i. In the model's dtype (float32
    for a float32 network) unless ``dtype`` says otherwise. Memory O(n_samples n);
    for pruning, :func:`layer_statistics` needs only O(n^2).
    """
    parts: list[np.ndarray] = []

    def keep(out):
        parts.append((out if dtype is None else out.to(dtype)).cpu().numpy())

    _run_hooked(model, layer, data, batch_size, keep)
    return np.concatenate(parts, axis=0)


@dataclass
class LayerData:
    """What selection and fusion need about one layer, each piece computed once on demand.

    Parameters
    ----------
    stats : GramAccumulator
        Gram matrix, column sums and number of samples of the layer's activations.
    beta : float, optional
        Kernel bandwidth; default 10/|T| with |T| = ``stats.n_samples``.
    eps : float
        Diagonal perturbation of the kernel (0.01 in the paper).
    """

    stats: GramAccumulator
    beta: float | None = None
    eps: float = DEFAULT_EPS
    _scaled: dict = field(default_factory=dict, repr=False)

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


def importance_scores(model: MLP, layer: int) -> np.ndarray:
    r"""He et al. (2014)'s ``onorm``: :math:`\frac{1}{n_{\ell+1}} \sum_j |w^{\ell+1}_{ij}|` for each neuron i."""
    model.check_layer(layer)
    with torch.no_grad():
        return model.linears[layer + 1].weight.abs().mean(dim=0).cpu().double().numpy()


def _check_k(k, n: int, method: str) -> int | None:
    if method == "dpp-nonparametric":
        if k is not None:
            raise ValueError(
                "method 'dpp-nonparametric' chooses the size itself (through beta); pass k=None"
            )
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
    scale: str = "paper",
) -> np.ndarray:
    """Indices (sorted int64) of the neurons to keep; see the module notes for the methods.

    ``importance`` (from :func:`importance_scores`) is needed for ``"importance"``;
    ``scale`` ("paper" or "exact") is how ``"dpp"`` scales its kernel to expected size k.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    n = layer_data.n
    k = _check_k(k, n, method)
    if method == "random":
        return np.sort(as_rng(rng).choice(n, size=k, replace=False)).astype(np.int64)
    if method == "importance":
        if importance is None or len(importance) != n:
            raise ValueError(f"method 'importance' needs importance scores for the {n} neurons")
        order = np.argsort(-np.asarray(importance), kind="stable")
        return np.sort(order[:k]).astype(np.int64)
    if k == n:
        return np.arange(n, dtype=np.int64)
    if method == "dpp":
        return sample_kdpp(layer_data.scaled_eig(k, scale), k, rng)
    if method == "greedy-map":
        return greedy_map(layer_data.kernel, k)
    keep = sample_dpp(layer_data.eig, rng)  # dpp-nonparametric
    if keep.size == 0:
        raise ValueError("the DPP sample is empty: this beta leaves no neuron; use a smaller beta")
    return keep


def apply_pruning(
    model: MLP, layer: int, keep, stats: GramAccumulator | None = None, *, intercept: bool = False
) -> MLP:
    """A new model that keeps only neurons ``keep`` of hidden layer ``layer``.

    With ``stats`` (the layer's activation statistics) the removed neurons are fused
    into the kept ones (eqs. 3-4, :func:`~divnet_nb.fuse_from_gram`); without, they
    are simply deleted. ``model`` is not modified.
    """
    model.check_layer(layer)
    n = model.hidden_sizes[layer]
    keep = np.sort(as_index_set(keep, n, "keep"))
    if keep.size == 0:
        raise ValueError("keep must hold at least one neuron index")
    new = copy.deepcopy(model)
    positions = [i for i, m in enumerate(new) if isinstance(m, nn.Linear)]
    lin, nxt = new[positions[layer]], new[positions[layer + 1]]
    idx = torch.from_numpy(keep).to(lin.weight.device)
    with torch.no_grad():
        smaller = nn.Linear(lin.in_features, keep.size).to(lin.weight.device, lin.weight.dtype)
        smaller.weight.copy_(lin.weight[idx])
        smaller.bias.copy_(lin.bias[idx])
        if stats is not None:
            W = nxt.weight.detach().cpu().numpy().T
            b = nxt.bias.detach().cpu().numpy()
            W_new, b_new = fuse_from_gram(stats, keep, W, b, intercept=intercept)
            W_next, b_next = (
                torch.from_numpy(np.ascontiguousarray(W_new.T)),
                torch.from_numpy(b_new),
            )
        else:
            W_next, b_next = nxt.weight[:, idx], nxt.bias
        narrower = nn.Linear(keep.size, nxt.out_features).to(nxt.weight.device, nxt.weight.dtype)
        narrower.weight.copy_(W_next)
        narrower.bias.copy_(b_next)
    new[positions[layer]] = smaller
    new[positions[layer + 1]] = narrower
    return new


@torch.no_grad()
def next_layer_error(
    model: MLP,
    layer: int,
    keep,
    data,
    stats: GramAccumulator | None = None,
    *,
    intercept: bool = False,
) -> float:
    """Relative squared change of the next layer's input after keeping only ``keep`` in ``layer``.

    The next layer's pre-activations ``z = W a + b`` over ``data`` are compared before
    and after :func:`apply_pruning` (with fusion when ``stats`` is given, plain
    deletion otherwise): ``||z' - z||^2 / ||z||^2``. This is the quantity eq. 3
    minimises (on the data the statistics came from).
    """
    pruned = apply_pruning(model, layer, keep, stats, intercept=intercept)
    stop = 2 * layer + 3  # modules up to and including the next Linear
    param = next(model.parameters())
    X = as_tensor(data, param.device, param.dtype)
    was_training = model.training
    model.eval()
    z, z_new = model[:stop](X), pruned[:stop](X)
    model.train(was_training)
    return float(((z_new - z) ** 2).sum() / (z**2).sum())


def prune_layer(
    model: MLP,
    layer: int,
    k: int | None,
    method: str = "dpp",
    reweight: bool = True,
    rng=None,
    *,
    data=None,
    layer_data: LayerData | None = None,
    intercept: bool = False,
    beta: float | None = None,
    eps: float = DEFAULT_EPS,
    scale: str = "paper",
    batch_size: int = 8192,
) -> MLP:
    """Prune hidden layer ``layer`` of ``model`` to ``k`` neurons and return the new, smaller model.

    Parameters
    ----------
    model : MLP
        A trained network; it is not modified.
    layer : int
        Hidden-layer index, 0 for the first.
    k : int or None
        Neurons to keep (None for ``"dpp-nonparametric"``).
    method : str
        One of :data:`METHODS`.
    reweight : bool
        Fuse the removed neurons into the kept ones (eqs. 3-4).
    rng : None, int or numpy.random.Generator
        Randomness for ``"dpp"``, ``"dpp-nonparametric"`` and ``"random"``.
    data : array_like, shape (n_samples, n_features)
        Training inputs whose activations define the kernel and the fusion (all of
        them, or a subset: the paper's accuracy/time trade-off). Not needed when
        ``layer_data`` is given.
    layer_data : LayerData, optional
        Precomputed statistics of this layer (share them across calls that prune the
        same layer of the same model).
    intercept, beta, eps, scale
        Fusion with a constant term; kernel bandwidth (default 10/|T|) and diagonal;
        how the k-DPP kernel is scaled ("paper" or "exact").
    """
    model.check_layer(layer)
    if layer_data is None:
        if data is None:
            raise ValueError("pass data (training inputs) or layer_data")
        layer_data = LayerData(
            layer_statistics(model, layer, data, batch_size=batch_size), beta=beta, eps=eps
        )
    return _prune_one(model, layer, k, method, reweight, rng, layer_data, intercept, scale)[0]


def _prune_one(model, layer, k, method, reweight, rng, layer_data, intercept, scale):
    """Select and apply for one layer: (new model, kept indices). The model is copied, never modified."""
    if layer_data.n != model.hidden_sizes[layer]:
        raise ValueError(
            f"layer_data is for {layer_data.n} neurons but layer {layer} has {model.hidden_sizes[layer]}"
        )
    importance = importance_scores(model, layer) if method == "importance" else None
    keep = select_neurons(method, k, layer_data, rng=rng, importance=importance, scale=scale)
    if keep.size == layer_data.n:
        return copy.deepcopy(model), keep
    stats = layer_data.stats if reweight else None
    return apply_pruning(model, layer, keep, stats, intercept=intercept), keep


def sizes_for_fraction(model: MLP, fraction: float) -> list[int]:
    """Kept sizes when every hidden layer keeps ``fraction`` of its neurons (Table 2), at least 1 each."""
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, numbers.Real)
        or not 0.0 < fraction <= 1.0
    ):
        raise ValueError(f"fraction must be in (0, 1]; got {fraction!r}")
    return [max(1, int(round(fraction * n))) for n in model.hidden_sizes]


def prune_network(
    model: MLP,
    sizes: float | Sequence[int] | None,
    method: str = "dpp",
    reweight: bool = True,
    rng=None,
    *,
    data,
    first_layer_data: LayerData | None = None,
    return_keep: bool = False,
    **options,
):
    """Prune every hidden layer, first to last, each on the activations of the network pruned so far.

    Parameters
    ----------
    model : MLP
        Not modified.
    sizes : float, sequence of int, or None
        A fraction in (0, 1] kept in every hidden layer (Table 2's "remaining hidden
        neurons": the same fraction of each layer, hence of all of them), or one kept
        size per hidden layer; None with ``"dpp-nonparametric"``.
    method, reweight, rng
        As in :func:`prune_layer`; one generator serves all layers in turn.
    data : array_like
        Training inputs for the activations.
    first_layer_data : LayerData, optional
        Statistics of the first hidden layer of ``model`` (the only layer whose
        activations do not depend on earlier pruning), to share across calls.
    return_keep : bool
        Also return the kept indices of each layer.
    **options
        Passed to :func:`prune_layer` (``intercept``, ``beta``, ``eps``, ``scale``,
        ``batch_size``).

    Returns
    -------
    MLP, or (MLP, list of ndarray) with ``return_keep``.
    """
    if sizes is None:
        if method != "dpp-nonparametric":
            raise ValueError("sizes=None is only for method 'dpp-nonparametric'")
        ks: list[int | None] = [None] * model.n_hidden_layers
    elif isinstance(sizes, numbers.Real) and not isinstance(sizes, bool):
        ks = sizes_for_fraction(model, sizes)
    else:
        ks = list(sizes)
        if len(ks) != model.n_hidden_layers:
            raise ValueError(
                f"sizes must give one kept size per hidden layer ({model.n_hidden_layers}); got {len(ks)}"
            )
    unknown = set(options) - {"intercept", "beta", "eps", "scale", "batch_size"}
    if unknown:
        raise ValueError(
            f"unknown options {sorted(unknown)}; allowed: intercept, beta, eps, scale, batch_size"
        )
    rng = as_rng(rng)
    current, keeps = model, []
    for layer, k in enumerate(ks):
        layer_data = first_layer_data if layer == 0 else None
        if layer_data is None:
            stats = layer_statistics(
                current, layer, data, batch_size=options.get("batch_size", 8192)
            )
            layer_data = LayerData(
                stats, beta=options.get("beta"), eps=options.get("eps", DEFAULT_EPS)
            )
        current, keep = _prune_one(
            current,
            layer,
            k,
            method,
            reweight,
            rng,
            layer_data,
            options.get("intercept", False),
            options.get("scale", "paper"),
        )
        keeps.append(keep)
    return (current, keeps) if return_keep else current
