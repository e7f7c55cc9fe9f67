"""Pruned students: masks and rules, exact masked errors against sampling and a closed form, sweeps, claims."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from test_teacher_student import related_pair, specialised_pruned_error

from divnet_nb.theory import (
    PrunedSweep,
    average_error,
    edge_masks,
    generalization_error,
    mask_errors,
    matched_edges,
    measured_error,
    node_kernel,
    node_masks,
    order_parameters,
    parameter_matched_sweep,
    prune,
    pruned_error,
    state_claims,
)
from divnet_nb.theory.claims import CLAIMS, Claim, _welch
from divnet_nb.theory.pruned import EDGE_RULES, NODE_RULES


@pytest.fixture
def pair():
    """Teacher (2 units) and a related student (3 units) at N = 50."""
    W_star, v_star, W, v = related_pair(np.random.default_rng(4), 50)
    return W, v, W_star, v_star


# ---- exact masked errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    "how", ["node", "edge", "node and edge", "node fused"]
)  # one pruned student each
def test_the_exact_masked_error_agrees_with_sampling(pair, how):
    W, v, W_star, v_star = pair
    rng = np.random.default_rng(11)
    kw = {"X": rng.standard_normal((400, W.shape[1]))}
    if "node" in how:
        kw["node_mask"] = np.array([True, False, True])
    if "edge" in how:
        kw["edge_mask"] = rng.random(W.shape) < 0.6
    kw["fuse"] = "fused" in how
    exact = pruned_error(W, v, W_star, v_star, **kw)
    estimate, se = measured_error(W, v, W_star, v_star, n_test=200_000, rng=rng, **kw)
    assert abs(estimate - exact) <= 3 * se, (estimate, exact, se)
    assert exact > generalization_error(*order_parameters(W, W_star), v, v_star)  # pruning costs


def test_removing_a_copy_and_fusing_it_loses_nothing(pair):
    W, v, W_star, v_star = pair
    W = np.vstack([W, W[0]])  # unit 3 copies unit 0: fusion moves v_3 onto v_0
    v = np.append(v, 0.7)
    v[0] -= 0.7  # the same function as the 3-unit student
    keep = np.array([True, True, True, False])
    Wp, vp = prune(W, v, node_mask=keep, fuse=True, rng=0)
    assert vp == pytest.approx([v[0] + 0.7, v[1], v[2]], abs=1e-8)
    full = generalization_error(*order_parameters(W, W_star), v, v_star)
    assert pruned_error(W, v, W_star, v_star, node_mask=keep, fuse=True, rng=0) == pytest.approx(
        full, abs=1e-8
    )
    assert pruned_error(W, v, W_star, v_star, node_mask=keep) > full + 0.01  # without fusion


def test_many_masks_at_once_are_each_mask_scored_alone(pair):
    W, v, W_star, v_star = pair
    for kind, rule, size, fuse in [
        ("node", "random", 2, False),
        ("node", "random", 1, True),
        ("edge", "random", 20, False),
    ]:
        got = mask_errors(W, v, W_star, v_star, kind, rule, size, n_masks=30, fuse=fuse, rng=3)
        rng = np.random.default_rng(3)  # replay: the P inputs (fusion only), then the masks
        X = rng.standard_normal((1000, W.shape[1])) if fuse else None
        if kind == "node":
            masks = node_masks(W, v, size, rule, n_masks=30, rng=rng)
            want = [pruned_error(W, v, W_star, v_star, node_mask=m, fuse=fuse, X=X) for m in masks]
        else:
            masks = edge_masks(W, size, rule, n_masks=30, rng=rng)
            want = [pruned_error(W, v, W_star, v_star, edge_mask=m) for m in masks]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    mean, se = average_error(W, v, W_star, v_star, "edge", "random", 20, n_masks=30, rng=3)
    assert mean == pytest.approx(np.mean(got)) and se == pytest.approx(
        np.std(got, ddof=1) / math.sqrt(30)
    )
    assert average_error(W, v, W_star, v_star, "node", "importance", 2)[1] == 0.0  # deterministic


def test_the_measured_average_agrees_with_the_exact_average(pair):
    W, v, W_star, v_star = pair
    exact = mask_errors(W, v, W_star, v_star, "edge", "random", 25, n_masks=40, rng=8)
    measured = mask_errors(
        W, v, W_star, v_star, "edge", "random", 25, n_masks=40, how="measured", n_test=20_000, rng=8
    )  # the same seed: the same masks, each measured on its own fresh inputs
    diff = measured - exact
    assert abs(diff.mean()) <= 3 * diff.std(ddof=1) / math.sqrt(diff.size)


@pytest.mark.parametrize("c_kept", [100, 250, 400])
def test_bernoulli_edges_on_the_specialised_student_match_the_closed_form(c_kept):
    """Mean eps_g over Bernoulli masks of K/M exact copies of each teacher unit, v = v*/(K/M).

    The closed form evaluates eps_g at the masks' *mean* order parameters (Q_ii = c,
    Q_ik = c^2 for copies, R_in = c, T = I). The teacher is orthonormalised (T = I
    exactly, every cross-teacher overlap 0 on average), so the only gap is Jensen's: the
    masked overlaps fluctuate with variance ~ 3 c (1 - c) / N, giving a bias of order
    1 / N (measured: (1-2) / N at N = 100, 500, 2000 for c = 0.2-0.8). Tolerance:
    3 standard errors + 4 / N. (With a plain Gaussian teacher, T - I = O(1 / sqrt N)
    enters at first order: -0.05 at N = 500, c = 0.2.)
    """
    N, M, K, v_star = 500, 2, 6, 4.0
    q, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((N, M)))
    W_star = q.T * math.sqrt(N)
    W, v = np.repeat(W_star, K // M, axis=0), np.full(K, v_star / (K // M))
    errors = mask_errors(
        W, v, W_star, np.full(M, v_star), "edge", "random-bernoulli", c_kept, n_masks=4000, rng=2
    )
    want = specialised_pruned_error(c_kept / N, M, K, v_star)
    se = errors.std(ddof=1) / math.sqrt(errors.size)
    assert abs(errors.mean() - want) <= 3 * se + 4 / N, (errors.mean(), want, se)


# ---- masks -------------------------------------------------------------------------------


def test_every_rule_keeps_exactly_its_count(pair):
    W, v, W_star, v_star = pair
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, W.shape[1]))
    for rule, k in itertools.product(NODE_RULES, [1, 2, 3]):
        masks = node_masks(W, v, k, rule, n_masks=20, X=X, rng=rng)
        assert masks.shape == (20, 3) and masks.dtype == bool
        assert (masks.sum(axis=1) == k).all(), rule
    for rule in EDGE_RULES:
        masks = edge_masks(W, 17, rule, n_masks=20, X=X, rng=rng)
        assert masks.shape == (20, 3, 50) and masks.dtype == bool
        if rule != "random-bernoulli":
            assert (masks.sum(axis=2) == 17).all(), rule
    counts = edge_masks(W, 17, "random-bernoulli", n_masks=400, rng=rng).sum(axis=2)
    sd = math.sqrt(50 * 0.34 * 0.66 / counts.size)  # binomial(50, 17/50) per unit
    assert abs(counts.mean() - 17) <= 4 * sd and counts.std() > 0


def test_importance_and_magnitude_keep_the_largest():
    v = np.array([0.1, -3.0, 2.0, 0.5])
    W = np.array([[0.2, -5.0, 1.0, 0.0], [3.0, 0.1, -0.2, 2.0], [1.0, 1.0, 1.0, 1.0], [0, 0, 0, 1]])
    assert node_masks(W, v, 2, "importance")[0].tolist() == [False, True, True, False]
    got = edge_masks(W, 2, "magnitude")[0]
    assert got.tolist() == [
        [False, True, True, False],
        [True, False, False, True],
        [True, True, False, False],  # ties go to the lower index
        [True, False, False, True],
    ]


def test_the_edge_dpp_is_the_cores_edge_dpp(pair):
    from divnet_nb.core.edges import dpp_edge_masks

    W = pair[0]
    X = np.random.default_rng(1).standard_normal((80, W.shape[1]))
    want = dpp_edge_masks(X.T @ X, W, [12], 5, n_samples=80)[12]
    assert np.array_equal(edge_masks(W, 12, "dpp", X=X, rng=5)[0], want)


def kdpp_pair_probabilities(L, k):
    """Exact k-DPP probability of every k-subset, by enumeration."""
    subsets = list(itertools.combinations(range(L.shape[0]), k))
    dets = np.array([np.linalg.det(L[np.ix_(s, s)]) for s in subsets])
    return subsets, dets / dets.sum()


@pytest.mark.parametrize("rule, kernel", [("dpp-linear", "linear"), ("dpp-rbf", "rbf")])
def test_a_node_dpp_rarely_keeps_two_identical_units(rule, kernel):
    rng = np.random.default_rng(6)
    W = rng.standard_normal((4, 20))
    W[1] = W[0]
    v = np.ones(4)
    X = rng.standard_normal((200, 20))
    subsets, probs = kdpp_pair_probabilities(node_kernel(W, X, kernel), 2)
    n = 3000
    masks = node_masks(W, v, 2, rule, n_masks=n, X=X, rng=7)
    counts = {s: int(np.all(masks[:, list(s)], axis=1).sum()) for s in subsets}
    both = probs[subsets.index((0, 1))]
    assert both < (1e-5 if kernel == "linear" else 0.01)  # the linear kernel's ridge: ~1e-6
    for s, p in zip(subsets, probs, strict=True):  # each pair's frequency within 4 SE
        assert abs(counts[s] / n - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1 / n, (s, counts[s], p)


# ---- parameter matching, sweeps and claims ----------------------------------------------


def test_parameter_matching_arithmetic():
    # N = 500, K = 6: (501 k - 6) / 6 = 82.5, 166, 249.5, 333, 416.5
    assert [matched_edges(500, 6, k) for k in range(1, 6)] == [82, 166, 249, 333, 416]
    assert [matched_edges(500, 6, k, "nearest") for k in range(1, 6)] == [83, 166, 250, 333, 417]
    assert [matched_edges(500, 6, k, "ceil") for k in range(1, 6)] == [83, 166, 250, 333, 417]
    assert matched_edges(500, 6, 6) == 500  # nothing pruned
    assert matched_edges(5, 6, 1) == 1  # (5 + 1 - 6) / 6 = 0, clipped to 1
    for N, K, k in itertools.product([7, 50, 500], [2, 6, 20], range(1, 6)):
        if k <= K and (e := matched_edges(N, K, k)) > 1:
            assert K * e + K <= N * k + k < K * (e + 1) + K  # floor: never more parameters


def test_a_sweep_has_every_rule_at_every_size_and_is_reproducible(pair):
    W, v, W_star, v_star = pair
    W, v = np.vstack([W, W[:1] + 0.1]), np.append(v, 0.5)  # K = 4
    kw = dict(n_masks=40, n_dpp_edge_masks=4, fuse=True, n_inputs=200)
    sweep = parameter_matched_sweep(W, v, W_star, v_star, rng=9, **kw)
    assert sweep.sizes.tolist() == [1, 2, 3] and sweep.edges.tolist() == [
        matched_edges(50, 4, k) for k in (1, 2, 3)
    ]
    labels = [f"node {r}" for r in NODE_RULES] + [f"node {r}+fuse" for r in NODE_RULES]
    assert set(sweep.labels) == set(labels + [f"edge {r}" for r in EDGE_RULES])
    assert [len(sweep.errors["node random"][0]), len(sweep.errors["edge dpp"][2])] == [40, 4]
    assert len(sweep.errors["edge magnitude"][0]) == 1
    assert (sweep.mean("node random") > sweep.unpruned).all()
    assert "node dpp-linear" in sweep.table() and len(state_claims(sweep)) == len(CLAIMS)
    again = parameter_matched_sweep(W, v, W_star, v_star, rng=9, **kw)
    for lab in sweep.labels:
        for a, b in zip(sweep.errors[lab], again.errors[lab], strict=True):
            assert np.array_equal(a, b), lab


def synthetic_sweep(errors: dict, seed=0) -> PrunedSweep:
    rng = np.random.default_rng(seed)
    drawn = {
        lab: [rng.normal(m, 0.2, 1 if lab.endswith("importance") else 300) for m in means]
        for lab, means in errors.items()
    }
    return PrunedSweep(10, 3, 1, np.array([1, 2]), np.array([2, 6]), drawn, 0.0, 10, "floor")


def test_claims_hold_fail_or_stay_open_as_the_data_say():
    sweep = synthetic_sweep(
        {
            "node random": [2.0, 1.0],
            "node dpp-linear": [1.0, 1.0],
            "edge random": [1.5, 0.5],
        }
    )
    verdicts = {c.claim.name: c for c in state_claims(sweep)}
    assert set(verdicts) == {"1", "2"}  # claims on missing rules are skipped
    assert [r.verdict for r in verdicts["1"].rows] == ["holds", "not resolved"]
    assert verdicts["1"].verdict == "not resolved"
    assert [r.verdict for r in verdicts["2"].rows] == ["does not hold", "holds"]
    assert verdicts["2"].verdict == "does not hold" and "claim 2" in str(verdicts["2"])
    clear = Claim("win", "node dpp-linear", "node random", "DPP wins")
    clean = synthetic_sweep({"node random": [2.0, 2.0], "node dpp-linear": [1.0, 1.0]})
    assert state_claims(clean, [clear])[0].verdict == "holds"


def test_the_interval_is_welchs_and_students_are_paired():
    a, b = synthetic_sweep({"x": [1.0, 1.0]}).errors["x"][0], np.linspace(0.5, 1.6, 40)
    diff, low, high = _welch([a], [b], 0.95)
    want = scipy.stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (diff, low, high) == pytest.approx((a.mean() - b.mean(), want.low, want.high))
    assert _welch([np.array([2.0])], [np.array([1.0])], 0.95) == (1.0, 1.0, 1.0)  # deterministic
    students = [
        synthetic_sweep({"node random": [2.0, 1.0], "node dpp-linear": [1.0, 1.0]}, seed=s)
        for s in range(3)
    ]
    pooled = state_claims(students)[0]
    paired = state_claims(students, across="students")[0]
    assert pooled.rows[0].verdict == paired.rows[0].verdict == "holds"
    per_student = [s.mean("node dpp-linear")[0] - s.mean("node random")[0] for s in students]
    d, s = np.mean(per_student), np.std(per_student, ddof=1) / math.sqrt(3)
    half = scipy.stats.t.ppf(0.975, 2) * s
    row = paired.rows[0]
    assert (row.difference, row.low, row.high) == pytest.approx((d, d - half, d + half))


# ---- bad input and seeds ----------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda W, v, Ws, vs: node_masks(W, v, 0, "random"), "k must satisfy 1 <= k <= K"),
        (lambda W, v, Ws, vs: node_masks(W, v, 4, "random"), "k must satisfy 1 <= k <= K"),
        (lambda W, v, Ws, vs: node_masks(W, v, 2, "dpp"), "rule must be one of"),
        (lambda W, v, Ws, vs: edge_masks(W, 51, "random"), "e must satisfy 1 <= e <= N"),
        (lambda W, v, Ws, vs: edge_masks(W, 5, "importance"), "rule must be one of"),
        (lambda W, v, Ws, vs: node_masks(W, v[:2], 1, "random"), "v must have one entry"),
        (lambda W, v, Ws, vs: pruned_error(W, v, Ws, vs, node_mask=[1, 0, 1]), "node_mask must"),
        (lambda W, v, Ws, vs: pruned_error(W, v, Ws, vs, node_mask=np.zeros(3, bool)), "at least"),
        (lambda W, v, Ws, vs: pruned_error(W, v, Ws, vs, edge_mask=np.ones((3, 5), bool)), "shape"),
        (lambda W, v, Ws, vs: pruned_error(W * np.nan, v, Ws, vs), "W contains"),
        (lambda W, v, Ws, vs: pruned_error(W, v, Ws[:, :40], vs), "same input dimension"),
        (lambda W, v, Ws, vs: pruned_error(W, v, Ws, vs[:1]), "v_star must have one entry"),
        (lambda W, v, Ws, vs: prune(W, v, fuse=True), "fuse=True needs a node_mask"),
        (lambda W, v, Ws, vs: mask_errors(W, v, Ws, vs, "unit", "random", 1), "kind must be"),
        (lambda W, v, Ws, vs: mask_errors(W, v, Ws, vs, "node", "random", 1, how="x"), "how must"),
        (lambda W, v, Ws, vs: mask_errors(W, v, Ws, vs, "edge", "random", 1, fuse=True), "fuse"),
        (lambda W, v, Ws, vs: measured_error(W, v, Ws, vs, X=np.ones((5, 4))), "X must have N"),
        (lambda W, v, Ws, vs: matched_edges(500, 6, 2, "up"), "rounding must be"),
        (lambda W, v, Ws, vs: matched_edges(500, 6, 7), "k must satisfy"),
        (lambda W, v, Ws, vs: node_kernel(W, np.ones((5, 50)), "cosine"), "kernel must be"),
        (lambda W, v, Ws, vs: parameter_matched_sweep(W, v, Ws, vs, sizes=[0]), "k must satisfy"),
        (lambda W, v, Ws, vs: state_claims([]), "sweeps must be"),
    ],
)
def test_bad_input_is_one_clear_error(pair, call, message):
    with pytest.raises(ValueError, match=message):
        call(*pair)


def test_claims_reject_mismatched_sweeps_and_missing_rules():
    a = synthetic_sweep({"node random": [1.0, 1.0], "node dpp-linear": [1.0, 1.0]})
    b = PrunedSweep(11, 3, 1, a.sizes, a.edges, a.errors, 0.0, 10, "floor")
    with pytest.raises(ValueError, match="must share N, K"):
        state_claims([a, b])
    with pytest.raises(ValueError, match="lacks|lack"):
        state_claims(a, [CLAIMS[2]])
    with pytest.raises(ValueError, match="across must be"):
        state_claims(a, across="networks")


@pytest.mark.parametrize(
    "kind, rule", [("node", "dpp-linear"), ("node", "dpp-rbf"), ("edge", "dpp")]
)
def test_a_seed_gives_the_same_masks(pair, kind, rule):
    W, v, W_star, v_star = pair
    size = 2 if kind == "node" else 10
    runs = [
        mask_errors(W, v, W_star, v_star, kind, rule, size, n_masks=5, n_inputs=100, rng=12)
        for _ in range(2)
    ]
    assert np.array_equal(*runs)
    other = mask_errors(W, v, W_star, v_star, kind, rule, size, n_masks=5, n_inputs=100, rng=13)
    assert not np.array_equal(runs[0], other)
