"""Reproduction regression: the MNIST reproduction against reference/mnist.json, and the README's tables.

``make test`` reruns network 0 of the full-mode MNIST reproduction (every figure and Table
2, on all 60,000 images) and checks every Table 2 cell and every sweep point against the
reference's network 0: exactly but for round-off where the numbers are deterministic, and
within the spread between draws of the k-DPP samples where they are not. Where network 0
trains differently (another kind of machine), three networks are compared with the
statistical tolerance of :mod:`divnet_nb.experiments.reference`. A deliberately broken
fusion must fail the same checks.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from conftest import require_data

import divnet_nb.pruning.apply
from divnet_nb.cli import main
from divnet_nb.experiments import Experiment, settings_for, variants
from divnet_nb.experiments.reference import (
    ABS_TOL,
    compare,
    load_reference,
    reference_path,
)
from divnet_nb.report import readme


def fake_results(shift=0.0, spread=0.01, n=5, seed=0):
    rng = np.random.default_rng(seed)
    base = np.array([0.9, 0.5, 0.05])
    rows = (base + shift + rng.normal(0, spread, (n, 3))).tolist()
    return {
        "table2": {"fractions": [0.1, 0.5, 1.0], "errors": {"dpp+fuse": {"test": rows}}},
        "sweeps": {"0": {"sizes": [5, 50, 100], "test_error": {"dpp": copy.deepcopy(rows)}}},
    }


def test_compare_accepts_noise_and_flags_a_shift():
    ref = fake_results(seed=1)
    mismatches, summary = compare(fake_results(seed=2), ref)
    assert not mismatches and summary["comparisons"] == 6 and 0 < summary["largest_ratio"] < 1
    shifted, _ = compare(fake_results(shift=0.05, seed=2), ref)
    assert len(shifted) == 6 and "Table 2, dpp+fuse, test, 10%" in str(shifted[0])
    exact = fake_results(spread=0.0)
    assert compare(exact, exact)[0] == []  # no spread: ABS_TOL still allows round-off
    nudged = copy.deepcopy(exact)
    for row in nudged["table2"]["errors"]["dpp+fuse"]["test"]:
        row[0] += 2 * ABS_TOL  # every network 0.6 points worse at 10 %: beyond the floor
    assert [m.where for m in compare(nudged, exact)[0]] == ["Table 2, dpp+fuse, test, 10%"]


def test_compare_reports_missing_cells():
    ref = fake_results()
    partial = fake_results()
    partial["table2"]["fractions"] = [0.1, 0.5]
    partial["table2"]["errors"]["dpp+fuse"]["test"] = [
        r[:2] for r in partial["table2"]["errors"]["dpp+fuse"]["test"]
    ]
    assert [m.where for m in compare(partial, ref)[0]] == [
        "Table 2, dpp+fuse, test, 100% (missing)"
    ]


@pytest.mark.parametrize("dataset", ["mnist", "mnist_rot", "cifar10"])
def test_the_references_are_committed_full_runs(dataset):
    ref = load_reference(dataset)
    assert ref["settings"]["fast"] is False and ref["settings"]["n_train"] is None
    assert len(ref["instances"]) == 5 and all(i["reached"] for i in ref["instances"])
    assert ref["environment"]["packages"]["torch"] and ref["environment"]["machine"]
    assert set(ref["table2"]["errors"]) >= {v.key for v in variants()}


def test_the_readme_tables_are_generated_from_the_references():
    text = (reference_path("mnist").parents[1] / "README.md").read_text()
    names = {m["name"] for m in readme.BLOCK.finditer(text)}
    assert names == {
        "mnist-table2", "datasets", "claims", "provenance", "leaderboard", "edges", "theory",
        "gates", "kernels", "sizes", "interleaved", "edge-bandwidths",
    }  # fmt: skip
    refs, boards, edges = readme.load_references(), readme.load_boards(), readme.load_edges()
    theory, gates, kernels = readme.load_theory(), readme.load_gates(), readme.load_kernels()
    assert set(boards) == set(refs) == {"mnist", "mnist_rot", "cifar10"}
    assert set(edges) == {"mnist"} and set(theory) == {"teacher-student-M2-K6"}
    assert set(gates) == {"mnist"} and set(kernels) == {"mnist", "mnist_rot", "cifar10"}
    rendered = readme.render(text, refs, boards, edges, theory, gates, kernels)
    assert rendered == text, "run make readme"
    for block in ("mnist-table2", "gates", "kernels", "sizes", "interleaved", "edge-bandwidths"):
        tampered = text.replace(
            f"<!-- reference:{block} -->\n", f"<!-- reference:{block} -->\nx", 1
        )
        assert readme.render(tampered, refs, boards, edges, theory, gates, kernels) != tampered


def test_the_readme_prose_says_what_the_references_show():
    """The hand-written sentences of README's "What we found", checked against the references."""
    from divnet_nb.verdicts import decide, t_interval

    refs = readme.load_references()
    beats = {}
    for ds, ref in refs.items():
        t2 = ref["table2"]
        test = {k: np.asarray(v["test"]) for k, v in t2["errors"].items()}
        for j, f in enumerate(t2["fractions"]):
            if f == 1:
                continue
            means = {k: v[:, j].mean() for k, v in test.items()}
            assert min(means, key=means.get) == "importance+fuse", (ds, f)
            mean, low, high = t_interval(test["importance+fuse"][:, j] - test["dpp+fuse"][:, j])
            beats[ds, f] = decide(low, high, "<0")
    holds = {key for key, v in beats.items() if v == "holds"}
    assert holds == {("mnist", 0.1), ("mnist", 0.25), ("mnist", 0.5), ("cifar10", 0.1)} | {
        ("mnist_rot", f) for f in (0.1, 0.25, 0.5, 0.75)
    }
    assert all(v.startswith("not resolved") for key, v in beats.items() if key not in holds)

    def verdict(ds, figure):
        return next(c["verdict"] for c in refs[ds]["claims"] if f"({figure})" in c["claim"])

    assert all(verdict(ds, "Fig. 5") == "holds" for ds in refs)
    assert [verdict(ds, "Fig. 3") == "holds" for ds in refs] == [False, True, True]
    assert [verdict(ds, "App. A") for ds in refs][:2] == ["does not hold"] * 2
    assert verdict("cifar10", "App. A").startswith("not resolved")


