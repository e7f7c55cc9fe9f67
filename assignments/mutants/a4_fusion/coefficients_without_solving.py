"""Takes the inner products G_SR as the coefficients, without solving G_SS alpha = G_SR."""

QUESTION = "q1"


def fuse_from_gram(G, keep, W):
    G = np.asarray(G, dtype=float)
    W = np.asarray(W, dtype=float)
    keep = np.asarray(keep)
    removed = np.setdiff1d(np.arange(G.shape[0]), keep)
    return W[keep] + G[np.ix_(keep, removed)] @ W[removed]
