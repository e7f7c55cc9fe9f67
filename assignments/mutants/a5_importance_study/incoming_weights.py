"""Scores neurons by their incoming weights (averaging the wrong axis of the next layer's weight)."""

QUESTION = "q1"


def onorm(next_weight):
    return np.abs(np.asarray(next_weight, dtype=float)).mean(axis=1)
