"""Normalises by det(L + I), the DPP's constant, instead of the sum over subsets of size k."""

QUESTION = "q2"


def kdpp_marginals(L, k):
    L = np.asarray(L, dtype=float)
    n = L.shape[0]
    weights = np.zeros(n)
    for subset in itertools.combinations(range(n), k):
        weights[list(subset)] += np.linalg.det(L[np.ix_(subset, subset)])
    return weights / np.linalg.det(L + np.eye(n))
