"""Forgets the empty set: subsets start at size 1, so the probabilities no longer sum to 1."""

QUESTION = "q1"


def dpp_probabilities(L):
    L = np.asarray(L, dtype=float)
    n = L.shape[0]
    normaliser = np.linalg.det(L + np.eye(n))
    return {
        subset: np.linalg.det(L[np.ix_(subset, subset)]) / normaliser
        for size in range(1, n + 1)
        for subset in itertools.combinations(range(n), size)
    }
