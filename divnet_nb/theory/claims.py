r"""Parameter-matched sweeps of pruned students and the verdicts of the analysed work's claims.

**Parameter matching** (as in the analysed work's public code; first
layer and v counted). A student
node-pruned to k units has N k + k parameters; one edge-pruned to e incoming edges per
unit keeps all K units, K e + K parameters. They match when

    e = (N k + k - K) / K,

which :func:`matched_edges` rounds to an integer (the rounding is ours: ``"floor"`` by default, so the
edge-pruned student never has more parameters than the node-pruned one; ``"nearest"``
rounds halves up, ``"ceil"`` up) and clips to [1, N]. Random-Bernoulli edge pruning
keeps each edge with probability c = e / N: e per unit on average.

:func:`parameter_matched_sweep` scores every node rule at each k in 1..K-1 and every edge
rule at its matched e, many masks each (:func:`~divnet_nb.theory.pruned.mask_errors`,
exact errors); :func:`state_claims` turns one or several sweeps (students) into verdicts:

1. DPP node pruning beats random node pruning: eps_g(node dpp) - eps_g(node random) < 0
   at the same k (claim ``"1"`` with the linear kernel of the analysed work, ``"1-rbf"``
   with DivNet's);
2. random edge pruning beats DPP node pruning at an equal number of parameters:
   eps_g(edge random, e) - eps_g(node dpp-linear, k) < 0 (claim ``"2"``, exactly e edges
   per unit; ``"2-bernoulli"``, each edge with probability e / N).

Each difference gets a :data:`~divnet_nb.verdicts.LEVEL` interval and the
project's three-way verdict (:func:`~divnet_nb.verdicts.decide`, "holds" /
"does not hold" / "not resolved"; over sizes, :func:`~divnet_nb.verdicts.combine`).
The rules' masks are drawn independently, so the interval is Welch's:
``across="masks"`` takes the students as given and pools their per-mask errors
(stratified: the mean over students of the per-student differences, variance
sum_s (s_A^2 / n_A + s_B^2 / n_B) / S^2, Welch-Satterthwaite degrees of freedom);
``across="students"`` pairs the rules on each student and uses the Student t interval of
the per-student mean differences (a claim about trained students in general; needs two
or more students).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.stats

from ..core._validate import as_count, as_rng, as_size
from ..verdicts import LEVEL, combine, decide, t_interval
from .pruned import (
    DEFAULT_INPUTS,
    DETERMINISTIC,
    EDGE_RULES,
    NODE_RULES,
    _dpp_edge_masks,
    _edge_errors,
    _inputs,
    _kind_rule,
    _node_errors,
    _student,
    _teacher,
    edge_masks,
    node_masks,
)
from .teacher_student import generalization_error, order_parameters

__all__ = [
    "CLAIMS",
    "Claim",
    "ClaimVerdict",
    "PrunedSweep",
    "SizeVerdict",
    "matched_edges",
    "parameter_matched_sweep",
    "state_claims",
    "sweep_table",
]

ROUNDINGS = ("floor", "nearest", "ceil")


def matched_edges(N, K, k, rounding: str = "floor") -> int:
    """Edges per unit e that match k kept units in parameters: (N k + k - K) / K, rounded, in [1, N].

    Integer arithmetic (no float round-off at halves): ``"floor"`` (default), ``"nearest"``
    (halves up) or ``"ceil"``.
    """
    N = as_count(N, "N", minimum=1)
    K = as_count(K, "K", minimum=1)
    k = as_size(k, K, "k", upper="K")
    num = N * k + k - K
    if rounding == "floor":
        e = num // K
    elif rounding == "nearest":
        e = (2 * num + K) // (2 * K)
    elif rounding == "ceil":
        e = -(-num // K)
    else:
        raise ValueError(f"rounding must be one of {ROUNDINGS}; got {rounding!r}")
    return int(min(max(e, 1), N))


@dataclass
class PrunedSweep:
    """One student's parameter-matched sweep: exact eps_g per mask, per rule and size.

    ``errors[label][i]`` holds the per-mask errors at ``sizes[i]`` kept units (node rules,
    labels ``"node <rule>"`` and ``"node <rule>+fuse"``) or ``edges[i]`` kept edges per unit
    (``"edge <rule>"``). Fused errors use the same masks as the plain ones (paired).
    """

    N: int
    K: int
    M: int
    sizes: np.ndarray
    edges: np.ndarray
    errors: dict[str, list[np.ndarray]]
    unpruned: float
    n_inputs: int
    rounding: str
    labels: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        self.labels = tuple(self.errors)

    def mean(self, label: str) -> np.ndarray:
        """Mean eps_g over masks at each size."""
        return np.array([e.mean() for e in self.errors[label]])

    def se(self, label: str) -> np.ndarray:
        """Standard error of :meth:`mean` (ddof = 1; 0 for one mask)."""
        return np.array([_var_of_mean(e) ** 0.5 for e in self.errors[label]])

    def table(self) -> str:
        """The sweep as a text table (mean +- standard error)."""
        return sweep_table([self])


def _var_of_mean(errors: np.ndarray) -> float:
    return float(errors.var(ddof=1) / errors.size) if errors.size > 1 else 0.0


def parameter_matched_sweep(
    W,
    v,
    W_star,
    v_star,
    *,
    sizes=None,
    node_rules=NODE_RULES,
    edge_rules=EDGE_RULES,
    n_masks=500,
    n_dpp_edge_masks=100,
    fuse=False,
    X=None,
    n_inputs=DEFAULT_INPUTS,
    rounding="floor",
    rng=None,
) -> PrunedSweep:
    """Exact eps_g of every rule at each kept size k and its matched e (:func:`matched_edges`).

    ``sizes`` defaults to 1..K-1. Random and node-DPP rules draw ``n_masks`` masks per size,
    the edge DPP ``n_dpp_edge_masks`` (one eigendecomposition per unit, then a sample per
    mask and size), deterministic rules one. One draw of P inputs (``X``, or ``n_inputs``
    fresh ones) serves the kernels and the fusion. ``fuse=True`` adds ``"node <rule>+fuse"``
    (our DivNet-style refit of v, :func:`~divnet_nb.theory.pruned.prune`) on the same masks.
    """
    W, v = _student(W, v)
    W_star, v_star = _teacher(W_star, v_star, W.shape[1])
    (K, N), M = W.shape, W_star.shape[0]
    for rule in node_rules:
        _kind_rule("node", rule)
    for rule in edge_rules:
        _kind_rule("edge", rule)
    if K < 2 and sizes is None:
        raise ValueError("W must have K >= 2 units for a sweep over k = 1..K-1")
    sizes = np.arange(1, K) if sizes is None else np.asarray(sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"sizes must be a non-empty 1-D list of kept unit counts; got {sizes!r}")
    sizes = np.array([as_size(k, K, "k", upper="K") for k in sizes.tolist()])
    edges = np.array([matched_edges(N, K, k, rounding) for k in sizes])
    n_masks = as_count(n_masks, "n_masks", minimum=2)
    n_dpp = as_count(n_dpp_edge_masks, "n_dpp_edge_masks", minimum=2)
    rng = as_rng(rng)
    X = _inputs(X, n_inputs, N, rng)
    errors: dict[str, list[np.ndarray]] = {}
    for rule in node_rules:
        n = 1 if ("node", rule) in DETERMINISTIC else n_masks
        masks = [node_masks(W, v, k, rule, n_masks=n, X=X, rng=rng) for k in sizes]
        errors[f"node {rule}"] = [_node_errors(W, v, W_star, v_star, m, False, X) for m in masks]
        if fuse:
            errors[f"node {rule}+fuse"] = [
                _node_errors(W, v, W_star, v_star, m, True, X) for m in masks
            ]
    for rule in edge_rules:
        if rule == "dpp":
            by_e = _dpp_edge_masks(W, edges.tolist(), n_dpp, X, rng)
            masks = [by_e[int(e)] for e in edges]
        else:
            n = 1 if ("edge", rule) in DETERMINISTIC else n_masks
            masks = [edge_masks(W, int(e), rule, n_masks=n, X=X, rng=rng) for e in edges]
        errors[f"edge {rule}"] = [_edge_errors(W, v, W_star, v_star, m) for m in masks]
    unpruned = generalization_error(*order_parameters(W, W_star), v, v_star)
    return PrunedSweep(N, K, M, sizes, edges, errors, unpruned, X.shape[0], rounding)


def _as_sweeps(sweeps) -> list[PrunedSweep]:
    sweeps = [sweeps] if isinstance(sweeps, PrunedSweep) else list(sweeps)
    if not sweeps or not all(isinstance(s, PrunedSweep) for s in sweeps):
        raise ValueError("sweeps must be a PrunedSweep or a non-empty list of them")
    first = sweeps[0]
    for s in sweeps[1:]:
        if (s.N, s.K) != (first.N, first.K) or not (
            np.array_equal(s.sizes, first.sizes) and np.array_equal(s.edges, first.edges)
        ):
            raise ValueError("sweeps must share N, K, the kept sizes and the matched edges")
    return sweeps


def sweep_table(sweeps) -> str:
    """Mean +- standard error per rule (rows) and size (columns), averaged over the sweeps' students.

    With S students the entry is the mean over students of the per-student means, its
    standard error sqrt(sum_s se_s^2) / S (students taken as given).
    """
    sweeps = _as_sweeps(sweeps)
    first = sweeps[0]
    labels = [lab for lab in first.labels if all(lab in s.errors for s in sweeps)]
    head = ["rule \\ k (e)"] + [f"{k} ({e})" for k, e in zip(first.sizes, first.edges, strict=True)]
    rows = []
    for lab in labels:
        mean = np.mean([s.mean(lab) for s in sweeps], axis=0)
        se = np.sqrt(np.sum([s.se(lab) ** 2 for s in sweeps], axis=0)) / len(sweeps)
        rows.append([lab] + [f"{m:.4f} ± {e:.4f}" for m, e in zip(mean, se, strict=True)])
    unpruned = np.mean([s.unpruned for s in sweeps])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *rows]]
    lines.append(f"unpruned: {unpruned:.4f} (mean over {len(sweeps)} student(s))")
    return "\n".join(lines)


@dataclass(frozen=True)
class Claim:
    """eps_g(``better``) - eps_g(``worse``) < 0 at each size; both are sweep labels."""

    name: str
    better: str
    worse: str
    statement: str


CLAIMS = (
    Claim("1", "node dpp-linear", "node random",
          "DPP node pruning (linear kernel) beats random node pruning at the same k"),
    Claim("1-rbf", "node dpp-rbf", "node random",
          "DPP node pruning (DivNet's RBF kernel) beats random node pruning at the same k"),
    Claim("2", "edge random", "node dpp-linear",
          "random edge pruning (e per unit) beats DPP node pruning at equal parameters"),
    Claim("2-bernoulli", "edge random-bernoulli", "node dpp-linear",
          "random Bernoulli edge pruning (c = e/N) beats DPP node pruning at equal parameters"),
)  # fmt: skip


@dataclass(frozen=True)
class SizeVerdict:
    """One size: the mean difference better - worse, its interval and the verdict there."""

    k: int
    e: int
    difference: float
    low: float
    high: float
    verdict: str


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim over all sizes: per-size rows and the combined verdict (holds only if it holds at every size)."""

    claim: Claim
    across: str
    rows: tuple[SizeVerdict, ...]
    verdict: str

    def __str__(self) -> str:
        sizes = "; ".join(
            f"k={r.k} (e={r.e}): {r.difference:+.4f} [{r.low:+.4f}, {r.high:+.4f}] {r.verdict}"
            for r in self.rows
        )
        return f"claim {self.claim.name} ({self.claim.statement}): {self.verdict} -- {sizes}"


