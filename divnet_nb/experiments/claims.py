"""The paper's qualitative claims, each checked on our measurements.

A claim compares variants (e.g. k-DPP against random, both unfused) on a layer sweep.
It is checked only when its variants were measured; a claim whose variants are
missing is reported as not checked, never as holding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["check_claims"]


def check_claims(results: dict) -> list[dict]:
    """The paper's claims on the measured means over instances, one dict per claim.

    Each dict has ``claim``, ``layer``, ``holds`` (True, False, or None when the
    claim could not be checked), ``sizes``, ``failed_sizes`` and ``detail``.
    ``results`` needs only ``"sweeps"`` (as written by ``reproduce``).
    """
    claims: list[dict] = []
    sweeps = results["sweeps"]

    def have(layer, *keys) -> bool:
        return layer in sweeps and all(k in sweeps[layer]["test_error"] for k in keys)

    def mean(layer, key):
        return np.asarray(sweeps[layer]["test_error"][key], dtype=float).mean(axis=0)

    def per_size(layer, statement, keys, test):
        if not have(layer, *keys):
            claims.append(_not_checked(statement, layer, keys, sweeps))
            return
        holds, detail = test()
        sizes = sweeps[layer]["sizes"]
        failed = [s for s, ok in zip(sizes, holds, strict=True) if not ok]
        claims.append(
            {
                "claim": statement,
                "layer": int(layer),
                "holds": not failed,
                "sizes": sizes,
                "failed_sizes": failed,
                "detail": detail,
            }
        )

    def fig2():
        d, r = mean("0", "dpp"), mean("0", "random")
        return d <= r, {"dpp": d.tolist(), "random": r.tolist()}

    def fig3():
        d, dn = mean("0", "dpp"), mean("0", "dpp+fuse")
        return dn <= d, {"dpp": d.tolist(), "dpp+fuse": dn.tolist()}

    def figs2to4():
        dn, rf, r = mean("0", "dpp+fuse"), mean("0", "random+fuse"), mean("0", "random")
        return (dn <= rf) & (rf <= r), {
            "dpp+fuse": dn.tolist(),
            "random+fuse": rf.tolist(),
            "random": r.tolist(),
        }

    def fig5():
        imp, dn = mean("0", "importance"), mean("0", "dpp+fuse")
        sizes = np.asarray(sweeps["0"]["sizes"])
        high = sizes <= 0.25 * sweeps["0"]["layer_size"]
        return np.where(high, imp > dn, True), {
            "importance": imp.tolist(),
            "dpp+fuse": dn.tolist(),
            "high_pruning_sizes": sizes[high].tolist(),
        }

    def spread():
        std_d = np.asarray(sweeps["0"]["test_error"]["dpp"], dtype=float).std(axis=0)
        std_dn = np.asarray(sweeps["0"]["test_error"]["dpp+fuse"], dtype=float).std(axis=0)
        return std_dn <= std_d, {"std dpp": std_d.tolist(), "std dpp+fuse": std_dn.tolist()}

    per_size(
        "0",
        "k-DPP pruning beats random pruning, both without fusion (Fig. 2)",
        ("dpp", "random"),
        fig2,
    )
    per_size("0", "fusion lowers the error of k-DPP pruning (Fig. 3)", ("dpp", "dpp+fuse"), fig3)
    per_size(
        "0",
        "DivNet <= random + fusion <= random at every kept size (Figs. 2-4)",
        ("dpp+fuse", "random+fuse", "random"),
        figs2to4,
    )
    per_size(
        "0",
        "importance pruning falls behind DivNet at high pruning, <= 25 % kept (Fig. 5)",
        ("importance", "dpp+fuse"),
        fig5,
    )
    per_size(
        "0",
        "fusion reduces the spread over instances (std) of k-DPP pruning (Sec. 3.1)",
        ("dpp", "dpp+fuse"),
        spread,
    )
    statement = "the gap between DivNet and random pruning is wider on the second layer (App. A)"
    if have("0", "random", "dpp+fuse") and have("1", "random", "dpp+fuse"):
        gap0 = float(np.mean(mean("0", "random") - mean("0", "dpp+fuse")))
        gap1 = float(np.mean(mean("1", "random") - mean("1", "dpp+fuse")))
        claims.append(
            {
                "claim": statement,
                "layer": 1,
                "holds": gap1 > gap0,
                "sizes": sweeps["1"]["sizes"],
                "failed_sizes": [],
                "detail": {"mean gap layer 1": gap0, "mean gap layer 2": gap1},
            }
        )
    elif "0" in sweeps and "1" in sweeps:
        claims.append(_not_checked(statement, "1", ("random", "dpp+fuse"), sweeps))
    return claims


def _not_checked(statement: str, layer: str, keys, sweeps) -> dict:
    missing = [k for k in keys if layer not in sweeps or k not in sweeps[layer]["test_error"]]
    return {
        "claim": statement,
        "layer": int(layer),
        "holds": None,
        "sizes": sweeps[layer]["sizes"] if layer in sweeps else [],
        "failed_sizes": [],
        "detail": {"not checked": f"needs the variants {', '.join(missing)}, which were not run"},
    }
