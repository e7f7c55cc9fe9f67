"""Does not clip round-off negative squared distances (entries above 1 for duplicates)."""

QUESTION = "q1"


def rbf_from_gram(G, n_samples, beta=None, eps=0.01):
    G = np.asarray(G, dtype=np.float64)
    beta = 10.0 / n_samples if beta is None else beta
    d = np.diag(G)
    return np.exp(-beta * (d[:, None] + d[None, :] - 2 * G)) + eps * np.eye(len(d))
