"""DPP edge pruning of one layer: ratios against floors measured in the same run.

The layer is 784 -> 500 with random N(0, 0.05^2) weights (not a trained layer); the inputs
are MNIST's training images when the data are found, else uniform random pixels of the same
shape.

1. **The floor**: ``numpy.linalg.eigh`` of the 500 units' 784 x 784 edge kernels alone
   (the kernels are built beforehand and not timed).
2. **DPP edge pruning** of the whole layer: the input Gram matrix (one pass over the
   data), the 500 kernels, their eigendecompositions, one k-DPP sample per unit
   (k = 392, half the edges) and the reweighting, over the floor. Target <= 1.5.
3. **One pass per unit**: what building each unit's kernel costs when its edge
   contributions C = X diag(w) are formed and multiplied from the data for that unit
   alone (timed on a few units and extrapolated to 500, as printed), over (2). Target
   >= 50. The ratio of the kernel-building parts alone is printed beside it.

Run: ``python benchmarks/bench_edges.py [--quick]`` (also part of ``make bench``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _timing import best_time  # benchmarks/ is on sys.path when run as a script

from divnet_nb.core.edges import (
    dpp_edge_masks,
    edge_kernel,
    reweight_edge_weights,
)
from divnet_nb.core.kernel import default_beta, rbf_kernel_from_gram


def inputs(n_samples: int) -> tuple[np.ndarray, str]:
    try:
        from divnet_nb.datasets import load_dataset

        x = load_dataset("mnist", n_train=n_samples, subset_seed=0).x_train
        return x.astype(np.float64), f"MNIST, {x.shape[0]} training images"
    except Exception:  # noqa: BLE001 - no data here: the same shapes, random pixels
        rng = np.random.default_rng(0)
        return rng.random((n_samples, 784)), f"{n_samples} random 784-pixel inputs (no MNIST found)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 units, 10,000 inputs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # singular reweighting blocks are expected on MNIST's pixels
    units, n_samples = (100, 10000) if args.quick else (500, 60000)
    X, source = inputs(n_samples)
    W = np.random.default_rng(1).normal(0.0, 0.05, (units, 784))
    k = 392
    print(f"DPP edge pruning of a 784 -> {units} layer, k = {k} per unit; inputs: {source}")

    G = X.T @ X
    kernels = [edge_kernel(G, w, n_samples=X.shape[0]) for w in W]
    floor = best_time(lambda: [np.linalg.eigh(L) for L in kernels], 1, warm_up=False)
    kernels = None  # free 500 x 4.9 MB before the timed pruning

    def prune():
        G = X.T @ X
        mask = dpp_edge_masks(G, W, k, rng=0, n_samples=X.shape[0])[k]
        reweight_edge_weights(G, mask, W)

    whole = best_time(prune, 1, warm_up=False)
    t0 = time.perf_counter()
    G = X.T @ X
    gram = time.perf_counter() - t0
    t0 = time.perf_counter()
    mask = dpp_edge_masks(G, W, k, rng=0, n_samples=X.shape[0])[k]
    masks = time.perf_counter() - t0
    t0 = time.perf_counter()
    reweight_edge_weights(G, mask, W)
    reweight = time.perf_counter() - t0

    beta = default_beta(X.shape[0])
    probe = 3

    def per_unit_kernels():
        for w in W[:probe]:
            C = X * w  # this unit's contributions, from its own pass over the data
            rbf_kernel_from_gram(C.T @ C, beta=beta)

    per_unit = best_time(per_unit_kernels, 1) / probe * units
    one_gram_kernels = gram + best_time(
        lambda: [edge_kernel(G, w, beta=beta) for w in W], 1, warm_up=False
    )
    per_pass_total = per_unit + (whole - one_gram_kernels)

    print(f"{'what':<64} {'seconds':>8} {'ratio':>7}  target")
    print(f"{f'{units} eigendecompositions of 784 x 784 (the floor)':<64} {floor:8.2f} {1.0:7.2f}")
    print(
        f"{'DPP edge pruning: Gram, kernels, eigh, samples, reweighting':<64} {whole:8.2f} "
        f"{whole / floor:7.2f}  <= 1.5 (vs the floor)"
    )
    print(f"{'  of which: input Gram matrix (one pass over the data)':<64} {gram:8.2f}")
    print(f"{'  kernels, eigendecompositions and samples':<64} {masks:8.2f}")
    print(f"{'  reweighting (one Cholesky solve per unit)':<64} {reweight:8.2f}")
    print(
        f"{f'kernels from one pass per unit (timed on {probe}, x {units / probe:.0f})':<64} "
        f"{per_unit:8.2f} {per_unit / one_gram_kernels:7.1f}  (vs the one-Gram kernels)"
    )
    print(
        f"{'whole pruning with one pass per unit (estimate)':<64} {per_pass_total:8.2f} "
        f"{per_pass_total / whole:7.1f}  >= 50 (vs DPP edge pruning)"
    )


if __name__ == "__main__":
    main()
