r"""The teacher-student experiment of notebook 12, as one JSON-serialisable dict.

:func:`teacher_student_experiment` trains a few students by online SGD
(:func:`~divnet_nb.theory.online_sgd`), records their learning curves beside the ODE's
(:func:`~divnet_nb.theory.ode_learning_curve`, from the first student's initial order
parameters) and the ODE restarted from each student's own state every record
(:func:`ode_restarts`), runs the parameter-matched sweep of every node and edge rule on each
trained student (:func:`~divnet_nb.theory.parameter_matched_sweep`) and states the analysed
work's claims (:func:`~divnet_nb.theory.state_claims`, across masks and across students).
:func:`theory_markdown`, :func:`plot_pruned` and :func:`plot_learning_curves` show the result.

Each student is an independent replicate: student i draws its own teacher W* ~ N(0, 1)
(M x N, v* = ``v_star`` for every teacher unit) and its own start W, v ~ 0.1 N(0, 1) from
``SeedSequence(seed, spawn_key=(i,))`` (the i-th spawn of ``SeedSequence(seed)``), as
:func:`train_student` does alone. Fusion variants (``fuse=True``, labels ``"node <rule>+fuse"``)
are our DivNet-style refit of v, not part of the analysed work; they take no part in the claims.

numpy, scipy and tqdm; the plots draw on matplotlib axes the caller passes (no import of it here).
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from tqdm import tqdm

from ..core._validate import as_count, as_positive_real
from .claims import matched_edges, parameter_matched_sweep, state_claims
from .ode import ode_learning_curve
from .online import online_sgd
from .pruned import DEFAULT_INPUTS

__all__ = [
    "FAST_SETTINGS",
    "matched_parameters",
    "mean_masked_order_parameters",
    "ode_restarts",
    "plot_learning_curves",
    "plot_pruned",
    "specialised_student",
    "teacher_student_experiment",
    "theory_markdown",
    "train_student",
    "unit_roles",
]

#: Settings for CI and fast mode: seconds, not the result (N = 100, few masks); use the defaults.
FAST_SETTINGS = {
    "N": 100,
    "steps": 100_000,
    "n_masks": 100,
    "n_dpp_edge_masks": 20,
    "n_inputs": 400,
}

_COLOURS = {
    "node random": "tab:gray", "node dpp-linear": "tab:blue", "node dpp-rbf": "tab:purple",
    "node importance": "tab:olive", "edge random-bernoulli": "tab:orange", "edge random": "tab:red",
    "edge magnitude": "tab:green", "edge dpp": "tab:cyan",
}  # fmt: skip


def _seeds(seed: int, student: int) -> list[np.random.SeedSequence]:
    """(start, SGD, sweep) seed sequences of one student."""
    return np.random.SeedSequence(seed, spawn_key=(student,)).spawn(3)


def _ode_method(K: int) -> str:
    return "LSODA" if K <= 10 else "RK45"  # ode_learning_curve's measured advice


def _records(steps: int, N: int) -> int:
    """One record every alpha = 10 (at least 10 records, at most 1000)."""
    return int(min(max(round(steps / (10 * N)), 10), 1000))


def train_student(
    *, N=500, M=2, K=6, v_star=4.0, eta=0.5, steps=800_000, records=None, seed=0, student=0
):
    """Student ``student`` of :func:`teacher_student_experiment`: (W_star, v_star vector, LearningCurve).

    The teacher W* ~ N(0, 1) and the start W, v ~ 0.1 N(0, 1) come from the student's seed
    sequence; the run records every alpha = 10 unless ``records`` is given.
    """
    N, M, K = as_count(N, "N", minimum=1), as_count(M, "M", minimum=1), as_count(K, "K", minimum=1)
    steps = as_count(steps, "steps", minimum=1)
    start, sgd, _ = _seeds(as_count(seed, "seed"), as_count(student, "student"))
    rng = np.random.default_rng(start)
    W_star = rng.standard_normal((M, N))
    W, v = 0.1 * rng.standard_normal((K, N)), 0.1 * rng.standard_normal(K)
    vs = np.full(M, as_positive_real(v_star, "v_star"))
    records = _records(steps, N) if records is None else records
    run = online_sgd(
        W, v, W_star, vs, eta=eta, steps=steps, records=records, rng=np.random.default_rng(sgd)
    )
    return W_star, vs, run


def ode_restarts(run, v_star, *, eta=0.5, window=1) -> np.ndarray:
    """(eps_sim - eps_ode) / eps_ode at records j + window, the ODE restarted from the run's state at j.

    ``run`` is a :class:`~divnet_nb.theory.LearningCurve`; one value per window start
    j = 0, window, 2 window, ... The ODE's drift without the escape time accumulated since 0.
    """
    window = as_count(window, "window", minimum=1)
    method, out = _ode_method(run.v.shape[1]), []
    for j in range(0, run.alpha.size - window, window):
        span = [0.0, run.alpha[j + window] - run.alpha[j]]
        want = ode_learning_curve(run.Q[j], run.R[j], run.T, run.v[j], v_star, eta=eta, alpha=span,
                                  method=method).error[-1]  # fmt: skip
        out.append((run.error[j + window] - want) / want)
    return np.asarray(out)


def unit_roles(Q, R, T, v) -> dict:
    """Which teacher unit each student unit copies, and how: {teacher, cosine, v, flipped}.

    ``cosine[i]`` = R_in / sqrt(Q_ii T_nn) for the teacher unit n of largest |cosine|; a unit
    with cosine < 0 is a sign-flipped copy (-w, -v) when v_i has the opposite sign of v*_n:
    it computes the same function (erf is odd), the linear kernel sees it as collinear with
    a plain copy and DivNet's RBF kernel over g(lambda) as maximally different.
    ``flipped`` counts the units with cosine < 0.
    """
    Q, R, T, v = (np.asarray(x, dtype=np.float64) for x in (Q, R, T, v))
    cos = R / np.sqrt(np.outer(np.diag(Q), np.diag(T)))
    teacher = np.argmax(np.abs(cos), axis=1)
    c = cos[np.arange(cos.shape[0]), teacher]
    return {
        "teacher": teacher.tolist(),
        "cosine": c.tolist(),
        "v": v.tolist(),
        "flipped": int(np.sum(c < 0)),
    }


def mean_masked_order_parameters(Q, R, c) -> tuple[np.ndarray, np.ndarray]:
    """(E[Q~], E[R~]) over random edge masks keeping each edge with probability c (or e = cN per unit).

    Masks of different units are independent, so E[Q~_ik] = c^2 Q_ik (i != k),
    E[Q~_ii] = c Q_ii and E[R~_in] = c R_in.
    """
    c = as_positive_real(c, "c")
    if c > 1:
        raise ValueError(f"c must be a keep probability in (0, 1]; got {c}")
    Q = np.asarray(Q, dtype=np.float64)
    return c * c * Q + c * (1 - c) * np.diag(np.diag(Q)), c * np.asarray(R, dtype=np.float64)


def specialised_student(M, K, v_star, c=1.0):
    """(Q, R, T, v, v_star) of the ideal specialised student at its mean edge-masked order parameters.

    K / M exact copies of each of M orthonormal teacher units (T = I), v = v* / (K / M):
    Q~_ii = c, Q~_ik = c^2 for copies of one teacher unit, 0 otherwise, R~_in = c for a copy of n.
    """
    M, K = as_count(M, "M", minimum=1), as_count(K, "K", minimum=1)
    if K % M:
        raise ValueError(
            f"K must be a multiple of M for K / M copies of each teacher unit; got K = {K}, M = {M}"
        )
    r, of = K // M, np.repeat(np.arange(M), K // M)
    R = (of[:, None] == np.arange(M)[None, :]).astype(float)
    Q, R = mean_masked_order_parameters(R @ R.T, R, c)
    v_star = as_positive_real(v_star, "v_star")
    return Q, R, np.eye(M), np.full(K, v_star / r), np.full(M, v_star)


def matched_parameters(N, K, k, rounding="floor") -> tuple[int, int, int]:
    """(e, node parameters, edge parameters) for k kept units: (N + 1) k and K (e + 1), e matched."""
    e = matched_edges(N, K, k, rounding)
    return e, (N + 1) * int(k), K * (e + 1)


def _finite(x) -> float | None:
    return float(x) if math.isfinite(x) else None


def _verdicts(sweeps, across) -> dict:
    return {
        c.claim.name: {
            "statement": c.claim.statement, "better": c.claim.better, "worse": c.claim.worse,
            "verdict": c.verdict,
            "rows": [{"k": r.k, "e": r.e, "difference": float(r.difference), "low": _finite(r.low),
                      "high": _finite(r.high), "verdict": r.verdict} for r in c.rows],
        }
        for c in state_claims(sweeps, across=across)
    }  # fmt: skip


def teacher_student_experiment(
    *, N=500, M=2, K=6, v_star=4.0, eta=0.5, steps=800_000, students=3, n_masks=500,
    n_dpp_edge_masks=100, n_inputs=DEFAULT_INPUTS, fuse=False, restarts=True, seed=0, progress=False,
) -> dict:  # fmt: skip
    """Train ``students`` students, compare their learning curves with the ODE, sweep every pruning rule.

    Defaults are the analysed work's setting (N = 500, M = 2, K = 6, v* = 4, eta = 0.5,
    800,000 steps). :data:`FAST_SETTINGS` (N = 100, 100,000 steps, 100 masks) runs in
    seconds for CI and fast mode; its numbers are not the result. ``fuse=True`` adds our
    fusion variants; ``restarts=False`` skips :func:`ode_restarts`; ``progress`` shows a tqdm
    bar on stderr.

    Returns a dict of plain lists and numbers: ``settings``; ``sizes`` (k = 1..K-1), ``edges``
    (matched e) and ``parameters`` (node (N + 1) k, edge K (e + 1), unpruned (N + 1) K);
    ``rules`` (sweep labels); ``students`` (per student: ``unpruned`` eps_g, ``curve``
    {alpha, error}, ``roles`` (:func:`unit_roles` of the trained student), ``restart``
    {relative, mean_abs, mean}, ``sweep`` {label: {mean, se, n} per size}); ``ode`` {alpha,
    error}; ``pooled`` {label: {mean, se}} (mean over students of the per-student means,
    se sqrt(sum se^2) / S); ``unpruned`` (mean); ``claims`` {"masks"|"students": {name:
    {statement, better, worse, verdict, rows [{k, e, difference, low, high, verdict}]}}}
    (an infinite bound, one student across students, is None); ``timing`` in seconds.
    """
    t0 = time.perf_counter()
    N, M, K = as_count(N, "N", minimum=2), as_count(M, "M", minimum=1), as_count(K, "K", minimum=2)
    students = as_count(students, "students", minimum=1)
    eta, v_star = as_positive_real(eta, "eta"), as_positive_real(v_star, "v_star")
    steps, seed = as_count(steps, "steps", minimum=1), as_count(seed, "seed")
    n_masks = as_count(n_masks, "n_masks", minimum=2)
    n_dpp = as_count(n_dpp_edge_masks, "n_dpp_edge_masks", minimum=2)
    n_inputs = as_count(n_inputs, "n_inputs", minimum=2)
    records = _records(steps, N)
    settings = dict(N=N, M=M, K=K, v_star=v_star, eta=eta, steps=steps, students=students, n_masks=n_masks,
                    n_dpp_edge_masks=n_dpp, n_inputs=n_inputs, fuse=bool(fuse), restarts=bool(restarts),
                    seed=seed, records=records, rounding="floor")  # fmt: skip
    timing = {"train": 0.0, "ode": 0.0, "restarts": 0.0, "sweep": 0.0}
    bar = tqdm(total=2 * students + 1, desc="teacher-student", disable=not progress, leave=False,
               file=sys.stderr, mininterval=1.0)  # fmt: skip
    sweeps, per_student, first = [], [], None
    for i in range(students):
        bar.set_postfix_str(f"student {i}: SGD")
        t = time.perf_counter()
        W_star, vs, run = train_student(N=N, M=M, K=K, v_star=v_star, eta=eta, steps=steps,
                                        records=records, seed=seed, student=i)  # fmt: skip
        timing["train"] += time.perf_counter() - t
        first = first or (run, vs)
        bar.update()
        restart = {"relative": [], "mean_abs": None, "mean": None}
        if restarts:
            t = time.perf_counter()
            rel = ode_restarts(run, vs, eta=eta)
            restart = {
                "relative": rel.tolist(),
                "mean_abs": float(np.abs(rel).mean()),
                "mean": float(rel.mean()),
            }
            timing["restarts"] += time.perf_counter() - t
        bar.set_postfix_str(f"student {i}: sweep")
        t = time.perf_counter()
        sweep = parameter_matched_sweep(run.W, run.v_final, W_star, vs, n_masks=n_masks, n_dpp_edge_masks=n_dpp,
                                        fuse=fuse, n_inputs=n_inputs, rng=np.random.default_rng(_seeds(seed, i)[2]))  # fmt: skip
        timing["sweep"] += time.perf_counter() - t
        bar.update()
        sweeps.append(sweep)
        per_student.append({
            "unpruned": float(sweep.unpruned),
            "curve": {"alpha": run.alpha.tolist(), "error": run.error.tolist()},
            "roles": unit_roles(run.Q[-1], run.R[-1], run.T, run.v[-1]),
            "restart": restart,
            "sweep": {lab: {"mean": sweep.mean(lab).tolist(), "se": sweep.se(lab).tolist(),
                            "n": [int(e.size) for e in sweep.errors[lab]]} for lab in sweep.labels},
        })  # fmt: skip
    bar.set_postfix_str("ODE")
    t = time.perf_counter()
    run, vs = first
    ode = ode_learning_curve(
        run.Q[0], run.R[0], run.T, run.v[0], vs, eta=eta, alpha=run.alpha, method=_ode_method(K)
    )
    timing["ode"] = time.perf_counter() - t
    bar.update()
    bar.close()
    labels, S = list(sweeps[0].labels), len(sweeps)
    pooled = {
        lab: {"mean": np.mean([s.mean(lab) for s in sweeps], axis=0).tolist(),
              "se": (np.sqrt(np.sum([s.se(lab) ** 2 for s in sweeps], axis=0)) / S).tolist()}
        for lab in labels
    }  # fmt: skip
    sizes, edges = sweeps[0].sizes.tolist(), sweeps[0].edges.tolist()
    timing["total"] = time.perf_counter() - t0
    return {
        "settings": settings,
        "sizes": [int(k) for k in sizes],
        "edges": [int(e) for e in edges],
        "parameters": {
            "node": [(N + 1) * int(k) for k in sizes],
            "edge": [K * (int(e) + 1) for e in edges],
            "unpruned": (N + 1) * K,
        },  # fmt: skip
        "rules": labels,
        "students": per_student,
        "ode": {"alpha": ode.alpha.tolist(), "error": ode.error.tolist()},
        "pooled": pooled,
        "unpruned": float(np.mean([s.unpruned for s in sweeps])),
        "claims": {across: _verdicts(sweeps, across) for across in ("masks", "students")},
        "timing": timing,
    }


def _label(lab: str) -> str:
    return lab.replace("+fuse", " + fusion (ours)")


def theory_markdown(result) -> str:
    """The pooled table (eps_g mean ± SE per rule and matched size, kept parameters) and one line per claim."""
    s, sizes, edges = result["settings"], result["sizes"], result["edges"]
    par = result["parameters"]
    head = (
        "| rule | "
        + " | ".join(f"k = {k}, e = {e}" for k, e in zip(sizes, edges, strict=True))
        + " |"
    )
    lines = [
        f"eps_g of pruned students (N = {s['N']}, M = {s['M']}, K = {s['K']}, v* = {s['v_star']:g}, "
        f"eta = {s['eta']:g}, {s['steps']:,} steps; mean ± SE over masks, {s['students']} student(s); "
        f"unpruned {result['unpruned']:.4f}, {par['unpruned']:,} parameters)",
        "",
        head,
        "|---|" + "---:|" * len(sizes),
        "| *kept parameters, node / edge* | "
        + " | ".join(f"{a:,} / {b:,}" for a, b in zip(par["node"], par["edge"], strict=True)) + " |",
    ]  # fmt: skip
    for lab in result["rules"]:
        p = result["pooled"][lab]
        cells = " | ".join(f"{m:.4f} ± {e:.4f}" for m, e in zip(p["mean"], p["se"], strict=True))
        lines.append(f"| {_label(lab)} | {cells} |")
    lines += [
        "",
        "Claims (95 % intervals of eps_g(better) - eps_g(worse); the claim is that it is < 0):",
        "",
    ]
    for name, masks in result["claims"]["masks"].items():
        parts = []
        for across in ("masks", "students"):
            c = result["claims"][across][name]
            rows = "; ".join(
                f"k={r['k']}: {r['difference']:+.4f} [{_bound(r['low'])}, {_bound(r['high'])}]"
                for r in c["rows"]
            )
            parts.append(f"across {across} **{c['verdict']}** ({rows})")
        lines.append(f"* **Claim {name}**, {masks['statement']}: " + "; ".join(parts))
    return "\n".join(lines)


def _bound(x) -> str:
    return "±inf" if x is None else f"{x:+.4f}"


def plot_pruned(result, ax):
    """eps_g (log) against kept parameters: node rules dashed (fusion dotted), edge rules solid, SE bars."""
    with _style():
        return _plot_pruned(result, ax)


def _style():
    """The package's figure style (:data:`divnet_nb.report.figures.STYLE`) as a context."""
    import matplotlib

    from ..report.figures import STYLE

    return matplotlib.rc_context(STYLE)


