"""Online SGD of a teacher-student pair: the jitted run against a per-sample PyTorch loop, one run.

Setting of the theory notebook: N = 500 inputs, a teacher with M = 2 units (v* = 4), a
student with K = 6, eta = 0.5, both layers trained, one fresh Gaussian input per step.

1. :func:`divnet_nb.theory.online_sgd` over P = 800,000 steps (alpha = 1600): target
   <= 10 s on 2 cores.
2. The same update written as a per-sample PyTorch loop (autograd off, the update by
   hand, inputs drawn by torch one at a time as a per-sample loop does), over 20,000
   steps, against ``online_sgd`` over the same 20,000 steps: target >= 20x.

Run: ``python benchmarks/bench_online.py [--quick]`` (also part of ``make bench``).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
from _timing import best_time  # benchmarks/ is on sys.path when run as a script

from divnet_nb.theory import online_sgd


def torch_loop(W, v, W_star, v_star, steps: int, eta: float = 0.5, seed: int = 0) -> None:
    """The per-sample reference: the same SGD update, one torch input at a time."""
    gen = torch.Generator().manual_seed(seed)
    W, v = torch.from_numpy(W.copy()), torch.from_numpy(v.copy())
    Ws, vs = torch.from_numpy(W_star), torch.from_numpy(v_star)
    N = W.shape[1]
    sq = math.sqrt(N)
    with torch.no_grad():
        for _ in range(steps):
            x = torch.randn(N, generator=gen, dtype=torch.float64)
            lam = W @ x / sq
            nu = Ws @ x / sq
            g = torch.erf(lam / math.sqrt(2))
            delta = v @ g - vs @ torch.erf(nu / math.sqrt(2))
            gprime = math.sqrt(2 / math.pi) * torch.exp(-lam * lam / 2)
            W -= (eta / sq) * (v * gprime * delta)[:, None] * x[None, :]
            v -= (eta / N) * g * delta


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="80,000 steps instead of 800,000")
    args = parser.parse_args()
    torch.set_num_threads(1)
    N, M, K = 500, 2, 6
    rng = np.random.default_rng(0)
    W_star = rng.standard_normal((M, N))
    v_star = np.full(M, 4.0)
    W = rng.standard_normal((K, N)) * 1e-3
    v = rng.standard_normal(K) * 1e-3
    P = 80_000 if args.quick else 800_000
    short = 20_000
    t_full = best_time(lambda: online_sgd(W, v, W_star, v_star, steps=P, rng=1), 1)
    t_ours = best_time(lambda: online_sgd(W, v, W_star, v_star, steps=short, rng=1), 3)
    t_torch = best_time(lambda: torch_loop(W, v, W_star, v_star, short), 1)
    print(f"online SGD, N = {N}, M = {M}, K = {K}, eta = 0.5, both layers trained")
    print(f"{'what':<52} {'seconds':>8} {'ratio':>7}  target")
    print(f"{f'online_sgd, {P:,} steps':<52} {t_full:8.2f} {'':>7}  <= 10 s for 800,000")
    print(f"{f'online_sgd, {short:,} steps':<52} {t_ours:8.3f} {1.0:7.2f}")
    print(
        f"{f'per-sample PyTorch loop, {short:,} steps':<52} {t_torch:8.3f} "
        f"{t_torch / t_ours:7.1f}  >= 20 (vs online_sgd)"
    )


if __name__ == "__main__":
    main()
