"""Verdicts with intervals: the statistics, and the paper's claims decided on paired differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

from divnet_nb.experiments.claims import check_claims
from divnet_nb.verdicts import (
    bootstrap_interval,
    combine,
    decide,
    mean_std,
    t_interval,
)


def test_spreads_use_ddof_1_like_matlab():
    values = [[0.1, 0.5], [0.3, 0.5], [0.2, 0.8]]
    mean, std = mean_std(values)
    np.testing.assert_allclose(std, np.std(values, axis=0, ddof=1))
    assert std[0] == pytest.approx(0.1)  # MATLAB: std([0.1 0.3 0.2]) = 0.1
    assert np.isnan(mean_std([[0.4, 0.2]])[1]).all()  # one network: undefined, not 0


def test_t_interval_is_scipys_one_sample_interval():
    d = np.array([-0.03, -0.05, -0.01, -0.04, -0.02])
    mean, low, high = t_interval(d)
    ci = scipy.stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert (mean, low, high) == pytest.approx((d.mean(), ci.low, ci.high))
    assert t_interval([0.2, 0.2, 0.2]) == (pytest.approx(0.2),) * 3  # no spread: a point
    assert t_interval([0.1]) == (0.1, -math.inf, math.inf)  # one network: nothing is known


@pytest.mark.parametrize(
    ("low", "high", "claim", "verdict"),
    [
        (-0.3, -0.1, "<0", "holds"),
        (0.0, 0.0, "<0", "does not hold"),  # equal is no win
        (0.0, 0.0, "<=0", "holds"),
        (0.1, 0.2, "<=0", "does not hold"),
        (-0.1, 0.2, "<0", "not resolved"),
        (0.1, 0.3, ">0", "holds"),
        (-0.2, -0.1, ">0", "does not hold"),
        (-math.inf, math.inf, ">0", "not resolved"),
    ],
)
def test_decide(low, high, claim, verdict):
    assert decide(low, high, claim) == verdict


def test_combine_every_size():
    assert combine(["holds", "holds"]) == "holds"
    assert combine(["holds", "not resolved"]) == "not resolved"
    assert combine(["not resolved", "does not hold", "holds"]) == "does not hold"
    assert combine([]) == "not resolved"


def test_bootstrap_is_seeded_and_refuses_too_few_networks():
    rng = np.random.default_rng(0)
    a, b = rng.random(5) * 0.01, rng.random(5)
    stat = lambda x, y: np.std(x, ddof=1) - np.std(y, ddof=1)  # noqa: E731
    first = bootstrap_interval(stat, (a, b))
    assert first == bootstrap_interval(stat, (a, b)) and first[2] < 0  # clearly less spread
    assert bootstrap_interval(stat, (a[:2], b[:2]))[1:] == (-math.inf, math.inf)


def sweeps(dpp, random, fused, n_layers=2, sizes=(5, 20, 50, 80), layer_size=100):
    """A layer sweep whose variants' errors are given (networks x sizes), on each layer."""
    errors = {
        "dpp": dpp,
        "random": random,
        "dpp+fuse": fused,
        "random+fuse": fused + 0.01,
        "importance": random,
        "importance+fuse": fused,
    }
    sweep = {"sizes": list(sizes), "layer_size": layer_size, "test_error": {
        k: np.asarray(v).tolist() for k, v in errors.items()}}  # fmt: skip
    return {"sweeps": {str(layer): sweep for layer in range(n_layers)}}


def by_claim(claims, start):
    return next(c for c in claims if c["claim"].startswith(start))


def test_a_claim_holds_fails_or_is_not_resolved_as_the_paired_data_say():
    rng = np.random.default_rng(1)
    base = rng.random((5, 4)) * 0.5 + 0.3
    noise = rng.normal(0, 0.05, (5, 4))
    fused = np.full((5, 4), 0.05)
    clear = check_claims(sweeps(base - 0.2, base, fused))
    fig2 = by_claim(clear, "k-DPP pruning beats random")
    assert fig2["verdict"] == "holds" and fig2["holds"] is True
    assert all(p["tests"][0]["interval"][1] < 0 for p in fig2["per_size"])
    reverse = by_claim(check_claims(sweeps(base + 0.2, base, fused)), "k-DPP pruning beats random")
    assert reverse["verdict"] == "does not hold" and reverse["failed_sizes"] == [5, 20, 50, 80]
    noisy = by_claim(check_claims(sweeps(base + noise, base, fused)), "k-DPP pruning beats random")
    assert noisy["verdict"] == "not resolved with 5 networks" and noisy["holds"] is None
    # the same means, but the differences are not paired consistently: the mean alone would say
    # "holds"; the paired interval does not
    wobbly = base - 0.01 + rng.normal(0, 0.2, (5, 4))
    decided = by_claim(check_claims(sweeps(wobbly, base, fused)), "k-DPP pruning beats random")
    assert decided["verdict"] != "holds"


def test_a_claim_without_sizes_to_check_says_so():
    claims = check_claims(sweeps(*(np.full((3, 2), 0.5),) * 3, sizes=(60, 80)))
    fig5 = by_claim(claims, "importance pruning falls behind DivNet")
    assert fig5["verdict"] == "not checked" and fig5["holds"] is None
    assert "no swept size keeps <= 25 %" in fig5["detail"]["not checked"]


def test_claims_need_their_variants_and_layers():
    one_layer = sweeps(*(np.full((3, 4), 0.5),) * 3, n_layers=1)
    gap = by_claim(check_claims(one_layer), "the gap between DivNet")
    assert gap["verdict"] == "not checked"
    del one_layer["sweeps"]["0"]["test_error"]["dpp"]
    fig3 = by_claim(check_claims(one_layer), "fusion lowers the error")
    assert fig3["verdict"] == "not checked" and "dpp" in fig3["detail"]["not checked"]


def test_a_family_of_paired_rows_gets_holms_verdicts():
    from divnet_nb.verdicts import holm, holm_family, paired_row

    rows = [
        paired_row([-0.02, -0.021, -0.019], name="clear"),
        paired_row([0.01, -0.01, 0.0], name="noise"),
    ]
    assert rows[0]["name"] == "clear" and rows[0]["uncorrected"] == "holds"
    holm_family(rows)
    assert [r["p_holm"] for r in rows] == list(holm([r["p"] for r in rows]))
    assert [r["verdict"] for r in rows] == ["holds", "not resolved"]
    assert holm_family([]) == []
