"""Returns only the moved weights alpha W_R, forgetting the kept neurons' own W_S."""

QUESTION = "q1"


def fuse_from_gram(G, keep, W):
    G = np.asarray(G, dtype=float)
    W = np.asarray(W, dtype=float)
    keep = np.asarray(keep)
    removed = np.setdiff1d(np.arange(G.shape[0]), keep)
    return np.linalg.solve(G[np.ix_(keep, keep)], G[np.ix_(keep, removed)]) @ W[removed]
