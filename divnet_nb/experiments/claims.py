"""The paper's qualitative claims, each decided on our paired measurements with an interval.

Each claim compares variants on a layer sweep, network by network (the variants of a
sweep are scored on the same networks, and a selection method's fused and unfused
variants on the same selections), so every claim is decided on per-network differences
(:mod:`divnet_nb.verdicts`): "holds", "does not hold" or "not resolved with n networks", with the
interval printed. A claim is checked only when its variants and sizes were measured;
otherwise it is "not checked", with the reason, and never counts as holding.
"""

from __future__ import annotations

import numpy as np

from ..verdicts import FAILS, HOLDS, LEVEL, OPEN, bootstrap_interval, combine, decide, t_interval

__all__ = ["check_claims", "CLAIMS"]

#: (statement, layer, [(variant A, variant B, claimed sign of A - B)], sizes rule)
CLAIMS = (
    (
        "k-DPP pruning beats random pruning, both without fusion (Fig. 2)",
        "0",
        [("dpp", "random", "<0")],
        "all",
    ),
    (
        "fusion lowers the error of k-DPP pruning (Fig. 3)",
        "0",
        [("dpp+fuse", "dpp", "<0")],
        "all",
    ),
    (
        "DivNet <= random + fusion <= random at every kept size (Figs. 2-4)",
        "0",
        [("dpp+fuse", "random+fuse", "<=0"), ("random+fuse", "random", "<=0")],
        "all",
    ),
    (
        "importance pruning falls behind DivNet at high pruning, <= 25 % kept (Fig. 5)",
        "0",
        [("importance", "dpp+fuse", ">0")],
        "quarter",
    ),
)
SPREAD = "fusion reduces the spread over instances (std) of k-DPP pruning (Sec. 3.1)"
GAP = "the gap between DivNet and random pruning is wider on the second layer (App. A)"


def _errors(sweep, key) -> np.ndarray:
    return np.asarray(sweep["test_error"][key], dtype=float)  # (networks, sizes)


def _not_checked(statement: str, layer: str, reason: str, sizes=()) -> dict:
    return {
        "claim": statement,
        "layer": int(layer),
        "verdict": "not checked",
        "holds": None,
        "sizes": list(sizes),
        "failed_sizes": [],
        "unresolved_sizes": [],
        "per_size": [],
        "test": "",
        "detail": {"not checked": reason},
    }


def _result(statement, layer, n, test, per_size, verdict, detail) -> dict:
    return {
        "claim": statement,
        "layer": int(layer),
        "verdict": verdict if verdict != OPEN else f"not resolved with {n} networks",
        "holds": {HOLDS: True, FAILS: False}.get(verdict),
        "sizes": [p["size"] for p in per_size],
        "failed_sizes": [p["size"] for p in per_size if p["verdict"] == FAILS],
        "unresolved_sizes": [p["size"] for p in per_size if p["verdict"] == OPEN],
        "per_size": per_size,
        "test": test,
        "detail": detail,
    }


def _paired_claim(sweeps, statement, layer, comparisons, rule) -> dict:
    sweep = sweeps.get(layer)
    if sweep is None:
        return _not_checked(statement, layer, f"hidden layer {int(layer) + 1} was not swept")
    missing = sorted({k for a, b, _ in comparisons for k in (a, b)} - set(sweep["test_error"]))
    if missing:
        return _not_checked(
            statement, layer, f"needs the variants {', '.join(missing)}, which were not run"
        )
    sizes = np.asarray(sweep["sizes"])
    columns = np.arange(sizes.size)
    if rule == "quarter":
        columns = np.flatnonzero(sizes <= 0.25 * sweep["layer_size"])
        if columns.size == 0:
            return _not_checked(
                statement, layer, "no swept size keeps <= 25 % of the layer", sizes.tolist()
            )
    n = _errors(sweep, comparisons[0][0]).shape[0]
    per_size = []
    for j in columns:
        parts = []
        for a, b, sign in comparisons:
            d = _errors(sweep, a)[:, j] - _errors(sweep, b)[:, j]
            mean, low, high = t_interval(d)
            parts.append(
                {
                    "difference": f"{a} - {b}",
                    "claimed": sign,
                    "mean": mean,
                    "interval": [low, high],
                    "verdict": decide(low, high, sign),
                }
            )
        per_size.append(
            {"size": int(sizes[j]), "verdict": combine(p["verdict"] for p in parts), "tests": parts}
        )
    keys = sorted({k for a, b, _ in comparisons for k in (a, b)})
    detail = {k: _errors(sweep, k)[:, columns].mean(axis=0).tolist() for k in keys}
    test = f"paired t-interval ({LEVEL:.0%}) of the per-network differences, n = {n}, per kept size"
    return _result(
        statement, layer, n, test, per_size, combine(p["verdict"] for p in per_size), detail
    )


