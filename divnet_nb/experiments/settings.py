"""What decides an experiment: its settings, fast mode, and the inputs the kernel is built from.

:class:`Settings` holds everything :func:`~divnet_nb.experiments.reproduce` computes
from (dataset, instances, data subsets, swept sizes, Table 2 fractions, the compared
methods, the seed, the training settings), and checks itself when it is made: a mistake
is a :class:`~divnet_nb.tasks.protocol.SettingError` (a :class:`ValueError` naming the
setting) before any data is read. :func:`settings_for` fills in the paper's defaults and
fast mode (``DIVNET_FAST``). Everything is recorded in ``results.json``. The leaderboard
and the edge experiment use the same settings. No torch here.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field

import numpy as np

from ..core._validate import is_int
from ..core.kernels import DEFAULT_KERNEL, get_kernel
from ..datasets import DATASETS, splits
from ..nets.table1 import table1_sizes
from ..paper import TABLE1, TABLE2_FRACTIONS
from ..paths import fast_mode
from ..pruning.registry import DEFAULT_METHODS, get_method, variants
from ..tasks.protocol import SettingError
from ..training.config import TrainConfig, default_config

__all__ = ["Settings", "FAST", "settings_for", "kernel_subset", "layer_grid", "method_stream"]


@dataclass(frozen=True)
class Settings:
    """Everything that decides what :func:`~divnet_nb.experiments.reproduce` computes.

    ``methods`` are registered neuron methods; each is compared without and with
    fusion (six variants by default).

    Seeds: network ``i`` is trained with seed ``seed + i``; the data subsets (fast mode,
    ``n_train``/``n_test``) are drawn with ``data_seed`` and the kernel subset
    (``n_kernel``) with ``kernel_seed``, both ``seed`` when not given; every pruning
    draw comes from :class:`numpy.random.SeedSequence` of ``seed`` and its coordinates
    (network, layer, method, size).

    Swept sizes: ``sweep_sizes`` (kept neurons, the same for every swept layer) when
    given, else ``sweep_fractions`` of each swept layer (:func:`layer_grid`).

    ``kernel``: the kernel over neurons of the methods that read one (``"dpp"``,
    ``"greedy-map"``, ...), a name of :func:`divnet_nb.core.kernels.kernel_names`; the
    paper's ``"rbf"`` (eq. 2) by default.

    ``architecture``: a registered CNN (:func:`divnet_nb.nets.architectures.get_architecture`)
    instead of the dataset's Table 1 MLP; its training settings are its recipe's.
    """

    dataset: str
    instances: int
    n_train: int | None = None
    n_test: int | None = None
    n_kernel: int | None = None
    sweep_fractions: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    sweep_layers: tuple[int, ...] = (0, 1)
    table_fractions: tuple[float, ...] = TABLE2_FRACTIONS
    seed: int = 0
    fast: bool = False
    train: TrainConfig = field(default_factory=TrainConfig)
    methods: tuple[str, ...] = DEFAULT_METHODS
    data_seed: int | None = None
    kernel_seed: int | None = None
    sweep_sizes: tuple[int, ...] | None = None
    kernel: str = DEFAULT_KERNEL
    architecture: str | None = None

    def __post_init__(self):
        if self.dataset not in DATASETS:
            raise SettingError(
                "dataset", f"must be one of {', '.join(DATASETS)}; got {self.dataset!r}"
            )
        if not is_int(self.instances) or self.instances < 1:
            raise SettingError("instances", f"must be >= 1; got {self.instances}")
        for name in ("seed", "data_seed", "kernel_seed"):
            value = getattr(self, name)
            if value is not None and (not is_int(value) or value < 0):
                raise SettingError(name, f"must be >= 0; got {value}")
        try:
            variants(self.methods)
        except ValueError as exc:
            raise SettingError("methods", str(exc)) from None
        self._check_kernel()
        if self.architecture is not None:
            from ..nets.architectures import get_architecture

            try:
                arch = get_architecture(self.architecture)
            except ValueError as exc:
                raise SettingError("architecture", str(exc)) from None
            if arch.dataset != self.dataset or arch.sizes is not None:
                raise SettingError(
                    "architecture",
                    f"{self.architecture!r} is not a CNN for {self.dataset} (it is for {arch.dataset})",
                )
        n_train, n_test = splits(self.dataset)
        for name, total, split in (("n_train", n_train, "training"), ("n_test", n_test, "test")):
            value = getattr(self, name)
            if value is not None and (not is_int(value) or not 1 <= value <= total):
                raise SettingError(
                    name,
                    f"must be between 1 and {total} (the {split} set of {self.dataset}); got {value}",
                )
        available = self.n_train if self.n_train is not None else n_train
        if self.n_kernel is not None and (
            not is_int(self.n_kernel) or not 1 <= self.n_kernel <= available
        ):
            raise SettingError(
                "n_kernel",
                f"must be between 1 and {available} (the training inputs used); got {self.n_kernel}",
            )
        for name in ("sweep_fractions", "table_fractions"):
            values = getattr(self, name)
            if not values or any(not 0.0 < f <= 1.0 for f in values):
                raise SettingError(name, f"must lie in (0, 1]; got {list(values)}")
        if self.sweep_sizes is not None:
            hidden = table1_sizes(self.dataset)[1:-1]
            smallest = min(hidden[layer] for layer in self.sweep_layers if layer < len(hidden))
            if not self.sweep_sizes or any(
                not is_int(k) or not 1 <= k < smallest for k in self.sweep_sizes
            ):
                raise SettingError(
                    "sweep_sizes",
                    f"must be kept-neuron counts with 1 <= k < {smallest} (the layer size); "
                    f"got {list(self.sweep_sizes)}",
                )

    def _check_kernel(self) -> None:
        try:
            get_kernel(self.kernel)
        except ValueError as exc:
            raise SettingError("kernel", str(exc).removeprefix("kernel ")) from None
        readers = [m for m in self.methods if "kernel" in get_method(m, "neuron").needs]
        if self.kernel != DEFAULT_KERNEL and not readers:
            raise SettingError(
                "kernel",
                f"{self.kernel!r} would be read by no compared method "
                f"({', '.join(self.methods)}); compare dpp, greedy-map or dpp-best",
            )

    @property
    def subset_seed(self) -> int:
        """Seed of the data subsets: ``data_seed``, else ``seed``."""
        return self.seed if self.data_seed is None else self.data_seed

    @property
    def kernel_subset_seed(self) -> int:
        """Seed of the kernel subset: ``kernel_seed``, else ``seed``."""
        return self.seed if self.kernel_seed is None else self.kernel_seed

    def to_dict(self) -> dict:
        """Every setting; ``sweep_sizes`` and ``architecture`` only when given, ``kernel`` only
        when not the paper's (so that the identity, and the stores named by it, of runs
        without them are what they always were)."""
        out = dataclasses.asdict(self)
        if out["sweep_sizes"] is None:
            del out["sweep_sizes"]
        if out["kernel"] == DEFAULT_KERNEL:
            del out["kernel"]
        if out["architecture"] is None:
            del out["architecture"]
        return out

    def swept_sizes(self, layer_size: int) -> list[int]:
        """The kept sizes of a swept layer of ``layer_size`` neurons."""
        if self.sweep_sizes is not None:
            return sorted(set(self.sweep_sizes))
        return layer_grid(layer_size, self.sweep_fractions)


#: Fast mode: data subsets and fewer instances and sizes, the same code.
FAST = {
    "digits": {"instances": 2},
    "mnist": {"instances": 2, "n_train": 10000, "n_test": 2000},
    "mnist_rot": {"instances": 2, "n_train": 10000, "n_test": 2000},
    "cifar10": {"instances": 2, "n_train": 5000, "n_test": 1000},
}


def settings_for(
    dataset: str, *, fast: bool | None = None, instances: int | None = None, **overrides
) -> Settings:
    """Default settings for a dataset: Table 1's instances and threshold; fast mode if asked (or ``DIVNET_FAST``)."""
    fast = fast_mode() if fast is None else fast
    values: dict = {
        "dataset": dataset,
        "instances": TABLE1.get(dataset, {}).get("instances", 5),
        "fast": fast,
    }
    if fast:
        values.update(FAST.get(dataset, {"instances": 2}))
        values["sweep_fractions"] = (0.05, 0.1, 0.25, 0.5)
    if instances is not None:
        values["instances"] = instances
    values.update(overrides)
    values["methods"] = tuple(values.get("methods", DEFAULT_METHODS))
    if values.get("architecture") is not None and "train" not in values:
        from ..nets.architectures import architecture_names, get_architecture
        from ..training.config import recipe_config

        if values["architecture"] in architecture_names():  # else Settings says what is wrong
            values["train"] = recipe_config(get_architecture(values["architecture"]))
    values.setdefault("train", default_config(dataset))
    return Settings(**values)


def kernel_subset(x_train: np.ndarray, n_kernel: int | None, seed: int = 0) -> np.ndarray:
    """The training inputs used to build the kernel and the fusion: all, or a seeded random subset."""
    if n_kernel is None or n_kernel >= x_train.shape[0]:
        return x_train
    if n_kernel < 1:
        raise ValueError(f"n_kernel must be >= 1; got {n_kernel}")
    idx = np.sort(np.random.default_rng(seed).choice(x_train.shape[0], n_kernel, replace=False))
    return x_train[idx]


def layer_grid(n: int, fractions) -> list[int]:
    """Kept sizes for a layer of ``n`` neurons: each fraction of n, rounded, within [1, n - 1], distinct."""
    return sorted({min(n - 1, max(1, int(round(f * n)))) for f in fractions})


def method_stream(method: str) -> int:
    """A stable integer for a method's name: the coordinate that keys its random stream.

    Random draws are keyed by the *selection method*, not by the variant, so the fused
    and unfused variants of a method are scored on the same selections (a paired
    design), and adding or removing another method changes no draw.
    """
    return zlib.crc32(method.encode("utf-8"))
