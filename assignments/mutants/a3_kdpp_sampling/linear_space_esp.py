"""Elementary symmetric polynomials in linear space: overflow to inf at N = 1000, k = 400."""

QUESTION = "q1"


def log_esp(values, k):
    values = np.asarray(values, dtype=float)
    e = np.zeros(k + 1)
    e[0] = 1.0
    for lam in values:
        e[1:] = e[1:] + lam * e[:-1]
    with np.errstate(divide="ignore"):
        return np.log(e)