def test_the_readme_prose_on_edges_says_what_the_reference_shows():
    """The hand-written sentences of README's edge section, checked against reference/edges-mnist.json."""
    from divnet_nb.experiments.edges import edge_comparisons

    ref = readme.load_edges()["mnist"]
    assert ref["settings"]["fast"] is False and len(ref["unpruned_test_error"]) == 5
    fr = ref["fractions"]
    verdicts = {(c["a"], c["b"]): c for c in edge_comparisons(ref)}

    def per_fraction(a, b):
        return {r["fraction"]: r["verdict"] for r in verdicts[(a, b)]["rows"]}

    # far better than random edges at 10-80 %, not told apart at 90 %
    assert per_fraction("dpp", "random") == {f: "holds" for f in fr[:-1]} | {0.9: "not resolved"}
    # worse than magnitude everywhere; with reweighting wherever the networks tell
    assert set(per_fraction("dpp", "magnitude").values()) == {"does not hold"}
    rw = per_fraction("dpp+rw", "magnitude+rw")
    assert {v for v in rw.values() if v != "not resolved"} == {"does not hold"}
    # reweighting: every edge rule within 0.7 points from 30 % up; random edges > 20 off at 30 %
    unpruned = np.mean(ref["unpruned_test_error"])
    j30 = fr.index(0.3)
    for key in ("dpp+rw", "random+rw", "magnitude+rw"):
        assert np.all(np.mean(ref["test_error"][key], axis=0)[j30:] - unpruned <= 0.007), key
    assert np.mean(ref["test_error"]["random"], axis=0)[j30] - unpruned > 0.2
    # node pruning with fusion better at 10 and 20 % (swaps also at 30 %), not told apart from 40 %
    for node in ("node dpp", "node importance", "node swap"):
        got = per_fraction("dpp+rw", node)
        worse = {0.1, 0.2, 0.3} if node == "node swap" else {0.1, 0.2}
        assert {f for f, v in got.items() if v == "does not hold"} == worse, node
        assert all(got[f] == "not resolved" for f in fr if f >= 0.4), node
        assert verdicts[("dpp+rw", node)]["verdict"] == "does not hold"


def test_the_readme_prose_on_the_teacher_student_model_says_what_the_reference_shows():
    ref = readme.load_theory()["teacher-student-M2-K6"]
    st = ref["settings"]
    assert (st["N"], st["M"], st["K"], st["eta"], st["steps"]) == (500, 2, 6, 0.5, 800_000)
    claims = {(a, name): c for a, per in ref["claims"].items() for name, c in per.items()}

    def rows(across, name):
        return {r["k"]: r["verdict"] for r in claims[(across, name)]["rows"]}

    # claim 1 (linear kernel): across masks it holds at k = 2..5; across students at k = 2, 3
    assert rows("masks", "1") == {1: "not resolved"} | {k: "holds" for k in range(2, 6)}
    assert rows("students", "1") == {1: "not resolved", 2: "holds", 3: "holds"} | {
        k: "not resolved" for k in (4, 5)
    }
    for across in ("masks", "students"):
        assert claims[(across, "1")]["verdict"] == "not resolved"  # open at k = 1
        # the RBF kernel: smaller gains, resolved less often
        gain = {
            c: -np.array([r["difference"] for r in claims[(across, c)]["rows"]])
            for c in ("1", "1-rbf")
        }
        assert np.all(gain["1-rbf"][1:] < gain["1"][1:])
        assert sum(v == "holds" for v in rows(across, "1-rbf").values()) < 4
        # claim 2: random edges beat DPP nodes only at k = 1
        assert rows(across, "2") == {1: "holds"} | {k: "does not hold" for k in range(2, 6)}
        assert claims[(across, "2")]["verdict"] == "does not hold"
    pooled = {rule: np.array(v["mean"]) for rule, v in ref["pooled"].items()}
    others = [v for rule, v in pooled.items() if rule != "edge magnitude"]
    assert np.all(pooled["edge magnitude"] < np.min(others, axis=0))
    edge_rules = [r for r in pooled if r.startswith("edge") and r != "edge magnitude"]
    assert all(np.all(pooled["edge dpp"] <= pooled[r]) for r in edge_rules)
    assert 0 < ref["unpruned"] < 0.05  # a small error, not 0, at eta = 0.5


