"""Clips the concrete sample s to [0, 1] without stretching it to (gamma, zeta) first: no exact zeros."""

QUESTION = "q1"


def hard_concrete_sample(log_alpha, u, beta=BETA, gamma=GAMMA, zeta=ZETA):
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha) / beta)
    return torch.clamp(s, 0.0, 1.0)
