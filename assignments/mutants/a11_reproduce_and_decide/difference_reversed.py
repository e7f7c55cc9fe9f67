"""Takes the difference the other way round (unfused - fused) but still asks whether it is below zero."""

QUESTION = "q2"


def decide_fusion_claim(results, level=0.95):
    out = {"sizes": list(results["sizes"]), "mean": [], "low": [], "high": [], "per_size": []}
    fused, plain = np.asarray(results["dpp+fuse"]), np.asarray(results["dpp"])
    for j in range(fused.shape[1]):
        mean, low, high = paired_interval(plain[:, j], fused[:, j], level)
        out["mean"].append(mean)
        out["low"].append(low)
        out["high"].append(high)
        out["per_size"].append(verdict(low, high, "<0"))
    if all(v == "holds" for v in out["per_size"]):
        out["verdict"] = "holds"
    elif any(v == "does not hold" for v in out["per_size"]):
        out["verdict"] = "does not hold"
    else:
        out["verdict"] = "not resolved"
    return out
