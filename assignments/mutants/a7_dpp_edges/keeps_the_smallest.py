"""Builds the mask by magnitude but sorts ascending: keeps the k smallest weights of every unit."""

QUESTION = "q3"


def magnitude_mask(W, k):
    W = np.asarray(W)
    order = np.argsort(np.abs(W), axis=1, kind="stable")[:, :k]
    mask = np.zeros(W.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask
