"""Takes C(S) as the removed neurons' block of G, without the Schur complement: deletion's error, not fusion's."""

QUESTION = "q1"


def fusion_error(G, W, keep):
    G = np.asarray(G, dtype=float)
    W = np.asarray(W, dtype=float)
    removed = np.setdiff1d(np.arange(G.shape[0]), np.asarray(keep, dtype=int))
    return float(np.sum(W[removed] * (G[np.ix_(removed, removed)] @ W[removed])))
