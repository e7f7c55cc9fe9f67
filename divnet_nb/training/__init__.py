"""Training the Table 1 networks: the loop (:mod:`.loop`, with a penalty hook) and its cache (:mod:`.cache`)."""

from .cache import (
    TRAIN_VERSION,
    cache_key,
    checkpoint_path,
    data_fingerprint,
    load_or_train,
    train_instances,
)
from .loop import GATE, TrainConfig, TrainResult, default_config, fit, train

__all__ = [
    "GATE",
    "TRAIN_VERSION",
    "TrainConfig",
    "TrainResult",
    "cache_key",
    "checkpoint_path",
    "data_fingerprint",
    "default_config",
    "fit",
    "load_or_train",
    "train",
    "train_instances",
]
