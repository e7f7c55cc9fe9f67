"""Returns rows in sorted neuron order, whatever the order of keep."""

QUESTION = "q1"


def fuse_from_gram(G, keep, W):
    G = np.asarray(G, dtype=float)
    W = np.asarray(W, dtype=float)
    keep = np.sort(np.asarray(keep))
    removed = np.setdiff1d(np.arange(G.shape[0]), keep)
    alpha = np.linalg.solve(G[np.ix_(keep, keep)], G[np.ix_(keep, removed)])
    return W[keep] + alpha @ W[removed]
