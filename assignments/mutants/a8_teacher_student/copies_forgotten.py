"""Drops the overlap of the copies of one teacher unit, the r (r - 1) term of the edge-pruned error."""

QUESTION = "q3"


def edge_pruned_ideal(c, M, K, v_star):
    r = K // M
    a = v_star / r
    return M / math.pi * (
        r * a * a * math.asin(c / (1 + c))
        + v_star**2 * math.asin(0.5)
        - 2 * r * a * v_star * math.asin(c / math.sqrt(2 * (1 + c)))
    )
