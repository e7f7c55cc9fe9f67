"""Core benchmarks: ratios against baselines measured in the same run.

Absolute times on shared machines drift by tens of percent from one minute to
the next; ratios between two things timed back to back are much steadier. Each
figure is the minimum over repeats.

1. ``rbf_kernel(A)`` over the BLAS floor ``A.T @ A`` on the same activations.
2. ``fuse(A, keep, W)`` over the same floor.
3. One 500-neuron layer, all of DivNet's numerical work (Gram once, kernel,
   eigendecomposition, scaling, k-DPP sample, fusion) over Gram + ``eigh``.
4. ``sample_kdpp`` against DPPy's ``sample_exact_k_dpp``, with the
   eigendecomposition counted (a new kernel every time) and without (repeated
   samples from one kernel).
5. The selection rules on the fusion objective E(S): greedy paths for every size,
   and swaps at the sweep's sizes, over the layer's Gram matrix.
6. Every kernel over neurons of :mod:`divnet_nb.core.kernels` built from the activations
   (statistics in one pass, then the kernel), over one Gram matrix ``A.T @ A`` (target
   <= 1.3). The learned kernel's fit is measured against training in bench_pipeline.py.

Run: ``make bench`` (or ``python benchmarks/bench_core.py [--quick]``).
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import scipy.linalg
from _timing import best_time  # benchmarks/ is on sys.path when run as a script

import divnet_nb as dn


def activations(n_samples: int, n: int, dtype, seed: int = 0) -> np.ndarray:
    """Sigmoid activations with low-rank structure, like a trained layer's."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, 40)).astype(dtype)
    pre = Z @ rng.standard_normal((40, n)).astype(dtype) * dtype(0.5)
    return (1.0 / (1.0 + np.exp(-pre))).astype(dtype)


def machine() -> str:
    import numpy

    cfg = numpy.show_config(mode="dicts") if hasattr(numpy, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}).get("name", "?") if cfg else "?"
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, numpy {numpy.__version__} ({blas})"


