"""Updates C by rank one after each addition but leaves M = C W as it was at the start."""

QUESTION = "q2"


def greedy_forward(G, W, k):
    C = np.array(G, dtype=float)
    M = C @ np.asarray(W, dtype=float)
    tol = 1e-12 * np.max(np.diag(C))
    free = np.ones(C.shape[0], dtype=bool)
    err = float(np.sum(np.asarray(W, dtype=float) * M))
    order, errors = [], [err]
    for _ in range(k):
        diag = np.diag(C)
        gain = np.full(C.shape[0], -np.inf)
        live = free & (diag > tol)
        gain[live] = np.sum(M[live] ** 2, axis=1) / diag[live]
        j = int(np.argmax(gain))
        c, d, mj = C[:, j].copy(), C[j, j], M[j].copy()
        err = max(err - float(mj @ mj) / d, 0.0)
        C -= np.outer(c, c) / d
        free[j] = False
        order.append(j)
        errors.append(err)
    return np.array(order), np.array(errors)
