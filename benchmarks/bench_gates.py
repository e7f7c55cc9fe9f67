"""Gated training against plain training, epoch for epoch, and DivNet's post-hoc cost beside it.

For the Table 1 MNIST network (784-500-500-10, sigmoid) and LeNet-300-100 (ReLU), one
epoch over 12,000 MNIST training images (120 mini-batches of 100; random inputs of the
same shape when MNIST is not there: the cost does not depend on the pixels) is timed:

1. plain, through :func:`divnet_nb.training.fit`, the loop every run uses;
2. with neuron gates on both hidden layers (hard-concrete and DiffPrune-style):
   target <= 1.5 x the plain epoch;
3. with weight gates on both hidden layers: target <= 2.5 x.

Then DivNet (k-DPP + fusion of both hidden layers to half their neurons, activations of
10,000 images) on the plain network, against a gated run's whole training (15 epochs of
60,000 images, the experiment's budget, estimated from the epoch above).

Run: ``python benchmarks/bench_gates.py [--quick]`` (also part of ``make bench``).
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import torch
from _timing import best_time  # benchmarks/ is on sys.path when run as a script

from divnet_nb.datasets import DatasetNotFoundError, load_dataset
from divnet_nb.experiments.gates import NETWORKS
from divnet_nb.nets import MLP
from divnet_nb.prune import prune_network, wrap_with_gates
from divnet_nb.training import default_config
from divnet_nb.training.loop import fit

EPOCHS, TRAIN = 15, 60_000


def data(n: int):
    try:
        return load_dataset("mnist", n_train=n, n_test=1000), "MNIST"
    except DatasetNotFoundError:
        ds = load_dataset("digits")
        rng = np.random.default_rng(0)
        x = rng.random((n, 784), dtype=np.float32)
        y = rng.integers(0, 10, n)
        return replace(ds, x_train=x, y_train=y), "random inputs"


def epoch_seconds(model, dataset, repeats: int) -> float:
    config = default_config("mnist", max_epochs=1, optimizer="adam", lr=1e-3)

    def one():
        fit(model, dataset, 0, config, progress=False, until_threshold=False)

    return best_time(one, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 images, one repeat")
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = 3_000 if args.quick else 12_000
    repeats = 1 if args.quick else 3
    dataset, what = data(n)
    print(f"one epoch of {n} {what} images, batches of 100, one thread; best of {repeats}")
    print(f"{'network / gates':<52} {'seconds':>8} {'ratio':>7}  target")
    for spec in NETWORKS.values():
        base = MLP(spec["sizes"], seed=0, activation=spec["activation"])
        plain = epoch_seconds(base, dataset, repeats)
        print(f"{spec['label'] + ', plain':<52} {plain:8.2f} {1.0:7.2f}")
        gated_epoch = {}
        for method, target in (
            ("hard-concrete", 1.5),
            ("diffprune", 1.5),
            ("hard-concrete-weights", 2.5),
            ("diffprune-weights", 2.5),
        ):
            gated = wrap_with_gates(
                MLP(spec["sizes"], seed=0, activation=spec["activation"]), method
            )
            t = epoch_seconds(gated, dataset, repeats)
            gated_epoch[method] = t
            print(f"{'  ' + method:<52} {t:8.2f} {t / plain:7.2f}  <= {target}")
        x = dataset.x_train[:10_000]
        divnet = best_time(
            lambda b=base, x=x: prune_network(
                b, 0.5, "dpp", True, np.random.default_rng(0), data=x
            ),
            1,
        )
        whole = gated_epoch["hard-concrete"] * (TRAIN / n) * EPOCHS
        print(
            f"{'  DivNet at 50 % (both layers, k-DPP + fusion)':<52} {divnet:8.2f} "
            f"{divnet / whole:7.4f}  (vs a gated run: {EPOCHS} epochs of {TRAIN}, {whole:.0f} s est.)"
        )


if __name__ == "__main__":
    main()
