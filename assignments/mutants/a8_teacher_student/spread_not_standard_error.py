"""Returns the spread of the squared errors as the standard error, without dividing by sqrt(n)."""

QUESTION = "q2"


def monte_carlo_error(W, v, W_star, v_star, n, rng):
    W, W_star = np.asarray(W, dtype=float), np.asarray(W_star, dtype=float)
    N = W.shape[1]
    halves = []
    done = 0
    while done < n:
        rows = min(10_000, n - done)
        X = rng.standard_normal((rows, N))
        y_hat = erf(X @ W.T / math.sqrt(2 * N)) @ np.asarray(v, dtype=float)
        y = erf(X @ W_star.T / math.sqrt(2 * N)) @ np.asarray(v_star, dtype=float)
        halves.append(0.5 * (y_hat - y) ** 2)
        done += rows
    half = np.concatenate(halves)
    return half.mean(), half.std(ddof=1)
