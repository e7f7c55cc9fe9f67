"""CNN benchmark: reading a conv site's statistics against one forward pass up to that site.

A conv site's statistics (the C x C Gram matrix over every sample and position of the map
its consumer reads, and the column sums) are streamed batch by batch; the (N H W) x C
matrix is never stored. Target: reading them costs at most 2x one forward pass over the
same data up to the site (the part of the network the statistics need), in the same run.

For each site of LeNet-5-Caffe (untrained: the cost does not depend on the weights) over
60000 MNIST-shaped inputs, and of the CIFAR-10 network over 10000 CIFAR-shaped inputs, prints
the forward pass alone, the statistics in float64 (the default, for exact fusion) and in
float32 products, each with its ratio to the forward pass.

Run: ``make bench`` or ``python benchmarks/bench_cnn.py``; ``--quick`` uses fewer inputs.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from _timing import best_time  # benchmarks/ is on sys.path when run as a script

from divnet_nb.nets import find_sites, get_architecture
from divnet_nb.prune import layer_statistics

TARGET = 2.0


def forward_only(model, site, X, batch_size=8192) -> None:
    part = site.feature_map(model)
    with torch.no_grad():
        for s in range(0, X.shape[0], batch_size):
            part(X[s : s + batch_size])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 inputs instead of 60000/10000")
    args = parser.parse_args()
    print(
        f"divnet-nb CNN statistics benchmark: torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    worst = 0.0
    for name, n in (("lenet5-caffe", 60000), ("cifar10-cnn", 10000)):
        n = 2000 if args.quick else n
        arch = get_architecture(name)
        model = arch.build(0).eval()
        X = torch.from_numpy(
            np.random.default_rng(0).random((n, *arch.input_shape), dtype=np.float32)
        )
        print(f"\n{name}, {n} inputs of shape {arch.input_shape}")
        for site in find_sites(model):
            forward = best_time(lambda m=model, site=site, X=X: forward_only(m, site, X), 3)
            exact = best_time(lambda m=model, site=site, X=X: layer_statistics(m, site, X), 3)
            fast = best_time(
                lambda m=model, site=site, X=X: layer_statistics(m, site, X, dtype=None), 3
            )
            kind = type(site).__name__
            worst = max(worst, exact / forward)
            print(
                f"  site {site.layer} ({kind}, {site.width(model)} units): forward {forward:7.3f} s, "
                f"statistics float64 {exact:7.3f} s ({exact / forward:4.2f}x), "
                f"float32 products {fast:7.3f} s ({fast / forward:4.2f}x)"
            )
    verdict = "met" if worst <= TARGET else "NOT met"
    print(
        f"\nworst ratio of the float64 statistics to the forward pass: {worst:.2f}x (target {TARGET}x: {verdict})"
    )


if __name__ == "__main__":
    main()
