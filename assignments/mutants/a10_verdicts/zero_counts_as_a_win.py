"""Lets an interval that ends at zero decide a strict claim: '<0' holds when high <= 0."""

QUESTION = "q2"


def verdict(low, high, claim):
    if claim in ("<0", "<=0"):
        return "holds" if high <= 0 else "does not hold" if low > 0 else "not resolved"
    if claim == ">0":
        return "holds" if low >= 0 else "does not hold" if high < 0 else "not resolved"
    raise ValueError(f"claim must be '<0', '<=0' or '>0'; got {claim!r}")