#: Edge regression, network 0 as in the reference (same unpruned error): the random,
#: magnitude and node rows must agree to 20 of 10,000 test images. These rows are
#: deterministic given the network; the allowance is for the last bits of another BLAS.
#: Provenance: one rerun on the reference's machine (commit 55b3362), identical rows.
EDGE_SAME_NETWORK_TOL = 0.002
#: ... and the DPP rows, whose samples another BLAS may change (not their distribution:
#: eigenvectors of nearly repeated eigenvalues rotate), within this many standard
#: deviations of the difference of two draws, sqrt(2) EDGE_DPP_SAMPLE_SD.
EDGE_SAME_NETWORK_DPP_SDS = 4
#: The spread of network 0's DPP rows between draws of its masks, at each fraction of
#: the reference. Provenance: 8 draws on network 0 (the experiment's own stream and 7
#: others; tests/reruns/edge_dpp_spread.py, one thread). The reference's spread between its
#: 5 networks is no substitute: at 70-80 % of the edges it is half the spread between draws
#: on one network (0.00054 and 0.00046 against 0.00106 and 0.00089), and a machine whose
#: BLAS rotated the eigenvectors failed a bound of 4 of those by 3 images at 80 %.
EDGE_DPP_SAMPLE_SD = {
    "dpp": [0.03944, 0.01434, 0.00608, 0.00252, 0.00382, 0.00118, 0.00106, 0.00089, 0.0006],
    "dpp+rw": [0.0005, 0.00047, 0.00035, 0.00035, 0.00044, 0.0003, 0.00031, 0.00028, 0.00018],
}
#: Network 0 trained differently here (another thread count or machine) is a new network:
#: every reweighted, magnitude and node row within this many standard deviations of the
#: reference's mean, widened for a new draw (x sqrt(1 + 1/5)), and at least
#: EDGE_NEW_NETWORK_FLOOR. Provenance: 5 leave-one-out reruns on the reference itself (each
#: network against the other 4, tests/test_reference.py::edge_check): the worst used 0.75
#: of this bound (commit 55b3362).
EDGE_NEW_NETWORK_SDS = 5
#: 30 of 10,000 test images (see EDGE_NEW_NETWORK_SDS).
EDGE_NEW_NETWORK_FLOOR = 0.003
#: A new network's plain DPP and random rows (heavy-tailed across networks) must keep the
#: order of the reference: random edges more than 50 images worse than DPP edges at every
#: fraction up to 50 %. Provenance: all 5 reference networks, the smallest gap 1.3 points.
EDGE_RANDOM_GAP = 0.005
#: The regression reruns the reference's fractions up to this one (10-50 % of the edges):
#: the claims, the gap above and the teeth of both bounds are there, while reweighting at
#: 60-90 %, whose k x k systems grow as k cubed, was about two thirds of the rerun's time.
#: The random, magnitude and node rows draw their sizes in increasing order, so a leading
#: run of fractions gives the reference's very draws; the DPP rows become a new draw, which
#: the bound of EDGE_SAME_NETWORK_DPP_SDS is for.
EDGE_RERUN_UPTO = 0.5


def leading_fractions(ref: dict, upto: float) -> dict:
    """An edge result cut to its fractions up to ``upto`` (a leading run of them)."""
    m = sum(f <= upto for f in ref["fractions"])
    assert ref["fractions"][:m] == [f for f in ref["fractions"] if f <= upto]
    return ref | {
        "fractions": ref["fractions"][:m],
        "test_error": {k: [row[:m] for row in v] for k, v in ref["test_error"].items()},
    }


def edge_check(got: dict, ref: dict) -> tuple[bool, list[str]]:
    """Network 0 of an edge run against ``ref`` (reference/edges-mnist.json): whether it is
    the reference's network 0, and every row outside its tolerance (above)."""
    from divnet_nb.experiments.edges import FRACTIONS

    same = got["unpruned_test_error"][0] == ref["unpruned_test_error"][0]
    n = len(ref["unpruned_test_error"])
    columns = [FRACTIONS.index(f) for f in ref["fractions"]]  # of EDGE_DPP_SAMPLE_SD
    failures = []
    for key, values in ref["test_error"].items():
        values = np.asarray(values)
        ours = np.asarray(got["test_error"][key][0])
        spread = np.std(values, axis=0, ddof=1)
        if same:
            target, tol = values[0], np.full(ours.shape, EDGE_SAME_NETWORK_TOL)
            if key in EDGE_DPP_SAMPLE_SD:
                draws = np.sqrt(2) * np.asarray(EDGE_DPP_SAMPLE_SD[key])[columns]
                tol = np.maximum(tol, EDGE_SAME_NETWORK_DPP_SDS * draws)
        elif key in ("dpp", "random"):  # heavy-tailed across networks: checked as a pair below
            continue
        else:
            target = values.mean(axis=0)
            tol = np.maximum(
                EDGE_NEW_NETWORK_FLOOR, EDGE_NEW_NETWORK_SDS * spread * np.sqrt(1 + 1 / n)
            )
        if not np.all(np.abs(ours - target) <= tol):
            failures.append(f"{key}: differences {ours - target} beyond {tol}")
    if not same:
        gap = np.subtract(got["test_error"]["random"][0], got["test_error"]["dpp"][0])
        small = [j for j, f in enumerate(ref["fractions"]) if f <= 0.5]
        if not np.all(gap[small] > EDGE_RANDOM_GAP):
            failures.append(f"random edges not worse than DPP edges up to 50 %: gaps {gap}")
    return same, failures


