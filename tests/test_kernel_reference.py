"""The kernel comparison against reference/kernels-mnist.json: network 0 of one kernel run
again, and the README's sentences about kernels checked against the reference."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import require_data

import divnet_nb.pruning.apply
from divnet_nb.experiments.kernels import kernel_comparisons, kernel_entry
from divnet_nb.experiments.reference import ABS_TOL, reference_path
from divnet_nb.report import readme

#: The kernel whose part the regression reruns (about 27 s on one thread; ``learned`` takes
#: three times as long).
KERNEL = "cosine"
#: Network 0 as in the reference (same unpruned test error): the greedy MAP draws nothing,
#: so its rows are deterministic given the network and must agree to ABS_TOL; the sampled
#: selectors within this many standard deviations of the difference of two draws,
#: sqrt(2) KERNEL_SAMPLE_SD, and at least ABS_TOL.
KERNEL_SAME_NETWORK_SDS = 4
#: The spread of network 0's sampled rows between draws, at each fraction of the reference.
#: Provenance: 8 draws on network 0 (the experiment's own streams and 7 others;
#: tests/reruns/kernels_dpp_spread.py --kernel cosine, one thread).
KERNEL_SAMPLE_SD = {
    "dpp": [0.02184, 0.00967, 0.00082, 0.00046, 0.00073],
    "dpp-best": [0.02088, 0.01053, 0.00168, 0.00102, 0.00041],
}
#: Network 0 trained differently here (another machine or thread count) is a new network:
#: every row within this many standard deviations of the reference's mean over its 5
#: networks, widened for a new draw (x sqrt(1 + 1/5)), and at least ABS_TOL. Provenance: 5
#: leave-one-out reruns on the reference itself (each network against the other 4): the
#: worst used 5.19 of them (one sample, 10 % kept, network 2).
KERNEL_NEW_NETWORK_SDS = 7


def kernel_check(got: dict, fractions, ref: dict, same: bool) -> list[str]:
    """Network 0's part for :data:`KERNEL` at ``fractions`` against ``ref`` (see above)."""
    failures = []
    for selector, ours in got["test_error"].items():
        values = np.asarray(ref["test_error"][kernel_entry(KERNEL, selector)])
        for f, value in zip(fractions, ours, strict=True):
            j = ref["fractions"].index(f)
            if same:
                target, tol = values[0, j], ABS_TOL
                if selector in KERNEL_SAMPLE_SD:
                    sd = KERNEL_SAMPLE_SD[selector][j]
                    tol = max(ABS_TOL, KERNEL_SAME_NETWORK_SDS * np.sqrt(2) * sd)
            else:
                n = values.shape[0]
                target = values[:, j].mean()
                spread = values[:, j].std(ddof=1) * np.sqrt(1 + 1 / n)
                tol = max(ABS_TOL, KERNEL_NEW_NETWORK_SDS * spread)
            if abs(value - target) > tol:
                failures.append(
                    f"{selector} at {f:.0%}: ours {value:.4f}, reference {target:.4f}, "
                    f"beyond {tol:.4f}"
                )
    return failures


def _network(ref: dict, i: int) -> dict:
    return {
        "test_error": {s: ref["test_error"][kernel_entry(KERNEL, s)][i] for s in ref["selectors"]}
    }


def test_the_kernel_check_passes_the_reference_networks_and_fails_a_shift():
    ref = readme.load_kernels()["mnist"]
    fr = ref["fractions"]
    assert set(KERNEL_SAMPLE_SD) == {"dpp", "dpp-best"}
    assert all(len(v) == len(fr) for v in KERNEL_SAMPLE_SD.values())
    assert kernel_check(_network(ref, 0), fr, ref, same=True) == []
    for i in range(len(ref["unpruned_test_error"])):
        assert kernel_check(_network(ref, i), fr, ref, same=False) == [], i
    shifted = copy.deepcopy(_network(ref, 0))
    shifted["test_error"]["greedy-map"][2] += 1.5 * ABS_TOL
    assert [f.split(":")[0] for f in kernel_check(shifted, fr, ref, same=True)] == [
        "greedy-map at 25%"
    ]


