"""Calls divnet_nb instead of enumerating: scores nothing on the hidden tests."""

QUESTION = "q2"


def kdpp_marginals(L, k):
    import divnet_nb as dn

    return dn.inclusion_probabilities(L, k)
