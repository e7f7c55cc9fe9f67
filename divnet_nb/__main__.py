"""``python -m divnet_nb``: DivNet's three steps on one small synthetic layer, printed."""

from __future__ import annotations

import numpy as np

from . import eigendecompose, expected_size, fuse, rbf_kernel, sample_kdpp, scaling_factor


def main() -> None:
    rng = np.random.default_rng(0)
    # 2000 inputs, 60 sigmoid neurons driven by 8 latent factors: many neurons are redundant
    Z = rng.standard_normal((2000, 8))
    A = 1.0 / (1.0 + np.exp(-(Z @ rng.standard_normal((8, 60)))))
    W = rng.standard_normal((60, 10))
    k = 12
    L = rbf_kernel(A)
    eig = eigendecompose(L)
    gamma = scaling_factor(eig.values, k)
    keep = sample_kdpp(eig.scaled(gamma), k, rng)
    W_new = fuse(A, keep, W)
    before = A @ W
    err_fused = np.linalg.norm(A[:, keep] @ W_new - before) / np.linalg.norm(before)
    err_cut = np.linalg.norm(A[:, keep] @ W[keep] - before) / np.linalg.norm(before)
    print(f"layer: {A.shape[1]} neurons, activations over {A.shape[0]} inputs")
    print(
        f"RBF kernel (eq. 2): beta = 10/{A.shape[0]}, eps = 0.01, expected DPP size {expected_size(eig):.2f}"
    )
    print(
        f"scaled by gamma = {gamma:.4f} (paper's formula) to expected size {expected_size(eig.scaled(gamma)):.2f}"
    )
    print(f"k-DPP sample of {k} neurons: {keep.tolist()}")
    print(
        f"next-layer input error after removing {60 - k} neurons: {err_cut:.3f} without fusion, {err_fused:.3f} with eqs. 3-4"
    )


if __name__ == "__main__":
    main()
