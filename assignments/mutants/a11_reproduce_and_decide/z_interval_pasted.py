"""Pastes a paired interval with the normal quantile instead of Student's t (n = 3 networks)."""

QUESTION = "q2"


def paired_interval(errors_a, errors_b, level=0.95):
    d = np.asarray(errors_a, dtype=float) - np.asarray(errors_b, dtype=float)
    n, mean = d.size, float(d.mean())
    if n < 2:
        return mean, -np.inf, np.inf
    s = float(d.std(ddof=1))
    if s == 0.0:
        return mean, mean, mean
    half = float(scipy.stats.norm.ppf(0.5 + level / 2)) * s / np.sqrt(n)
    return mean, mean - half, mean + half
