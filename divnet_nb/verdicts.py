"""Statistics a reviewer accepts: spreads with ddof = 1, paired intervals, and three-way verdicts.

Every comparison of two variants is made on the *same* networks, so it is decided on the
per-network (paired) differences. For a claim such as "k-DPP beats random" at one kept
size, the differences d_i = error_A(i) - error_B(i) over the n networks give a
two-sided Student t confidence interval for their mean (:func:`t_interval`, level
:data:`LEVEL`). The verdict at that size is

* **holds** when the whole interval lies on the claimed side of 0,
* **does not hold** when the whole interval lies on the other side (for a strict claim,
  an interval that is exactly 0 counts as the other side: no difference is no win),
* **not resolved** otherwise: the n networks cannot tell.

A claim made "at every kept size" holds when it holds at every size (an
intersection-union test, so no multiplicity correction is needed for "holds"); it does
not hold when it fails at some size (each size tested at the stated level, not
corrected for the number of sizes: the report lists the sizes); otherwise it is not
resolved. Claims about spreads (standard deviations) use a paired percentile bootstrap
over networks (:func:`bootstrap_interval`), which is coarse with 5 networks and is not
attempted with fewer than 3.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.stats

__all__ = [
    "LEVEL",
    "mean_std",
    "t_interval",
    "t_test",
    "holm",
    "decide_by_p",
    "bootstrap_interval",
    "decide",
    "combine",
    "paired_row",
    "holm_family",
]

#: Confidence level of every interval in the reports.
LEVEL = 0.95
#: Bootstrap resamples for spread claims (seeded: the same data give the same interval).
N_BOOTSTRAP = 4999

HOLDS, FAILS, OPEN = "holds", "does not hold", "not resolved"


def mean_std(values) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample standard deviation (ddof = 1, as MATLAB's ``std``) over axis 0.

    ``values`` has one row per network. With a single network the spread is NaN
    (undefined), never 0.
    """
    arr = np.asarray(values, dtype=float)
    mean = arr.mean(axis=0)
    if arr.shape[0] < 2:
        return mean, np.full_like(mean, np.nan)
    return mean, arr.std(axis=0, ddof=1)


def t_interval(differences, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, low, high): Student t interval for the mean of paired differences.

    With one difference the interval is (-inf, inf); when all differences are equal
    it is that value (no spread, nothing to be uncertain about).
    """
    d = np.asarray(differences, dtype=float).ravel()
    n = d.size
    mean = float(d.mean())
    if n < 2:
        return mean, -math.inf, math.inf
    s = float(d.std(ddof=1))
    if s == 0.0:
        return mean, mean, mean
    half = float(scipy.stats.t.ppf(0.5 + level / 2, n - 1)) * s / math.sqrt(n)
    return mean, mean - half, mean + half


def t_test(differences) -> float:
    """Two-sided p-value of the paired t-test that the mean of the differences is 0.

    The test of :func:`t_interval`: p < 1 - level exactly when its interval excludes 0.
    One difference gives 1 (nothing can be told); equal differences give 0 (no spread).
    """
    d = np.asarray(differences, dtype=float).ravel()
    if d.size < 2:
        return 1.0
    s = float(d.std(ddof=1))
    if s == 0.0:
        return 0.0
    t = float(d.mean()) / (s / math.sqrt(d.size))
    return float(2.0 * scipy.stats.t.sf(abs(t), d.size - 1))


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjusted p-values: reject where adjusted p < 1 - level, and the chance
    of any false rejection in the family stays below 1 - level (Holm 1979)."""
    p = np.asarray(p_values, dtype=float).ravel()
    m = p.size
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    out = np.empty(m)
    out[order] = adjusted
    return out


def decide_by_p(mean: float, p: float, claim: str = "<0", level: float = LEVEL) -> str:
    """The verdict of :func:`decide` from a (possibly adjusted) two-sided p-value: the sign of
    the mean decides when p < 1 - level; otherwise not resolved."""
    if claim not in ("<0", ">0"):
        raise ValueError(f"claim must be '<0' or '>0'; got {claim!r}")
    if p >= 1.0 - level:
        return OPEN
    below = mean < 0 if claim == "<0" else mean > 0
    return HOLDS if below else FAILS


def bootstrap_interval(statistic, samples, level: float = LEVEL, seed: int = 0):
    """(value, low, high): paired percentile bootstrap interval of ``statistic(*samples)``.

    ``samples`` are arrays with one entry per network, resampled together. Fewer than
    3 networks give (value, -inf, inf); one network gives (nan, -inf, inf).
    """
    samples = [np.asarray(s, dtype=float) for s in samples]
    if samples[0].size < 2:  # a spread of one network is undefined
        return math.nan, -math.inf, math.inf
    value = float(statistic(*samples))
    if samples[0].size < 3:
        return value, -math.inf, math.inf
    res = scipy.stats.bootstrap(
        samples,
        statistic,
        paired=True,
        vectorized=False,
        n_resamples=N_BOOTSTRAP,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return value, float(res.confidence_interval.low), float(res.confidence_interval.high)


def decide(low: float, high: float, claim: str) -> str:
    """Verdict for a claimed sign of a difference, given its interval [low, high].

    ``claim`` is ``"<0"`` (strictly below zero), ``"<=0"``, or ``">0"``.
    """
    if claim == "<0":
        return HOLDS if high < 0 else FAILS if low >= 0 else OPEN
    if claim == "<=0":
        return HOLDS if high <= 0 else FAILS if low > 0 else OPEN
    if claim == ">0":
        return HOLDS if low > 0 else FAILS if high <= 0 else OPEN
    raise ValueError(f"claim must be '<0', '<=0' or '>0'; got {claim!r}")


def combine(verdicts) -> str:
    """One verdict for a claim that must hold everywhere: all hold -> holds; any fails -> fails."""
    verdicts = list(verdicts)
    if verdicts and all(v == HOLDS for v in verdicts):
        return HOLDS
    if any(v == FAILS for v in verdicts):
        return FAILS
    return OPEN


def paired_row(differences, **labels) -> dict:
    """One paired comparison: ``labels``, then the mean of the per-network differences
    (negative: the first side's error is lower), its t-interval, the interval's own verdict
    on the claim "below zero" (``uncorrected``) and the two-sided p-value."""
    mean, low, high = t_interval(differences)
    return {
        **labels, "mean": mean, "interval": [low, high],
        "uncorrected": decide(low, high, "<0"), "p": t_test(differences),
    }  # fmt: skip


def holm_family(rows: list[dict]) -> list[dict]:
    """Add to each row of one family (:func:`paired_row`) Holm's adjusted p-value over the
    family (``p_holm``) and the verdict with it (``verdict``); returns ``rows``."""
    for row, p_adj in zip(rows, holm([r["p"] for r in rows]), strict=True):
        row["p_holm"] = float(p_adj)
        row["verdict"] = decide_by_p(row["mean"], p_adj, "<0")
    return rows
