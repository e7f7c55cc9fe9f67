"""Training settings (:class:`TrainConfig`) and the paper's defaults per dataset; no torch here."""

from __future__ import annotations

from dataclasses import dataclass

from ..core._validate import as_positive_real, is_int

__all__ = ["TrainConfig", "default_config", "recipe_config"]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; every field is part of the cache key."""

    threshold: float = 0.01
    max_epochs: int = 100
    batch_size: int = 100
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    check_every: float = 0.25

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {self.optimizer!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1); got {self.threshold}")
        for name in ("max_epochs", "batch_size"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {value!r}")
        as_positive_real(self.lr, "lr")
        if not (0 <= self.momentum < 1 and 0 < self.check_every <= 1):
            raise ValueError(
                f"momentum must be in [0, 1) and check_every in (0, 1]; "
                f"got {self.momentum}, {self.check_every}"
            )


def default_config(dataset: str, **overrides) -> TrainConfig:
    """Table 1's threshold for the dataset (< 1 % digits, MNIST, MNIST_ROT; < 50 % CIFAR-10)."""
    from ..paper import TABLE1

    threshold = TABLE1[dataset]["threshold"] if dataset in TABLE1 else 0.01
    settings = {"threshold": threshold, "max_epochs": 200 if dataset == "digits" else 100}
    if dataset == "cifar10":
        settings.update(optimizer="adam", lr=1e-3)
    settings.update(overrides)
    return TrainConfig(**settings)


def recipe_config(architecture, **overrides) -> TrainConfig:
    """The training settings of a registered architecture's recipe, on its dataset's defaults."""
    return default_config(architecture.dataset, **{**architecture.recipe, **overrides})
