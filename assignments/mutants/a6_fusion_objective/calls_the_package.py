"""Calls divnet_nb's objective instead of computing E: right values, and nothing on the hidden tests."""

QUESTION = "q1"


def fusion_error(G, W, keep):
    from divnet_nb.core.objective import fusion_error as package_error

    return package_error(G, W, keep)
