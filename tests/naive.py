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


# ---------------------------------------------------------------- the other kernels over neurons
def _columns(A):
    A = np.asarray(A, dtype=np.float64)
    return A, [A[:, i] for i in range(A.shape[1])]


def linear_kernel(A, eps=0.01):
    """L_ij = <v_i, v_j> / |T|, plus eps times the mean of the diagonal on the diagonal."""
    A, v = _columns(A)
    n_samples, n = A.shape
    L = np.array([[float(np.dot(v[i], v[j])) / n_samples for j in range(n)] for i in range(n)])
    mean_diag = sum(L[i, i] for i in range(n)) / n
    for i in range(n):
        L[i, i] += eps * (mean_diag if mean_diag > 0 else 1.0)
    return L


def cosine_kernel(A, eps=0.01):
    """L_ij = cos(v_i, v_j) + eps delta_ij; a neuron that is never active is orthogonal to all."""
    A, v = _columns(A)
    n = A.shape[1]
    norms = [math.sqrt(float(np.dot(x, x))) for x in v]
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if norms[i] > 0 and norms[j] > 0:
                L[i, j] = float(np.dot(v[i], v[j])) / (norms[i] * norms[j])
        L[i, i] = (1.0 if norms[i] > 0 else 0.0) + eps
    return L


def standardised_rbf_kernel(A, beta=None, eps=0.01):
    """The RBF kernel of z_i = (v_i - mean) / std (population std); a constant neuron's z is 0."""
    A, v = _columns(A)
    n_samples, n = A.shape
    z = []
    for x in v:
        mean = sum(x) / n_samples
        var = sum((t - mean) ** 2 for t in x) / n_samples
        live = var > 1e-10 * float(np.dot(x, x)) / n_samples
        z.append((x - mean) / math.sqrt(var) if live else np.zeros(n_samples))
    return rbf_kernel(np.column_stack(z), 10.0 / n_samples if beta is None else beta, eps)


def median_rbf_kernel(A, eps=0.01):
    """The RBF kernel with beta = 1 / median of the positive squared distances between neurons."""
    A, v = _columns(A)
    n = A.shape[1]
    d2 = [float(np.dot(v[i] - v[j], v[i] - v[j])) for i in range(n) for j in range(i + 1, n)]
    positive = [d for d in d2 if d > 0]  # exact differences: a duplicate is at distance 0
    return rbf_kernel(A, 1.0 / float(np.median(positive)), eps)


def quality_diversity_kernel(A, W, eps=0.01):
    """q_i (corr_ij + eps delta_ij) q_j with q_i = ||w_i|| std_i (population std)."""
    A, v = _columns(A)
    n_samples, n = A.shape
    centred = [x - sum(x) / n_samples for x in v]
    std = [math.sqrt(float(np.dot(c, c)) / n_samples) for c in centred]
    q = [math.sqrt(float(np.dot(W[i], W[i]))) * std[i] for i in range(n)]
    L = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            corr = float(np.dot(centred[i], centred[j])) / (n_samples * std[i] * std[j])
            L[i, j] = q[i] * (corr + (eps if i == j else 0.0)) * q[j]
    return L


def learned_family(A, W, factor, exponent, eps=0.01):
    """q_i^a exp(-(c/|T|) ||v_i - v_j||^2) q_j^a + eps delta_ij, q_i = ||w_i|| rms_i / max."""
    A, v = _columns(A)
    n_samples, n = A.shape
    q = [
        math.sqrt(float(np.dot(W[i], W[i])) * float(np.dot(x, x)) / n_samples)
        for i, x in enumerate(v)
    ]
    q = [x / max(q) for x in q]
    K = rbf_kernel(A, factor / n_samples, 0.0)
    return np.array(
        [[q[i] ** exponent * K[i, j] * q[j] ** exponent + (eps if i == j else 0.0)
          for j in range(n)] for i in range(n)]
    )  # fmt: skip


