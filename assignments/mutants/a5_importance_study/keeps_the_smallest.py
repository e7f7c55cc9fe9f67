"""Sorts ascending: keeps the k least important neurons."""

QUESTION = "q2"


def keep_by_importance(scores, k):
    return np.sort(np.argsort(np.asarray(scores), kind="stable")[:k])
