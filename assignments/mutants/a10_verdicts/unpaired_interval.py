"""Ignores the pairing: Welch's interval for the difference of the two methods' means."""

QUESTION = "q1"


def paired_interval(errors_a, errors_b, level=0.95):
    a, b = np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)
    mean = float(a.mean() - b.mean())
    if a.size < 2:
        return mean, -np.inf, np.inf
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    if va + vb == 0.0:
        return mean, mean, mean
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(scipy.stats.t.ppf(0.5 + level / 2, df)) * np.sqrt(va + vb)
    return mean, mean - half, mean + half