def held_out_fusion_error(A_fit, A_held, W, keep):
    """Fusion fitted by lstsq on A_fit (one removed neuron at a time), error on A_held."""
    A_fit, A_held = np.asarray(A_fit, dtype=np.float64), np.asarray(A_held, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    keep = list(keep)
    W_new = fuse(A_fit, keep, W)
    return float(np.sum((A_held @ W - A_held[:, keep] @ W_new) ** 2))


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


# ---------------------------------------------------------------- teacher-student ODEs
def ode_rhs(Q, R, T, v, v_star, eta, sigma, train_v):
    """(dQ, dR, dv) / dalpha of Saad & Solla / Goldt et al., one integral and one sum at a time.

    Fields 0..K-1 are the student's lambda_i, K..K+M-1 the teacher's nu_n; C is their
    covariance. Each integral is the closed form for g(u) = erf(u / sqrt 2), written out.
    """
    Q, R, T = (np.asarray(x, dtype=np.float64) for x in (Q, R, T))
    v, v_star = np.asarray(v, dtype=np.float64), np.asarray(v_star, dtype=np.float64)
    K, M = R.shape
    C = np.block([[Q, R], [R.T, T]])

    def i2(a, b):
        return 2 / math.pi * math.asin(C[a, b] / math.sqrt((1 + C[a, a]) * (1 + C[b, b])))

    def i3(a, b, c):
        L3 = (1 + C[a, a]) * (1 + C[c, c]) - C[a, c] ** 2
        num = C[b, c] * (1 + C[a, a]) - C[a, b] * C[a, c]
        return 2 / math.pi / math.sqrt(L3) * num / (1 + C[a, a])

    def i4(a, b, c, d):
        L4 = (1 + C[a, a]) * (1 + C[b, b]) - C[a, b] ** 2
        L0 = (
            L4 * C[c, d]
            - C[b, c] * C[b, d] * (1 + C[a, a])
            - C[a, c] * C[a, d] * (1 + C[b, b])
            + C[a, b] * C[a, c] * C[b, d]
            + C[a, b] * C[a, d] * C[b, c]
        )

        def L(e):
            return (
                L4 * (1 + C[e, e])
                - C[b, e] ** 2 * (1 + C[a, a])
                - C[a, e] ** 2 * (1 + C[b, b])
                + 2 * C[a, b] * C[a, e] * C[b, e]
            )

        ratio = max(-1.0, min(1.0, L0 / math.sqrt(L(c) * L(d))))
        return 4 / math.pi**2 / math.sqrt(L4) * math.asin(ratio)

    def j2(a, b):
        return 2 / math.pi / math.sqrt(1 + C[a, a] + C[b, b] + C[a, a] * C[b, b] - C[a, b] ** 2)

    students, teachers = range(K), [K + n for n in range(M)]

    def bracket(i, b):  # sum_m v*_m I3(i, b, m) - sum_j v_j I3(i, b, j)
        return sum(v_star[m] * i3(i, b, K + m) for m in range(M)) - sum(
            v[j] * i3(i, b, j) for j in students
        )

    dR = np.zeros((K, M))
    for i in students:
        for n in range(M):
            dR[i, n] = eta * v[i] * bracket(i, teachers[n])
    dQ = np.zeros((K, K))
    for i in students:
        for k in students:
            tt = sum(
                v_star[n] * v_star[m] * i4(i, k, K + n, K + m) for n in range(M) for m in range(M)
            )
            st = sum(v[j] * v_star[n] * i4(i, k, j, K + n) for j in students for n in range(M))
            ss = sum(v[j] * v[l] * i4(i, k, j, l) for j in students for l in students)
            dQ[i, k] = (
                eta * v[i] * bracket(i, k)
                + eta * v[k] * bracket(k, i)
                + eta**2 * v[i] * v[k] * (tt - 2 * st + ss + sigma**2 * j2(i, k))
            )
    dv = np.zeros(K)
    if train_v:
        for i in students:
            dv[i] = eta * (
                sum(v_star[n] * i2(i, K + n) for n in range(M))
                - sum(v[j] * i2(i, j) for j in students)
            )
    return dQ, dR, dv


# ---------------------------------------------------------------- the greedy mode, in order
def greedy_map_order(L, k):
    """greedy_map's picks in the order made, and each one's gain det(L_{S+i}) / det(L_S)."""
    L = np.asarray(L, dtype=np.float64)
    chosen, gains = [], []
    for _ in range(k):
        rest = [i for i in range(L.shape[0]) if i not in chosen]
        dets = [det_sub(L, chosen + [i]) for i in rest]
        best = int(np.argmax(dets))
        gains.append(dets[best] / det_sub(L, chosen))
        chosen.append(rest[best])
    return chosen, np.array(gains)
