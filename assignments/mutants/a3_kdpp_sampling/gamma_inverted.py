"""Inverts the paper's gamma (k'/(n-k') * (n-k)/k)."""

QUESTION = "q3"


def paper_gamma(values, k):
    values = np.asarray(values, dtype=float)
    n = values.size
    k_prime = np.sum(values / (1.0 + values))
    return k_prime / (n - k_prime) * (n - k) / k