def bench_kernel_and_fuse(shapes, repeats):
    print("\n== 1-2. kernel and fusion over the Gram floor (A.T @ A) ==")
    print(
        f"{'activations':>18} {'dtype':>8} {'floor s':>9} {'kernel/floor':>13} {'fuse/floor':>11}"
    )
    rows = []
    for n_samples, n in shapes:
        for dtype in (np.float32, np.float64):
            A = activations(n_samples, n, dtype)
            W = np.random.default_rng(1).standard_normal((n, 500)).astype(dtype)
            keep = np.sort(np.random.default_rng(2).choice(n, n // 10, replace=False))
            floor = best_time(lambda A=A: A.T @ A, repeats)
            t_kernel = best_time(lambda A=A: dn.rbf_kernel(A), repeats)
            t_fuse = best_time(lambda A=A, W=W, keep=keep: dn.fuse(A, keep, W), repeats)
            rows.append((n_samples, n, dtype, floor, t_kernel / floor, t_fuse / floor))
            print(
                f"{n_samples:>8} x {n:<7} {np.dtype(dtype).name:>8} {floor:9.3f} "
                f"{t_kernel / floor:13.2f} {t_fuse / floor:11.2f}"
            )
    return rows


def divnet_layer(A, W, k, rng):
    acc = dn.GramAccumulator().update(A)
    eig = dn.eigendecompose(acc.kernel())
    gamma = dn.scaling_factor(eig.values, k)
    keep = dn.sample_kdpp(eig.scaled(gamma), k, rng)
    return dn.fuse_from_gram(acc, keep, W)


def bench_layer(n_samples, repeats):
    print(
        "\n== 3. one 500-neuron layer: Gram + kernel + eigh + k-DPP + fusion, over Gram + eigh =="
    )
    print(f"{'dtype':>8} {'k':>5} {'floor s':>9} {'divnet s':>9} {'ratio':>7}")
    for dtype in (np.float32, np.float64):
        A = activations(n_samples, 500, dtype)
        W = np.random.default_rng(1).standard_normal((500, 500)).astype(dtype)
        L = dn.rbf_kernel(A)

        def floor(A=A, L=L):
            A.T @ A
            scipy.linalg.eigh(L, driver="evd")

        t_floor = best_time(floor, repeats)
        for k in (50, 250):
            t = best_time(
                lambda A=A, W=W, k=k: divnet_layer(A, W, k, np.random.default_rng(0)), repeats
            )
            print(f"{np.dtype(dtype).name:>8} {k:>5} {t_floor:9.3f} {t:9.3f} {t / t_floor:7.2f}")


def bench_sampling(repeats, n_repeated):
    try:
        from dppy.finite_dpps import FiniteDPP
    except ImportError:
        print("\n== 4. k-DPP sampling vs DPPy: skipped (pip install -e .[bench]) ==")
        return
    import dppy

    print(
        f"\n== 4. sample_kdpp vs DPPy {getattr(dppy, '__version__', '0.3.x')} sample_exact_k_dpp (mode GS) =="
    )
    print(
        f"{'N':>6} {'k':>5} {'with eig: dppy s':>17} {'ours s':>8} {'speed-up':>9}"
        f" {'repeated: dppy ms':>19} {'ours ms':>8} {'speed-up':>9}"
    )
    for n in (500, 1000):
        L = dn.rbf_kernel(activations(5000, n, np.float64, seed=n))
        for k in (50, 100):
            state = np.random.RandomState(0)

            def dppy_fresh(L=L, k=k, state=state):
                FiniteDPP("likelihood", L=L).sample_exact_k_dpp(size=k, random_state=state)

            def ours_fresh(L=L, k=k):
                dn.sample_kdpp(L, k, 0)

            t_dppy = best_time(dppy_fresh, repeats)
            t_ours = best_time(ours_fresh, repeats)
            dpp = FiniteDPP("likelihood", L=L)
            dpp.sample_exact_k_dpp(size=k, random_state=state)  # eigendecomposition cached inside
            eig = dn.eigendecompose(L)
            gen = np.random.default_rng(0)

            def dppy_many(dpp=dpp, k=k, state=state):
                for _ in range(n_repeated):
                    dpp.sample_exact_k_dpp(size=k, random_state=state)

            def ours_many(eig=eig, k=k, gen=gen):
                for _ in range(n_repeated):
                    dn.sample_kdpp(eig, k, gen)

            r_dppy = best_time(dppy_many, max(1, repeats // 2)) / n_repeated
            r_ours = best_time(ours_many, max(1, repeats // 2)) / n_repeated
            print(
                f"{n:>6} {k:>5} {t_dppy:17.3f} {t_ours:8.3f} {t_dppy / t_ours:8.1f}x"
                f" {1e3 * r_dppy:19.2f} {1e3 * r_ours:8.2f} {r_dppy / r_ours:8.1f}x"
            )


def bench_selection(n_samples, repeats):
    """5. The selection rules on E(S): every size at once, and swaps, over the layer's Gram matrix."""
    from divnet_nb.core.objective import backward_path, forward_path, fusion_error, swap_search

    print(
        f"\n== 5. selection on E(S), 500 neurons, 500 outputs, over the Gram matrix of "
        f"{n_samples} x 500 (float32 activations, float64 products) =="
    )
    A = activations(n_samples, 500, np.float32)
    W = np.random.default_rng(1).standard_normal((500, 500))
    acc = dn.GramAccumulator()
    floor = best_time(lambda: dn.GramAccumulator().update(A.astype(np.float64)), repeats)
    G = acc.update(A.astype(np.float64)).gram
    t_paths = best_time(lambda: (forward_path(G, W), backward_path(G, W)), repeats)
    f, b = forward_path(G, W), backward_path(G, W)
    sizes = sorted(
        {
            min(499, max(1, round(x * 500)))
            for x in (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
        }
    )
    starts = [
        np.sort(f[0][:k])
        if f[1][k] <= b[1][500 - k]
        else np.setdiff1d(np.arange(500), b[0][: 500 - k])
        for k in sizes
    ]
    swaps = []
    t_swap = best_time(lambda: swaps.append([swap_search(G, W, s)[2] for s in starts]), 1)
    gain = [1 - swap_search(G, W, s)[1] / fusion_error(G, W, s) for s in starts]
    print(f"{'what':<58} {'seconds':>8} {'/ Gram':>7}  target")
    print(f"{'Gram matrix (the floor)':<58} {floor:8.3f} {1.0:7.2f}")
    print(
        f"{'greedy-ls: forward and backward paths, every size':<58} {t_paths:8.3f} {t_paths / floor:7.2f}  <= 1"
    )
    print(
        f"{f'swaps from greedy-ls at the {len(sizes)} sweep sizes ({sum(swaps[-1])} exchanges)':<58} "
        f"{t_swap:8.3f} {t_swap / floor:7.2f}  <= 3"
    )
    print(
        f"  E lowered by the swaps: up to {100 * max(gain):.1f} % (median {100 * np.median(gain):.2f} %)"
    )


def bench_kernels(shapes, repeats):
    """6. Every kernel from the activations (one statistics pass + the kernel) over A.T @ A.

    The floor, the statistics pass and each kernel from the statistics are timed in turn,
    ``repeats`` rounds, and each ratio is the median over rounds of (statistics + kernel) /
    floor within the round: on a loaded machine a round's three timings see the same load.
    """
    import time

    names = [name for name in dn.kernel_names() if "held_out" not in dn.get_kernel(name).needs]
    print("\n== 6. every kernel over neurons: (statistics + kernel) / Gram matrix A.T @ A ==")
    print(f"{'activations':>18} {'floor s':>9} " + " ".join(f"{n:>16}" for n in names) + "  target")
    for n_samples, n in shapes:
        A = activations(n_samples, n, np.float64)
        W = np.random.default_rng(1).standard_normal((n, 500))
        stats = dn.GramAccumulator().update(A)
        for name in names:  # warm up: compile, page in
            dn.neuron_kernel(name, stats, **({"weights": W} if name == "qd" else {}))
        rounds = {name: [] for name in names}
        floors = []
        for _ in range(repeats):
            for name in names:
                extra = {"weights": W} if "weights" in dn.get_kernel(name).needs else {}
                t0 = time.perf_counter()
                A.T @ A
                t1 = time.perf_counter()
                acc = dn.GramAccumulator().update(A)
                dn.neuron_kernel(name, acc, **extra)
                t2 = time.perf_counter()
                floors.append(t1 - t0)
                rounds[name].append((t2 - t1) / (t1 - t0))
        ratios = [float(np.median(rounds[name])) for name in names]
        print(
            f"{n_samples:>8} x {n:<7} {min(floors):9.3f} "
            + " ".join(f"{r:16.2f}" for r in ratios)
            + "  <= 1.3"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller shapes and fewer repeats (a smoke run)"
    )
    args = parser.parse_args()
    print(f"divnet-nb {dn.__version__} core benchmark on {machine()}")
    if args.quick:
        bench_kernel_and_fuse([(6000, 500)], repeats=2)
        bench_layer(6000, repeats=2)
        bench_sampling(repeats=2, n_repeated=5)
        bench_selection(6000, repeats=2)
        bench_kernels([(6000, 500)], repeats=3)
    else:
        bench_kernel_and_fuse([(60000, 500), (50000, 1000)], repeats=5)
        bench_layer(60000, repeats=5)
        bench_sampling(repeats=5, n_repeated=20)
        bench_selection(60000, repeats=3)
        bench_kernels([(60000, 500), (50000, 1000)], repeats=5)


if __name__ == "__main__":
    main()
