"""Pipeline benchmark: DivNet pruning time as a fraction of the network's training time.

Also the price of exact fusion: the layer statistics accumulated from float64 products
(the default) against float32 products, as a ratio in the same run.

Trains one MNIST 784-500-500-10 network until < 1 % training error (the paper's Table 1
criterion; not taken from the cache, so both times come from this run), then times
DivNet pruning of both hidden layers to 50 % (statistics over all 60000 training images:
forward pass, Gram matrices, kernels, eigendecompositions, k-DPP samples, fusion) and
its parts, each as a ratio to the training time. Also with the kernel and fusion built
from a 10000-image subset, the paper's section 3.3 trade-off.

Then the learned kernel's fit (:mod:`divnet_nb.core.learned`) at three sizes of the first
hidden layer, each as a ratio to the same training time (target: <= 10 %).

Run: ``make bench`` (after bench_core.py) or ``python benchmarks/bench_pipeline.py``;
``--quick`` uses scikit-learn's digits (offline, seconds). Needs MNIST under $DIVNET_DATA.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import best_time as _best_time  # benchmarks/ is on sys.path when run as a script

from divnet_nb.datasets import load_dataset
from divnet_nb.experiments import kernel_subset
from divnet_nb.experiments.experiment import _warm_up
from divnet_nb.nets import table1_sizes
from divnet_nb.prune import LayerData, layer_statistics, prune_network, select_neurons
from divnet_nb.training import default_config, train


def best_time(fn) -> float:
    """Best of 3, no warm-up: _warm_up() below has compiled the kernels, and each call is a full pass."""
    return _best_time(fn, 3, warm_up=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits instead of MNIST")
    args = parser.parse_args()
    name = "digits" if args.quick else "mnist"
    data = load_dataset(name)
    sizes = table1_sizes(name)
    print(
        f"divnet-nb pipeline benchmark: {name} {'-'.join(map(str, sizes))}, {data.n_train} training images, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads"
    )
    run = train(data, sizes, seed=0, config=default_config(name), progress=False)
    print(
        f"training: {run.epochs:.2f} epochs to training error {run.train_error:.4f}: {run.seconds:.2f} s"
    )
    model, X = run.model, data.x_train
    _warm_up()

    def ratio(seconds: float) -> str:
        return f"{seconds:8.3f} s  {100 * seconds / run.seconds:6.2f} % of training"

    t_forward = best_time(lambda: _forward(model, X))
    t_stats = best_time(lambda: layer_statistics(model, 0, X))
    t_stats32 = best_time(lambda: layer_statistics(model, 0, X, dtype=None))
    first = LayerData(layer_statistics(model, 0, X))
    t_select = best_time(
        lambda: select_neurons("dpp", sizes[1] // 2, LayerData(first.stats), rng=0)
    )
    t_all = best_time(lambda: prune_network(model, 0.5, "dpp", True, 0, data=X))
    X_sub = kernel_subset(X, 10000)
    t_sub = best_time(lambda: prune_network(model, 0.5, "dpp", True, 0, data=X_sub))
    print("DivNet, both hidden layers to 50 %:")
    print(f"  {f'all {data.n_train} images':<36}  {ratio(t_all)}   (target <= 2 %)")
    print(f"  {'kernel and fusion from 10000 images':<36}  {ratio(t_sub)}")
    print("parts, first hidden layer:")
    print(f"  {'forward pass to layer 1 (the floor)':<36}  {ratio(t_forward)}")
    print(
        f"  {'... plus Gram matrix and sums':<36}  {ratio(t_stats)}   (float64 products, the default)"
    )
    print(
        f"  {'... the same, float32 products':<36}  {ratio(t_stats32)}   "
        f"(float64 costs {t_stats / t_stats32:.2f}x)"
    )
    print(f"  {'kernel + eigh + scaling + k-DPP':<36}  {ratio(t_select)}")
    learned_kernel_cost(model, X, sizes, ratio)


def learned_kernel_cost(model, X, sizes, ratio) -> None:
    """The learned kernel (divnet_nb.core.learned): its held-out statistics and its fit, each
    hidden layer at 10 %, 50 % and 90 % kept (one fit per size), as a fraction of training."""
    from divnet_nb.prune import held_out_statistics, outgoing_weights, read_layer_data

    print("learned kernel, first hidden layer (target: one fit <= 10 % of training):")
    t_held = best_time(lambda: held_out_statistics(model, 0, X))
    print(f"  {'held-out half statistics':<36}  {ratio(t_held)}")
    base = read_layer_data(model, 0, X, kernel="learned")
    assert np.array_equal(base.weights, outgoing_weights(model, 0))
    for fraction in (0.1, 0.5, 0.9):
        k = max(1, round(fraction * sizes[1]))
        t_fit = best_time(lambda k=k: base.with_inputs(held_out=base.held_out).built_kernel(k))
        fit = base.built_kernel(k).params
        print(
            f"  {f'fit at k = {k}':<36}  {ratio(t_fit)}   (factor {fit['factor']:g}, exponent "
            f"{fit['exponent']:g}; held-out objective {fit['objective']:.4g}, eq. 2's "
            f"{fit['default_objective']:.4g})"
        )


@torch.no_grad()
def _forward(model, X, batch_size: int = 8192) -> None:
    x = torch.from_numpy(np.ascontiguousarray(X))
    for s in range(0, x.shape[0], batch_size):
        model[:2](x[s : s + batch_size])


if __name__ == "__main__":
    main()
