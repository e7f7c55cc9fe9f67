"""Forgets the cross term of the squared distance: w_a^2 G_aa + w_b^2 G_bb, without - 2 w_a w_b G_ab."""

QUESTION = "q1"


def edge_kernel(G, w, n_samples, beta=None, eps=0.01):
    G = np.asarray(G, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if beta is None:
        beta = 10.0 / n_samples
    d = np.diag(G) * w * w
    squared = d[:, None] + d[None, :]
    return np.exp(-beta * squared) + eps * np.eye(G.shape[0])
