"""A test-time gate that never reaches exact zero: sigmoid(log alpha), unstretched."""

QUESTION = "q3"


def test_gate(log_alpha, gamma=GAMMA, zeta=ZETA):
    return torch.sigmoid(log_alpha)
