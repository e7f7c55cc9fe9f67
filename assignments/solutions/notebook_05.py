"""Solutions to the coding exercises of notebook 05 (training the Table 1 networks).

Each ``exercise_<n>`` takes what the notebook has at hand, named as there, and returns what
the exercise asks for; its docstring gives the written part of the answer.
``tests/test_solutions.py`` runs every one on digits.
"""

from __future__ import annotations

import math

from divnet_nb.datasets import load_dataset
from divnet_nb.training import GATE, cache_key, default_config


def exercise_4(name: str = "mnist", n_train: int = 10000, subset_seeds=(0, 1), sizes=None) -> dict:
    """The cache key of the same network trained on two random subsets of the training set.

    The key hashes the training inputs and labels themselves (not just the dataset's name), so
    a network trained on another subset gets another key. A key by name alone would hand back a
    network trained on different images: its errors, and everything pruned from it, would
    silently belong to another experiment.
    """
    keys = {}
    for seed in subset_seeds:
        data = load_dataset(name, n_train=n_train, subset_seed=seed)
        layers = sizes or (data.n_features, 500, 500, 10)
        keys[seed] = cache_key(data, layers, 0, default_config(name))
    return keys


def exercise_5(runs, threshold: float) -> list[dict]:
    """For each trained instance: its full training-error measurements, and those still above the threshold.

    A full measurement (an entry of ``run.history`` with ``train_error``) costs one pass over
    the training set; it is made at the end of an epoch whose running mini-batch error is below
    GATE x threshold. For CIFAR-10 that gate is 1.25 x 0.5 = 0.625: compare the count of full
    measurements with the epochs to see how many epochs paid for one. A gate closer to the
    threshold (say 1.05 x 0.5) checks less often; it stops later only when the running error
    overestimates the full one by more than the difference, which the recorded pairs of running
    and full errors of the same epochs let you check.
    """
    rows = []
    for run in runs:
        checks = [h["train_error"] for h in run.history if "train_error" in h]
        rows.append(
            {
                "seed": run.seed,
                "epochs": math.ceil(run.epochs),
                "full measurements": len(checks),
                "above the threshold": sum(e >= threshold for e in checks),
                "gate": GATE * threshold,
            }
        )
    return rows