def _network(ref: dict, i: int) -> dict:
    """Network ``i`` of an edge reference, as a run of one network."""
    return {
        "unpruned_test_error": [ref["unpruned_test_error"][i]],
        "test_error": {k: [v[i]] for k, v in ref["test_error"].items()},
    }


def test_the_edge_check_passes_the_reference_networks_and_fails_random_edges_for_dpp():
    """Each reference network passes as network 0, and as a new network against the other
    four; the same network with its DPP rows replaced by its random rows (a DPP rule that
    samples edges uniformly) fails both ways: on every fraction, and on those the rerun
    below checks."""
    full = readme.load_edges()["mnist"]
    for ref in (full, leading_fractions(full, EDGE_RERUN_UPTO)):
        _edge_check_has_teeth(ref)


def _edge_check_has_teeth(ref: dict) -> None:
    n = len(ref["unpruned_test_error"])
    assert edge_check(_network(ref, 0), ref) == (True, [])
    for i in range(n):
        others = {
            "fractions": ref["fractions"],
            "unpruned_test_error": [e for j, e in enumerate(ref["unpruned_test_error"]) if j != i],
            "test_error": {
                k: [r for j, r in enumerate(v) if j != i] for k, v in ref["test_error"].items()
            },
        }
        assert edge_check(_network(ref, i), others) == (False, []), i
    for i in range(n):
        broken = _network(ref, i)
        broken["test_error"]["dpp"] = broken["test_error"]["random"]
        broken["test_error"]["dpp+rw"] = broken["test_error"]["random+rw"]
        same, failures = edge_check(broken, ref)
        assert failures and (i > 0 or same), i
        broken["unpruned_test_error"] = [0.5]  # the same numbers from a new network
        assert edge_check(broken, ref)[1], i


@pytest.mark.reproduction
@pytest.mark.xdist_group("mnist-networks")
def test_the_mnist_edge_experiment_matches_the_reference_on_its_first_network():
    """Network 0 of reference/edges-mnist.json, every variant at 10-50 % of the edges, run again.

    The reference was made with one BLAS and torch thread, and so is this run. When network
    0 comes out as in the reference (same unpruned error), random, magnitude and node rows
    must agree to 20 of 10,000 test images; DPP rows depend on eigenvectors of kernels with
    nearly repeated eigenvalues, which another BLAS may rotate, changing the samples but not
    their distribution: they must agree within 4 standard deviations of the difference of
    two draws on network 0 (measured over 8 draws). When network 0 was trained differently here (torch's training is not bitwise
    the same across thread counts and machines), it is a new network: every reweighted,
    magnitude and node row must lie within 5 standard deviations (at least 30 images) of
    the reference's mean (left-one-out on the reference, the worst network used 0.75 of
    that bound), and the plain DPP and random rows, heavy-tailed across networks, must keep
    the order every reference network shows: random edges more than 50 images worse up to
    50 % of the edges. Both checks fail a DPP rule replaced by random edges (39 and 54
    points worse at 10 and 20 % on network 0; the first bound is 22 and 8 points there;
    ``test_the_edge_check_passes_the_reference_networks_and_fails_random_edges_for_dpp``).
    """
    require_data("mnist")
    import threadpoolctl
    import torch

    from divnet_nb.experiments.edges import edge_experiment

    ref = leading_fractions(readme.load_edges()["mnist"], EDGE_RERUN_UPTO)
    exp = Experiment("mnist", settings_for("mnist", fast=False, instances=1), progress=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1):
            got = edge_experiment(exp, fractions=tuple(ref["fractions"]))
    finally:
        torch.set_num_threads(threads)
    same, failures = edge_check(got, ref)
    assert not failures, "\n".join(failures)
    identical = sum(
        int(np.sum(np.asarray(got["test_error"][k][0]) == np.asarray(v)[0]))
        for k, v in ref["test_error"].items()
    )
    print(
        f"network 0 {'as in' if same else 'not as in'} the reference; {identical} of "
        f"{9 * len(ref['fractions'])} numbers identical to the reference's network 0"
    )


