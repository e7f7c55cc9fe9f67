"""Adds beta log(-gamma / zeta) instead of subtracting it."""

QUESTION = "q2"


def prob_nonzero(log_alpha, beta=BETA, gamma=GAMMA, zeta=ZETA):
    return torch.sigmoid(log_alpha + beta * math.log(-gamma / zeta))
