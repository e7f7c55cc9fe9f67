"""Swaps the roles of the two sets: solves on the removed edges, moving the kept ones onto them."""

QUESTION = "q2"


def reweight_layer(G, W, mask):
    G = np.asarray(G, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    live = np.diag(G) > 0
    out = np.where(mask, 0.0, W)
    for h in range(W.shape[0]):
        keep = np.flatnonzero(mask[h] & live)
        removed = np.flatnonzero(~mask[h] & live)
        if keep.size and removed.size:
            delta = np.linalg.lstsq(G[np.ix_(removed, removed)], G[np.ix_(removed, keep)] @ W[h, keep], rcond=None)[0]
            out[h, removed] += delta
    return out
