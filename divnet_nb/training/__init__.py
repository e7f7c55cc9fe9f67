"""Training the Table 1 networks: settings (:mod:`.config`), the loop (:mod:`.loop`, with a
penalty hook) and its cache (:mod:`.cache`).

Names are loaded on first use (:mod:`lazy_loader`), so reading the settings does not
import torch; ``from divnet_nb.training import train`` works as usual.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "config": ["TrainConfig", "default_config", "recipe_config"],
        "loop": ["GATE", "TrainResult", "fit", "train"],
        "cache": [
            "TRAIN_VERSION",
            "cache_key",
            "checkpoint_path",
            "data_fingerprint",
            "load_or_train",
            "train_instances",
            "training_lock",
        ],
    },
)