def _welch(groups_a, groups_b, level: float) -> tuple[float, float, float]:
    """Stratified Welch interval for the mean over strata of mean(a_s) - mean(b_s)."""
    S = len(groups_a)
    diffs, terms, dfs = [], [], []
    for a, b in zip(groups_a, groups_b, strict=True):
        diffs.append(a.mean() - b.mean())
        for x in (a, b):
            if x.size > 1:
                terms.append(_var_of_mean(x) / S**2)
                dfs.append(x.size - 1)
    diff = float(np.mean(diffs))
    var = float(sum(terms))
    if var == 0.0:
        return diff, diff, diff
    df = var**2 / sum(t * t / d for t, d in zip(terms, dfs, strict=True) if t > 0)
    half = float(scipy.stats.t.ppf(0.5 + level / 2, df)) * math.sqrt(var)
    return diff, diff - half, diff + half


def state_claims(sweeps, claims=None, *, across="masks", level=LEVEL) -> list[ClaimVerdict]:
    """Verdicts of ``claims`` (default :data:`CLAIMS`) on one sweep or several students' sweeps.

    ``across="masks"``: stratified Welch intervals over the masks, students taken as
    given; ``across="students"``: paired over students (see the module notes). Default
    claims whose rules are not in the sweeps are skipped; claims passed explicitly must
    be there.
    """
    sweeps = _as_sweeps(sweeps)
    if across not in ("masks", "students"):
        raise ValueError(f"across must be 'masks' or 'students'; got {across!r}")
    if not (isinstance(level, float) and 0.0 < level < 1.0):
        raise ValueError(f"level must be a float in (0, 1); got {level!r}")
    present = set.intersection(*(set(s.errors) for s in sweeps))
    if claims is None:
        claims = [c for c in CLAIMS if {c.better, c.worse} <= present]
    for c in claims:
        if not isinstance(c, Claim):
            raise ValueError(f"claims must be Claim objects; got {type(c).__name__}")
        if missing := {c.better, c.worse} - present:
            raise ValueError(f"claim {c.name} needs rules the sweeps lack: {sorted(missing)}")
    first, out = sweeps[0], []
    for c in claims:
        rows = []
        for i, (k, e) in enumerate(zip(first.sizes, first.edges, strict=True)):
            a = [s.errors[c.better][i] for s in sweeps]
            b = [s.errors[c.worse][i] for s in sweeps]
            if across == "masks":
                diff, low, high = _welch(a, b, level)
            else:
                diff, low, high = t_interval(
                    [x.mean() - y.mean() for x, y in zip(a, b, strict=True)], level
                )
            rows.append(SizeVerdict(int(k), int(e), diff, low, high, decide(low, high, "<0")))
        out.append(ClaimVerdict(c, across, tuple(rows), combine(r.verdict for r in rows)))
    return out