def _spread_claim(sweeps) -> dict:
    sweep = sweeps.get("0")
    if sweep is None or not {"dpp", "dpp+fuse"} <= set(sweep["test_error"]):
        return _not_checked(SPREAD, "0", "needs the variants dpp and dpp+fuse on the first layer")
    fused, unfused = _errors(sweep, "dpp+fuse"), _errors(sweep, "dpp")
    n = fused.shape[0]
    per_size = []
    for j, size in enumerate(sweep["sizes"]):
        value, low, high = bootstrap_interval(
            lambda a, b: np.std(a, ddof=1) - np.std(b, ddof=1), (fused[:, j], unfused[:, j]), seed=j
        )
        verdict = decide(low, high, "<=0")
        per_size.append(
            {
                "size": int(size),
                "verdict": verdict,
                "tests": [
                    {
                        "difference": "std(dpp+fuse) - std(dpp)",
                        "claimed": "<=0",
                        "mean": value,
                        "interval": [low, high],
                        "verdict": verdict,
                    }
                ],
            }
        )
    detail = {
        "std dpp": np.std(unfused, axis=0, ddof=1).tolist() if n > 1 else [],
        "std dpp+fuse": np.std(fused, axis=0, ddof=1).tolist() if n > 1 else [],
    }
    test = (
        f"paired percentile bootstrap ({LEVEL:.0%}, resampling the {n} networks) of the "
        f"difference of the two spreads, per kept size"
    )
    return _result(SPREAD, "0", n, test, per_size, combine(p["verdict"] for p in per_size), detail)


def _gap_claim(sweeps) -> dict:
    needed = {"random", "dpp+fuse"}
    if not all(k in sweeps and needed <= set(sweeps[k]["test_error"]) for k in ("0", "1")):
        return _not_checked(GAP, "1", "needs random and dpp+fuse on both hidden layers")
    gaps = [
        (_errors(sweeps[k], "random") - _errors(sweeps[k], "dpp+fuse")).mean(axis=1)
        for k in ("0", "1")
    ]
    mean, low, high = t_interval(gaps[1] - gaps[0])
    verdict = decide(low, high, ">0")
    n = gaps[0].size
    per = [
        {
            "size": "mean over sizes",
            "verdict": verdict,
            "tests": [
                {
                    "difference": "gap layer 2 - gap layer 1",
                    "claimed": ">0",
                    "mean": mean,
                    "interval": [low, high],
                    "verdict": verdict,
                }
            ],
        }
    ]
    result = _result(
        GAP,
        "1",
        n,
        f"paired t-interval ({LEVEL:.0%}) of the per-network difference of the two layers' mean "
        f"gaps (random - DivNet, averaged over each layer's kept sizes), n = {n}",
        per,
        verdict,
        {"mean gap layer 1": float(gaps[0].mean()), "mean gap layer 2": float(gaps[1].mean())},
    )
    result["sizes"] = sweeps["1"]["sizes"]
    result["failed_sizes"], result["unresolved_sizes"] = [], []
    return result


def check_claims(results: dict) -> list[dict]:
    """The paper's claims decided on the measured sweeps, one dict per claim.

    Each dict has ``claim``, ``layer``, ``verdict`` ("holds", "does not hold", "not
    resolved with n networks" or "not checked"), ``holds`` (True, False or None),
    ``test`` (what was computed), ``per_size`` (difference, interval and verdict at each
    kept size), ``sizes``, ``failed_sizes``, ``unresolved_sizes`` and ``detail`` (the
    means compared). ``results`` needs only ``"sweeps"``.
    """
    sweeps = results["sweeps"]
    claims = [_paired_claim(sweeps, *claim) for claim in CLAIMS]
    claims.append(_spread_claim(sweeps))
    claims.append(_gap_claim(sweeps))
    return claims
