"""Picks the neuron with the largest residual variance C_jj, never looking at W: a pivoted Cholesky (pure ID)."""

QUESTION = "q2"


def greedy_forward(G, W, k):
    C = np.array(G, dtype=float)
    M = C @ np.asarray(W, dtype=float)
    free = np.ones(C.shape[0], dtype=bool)
    err = float(np.sum(np.asarray(W, dtype=float) * M))
    order, errors = [], [err]
    for _ in range(k):
        j = int(np.argmax(np.where(free, np.diag(C), -np.inf)))
        c, d, mj = C[:, j].copy(), C[j, j], M[j].copy()
        err = max(err - float(mj @ mj) / d, 0.0)
        C -= np.outer(c, c) / d
        M -= np.outer(c, mj) / d
        free[j] = False
        order.append(j)
        errors.append(err)
    return np.array(order), np.array(errors)
