"""Picks items uniformly, ignoring V: the right size, the wrong distribution."""

QUESTION = "q2"


def sample_projection(V, u):
    n, r = np.asarray(V).shape
    items = []
    for t in range(r):
        rest = [i for i in range(n) if i not in items]
        items.append(rest[min(int(u[t] * len(rest)), len(rest) - 1)])
    return np.sort(np.array(items))
