"""Decides on the means alone: the claim holds at a size when the mean difference has the claimed sign."""

QUESTION = "q3"


def decide(errors_a, errors_b, claim, level=0.95):
    a, b = np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)
    per_size = []
    for j in range(a.shape[1]):
        mean = float((a[:, j] - b[:, j]).mean())
        per_size.append(verdict(mean, mean, claim))
    if all(v == "holds" for v in per_size):
        overall = "holds"
    elif any(v == "does not hold" for v in per_size):
        overall = "does not hold"
    else:
        overall = "not resolved"
    return {"per_size": per_size, "verdict": overall}
