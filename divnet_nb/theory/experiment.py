r"""The teacher-student experiment of notebook 12, as one JSON-serialisable dict.

:func:`teacher_student_experiment` trains a few students by online SGD
(:func:`~divnet_nb.theory.online_sgd`), records their learning curves beside the ODE's
(:func:`~divnet_nb.theory.ode_learning_curve`, from the first student's initial order
parameters) and the ODE restarted from each student's own state every record
(:func:`ode_restarts`), runs the parameter-matched sweep of every node and edge rule on each
trained student (:func:`~divnet_nb.theory.parameter_matched_sweep`) and states the analysed
work's claims (:func:`~divnet_nb.theory.state_claims`, across masks and across students).
:mod:`divnet_nb.report.theory` shows the result.

Each student is an independent replicate: student i draws its own teacher W* ~ N(0, 1)
(M x N, v* = ``v_star`` for every teacher unit) and its own start W, v ~ 0.1 N(0, 1) from
``SeedSequence(seed, spawn_key=(i,))`` (the i-th spawn of ``SeedSequence(seed)``), as
:func:`train_student` does alone. Fusion variants (``fuse=True``, labels ``"node <rule>+fuse"``)
are our DivNet-style refit of v, not part of the analysed work; they take no part in the claims.

The experiment is the ``theory`` experiment of :mod:`divnet_nb.tasks` (:class:`Theory`):
one part per student (:func:`student_part`), gathered by :func:`gather_students`. Its
table and plots are in :mod:`divnet_nb.report.theory`. numpy and scipy only.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
import time
from dataclasses import dataclass

import numpy as np

from ..core._validate import as_count, as_positive_real
from ..tasks.protocol import ExperimentProtocol, SettingError, register_experiment
from .claims import PrunedSweep, matched_edges, parameter_matched_sweep, state_claims
from .ode import ode_learning_curve
from .online import online_sgd
from .pruned import DEFAULT_INPUTS

__all__ = [
    "FAST_SETTINGS",
    "matched_parameters",
    "mean_masked_order_parameters",
    "ode_restarts",
    "specialised_student",
    "student_part",
    "gather_students",
    "teacher_student_experiment",
    "train_student",
    "unit_roles",
    "Theory",
    "TheorySettings",
]

#: Settings for CI and fast mode: seconds, not the result (N = 100, few masks); use the defaults.
FAST_SETTINGS = {
    "N": 100,
    "steps": 100_000,
    "n_masks": 100,
    "n_dpp_edge_masks": 20,
    "n_inputs": 400,
}


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


@dataclass(frozen=True)
class TheorySettings:
    """What decides the teacher-student experiment (defaults: the analysed work's setting).

    N inputs, M teacher and K student units, v* the teacher's second-layer weights, eta the
    SGD step, ``steps`` SGD steps per student, ``students`` independent students;
    ``n_masks`` masks per rule and size (``n_dpp_edge_masks`` for DPP edges, which cost an
    eigendecomposition each), ``n_inputs`` Gaussian inputs for DPP kernels; ``fuse`` adds
    our fusion variants; ``restarts`` the ODE restarted every record. Checked when made.
    """

    N: int = 500
    M: int = 2
    K: int = 6
    v_star: float = 4.0
    eta: float = 0.5
    steps: int = 800_000
    students: int = 3
    n_masks: int = 500
    n_dpp_edge_masks: int = 100
    n_inputs: int = DEFAULT_INPUTS
    fuse: bool = False
    restarts: bool = True
    seed: int = 0
    fast: bool = False

    def __post_init__(self):
        minimum = {"N": 2, "M": 1, "K": 2, "students": 1, "steps": 1, "seed": 0, "n_masks": 2,
                   "n_dpp_edge_masks": 2, "n_inputs": 2}  # fmt: skip
        for name, least in minimum.items():
            value = getattr(self, name)
            why = " (a student to prune)" if name == "K" else ""
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
                raise SettingError(name, f"must be an integer >= {least}{why}; got {value!r}")
            object.__setattr__(self, name, int(value))
        for name in ("eta", "v_star"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise SettingError(name, f"must be a finite real number > 0; got {value!r}")
            if not (math.isfinite(value) and value > 0):
                raise SettingError(name, f"must be finite and > 0; got {float(value)}")
            object.__setattr__(self, name, float(value))

    @property
    def records(self) -> int:
        return _records(self.steps, self.N)

    def to_dict(self) -> dict:
        """The settings as the result records them (with the records and the rounding)."""
        out = dataclasses.asdict(self)
        del out["fast"]
        return out | {"records": self.records, "rounding": "floor"}

    @property
    def dataset(self) -> str:
        return f"M{self.M}-K{self.K}"


def student_part(settings: TheorySettings, i: int) -> dict:
    """Student ``i``: trained by online SGD, its ODE restarts, its parameter-matched sweep.

    Student 0 also carries the ODE's learning curve from its initial order parameters.
    Returns plain lists (the sweep's per-mask errors included, for the verdicts).
    """
    s = settings
    timing = {"train": 0.0, "ode": 0.0, "restarts": 0.0, "sweep": 0.0}
    t = time.perf_counter()
    W_star, vs, run = train_student(N=s.N, M=s.M, K=s.K, v_star=s.v_star, eta=s.eta, steps=s.steps,
                                    records=s.records, seed=s.seed, student=i)  # fmt: skip
    timing["train"] = time.perf_counter() - t
    restart = {"relative": [], "mean_abs": None, "mean": None}
    if s.restarts:
        t = time.perf_counter()
        rel = ode_restarts(run, vs, eta=s.eta)
        restart = {
            "relative": rel.tolist(),
            "mean_abs": float(np.abs(rel).mean()),
            "mean": float(rel.mean()),
        }
        timing["restarts"] = time.perf_counter() - t
    t = time.perf_counter()
    sweep = parameter_matched_sweep(run.W, run.v_final, W_star, vs, n_masks=s.n_masks,
                                    n_dpp_edge_masks=s.n_dpp_edge_masks, fuse=s.fuse,
                                    n_inputs=s.n_inputs, rng=np.random.default_rng(_seeds(s.seed, i)[2]))  # fmt: skip
    timing["sweep"] = time.perf_counter() - t
    out = {
        "student": {
            "unpruned": float(sweep.unpruned),
            "curve": {"alpha": run.alpha.tolist(), "error": run.error.tolist()},
            "roles": unit_roles(run.Q[-1], run.R[-1], run.T, run.v[-1]),
            "restart": restart,
            "sweep": {
                lab: {
                    "mean": sweep.mean(lab).tolist(),
                    "se": sweep.se(lab).tolist(),
                    "n": [int(e.size) for e in sweep.errors[lab]],
                }
                for lab in sweep.labels
            },
        },  # fmt: skip
        "sweep": _sweep_to_json(sweep),
        "timing": timing,
    }
    if i == 0:
        t = time.perf_counter()
        ode = ode_learning_curve(run.Q[0], run.R[0], run.T, run.v[0], vs, eta=s.eta,
                                 alpha=run.alpha, method=_ode_method(s.K))  # fmt: skip
        timing["ode"] = time.perf_counter() - t
        out["ode"] = {"alpha": ode.alpha.tolist(), "error": ode.error.tolist()}
    return out


def _sweep_to_json(sweep: PrunedSweep) -> dict:
    return {
        "N": sweep.N, "K": sweep.K, "M": sweep.M, "sizes": sweep.sizes.tolist(),
        "edges": sweep.edges.tolist(), "unpruned": float(sweep.unpruned),
        "n_inputs": int(sweep.n_inputs), "rounding": sweep.rounding,
        "errors": {lab: [e.tolist() for e in per] for lab, per in sweep.errors.items()},
    }  # fmt: skip


def _sweep_from_json(d: dict) -> PrunedSweep:
    errors = {
        lab: [np.asarray(e, dtype=np.float64) for e in per] for lab, per in d["errors"].items()
    }
    return PrunedSweep(d["N"], d["K"], d["M"], np.asarray(d["sizes"]), np.asarray(d["edges"]),
                       errors, d["unpruned"], d["n_inputs"], d["rounding"])  # fmt: skip


def gather_students(settings: TheorySettings, parts: list[dict]) -> dict:
    """The experiment's result from every student's part (see :func:`teacher_student_experiment`)."""
    s = settings
    sweeps = [_sweep_from_json(p["sweep"]) for p in parts]
    labels, S = list(sweeps[0].labels), len(sweeps)
    pooled = {
        lab: {"mean": np.mean([w.mean(lab) for w in sweeps], axis=0).tolist(),
              "se": (np.sqrt(np.sum([w.se(lab) ** 2 for w in sweeps], axis=0)) / S).tolist()}
        for lab in labels
    }  # fmt: skip
    sizes, edges = sweeps[0].sizes.tolist(), sweeps[0].edges.tolist()
    timing = {
        k: float(sum(p["timing"][k] for p in parts)) for k in ("train", "ode", "restarts", "sweep")
    }
    timing["total"] = float(sum(timing.values()))
    return {
        "settings": s.to_dict(),
        "sizes": [int(k) for k in sizes],
        "edges": [int(e) for e in edges],
        "parameters": {
            "node": [(s.N + 1) * int(k) for k in sizes],
            "edge": [s.K * (int(e) + 1) for e in edges],
            "unpruned": (s.N + 1) * s.K,
        },  # fmt: skip
        "rules": labels,
        "students": [p["student"] for p in parts],
        "ode": parts[0]["ode"],
        "pooled": pooled,
        "unpruned": float(np.mean([w.unpruned for w in sweeps])),
        "claims": {across: _verdicts(sweeps, across) for across in ("masks", "students")},
        "timing": timing,
    }


def teacher_student_experiment(
    *, N=500, M=2, K=6, v_star=4.0, eta=0.5, steps=800_000, students=3, n_masks=500,
    n_dpp_edge_masks=100, n_inputs=DEFAULT_INPUTS, fuse=False, restarts=True, seed=0, progress=False,
    executor=None, store_root=None,
) -> dict:  # fmt: skip
    """Train ``students`` students, compare their learning curves with the ODE, sweep every pruning rule.

    Defaults are the analysed work's setting (N = 500, M = 2, K = 6, v* = 4, eta = 0.5,
    800,000 steps). :data:`FAST_SETTINGS` (N = 100, 100,000 steps, 100 masks) runs in
    seconds for CI and fast mode; its numbers are not the result. ``fuse=True`` adds our
    fusion variants; ``restarts=False`` skips :func:`ode_restarts`; ``progress`` shows a tqdm
    bar on stderr. It is the ``theory`` experiment (:class:`Theory`): one part per student,
    run in this process or on ``executor``, kept under ``store_root`` when given.

    Returns a dict of plain lists and numbers: ``settings``; ``sizes`` (k = 1..K-1), ``edges``
    (matched e) and ``parameters`` (node (N + 1) k, edge K (e + 1), unpruned (N + 1) K);
    ``rules`` (sweep labels); ``students`` (per student: ``unpruned`` eps_g, ``curve``
    {alpha, error}, ``roles`` (:func:`unit_roles` of the trained student), ``restart``
    {relative, mean_abs, mean}, ``sweep`` {label: {mean, se, n} per size}); ``ode`` {alpha,
    error}; ``pooled`` {label: {mean, se}} (mean over students of the per-student means,
    se sqrt(sum se^2) / S); ``unpruned`` (mean); ``claims`` {"masks"|"students": {name:
    {statement, better, worse, verdict, rows [{k, e, difference, low, high, verdict}]}}}
    (an infinite bound, one student across students, is None); ``timing`` in seconds (the
    sums over students); ``experiment`` and ``parts`` (where the parts ran).
    """
    from ..tasks.driver import run_experiment

    settings = TheorySettings(N=N, M=M, K=K, v_star=v_star, eta=eta, steps=steps, students=students,
                              n_masks=n_masks, n_dpp_edge_masks=n_dpp_edge_masks, n_inputs=n_inputs,
                              fuse=bool(fuse), restarts=bool(restarts), seed=seed)  # fmt: skip
    return run_experiment(
        Theory(), settings, store_root=store_root, executor=executor, progress=progress
    )


_PART = re.compile(r"student(\d+)$")


@register_experiment
class Theory(ExperimentProtocol):
    """The teacher-student analysis of pruned students (one part per student)."""

    name = "theory"
    help = "the teacher-student analysis: pruned students' exact errors, node vs edge rules"
    description = (
        "Train students on a teacher by online SGD (N inputs, M teacher and K student units), "
        "compare with the ODEs, and prune each student with every node and edge rule at "
        "matched parameter counts; write theory.json, theory.md and theory.png with the "
        "verdicts of claims (1) and (2). Resumable like reproduce."
    )
    file_stem = "theory"
    uses_torch = False
    option_names = {"students": "--students", "M": "--M", "K": "--K", "seed": "--seed"}

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--students", type=int, default=3, help="independent students (default 3)"
        )
        parser.add_argument("--M", type=int, default=2, help="teacher units (default 2)")
        parser.add_argument("--K", type=int, default=6, help="student units (default 6)")
        parser.add_argument("--seed", type=int, default=0, help="seed of every draw (default 0)")

    def settings_from_args(self, args, fast: bool) -> TheorySettings:
        extra = dict(FAST_SETTINGS) if fast else {}
        return TheorySettings(M=args.M, K=args.K, students=args.students, seed=args.seed,
                              fast=fast, **extra)  # fmt: skip

    def default_out(self, settings: TheorySettings) -> str:
        return f"theory-M{settings.M}-K{settings.K}"

    def phases(self, settings: TheorySettings) -> list[list[str]]:
        return [[f"student{i}" for i in range(settings.students)]]

    def compute(self, settings: TheorySettings, key: str):
        m = _PART.match(key)
        if m is None or int(m[1]) >= settings.students:
            raise ValueError(f"no part {key!r} in theory")
        return student_part(settings, int(m[1]))

    def gather(self, settings: TheorySettings, parts: dict) -> dict:
        return gather_students(settings, [parts[f"student{i}"] for i in range(settings.students)])

    def reference(self, result: dict) -> tuple[str, dict]:
        s = result["settings"]
        return f"teacher-student-M{s['M']}-K{s['K']}.json", result

    def describe_reference(self, result: dict) -> str:
        s = result["settings"]
        return f"{s['students']} students, N = {s['N']}, M = {s['M']}, K = {s['K']}"
