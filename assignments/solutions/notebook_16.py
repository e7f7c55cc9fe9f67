"""Solutions to the coding exercises of notebook 16 (how a verdict is reached).

Each ``exercise_N`` returns what the exercise asks for; its docstring gives the written part of
the answer. ``tests/test_solutions.py`` runs them.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

from divnet_nb.verdicts import LEVEL, holm


def holm_by_definition(p) -> np.ndarray:
    """Holm's adjusted p-values: sorted, the l-th smallest times (m - l + 1), a running maximum
    over the sorted order, capped at 1, put back in the original order."""
    p = np.asarray(p, dtype=float).ravel()
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.empty(m)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


def exercise_2(rng, m: int = 8) -> dict:
    """Holm's adjusted p-values by hand against :func:`divnet_nb.verdicts.holm`, and a family
    of three p-values where Holm calls out a size that Bonferroni does not.

    With p = (0.01, 0.02, 0.03) and alpha = 0.05, Bonferroni multiplies each by 3 and calls out
    only the first (0.03 < 0.05; 0.06 and 0.09 are not). Holm multiplies the smallest by 3, the
    next by 2 and the largest by 1: 0.03, 0.04, 0.04 after the running maximum, so all three
    are called out. Holm is never less powerful than Bonferroni and controls the same error.
    """
    p = rng.random(m)
    family = np.array([0.01, 0.02, 0.03])
    alpha = 1 - LEVEL
    return {
        "max_difference": float(np.max(np.abs(holm_by_definition(p) - holm(p)))),
        "family": family,
        "holm_calls": holm_by_definition(family) < alpha,
        "bonferroni_calls": np.minimum(1.0, family.size * family) < alpha,
    }


def exercise_3(rng, sizes=(1, 3, 11), networks: int = 5, simulations: int = 4000) -> dict:
    """How often "holds at every size" is wrongly concluded when no size has a difference.

    For one size the interval lies below zero with probability alpha / 2 (one tail of a
    two-sided interval). Asking for every size at once can only make that rarer: the event
    "all intervals below zero" is inside the event "this one interval below zero", so its
    probability is at most alpha / 2 whatever the number of sizes. A claim that must hold
    everywhere (an intersection-union test) therefore needs no correction.
    """
    quantile = scipy.stats.t.ppf(0.5 + LEVEL / 2, networks - 1)
    rates = {}
    for m in sizes:
        d = rng.normal(0.0, 1.0, size=(simulations, m, networks))
        high = d.mean(axis=2) + quantile * d.std(axis=2, ddof=1) / math.sqrt(networks)
        rates[m] = float(np.mean((high < 0).all(axis=1)))
    return {"holds_wrongly": rates, "one_tail": (1 - LEVEL) / 2}
