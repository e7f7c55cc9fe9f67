"""Slow, obvious twins of the core's fast code, written straight from the equations.

Each function here favours being evidently right over being fast: double loops,
one ``np.linalg.lstsq`` per removed neuron, DPPs by enumerating all 2^N subsets.
The tests check that the package's fast code agrees with them.
"""

from __future__ import annotations

import itertools
import math

import numpy as np


# ---------------------------------------------------------------- eq. 2
def gram(A):
    A = np.asarray(A, dtype=np.float64)
    n = A.shape[1]
    G = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            G[i, j] = float(np.dot(A[:, i], A[:, j]))
    return G


def rbf_kernel(A, beta=None, eps=0.01):
    """L'_ij = exp(-beta ||v_i - v_j||^2) + eps * delta_ij, one pair at a time."""
    A = np.asarray(A, dtype=np.float64)
    n_samples, n = A.shape
    if beta is None:
        beta = 10.0 / n_samples
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            diff = A[:, i] - A[:, j]
            L[i, j] = math.exp(-beta * float(np.dot(diff, diff)))
        L[i, i] += eps
    return L


# ---------------------------------------------------------------- eq. 1 by enumeration
def subsets(n):
    for size in range(n + 1):
        yield from itertools.combinations(range(n), size)


def det_sub(L, Y):
    if len(Y) == 0:
        return 1.0
    return float(np.linalg.det(L[np.ix_(Y, Y)]))


def dpp_probabilities(L, k=None):
    """{subset: probability} for the DPP (k=None) or k-DPP with kernel L, by enumeration."""
    L = np.asarray(L, dtype=np.float64)
    n = L.shape[0]
    sets = [Y for Y in subsets(n) if k is None or len(Y) == k]
    weights = np.array([max(det_sub(L, Y), 0.0) for Y in sets])
    total = weights.sum()
    if k is None:
        assert np.isclose(total, np.linalg.det(L + np.eye(n)))
    return dict(zip(sets, weights / total, strict=True))


def inclusion(probs, n):
    """Singleton and pair inclusion probabilities from a {subset: probability} table."""
    p1 = np.zeros(n)
    p2 = np.zeros((n, n))
    for Y, p in probs.items():
        for i in Y:
            p1[i] += p
            for j in Y:
                p2[i, j] += p
    return p1, p2


def expected_size(L):
    L = np.asarray(L, dtype=np.float64)
    return float(np.trace(L @ np.linalg.inv(np.eye(L.shape[0]) + L)))


def elementary_symmetric(values, k):
    """e_l for l = 0..k by summing products over all subsets (tiny inputs only)."""
    out = []
    for l in range(k + 1):
        out.append(
            sum(
                math.prod(values[i] for i in J)
                for J in itertools.combinations(range(len(values)), l)
            )
        )
    return np.array(out, dtype=np.float64)


def greedy_map(L, k):
    """Greedy det maximisation, recomputing every determinant from scratch."""
    L = np.asarray(L, dtype=np.float64)
    chosen = []
    for _ in range(k):
        rest = [i for i in range(L.shape[0]) if i not in chosen]
        dets = [det_sub(L, chosen + [i]) for i in rest]
        chosen.append(rest[int(np.argmax(dets))])
    return np.sort(np.array(chosen))


def log_likelihood(L, S):
    L = np.asarray(L, dtype=np.float64)
    return math.log(det_sub(L, list(S))) - math.log(np.linalg.det(L + np.eye(L.shape[0])))


# ---------------------------------------------------------------- eqs. 3-4
def fuse(A, keep, W, b=None, intercept=False):
    """One lstsq per removed neuron (eq. 3), then the weight update of eq. 4."""
    A = np.asarray(A, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    keep = list(keep)
    removed = [r for r in range(A.shape[1]) if r not in keep]
    X = A[:, keep]
    if intercept:
        X = np.hstack([X, np.ones((A.shape[0], 1))])
    W_new = W[keep].copy()
    b_new = None if b is None else np.asarray(b, dtype=np.float64).copy()
    for r in removed:
        alpha, *_ = np.linalg.lstsq(X, A[:, r], rcond=None)
        for pos in range(len(keep)):
            W_new[pos] += alpha[pos] * W[r]
        if intercept:
            b_new += alpha[-1] * W[r]
    return W_new if b is None else (W_new, b_new)


# ---------------------------------------------------------------- MNIST_ROT
def rotate(image, angle):
    """Rotate a grey image counterclockwise by ``angle`` radians about its centre, pixel by pixel.

    Output pixel (r, c) shows the source at the point rotated back by ``angle``
    (rows point down), read by bilinear interpolation with zeros outside the image.
    """
    image = np.asarray(image, dtype=np.float64)
    h, w = image.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    cos, sin = math.cos(angle), math.sin(angle)

    def pixel(r, c):
        return image[r, c] if 0 <= r < h and 0 <= c < w else 0.0

    out = np.zeros((h, w))
    for r in range(h):
        for c in range(w):
            dy, dx = r - cy, c - cx
            sr, sc = cos * dy + sin * dx + cy, cos * dx - sin * dy + cx
            r0, c0 = math.floor(sr), math.floor(sc)
            fr, fc = sr - r0, sc - c0
            top = pixel(r0, c0) * (1 - fc) + pixel(r0, c0 + 1) * fc
            bottom = pixel(r0 + 1, c0) * (1 - fc) + pixel(r0 + 1, c0 + 1) * fc
            out[r, c] = top * (1 - fr) + bottom * fr
    return out


# ---------------------------------------------------------------- the fusion objective E(S)
def fusion_error(A, W, keep):
    """||(A - P_S A) W||_F^2 by one lstsq: the next layer's input change after fusion."""
    A, W = np.asarray(A, dtype=np.float64), np.asarray(W, dtype=np.float64)
    keep = list(keep)
    Z = A @ W
    if not keep:
        return float(np.sum(Z**2))
    coef = np.linalg.lstsq(A[:, keep], Z, rcond=None)[0]
    return float(np.sum((Z - A[:, keep] @ coef) ** 2))


def greedy_forward(A, W, k):
    """Add, k times, the neuron whose addition lowers E(S) most (E recomputed from scratch)."""
    chosen = []
    for _ in range(k):
        rest = [j for j in range(A.shape[1]) if j not in chosen]
        chosen.append(min(rest, key=lambda j: fusion_error(A, W, chosen + [j])))
    return chosen


def greedy_backward(A, W, k):
    """Remove, n - k times, the neuron whose removal raises E(S) least (E from scratch)."""
    kept = list(range(A.shape[1]))
    while len(kept) > k:
        kept.remove(min(kept, key=lambda i: fusion_error(A, W, [j for j in kept if j != i])))
    return sorted(kept)
