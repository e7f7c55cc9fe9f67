"""Uses beta = 10 instead of 10 / |T|."""

QUESTION = "q1"


def rbf_from_gram(G, n_samples, beta=None, eps=0.01):
    G = np.asarray(G, dtype=np.float64)
    beta = 10.0 if beta is None else beta
    d = np.diag(G)
    return np.exp(-beta * np.maximum(d[:, None] + d[None, :] - 2 * G, 0.0)) + eps * np.eye(len(d))
