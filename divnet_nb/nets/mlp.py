"""The networks of Table 1: MLPs with sigmoid hidden units and a softmax output.

:class:`MLP` is a :class:`torch.nn.Sequential` of ``Linear, Sigmoid, Linear, Sigmoid,
..., Linear``; the last layer gives logits and the softmax is applied by the loss
(:func:`torch.nn.functional.cross_entropy`) and by :meth:`MLP.predict_proba`. Hidden
layer ``l`` (0-based) is ``linears[l]`` followed by ``activations[l]``; its outgoing
weights are ``linears[l + 1].weight`` (shape ``(n_next, n_l)``, the transpose of the
core's ``W``). Pruning code does not use these positions: it reaches hidden layer ``l``
through its site (:func:`divnet_nb.nets.sites.site_for`).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..core._validate import is_int

__all__ = ["MLP", "ACTIVATIONS"]

#: Hidden activations an :class:`MLP` can have: Table 1's sigmoid, and the ReLU of LeNet-300-100.
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}


class MLP(nn.Sequential):
    """Fully connected network with sigmoid (or ReLU) hidden layers and logits out.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, e.g. ``(784, 500, 500, 10)``; at least
        one hidden layer.
    seed : int, optional
        Seed for the initialisation (Glorot-uniform weights, zero biases), so that
        instance ``i`` of an experiment is the same network on every machine.
    activation : {"sigmoid", "relu"}
        The hidden units' nonlinearity (Table 1's networks are sigmoid;
        LeNet-300-100 of Louizos et al. 2018 is ReLU).
    """

    def __init__(self, sizes: Sequence[int], seed: int | None = None, activation: str = "sigmoid"):
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 3 or min(sizes) < 1:
            raise ValueError(
                f"sizes must list at least input, one hidden and output width, all >= 1; got {sizes}"
            )
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}")
        modules: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            modules.append(nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                modules.append(ACTIVATIONS[activation]())
        super().__init__(*modules)
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int | None = None) -> None:
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        with torch.no_grad():
            for lin in self.linears:
                bound = (6.0 / (lin.in_features + lin.out_features)) ** 0.5
                lin.weight.copy_(torch.rand(lin.weight.shape, generator=gen) * 2 * bound - bound)
                lin.bias.zero_()

    def __getitem__(self, idx):
        """A module, or for a slice a plain :class:`torch.nn.Sequential` of those modules."""
        if isinstance(idx, slice):
            return nn.Sequential(*list(self._modules.values())[idx])
        return super().__getitem__(idx)

    @property
    def linears(self) -> list[nn.Linear]:
        """The affine layers, input to output."""
        return [m for m in self if isinstance(m, nn.Linear)]

    @property
    def activations(self) -> list[nn.Module]:
        """The activation modules, one per hidden layer (hook these to read activations)."""
        return [m for m in self if not isinstance(m, nn.Linear)]

    @property
    def activation(self) -> str:
        """The hidden nonlinearity's name (a key of :data:`ACTIVATIONS`)."""
        first = self.activations[0]
        return next(name for name, cls in ACTIVATIONS.items() if isinstance(first, cls))

    @property
    def sizes(self) -> tuple[int, ...]:
        lins = self.linears
        return (lins[0].in_features, *(lin.out_features for lin in lins))

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        return self.sizes[1:-1]

    @property
    def n_hidden_layers(self) -> int:
        return len(self.sizes) - 2

    def check_layer(self, layer: int) -> int:
        """Validate a hidden-layer index (0-based; Python or numpy integer) and return it as int."""
        if not is_int(layer) or not 0 <= layer < self.n_hidden_layers:
            raise ValueError(
                f"layer must be a hidden-layer index 0..{self.n_hidden_layers - 1} "
                f"(hidden sizes {self.hidden_sizes}); got {layer!r}"
            )
        return int(layer)

    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax output probabilities."""
        return torch.softmax(self(x), dim=-1)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
