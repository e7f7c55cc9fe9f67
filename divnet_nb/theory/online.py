r"""Online SGD of a soft-committee student on a teacher (Saad & Solla's scaling).

One fresh Gaussian input per step. With lambda_k = w_k . x / sqrt N,
y_hat = sum_k v_k g(lambda_k), y = sum_n v*_n g(nu_n) + sigma xi and Delta = y_hat - y:

    w_k <- w_k - (eta / sqrt N) v_k g'(lambda_k) Delta x,
    v_k <- v_k - (eta / N) g(lambda_k) Delta          (when the second layer is trained),

g(u) = erf(u / sqrt 2), g'(u) = sqrt(2 / pi) exp(-u^2 / 2). Time is alpha = steps / N.

The inputs and the label noise are drawn with numpy, outside the jitted kernel, in blocks
of :data:`BLOCK` steps, so a seed gives the same run with the JIT on or off; the kernel
only does arithmetic. Drawing costs more than the arithmetic (benchmarks/bench_online.py),
so it is spread over two threads and overlapped with the kernel (which releases the GIL):
the first half of each block's rows comes from one child generator of ``rng`` and the
second half from another (:meth:`numpy.random.Generator.spawn`), the noise from a third,
each in a fixed order, so the run does not depend on thread timing. Blocks are fixed
stretches of steps, cut where a record falls only for the arithmetic, so the number of
records does not change the run. An interrupted run is cheap to rerun (seconds at
N = 500), so runs are not resumable.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..core._config import jit
from ..core._validate import as_count, as_float_array, as_positive_real, as_rng
from .teacher_student import generalization_error, order_parameters, weight_pair

__all__ = ["LearningCurve", "online_sgd"]

#: Steps whose inputs are drawn at once (a block of BLOCK x N float64 numbers).
BLOCK = 4096

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_SQRT_2 = math.sqrt(2.0)


@jit
def _sgd_block(W, v, W_star, v_star, X, noise, eta, train_v):  # pragma: no cover - jitted
    """Online SGD over the rows of X, in place on W (K x N) and v (K,)."""
    K, N = W.shape
    M = W_star.shape[0]
    sqrt_n = math.sqrt(N)
    lam = np.empty(K)
    for t in range(X.shape[0]):
        x = X[t]
        y = noise[t]
        for n in range(M):
            s = 0.0
            for a in range(N):
                s += W_star[n, a] * x[a]
            y += v_star[n] * math.erf(s / sqrt_n / _SQRT_2)
        y_hat = 0.0
        for k in range(K):
            s = 0.0
            for a in range(N):
                s += W[k, a] * x[a]
            lam[k] = s / sqrt_n
            y_hat += v[k] * math.erf(lam[k] / _SQRT_2)
        delta = y_hat - y
        for k in range(K):
            gprime = _SQRT_2_OVER_PI * math.exp(-0.5 * lam[k] * lam[k])
            step = eta / sqrt_n * v[k] * gprime * delta
            for a in range(N):
                W[k, a] -= step * x[a]
        if train_v:
            for k in range(K):
                v[k] -= eta / N * math.erf(lam[k] / _SQRT_2) * delta


@dataclass
class LearningCurve:
    """A run: ``alpha`` (steps / N) at each record, Q, R, v and eps_g there, the teacher's T, final weights."""

    alpha: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    T: np.ndarray
    v: np.ndarray
    error: np.ndarray
    W: np.ndarray
    v_final: np.ndarray


def online_sgd(
    W, v, W_star, v_star, *, eta=0.5, steps=800_000, sigma=0.0, train_v=True, records=100, rng=None
) -> LearningCurve:
    """Train the student (W, v) on the teacher (W_star, v_star) by online SGD; inputs are not modified.

    Returns a :class:`LearningCurve` with ``records`` + 1 evenly spaced records (the start
    included) of the order parameters, v and the exact eps_g (noise-free; add sigma^2 / 2
    for the test error on noisy labels).
    """
    W, W_star = weight_pair(W, W_star)  # W is a copy: the run trains it in place
    v = np.array(as_float_array(v, "v", 1), dtype=np.float64)
    v_star = np.ascontiguousarray(as_float_array(v_star, "v_star", 1), dtype=np.float64)
    if v.size != W.shape[0] or v_star.size != W_star.shape[0]:
        raise ValueError("v must have one entry per row of W, and v_star one per row of W_star")
    eta = as_positive_real(eta, "eta")
    sigma = as_positive_real(sigma, "sigma", allow_zero=True)
    steps = as_count(steps, "steps", minimum=1)
    records = as_count(records, "records", minimum=1)
    rng = as_rng(rng)
    N = W.shape[1]
    marks = np.unique(np.linspace(0, steps, records + 1).round().astype(np.int64))
    alpha, Qs, Rs, vs, errors = [], [], [], [], []

    def record(step):
        Q, R, T = order_parameters(W, W_star)
        alpha.append(step / N)
        Qs.append(Q), Rs.append(R), vs.append(v.copy())
        errors.append(generalization_error(Q, R, T, v, v_star))

    record(0)
    draw_a, draw_b, draw_noise = rng.spawn(3)
    buffers = (np.empty((BLOCK, N)), np.empty((BLOCK, N)))
    noise_buffer = np.zeros(BLOCK)
    n_blocks = -(-steps // BLOCK)

    def fill(j):
        """Draw block j (steps j BLOCK ... (j + 1) BLOCK - 1): the same numbers whatever the records."""
        n = min(BLOCK, steps - j * BLOCK)
        buffer, half = buffers[j % 2], n // 2
        return n, (pool.submit(draw_a.standard_normal, out=buffer[:half]),
                   pool.submit(draw_b.standard_normal, out=buffer[half:n]))  # fmt: skip

    with ThreadPoolExecutor(max_workers=2) as pool:
        following = fill(0)
        for j in range(n_blocks):
            n, pending = following
            for job in pending:
                job.result()
            if j + 1 < n_blocks:  # the next block is drawn while this one is used
                following = fill(j + 1)
            X, noise = buffers[j % 2][:n], noise_buffer[:n]
            if sigma > 0:
                draw_noise.standard_normal(out=noise)
                noise *= sigma
            first, lo = j * BLOCK, 0
            for mark in marks[(marks > first) & (marks <= first + n)]:
                cut = int(mark) - first
                _sgd_block(W, v, W_star, v_star, X[lo:cut], noise[lo:cut], eta, bool(train_v))
                record(int(mark))
                lo = cut
            if lo < n:
                _sgd_block(W, v, W_star, v_star, X[lo:n], noise[lo:n], eta, bool(train_v))
    return LearningCurve(
        np.asarray(alpha), np.asarray(Qs), np.asarray(Rs), W_star @ W_star.T / N, np.asarray(vs),
        np.asarray(errors), W, v,
    )  # fmt: skip