def _kernel_run(fractions):
    import threadpoolctl
    import torch

    from divnet_nb.experiments import Experiment, settings_for
    from divnet_nb.experiments.kernels import kernel_part
    from divnet_nb.nets.evaluate import error_rate

    exp = Experiment("mnist", settings_for("mnist", fast=False, instances=1), progress=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(1):
            got = kernel_part(exp, 0, KERNEL, fractions)
            unpruned = error_rate(exp.model(0), exp.data.x_test, exp.data.y_test)
    finally:
        torch.set_num_threads(threads)
    return got, unpruned


@pytest.mark.reproduction
@pytest.mark.xdist_group("mnist-networks")
def test_the_kernel_comparison_matches_the_reference_on_its_first_network():
    """Network 0 of reference/kernels-mnist.json, the cosine kernel with every selector and
    fraction, run again with one thread as the reference's parts were (see
    :func:`kernel_check` for the two bounds)."""
    require_data("mnist")
    ref = readme.load_kernels()["mnist"]
    got, unpruned = _kernel_run(ref["fractions"])
    same = unpruned == ref["unpruned_test_error"][0]
    failures = kernel_check(got, ref["fractions"], ref, same)
    assert not failures, "\n".join(failures)
    print(f"network 0 {'as in' if same else 'not as in'} the reference")


@pytest.mark.reproduction
@pytest.mark.xdist_group("mnist-networks")
def test_a_kernel_run_without_fusion_fails_the_check(monkeypatch):
    """Fusion replaced by plain deletion (a test double), at 5 and 10 % kept: both bounds catch it."""
    require_data("mnist")
    ref = readme.load_kernels()["mnist"]

    def deleted(stats, keep, W, b=None, **options):
        return np.ascontiguousarray(W[np.sort(keep)]), b

    monkeypatch.setattr(divnet_nb.pruning.apply, "fuse_from_gram", deleted)
    fractions = [0.05, 0.1]
    got, _ = _kernel_run(fractions)
    for same in (True, False):
        failed = {f.split(":")[0] for f in kernel_check(got, fractions, ref, same)}
        assert {"greedy-map at 5%", "dpp at 10%"} <= failed, (same, failed)


def _verdicts(ref: dict) -> dict:
    """{(rival, verdict): {(kernel, selector, fraction)}} with Holm's correction."""
    out: dict = {}
    for rival, rows in kernel_comparisons(ref).items():
        assert len(rows) == (90 if rival == "rbf" else 105)
        for x in rows:
            out.setdefault((rival, x["verdict"]), set()).add(
                (x["kernel"], x["selector"], x["fraction"])
            )
    return out


def test_the_readme_prose_on_kernels_says_what_the_reference_shows():
    """The hand-written sentences after the README's kernel block, checked against the references."""
    text = " ".join((reference_path("mnist").parents[1] / "README.md").read_text().split())
    refs = readme.load_kernels()
    assert set(refs) == {"mnist", "mnist_rot", "cifar10"}
    v = {ds: _verdicts(ref) for ds, ref in refs.items()}
    # "on no dataset does any difference between the two survive Holm's correction"
    for ds in refs:
        rbf_rows = v[ds].get(("rbf", "holds"), set()) | v[ds].get(("rbf", "does not hold"), set())
        assert not any(k == "linear" for k, _, _ in rbf_rows), ds
    mnist = refs["mnist"]
    # "with one k-DPP sample the two means are within 0.15 points of each other from 10 % up"
    for j, f in enumerate(mnist["fractions"]):
        rbf, linear = (np.mean(mnist["test_error"][kernel_entry(k, "dpp")], axis=0)[j]
                       for k in ("rbf", "linear"))  # fmt: skip
        assert f < 0.1 or abs(rbf - linear) <= 0.0015, f
    # "with the greedy MAP the linear kernel has the lowest mean of all kernels at 5, 10 and 25 %"
    means = {
        k: np.mean(mnist["test_error"][kernel_entry(k, "greedy-map")], axis=0)
        for k in mnist["kernels"]
    }
    for j in range(3):
        assert min(means, key=lambda k: means[k][j]) == "linear"
    # "On CIFAR-10 eq. 2's mean is the lower one at every fraction with one sample, by 0.3 to
    # 1.5 points"
    cifar = refs["cifar10"]
    gap = np.mean(cifar["test_error"][kernel_entry("linear", "dpp")], axis=0) - np.mean(
        cifar["test_error"][kernel_entry("rbf", "dpp")], axis=0
    )
    assert ((gap >= 0.003) & (gap < 0.0155)).all(), gap
    # "On CIFAR-10, with 3 networks, no interval of either family is resolved after the
    # correction (qd is below eq. 2's in 6 of its 15 intervals uncorrected)"
    assert len(cifar["unpruned_test_error"]) == 3
    assert set(v["cifar10"]) == {("rbf", "not resolved"), ("importance", "not resolved")}
    raw = {
        (r["kernel"], r["uncorrected"])
        for r in kernel_comparisons(cifar)["rbf"]
        if r["uncorrected"] != "not resolved"
    }
    uncorrected = {
        key: sum((r["kernel"], r["uncorrected"]) == key for r in kernel_comparisons(cifar)["rbf"])
        for key in raw
    }
    assert uncorrected[("qd", "holds")] == 6
    # "uncorrected the two are worse than eq. 2's in 10 and 14 of their 15 intervals, and
    # better in none"
    assert uncorrected[("cosine", "does not hold")] == 10
    assert uncorrected[("rbf-standardised", "does not hold")] == 14
    assert ("cosine", "holds") not in raw and ("rbf-standardised", "holds") not in raw
    # "On MNIST, not resolved: ... no kernel and selector is resolved below either rival"
    assert "after Holm's correction, no kernel and selector is resolved below either rival" in text
    assert not v["mnist"].get(("rbf", "holds")) and not v["mnist"].get(("importance", "holds"))
    # "On MNIST_ROT ... qd ... holds below eq. 2's with one k-DPP sample at 10, 50 and 75 %"
    assert v["mnist_rot"][("rbf", "holds")] == {("qd", "dpp", f) for f in (0.1, 0.5, 0.75)}
    # "No kernel is resolved below importance + fusion on any dataset; on MNIST_ROT,
    # importance + fusion is resolved below the kernels in 36 of its 105 intervals"
    assert not any(v[ds].get(("importance", "holds")) for ds in refs)
    assert len(v["mnist_rot"][("importance", "does not hold")]) == 36
    # "cosine ... worse ... with the greedy MAP at 10 % kept on MNIST and in 3 of its 15
    # intervals on MNIST_ROT; the standardised RBF ... once on MNIST, 3 times on MNIST_ROT.
    # Neither is resolved better anywhere."
    worse = {ds: v[ds].get(("rbf", "does not hold"), set()) for ds in refs}
    assert worse["mnist"] == {
        ("cosine", "greedy-map", 0.1),
        ("rbf-standardised", "greedy-map", 0.25),
    }
    for kernel, count in (("cosine", 3), ("rbf-standardised", 3)):
        assert sum(k == kernel for k, _, _ in worse["mnist_rot"]) == count
    for ds in refs:
        better = v[ds].get(("rbf", "holds"), set()) | v[ds].get(("importance", "holds"), set())
        assert not any(k in ("cosine", "rbf-standardised") for k, _, _ in better)
    # "the fit never raises its held-out objective above eq. 2's and lowers it on average at
    # every fraction on all three datasets, but no difference ... is resolved"
    for ds, ref in refs.items():
        fits = ref["kernel_params"]["learned"]
        assert all(p["objective"] <= p["default_objective"] for row in fits for p in row if p)
        for j in range(len(ref["fractions"])):
            pairs = [[row[j]["objective"], row[j]["default_objective"]] for row in fits]
            mean = np.mean(pairs, axis=0)
            assert mean[0] < mean[1], (ds, j)
        rbf_resolved = v[ds].get(("rbf", "holds"), set()) | v[ds].get(
            ("rbf", "does not hold"), set()
        )
        assert not any(k == "learned" for k, _, _ in rbf_resolved), ds