def _plot_pruned(result, ax):
    par = result["parameters"]
    for lab in result["rules"]:
        kind, rule = lab.split(" ", 1)
        base, fused = lab.removesuffix("+fuse"), lab.endswith("+fuse")
        p = result["pooled"][lab]
        style = ":" if fused else "--" if kind == "node" else "-"
        ax.errorbar(par[kind], p["mean"], yerr=p["se"], ls=style, color=_COLOURS.get(base, "k"),
                    marker="s" if fused else "o" if kind == "node" else "^", ms=4, capsize=2, lw=1.4,
                    mfc="none" if fused else None, label=_label(lab))  # fmt: skip
    ax.axhline(result["unpruned"], color="k", lw=0.8, label="unpruned")
    ax.set_yscale("log")
    ax.set_xlabel("kept parameters (first layer + v)")
    ax.set_ylabel(r"generalisation error $\epsilon_g$ (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes
    return ax


def plot_learning_curves(result, ax):
    """Each student's simulated eps_g (thin) and the ODE from the first student's start (thick), log-log."""
    with _style():
        return _plot_learning_curves(result, ax)


def _plot_learning_curves(result, ax):
    for i, st in enumerate(result["students"]):
        a, e = np.asarray(st["curve"]["alpha"]), np.asarray(st["curve"]["error"])
        ax.plot(a[1:], e[1:], lw=0.9, alpha=0.8, label=f"simulation, student {i}")
    a, e = np.asarray(result["ode"]["alpha"]), np.asarray(result["ode"]["error"])
    ax.plot(a[1:], e[1:], color="k", lw=2.5, alpha=0.7, label="ODE (student 0's start)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\alpha$ = steps / N")
    ax.set_ylabel(r"$\epsilon_g$ (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return ax
