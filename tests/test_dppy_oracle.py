"""Oracle tests against DPPy, the reference DPP library (installed with the ``bench`` extra).

Only where DPPy is known to be right: moderate kernels, where its plain
elementary-symmetric-polynomial recursion does not overflow. (Where it does, e.g. the
N = 784, rank-392 kernels of its issues #61/#70/#80, tests/test_sample.py checks ours
against exact marginals instead.)
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import pytest
from conftest import random_psd
from scipy import stats

import divnet_nb as dn

if os.environ.get("CI"):  # make test installs DPPy: in CI its absence is a failure, not a skip
    import dppy  # noqa: F401
else:
    dppy = pytest.importorskip(
        "dppy", reason="DPPy comes with the bench extra: pip install -e .[bench]"
    )
from dppy.exact_sampling import elementary_symmetric_polynomials  # noqa: E402
from dppy.finite_dpps import FiniteDPP  # noqa: E402


def test_marginal_kernel_matches_dppy(rng):
    L = random_psd(rng, 12, scale=2.0)
    dpp = FiniteDPP("likelihood", L=L)
    dpp.compute_K()
    np.testing.assert_allclose(dn.marginal_kernel(L), dpp.K, atol=1e-10)


def test_elementary_symmetric_polynomials_match_dppy(rng):
    values = rng.random(60) * 2
    theirs = elementary_symmetric_polynomials(values, 20)[:, -1]
    np.testing.assert_allclose(np.exp(dn.log_elementary_symmetric(values, 20)), theirs, rtol=1e-10)


@pytest.mark.parametrize("k", [2, 4])
def test_kdpp_samples_have_dppys_distribution(rng, k):
    """Two-sample chi-square: our k-DPP samples and DPPy's come from the same distribution."""
    L = random_psd(rng, 7)
    n_draws = 6000
    eig = dn.eigendecompose(L)
    gen = np.random.default_rng(40 + k)
    ours = Counter(tuple(dn.sample_kdpp(eig, k, gen).tolist()) for _ in range(n_draws))
    dpp = FiniteDPP("likelihood", L=L)
    state = np.random.RandomState(41 + k)
    theirs = Counter(
        tuple(sorted(dpp.sample_exact_k_dpp(size=k, random_state=state))) for _ in range(n_draws)
    )
    cells = sorted(set(ours) | set(theirs))
    table = np.array([[ours.get(c, 0) for c in cells], [theirs.get(c, 0) for c in cells]])
    table = table[:, table.sum(0) >= 10]  # pool-free: drop cells too rare for the test
    assert stats.chi2_contingency(table).pvalue > 1e-3