#: MNIST reproduction, network 0 as in the reference (the same epochs, training and test
#: error): random and importance rows, deterministic given the network, must agree to
#: ABS_TOL (a rerun on the reference's kind of machine gave them identical, but for one
#: image at one point); the k-DPP rows, whose samples another BLAS may change but not their
#: distribution, within this many standard deviations of the difference of two draws,
#: sqrt(2) REPRODUCE_DPP_SAMPLE_SD, and at least ABS_TOL.
REPRODUCE_SAME_NETWORK_DPP_SDS = 4
#: The spread of network 0's k-DPP cells between draws of its selections, at each Table 2
#: fraction (train and test) and each swept size of either layer. Provenance: 8 draws on
#: network 0 (the experiment's own streams and 7 others;
#: tests/reruns/reproduce_dpp_spread.py, the libraries' default threads).
REPRODUCE_DPP_SAMPLE_SD = {
    "table2 dpp train": [0.03307, 0.10139, 0.06517, 0.02983, 0.0],
    "table2 dpp test": [0.03161, 0.10191, 0.06542, 0.02614, 0.0],
    "table2 dpp+fuse train": [0.00436, 0.00146, 0.00021, 0.00036, 0.0],
    "table2 dpp+fuse test": [0.0041, 0.00106, 0.00026, 0.00039, 0.0],
    "sweep0 dpp": [
        0.0,
        0.04583,
        0.11783,
        0.10296,
        0.10405,
        0.0733,
        0.0827,
        0.02682,
        0.00926,
        0.00482,
        0.00255,
    ],
    "sweep0 dpp+fuse": [
        0.06795,
        0.02365,
        0.007,
        0.0013,
        0.00079,
        0.00102,
        0.00069,
        0.00046,
        0.00038,
        0.00042,
        0.00023,
    ],
    "sweep1 dpp": [
        0.10686,
        0.11145,
        0.09327,
        0.11328,
        0.06006,
        0.03262,
        0.01478,
        0.00853,
        0.00328,
        0.00199,
        0.0015,
    ],
    "sweep1 dpp+fuse": [
        0.05208,
        0.00413,
        0.00095,
        0.00063,
        0.00042,
        0.00028,
        0.00023,
        0.00024,
        0.00034,
        0.00016,
        0.00016,
    ],
}
#: When network 0 comes out differently here (torch's training is not bitwise the same
#: across machines and thread counts), one network says little against the reference's
#: spread (left-one-out on the reference, a single network lies up to 41 standard
#: deviations of the other four from their mean at small sizes): the run is extended to
#: this many networks and checked with :func:`~divnet_nb.experiments.reference.compare`.
REGRESSION_NETWORKS_ELSEWHERE = 3


def _cells(result: dict):
    """(name, fraction or size, values per network) of every Table 2 cell and sweep point."""
    t2 = result.get("table2", {})
    for key, by_set in t2.get("errors", {}).items():
        for which, rows in by_set.items():
            for j, f in enumerate(t2["fractions"]):
                yield f"table2 {key} {which}", f, [row[j] for row in rows]
    for layer, sweep in result.get("sweeps", {}).items():
        for key, rows in sweep["test_error"].items():
            for j, size in enumerate(sweep["sizes"]):
                yield f"sweep{layer} {key}", size, [row[j] for row in rows]


def _grid(ref: dict, name: str) -> list:
    return (
        ref["table2"]["fractions"] if name.startswith("table2") else ref["sweeps"][name[5]]["sizes"]
    )


def same_first_network(results: dict, ref: dict) -> bool:
    """Whether a run's network 0 is the reference's (epochs, training and test error)."""
    keys = ("seed", "epochs", "train_error", "test_error")
    return all(results["instances"][0][k] == ref["instances"][0][k] for k in keys)


def reproduction_check(results: dict, ref: dict) -> list[str]:
    """Every cell a run of the reference's network 0 measured, against that network's (above)."""
    theirs = {(name, at): values[0] for name, at, values in _cells(ref)}
    failures = []
    for name, at, values in _cells(results):
        if (name, at) not in theirs:
            failures.append(f"{name} at {at}: not in the reference")
            continue
        tol = ABS_TOL
        if name in REPRODUCE_DPP_SAMPLE_SD:
            sd = REPRODUCE_DPP_SAMPLE_SD[name][_grid(ref, name).index(at)]
            tol = max(ABS_TOL, REPRODUCE_SAME_NETWORK_DPP_SDS * np.sqrt(2) * sd)
        if abs(values[0] - theirs[name, at]) > tol:
            failures.append(
                f"{name} at {at}: ours {values[0]:.4f}, reference {theirs[name, at]:.4f}, "
                f"beyond {tol:.4f}"
            )
    return failures


def test_the_reproduction_check_passes_network_0_and_fails_a_shift():
    ref = load_reference("mnist")
    as_run = {"instances": ref["instances"][:1], "table2": ref["table2"], "sweeps": ref["sweeps"]}
    assert same_first_network(as_run, ref) and reproduction_check(as_run, ref) == []
    assert len(list(_cells(ref))) == 6 * 5 * 2 + 6 * 11 * 2
    assert set(REPRODUCE_DPP_SAMPLE_SD) == {
        name for name, _, _ in _cells(ref) if name.split()[1] in ("dpp", "dpp+fuse")
    }
    for name, sds in REPRODUCE_DPP_SAMPLE_SD.items():
        assert len(sds) == len(_grid(ref, name)), name
    shifted = copy.deepcopy(as_run)
    shifted["sweeps"]["1"]["test_error"]["importance+fuse"][0][3] += 1.5 * ABS_TOL
    row = shifted["table2"]["errors"]["dpp+fuse"]["test"][0]
    row[0] += 4 * np.sqrt(2) * REPRODUCE_DPP_SAMPLE_SD["table2 dpp+fuse test"][0] + ABS_TOL
    failed = [f.split(":")[0] for f in reproduction_check(shifted, ref)]
    assert failed == ["table2 dpp+fuse test at 0.1", "sweep1 importance+fuse at 100"]
    other = copy.deepcopy(as_run)
    other["instances"][0]["test_error"] += 1e-4
    assert not same_first_network(other, ref)


