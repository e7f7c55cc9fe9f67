"""Named architectures: a builder, the input shape its first layer reads, a training recipe.

:func:`get_architecture` looks one up by name; :func:`architecture_names` lists them. Each
:class:`Architecture` says which dataset it is for, builds its network from a seed (the
same network on every machine), turns the dataset's flattened rows into the inputs the
network reads (:meth:`Architecture.inputs`), and states the training settings it is
trained with (``recipe``, read by :func:`divnet_nb.training.config.recipe_config`). Training and its cache take a name
(:func:`divnet_nb.training.load_or_train`); a new architecture is one registration here.

====================  =========  =====================================================================
name                  dataset    network
====================  =========  =====================================================================
``table1-*``          each       Table 1's sigmoid MLPs (cached under their layer sizes, as always)
``digits-cnn``        digits     conv 8, pool, conv 16, pool (3x3, ReLU), dense 64-32-10: for tests
``lenet-300-100``     mnist      784-300-100-10 with ReLU (Louizos et al. 2018)
``lenet5-caffe``      mnist      conv 20 5x5, max-pool 2, conv 50 5x5, max-pool 2, dense 800-500-10,
                                 ReLU (Louizos et al. 2018's LeNet-5-Caffe)
``cifar10-cnn``       cifar10    a small VGG-style network with BatchNorm: conv 32, 32, pool, conv 64,
                                 64, pool, conv 128, pool, dense 2048-256-10
====================  =========  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .mlp import MLP
from .table1 import table1_sizes

__all__ = ["Architecture", "CNN", "architecture_names", "get_architecture", "register_architecture"]


class CNN(nn.Sequential):
    """A convolutional network of the registry: a sequential chain that knows its name."""

    def __init__(self, architecture: str, *modules: nn.Module):
        super().__init__(*modules)
        self.architecture = architecture

    @property
    def sizes(self) -> tuple[int, ...]:
        """Output channels of each Conv2d, then output units of each Linear."""
        return tuple(
            m.out_channels if isinstance(m, nn.Conv2d) else m.out_features
            for m in self
            if isinstance(m, (nn.Conv2d, nn.Linear))
        )


@dataclass(frozen=True)
class Architecture:
    """A registered network: ``build(seed)`` makes it, ``inputs(x)`` shapes a dataset's rows for it."""

    name: str
    dataset: str
    build: Callable[[int | None], nn.Module]
    input_shape: tuple[int, ...]
    recipe: dict = field(default_factory=dict)
    description: str = ""
    #: Layer sizes of an MLP architecture (its cache key); None for a CNN.
    sizes: tuple[int, ...] | None = None
    activation: str = "sigmoid"
    #: Trained for exactly the recipe's epochs (a CNN), not until Table 1's threshold.
    fixed_epochs: bool = False

    def inputs(self, x) -> np.ndarray:
        """A dataset's flattened rows (n, features) as this network's inputs, ``(n, *input_shape)``.

        Images stored HWC (CIFAR-10) become CHW.
        """
        x = np.asarray(x)
        n = x.shape[0]
        if len(self.input_shape) == 1:
            return x.reshape(n, -1)
        c, h, w = self.input_shape
        if x[0].size != c * h * w:
            raise ValueError(
                f"{self.name} reads images of shape {self.input_shape}; got rows of {x[0].size} values"
            )
        if c == 1:
            return x.reshape(n, 1, h, w)
        return np.ascontiguousarray(x.reshape(n, h, w, c).transpose(0, 3, 1, 2))


_REGISTRY: dict[str, Architecture] = {}


def register_architecture(arch: Architecture) -> Architecture:
    """Add ``arch`` to the registry (a name may be registered once)."""
    if arch.name in _REGISTRY:
        raise ValueError(f"architecture {arch.name!r} is registered already")
    _REGISTRY[arch.name] = arch
    return arch


def architecture_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_architecture(name: str) -> Architecture:
    """The registered architecture ``name``; a one-line error listing the names otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown architecture {name!r}; registered: {', '.join(_REGISTRY)}"
        ) from None


def _seeded(seed: int | None, make: Callable[[], nn.Module]) -> nn.Module:
    """``make()`` under a fixed torch seed, so a seed gives the same weights everywhere."""
    if seed is None:
        return make()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def _lenet5_caffe(seed: int | None = None) -> CNN:
    return _seeded(
        seed,
        lambda: CNN(
            "lenet5-caffe",
            nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(20, 50, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10),
        ),
    )  # fmt: skip


def _digits_cnn(seed: int | None = None) -> CNN:
    return _seeded(
        seed,
        lambda: CNN(
            "digits-cnn",
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10),
        ),
    )  # fmt: skip


def _block(c_in: int, c_out: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]


def _cifar10_cnn(seed: int | None = None) -> CNN:
    return _seeded(
        seed,
        lambda: CNN(
            "cifar10-cnn",
            *_block(3, 32), *_block(32, 32), nn.MaxPool2d(2),
            *_block(32, 64), *_block(64, 64), nn.MaxPool2d(2),
            *_block(64, 128), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2048, 256), nn.ReLU(), nn.Linear(256, 10),
        ),
    )  # fmt: skip


def _mlp(name, dataset, sizes, activation="sigmoid", description=""):
    return Architecture(
        name, dataset, lambda seed=None: MLP(sizes, seed=seed, activation=activation),
        (sizes[0],), description=description, sizes=tuple(sizes), activation=activation,
    )  # fmt: skip


for _dataset in ("digits", "mnist", "mnist_rot", "cifar10"):
    register_architecture(
        _mlp(f"table1-{_dataset}", _dataset, table1_sizes(_dataset), description="Table 1's MLP")
    )
register_architecture(
    _mlp(
        "lenet-300-100", "mnist", (784, 300, 100, 10), "relu", "LeNet-300-100 (Louizos et al. 2018)"
    )
)
register_architecture(
    Architecture(
        "digits-cnn", "digits", _digits_cnn, (1, 8, 8),
        recipe={"optimizer": "adam", "lr": 3e-3, "batch_size": 50, "max_epochs": 15},
        description="a small CNN for tests and fast runs: conv 8, pool, conv 16, pool (3x3), dense 64-32-10",
        fixed_epochs=True,
    )
)  # fmt: skip
register_architecture(
    Architecture(
        "lenet5-caffe", "mnist", _lenet5_caffe, (1, 28, 28),
        recipe={"optimizer": "adam", "lr": 1e-3, "batch_size": 100, "max_epochs": 10},
        description="LeNet-5-Caffe: conv 20-50 (5x5, max-pool 2), dense 800-500-10, ReLU",
        fixed_epochs=True,
    )
)  # fmt: skip
register_architecture(
    Architecture(
        "cifar10-cnn", "cifar10", _cifar10_cnn, (3, 32, 32),
        recipe={"optimizer": "adam", "lr": 1e-3, "batch_size": 128, "max_epochs": 8},
        description="VGG-style: conv 32-32, pool, 64-64, pool, 128, pool (3x3, BatchNorm, ReLU), dense 2048-256-10",
        fixed_epochs=True,
    )
)  # fmt: skip