def _reproduce(out, instances: int) -> dict:
    code = main(["reproduce", "--dataset", "mnist", "--full", "--instances", str(instances),
                 "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 0
    return json.loads((out / "results.json").read_text())


@pytest.mark.reproduction
@pytest.mark.serial
@pytest.mark.xdist_group("mnist-networks")
def test_the_full_mnist_reproduction_matches_the_reference(tmp_path, capsys, serial_threads):
    """Network 0 of the full MNIST reproduction, every Table 2 cell and sweep point, run again.

    Trained as the reference was (the libraries' default threads), network 0 comes out as
    the reference's on its kind of machine, and its cells are checked one by one
    (:func:`reproduction_check`). Otherwise the run is extended to
    REGRESSION_NETWORKS_ELSEWHERE networks and their means checked against the reference's
    with :func:`~divnet_nb.experiments.reference.compare`.
    """
    require_data("mnist")
    ref = load_reference("mnist")
    results = _reproduce(tmp_path / "one", 1)
    if same_first_network(results, ref):
        failures = reproduction_check(results, ref)
        cells = len(list(_cells(results)))
        assert cells == len(list(_cells(ref))) == 6 * 5 * 2 + 6 * 11 * 2
        assert not failures, "\n".join(failures[:20])
        print(f"network 0 as in the reference; {cells} cells checked")
        return
    n = REGRESSION_NETWORKS_ELSEWHERE
    mismatches, summary = compare(_reproduce(tmp_path / "more", n), ref)
    print(f"network 0 not as in the reference: {summary['comparisons']} cells compared on "
          f"{summary['networks']} networks; largest |difference| / tolerance "
          f"{summary['largest_ratio']:.2f}")  # fmt: skip
    assert summary["networks"] == n and summary["comparisons"] == 6 * 5 * 2 + 6 * 11 * 2
    assert not mismatches, "\n".join(map(str, mismatches[:20]))


@pytest.mark.reproduction
@pytest.mark.serial
@pytest.mark.xdist_group("mnist-networks")
def test_a_broken_fusion_fails_the_reference_check(monkeypatch, serial_threads):
    """Fusion replaced by plain deletion (a test double): the check must catch it."""
    require_data("mnist")
    ref = load_reference("mnist")
    one = Experiment("mnist", settings_for("mnist", fast=False, instances=1), progress=False)
    n = 1
    if not same_first_network({"instances": [one.train_part(0)]}, ref):
        n = REGRESSION_NETWORKS_ELSEWHERE
    exp = Experiment("mnist", settings_for("mnist", fast=False, instances=n), progress=False)

    def deleted(stats, keep, W, b=None, **options):
        return np.ascontiguousarray(W[np.sort(keep)]), b

    monkeypatch.setattr(divnet_nb.pruning.apply, "fuse_from_gram", deleted)
    broken = {"table2": exp.table2(fractions=[0.1, 0.25], variants=variants(["dpp"]))}
    if n == 1:
        failed = {f.split(":")[0] for f in reproduction_check(broken, ref)}
        assert "table2 dpp+fuse test at 0.1" in failed
        assert not any(f.startswith("table2 dpp ") for f in failed)  # unfused: unaffected
        return
    wanted = {
        "fractions": [0.1, 0.25],
        "errors": {k: {"test": [[row[ref["table2"]["fractions"].index(f)] for f in (0.1, 0.25)]
                                for row in ref["table2"]["errors"][k]["test"][:n]]}
                   for k in ("dpp", "dpp+fuse")},
    }  # fmt: skip
    mismatches, _ = compare(broken, {"table2": wanted, "sweeps": {}})
    assert {m.where for m in mismatches} >= {"Table 2, dpp+fuse, test, 10%"}
    assert not any(m.where.startswith("Table 2, dpp,") for m in mismatches)  # unfused: unaffected


def _gate_settings_of(ref):
    import dataclasses

    from divnet_nb.experiments.gates import GateSettings

    names = {f.name for f in dataclasses.fields(GateSettings)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in ref["settings"].items()}
    return GateSettings(**{k: v for k, v in values.items() if k in names})


#: Gate regression, plain and budget networks as in the reference (torch's training is
#: bitwise the same on the same machine and thread count): the gated run and its post-hoc
#: comparisons must agree to 10 of 10,000 test images, and the kept sizes exactly.
#: Provenance: set when the reference was committed (commit c273c37), not from reruns.
GATE_SAME_NETWORK_TOL = 0.001
#: New networks: the kept neurons per layer within the range of the reference's seeds
#: widened by this fraction. Provenance: commit c273c37, not from reruns; it fails a run
#: with the penalty switched off or ten times weaker (test below).
GATE_KEPT_MARGIN = 0.15
#: New networks: every test error within this many standard deviations over the
#: reference's 3 seeds of the reference's mean, and at least GATE_NEW_NETWORK_FLOOR.
GATE_NEW_NETWORK_SDS = 4
#: Provenance: 0.3 points when the reference was committed (commit c273c37), 0.5 after one
#: failing run (commit 826d4ec), and kept at 0.5 on the evidence of six reruns of this test's
#: run from an empty network cache, one BLAS and torch thread: two as in CI (seed 0,
#: identical, the largest deviation beyond 4 standard deviations 0.23 points, budget DivNet
#: fine-tuned) and four new networks (seeds 3-6: 0.36, 0.31, 0.25 and 0 points, greedy +
#: swaps on the Table 1-trained LeNet without fine-tuning for the first two). A floor of 0.3
#: fails two of the five distinct networks; the reference's 3 seeds understate how much
#: that cell varies between networks (4 standard deviations: 0.16 points).
GATE_NEW_NETWORK_FLOOR = 0.005
GATE_RUN = ("lenet-300-100", "hard-concrete", 1e-3)


def _gate_errors(row: dict) -> dict[str, float]:
    """Every test error of a gated run: the gated network, each post-hoc rule on each base
    network, without and with fine-tuning."""
    out = {"gated": row["test_error"]}
    for base, rules in row["posthoc"].items():
        for rule, cell in rules.items():
            out[f"{base} {rule}"] = cell["test_error"]
            out[f"{base} {rule} + ft"] = cell["finetuned_test_error"]
    return out


def gate_check(got: dict, rows: list[dict], same: bool) -> list[str]:
    """A gated run (``gate_part``'s row) against the reference's rows of the same setting
    (seed 0 first): every kept size and test error outside its tolerance (above).
    ``same``: the run's plain networks are the reference's seed 0 networks."""
    ours, theirs = _gate_errors(got), [_gate_errors(r) for r in rows]
    failures = []
    if same and got["test_error"] == rows[0]["test_error"]:
        if got["kept"] != rows[0]["kept"]:
            failures.append(f"kept {got['kept']}, the reference {rows[0]['kept']}")
        for key, value in ours.items():
            if abs(value - theirs[0][key]) > GATE_SAME_NETWORK_TOL:
                failures.append(f"{key}: {value}, the reference {theirs[0][key]}")
        return failures
    kept = np.array([r["kept"] for r in rows])
    low, high = (1 - GATE_KEPT_MARGIN) * kept.min(axis=0), (1 + GATE_KEPT_MARGIN) * kept.max(axis=0)
    if not (np.all(got["kept"] >= low) and np.all(got["kept"] <= high)):
        failures.append(f"kept {got['kept']} outside {low}-{high}")
    for key, value in ours.items():
        values = [t[key] for t in theirs]
        tol = max(GATE_NEW_NETWORK_FLOOR, GATE_NEW_NETWORK_SDS * np.std(values, ddof=1))
        if abs(value - np.mean(values)) > tol:
            failures.append(f"{key}: {value}, the reference's seeds {values} (tolerance {tol:.4f})")
    return failures


def test_the_gate_check_passes_the_reference_seeds_and_fails_broken_runs():
    """Each reference seed passes as itself and as a new network; a run with the penalty
    switched off (every neuron kept) or ten times weaker (lambda 1e-4's sizes) fails on its
    sizes, and a swap rule that gives DivNet's numbers fails on the swap cells."""
    ref = readme.load_gates()["mnist"]
    rows = [r for r in ref["runs"] if (r["network"], r["method"], r["lam"]) == GATE_RUN]
    assert gate_check(rows[0], rows, same=True) == []
    for row in rows:
        assert gate_check(row, rows, same=False) == [], row["seed"]
    off = copy.deepcopy(rows[0]) | {"kept": [300, 100]}
    assert [f for f in gate_check(off, rows, same=False) if f.startswith("kept")]
    weak = next(r for r in ref["runs"] if (r["network"], r["method"], r["lam"], r["seed"]) ==
                (*GATE_RUN[:2], 1e-4, 0))  # fmt: skip
    assert [f for f in gate_check(weak, rows, same=False) if f.startswith("kept")]
    lazy = copy.deepcopy(rows[0])
    for rules in lazy["posthoc"].values():
        rules["swap"] = rules["dpp"]
    for same in (True, False):
        failed = {f.split(":")[0] for f in gate_check(lazy, rows, same=same)}
        assert {"table1 swap", "budget swap"} <= failed, (same, failed)


@pytest.mark.reproduction
def test_the_gate_experiment_matches_the_reference_on_one_run():
    """LeNet-300-100, hard-concrete neuron gates, lambda 1e-3, seed 0, run again with one thread.

    When the plain and the budget networks come out as in the reference (torch's training is
    bitwise the same on the same machine and thread count), the gated run and its post-hoc
    comparisons must agree to 10 of 10,000 test images and the kept sizes exactly. Otherwise
    the networks are new ones: the kept neurons per layer must lie within the reference's
    seeds' range widened by 15 %, and every test error within 4 standard deviations over the
    seeds (at least GATE_NEW_NETWORK_FLOOR) of the reference's mean. The size check fails a
    run with the penalty switched off (it keeps every neuron; the reference keeps about half
    of each layer) or ten times weaker, and the error check a swap rule that gives DivNet's
    numbers (``test_the_gate_check_passes_the_reference_seeds_and_fails_broken_runs``).
    """
    require_data("mnist")
    import torch

    from divnet_nb.experiments import gates as gx

    ref = readme.load_gates()["mnist"]
    settings = _gate_settings_of(ref)
    assert json.loads(json.dumps(settings.to_dict())) == ref["settings"]
    assert ref["gates"] == gx.gate_descriptions()
    rows = [r for r in ref["runs"] if (r["network"], r["method"], r["lam"]) == GATE_RUN]
    assert len(rows) == settings.seeds and all("collapsed" not in r for r in rows)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ctx = gx._Context(settings, progress=False)
        got = gx.gate_part(ctx, *GATE_RUN, 0)
        same = all(
            ctx.test_error(ctx.plain(GATE_RUN[0], 0, base).model)
            == ref["networks"][GATE_RUN[0]][base]["unpruned_test_error"][0]
            for base in gx.BASES
        )
    finally:
        torch.set_num_threads(threads)
    failures = gate_check(got, rows, same)
    assert not failures, "\n".join(failures)
    print(f"networks {'as in' if same else 'not as in'} the reference; kept {got['kept']}")


def test_the_readme_prose_on_gates_says_what_the_reference_shows():
    """The hand-written sentences of README's gate section, checked against reference/gates-mnist.json."""
    from divnet_nb.experiments.gates import NEURON_GATES
    from divnet_nb.report.gates import _best, best_posthoc, gate_costs, gate_groups

    ref = readme.load_gates()["mnist"]
    assert ref["settings"]["fast"] is False and ref["settings"]["seeds"] == 3
    groups = gate_groups(ref)
    assert all(g["rows"] and len(g["rows"]) == 3 for g in groups)  # nothing collapsed
    neuron = [g for g in groups if g["method"] in NEURON_GATES]
    assert len(neuron) == 16
    key = {(g["network"], g["method"], g["lam"]): g for g in groups}

    def verdict(g, field, rule=None):
        cell = _best(g, field, rule)
        return cell["verdict_ft" if field == "finetuned" else "verdict"], cell

    # without retraining: never worse; better exactly at the smallest sizes named
    no_ft = {(g["network"], g["method"], g["lam"]): verdict(g, "error")[0] for g in neuron}
    assert "does not hold" not in no_ft.values()
    holds = {k for k, v in no_ft.items() if v == "holds"}
    assert holds == {
        (n, "hard-concrete", lam) for n in ("table1", "lenet-300-100") for lam in (1e-3, 3e-3)
    } | {(n, "diffprune", 3e-3) for n in ("table1", "lenet-300-100")}
    # fine-tuned: the best cell is swaps at 15 (budget network at 13); 13 of 16 not resolved
    best = [best_posthoc(g)[:2] for g in neuron]
    assert sum(r == "swap" for _, r in best) == 15 and sum(b == "budget" for b, _ in best) == 13
    ft = {(g["network"], g["method"], g["lam"]): verdict(g, "finetuned") for g in neuron}
    told = {
        k: (v, round(100 * c["diff_ft"][0], 2)) for k, (v, c) in ft.items() if v != "not resolved"
    }
    assert told == {
        ("lenet-300-100", "diffprune", 3e-3): ("holds", -0.39),
        ("lenet-300-100", "diffprune", 1e-4): ("does not hold", 0.18),
        ("lenet-300-100", "diffprune", 3e-4): ("does not hold", 0.32),
    }
    assert key["lenet-300-100", "diffprune", 3e-3]["kept"] == pytest.approx([47, 32], abs=0.5)
    # DivNet fine-tuned: behind swaps fine-tuned at 15 of 16; the gates beat it at 3, lose at 1
    behind = [
        _best(g, "finetuned", "dpp")["finetuned"][0] > _best(g, "finetuned", "swap")["finetuned"][0]
        for g in neuron
    ]
    assert sum(behind) == 15
    vs_divnet = {k: verdict(key[k], "finetuned", "dpp")[0] for k in ft}
    assert {k for k, v in vs_divnet.items() if v == "holds"} == {
        ("lenet-300-100", "hard-concrete", 3e-3),
        ("lenet-300-100", "diffprune", 3e-3),
        ("table1", "diffprune", 3e-4),
    }
    assert {k for k, v in vs_divnet.items() if v == "does not hold"} == {
        ("lenet-300-100", "diffprune", 1e-4)
    }
    # weight gates at about 4 % of the Table 1 network's weights
    total = sum(ref["networks"]["table1"]["unpruned_weights"])
    small = [key["table1", m, 1e-5] for m in ("hard-concrete-weights", "diffprune-weights")]
    assert all(0.035 < g["weights"][0] / total < 0.045 for g in small)
    plain = [c["error"][0] for g in small for c in g["posthoc"].values() for c in c.values()]
    assert 0.655 <= min(plain) and max(plain) < 0.775
    assert all(0.025 <= g["gated"][0] < 0.0305 for g in small)
    tuned = [_best(g, "finetuned")["finetuned"][0] for g in small]
    assert all(0.0295 <= t < 0.0315 for t in tuned)
    assert [verdict(g, "finetuned")[0] for g in small] == ["not resolved", "holds"]
    assert round(100 * _best(small[1], "finetuned")["diff_ft"][0], 2) == -0.51
    # cost
    costs = gate_costs(ref)
    assert round(100 * costs["table1"]["divnet_over_gated"], 1) == 0.9
    assert round(100 * costs["lenet-300-100"]["divnet_over_gated"], 1) == 0.5
    assert round(costs["table1"]["plain_plus_divnet_over_gated"], 2) == 0.85
    assert round(costs["lenet-300-100"]["plain_plus_divnet_over_gated"], 2) == 0.24
