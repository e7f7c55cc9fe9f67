"""The paper's open questions, each answered from the committed references.

Each question is decided by a set of paired intervals (Holm's correction within each
experiment's family): :func:`kernel_counts` and :func:`size_counts` count their verdicts by
question, :func:`open_questions` gathers every question's counts, :func:`answer` puts a count
in words and :func:`answers_markdown` / :func:`counts_markdown` render them. Notebook 15 shows
them; nothing here is typed in, every count is read from the references.
"""

from __future__ import annotations

from ..experiments.interleaved import interleaved_comparisons
from ..experiments.kernels import kernel_comparisons
from ..experiments.sizes import size_comparisons
from ..verdicts import FAILS, HOLDS, OPEN

__all__ = [
    "KERNEL_QUESTIONS",
    "answer",
    "answers_markdown",
    "counts_markdown",
    "kernel_counts",
    "open_questions",
    "size_counts",
    "verdict_counts",
]

VERDICTS = (HOLDS, FAILS, OPEN)
#: The kernel questions: a name, and the kernels compared with eq. 2's (same selector).
KERNEL_QUESTIONS = (
    ("linear vs rbf", ("linear",)),
    ("scale-free vs rbf", ("cosine", "rbf-standardised")),
    ("learned vs rbf", ("learned",)),
)
#: The size questions: (rule, rival) of :func:`divnet_nb.experiments.sizes.size_comparisons`.
SIZE_QUESTIONS = {
    ("dpp-sized", "uniform"): "DPP-chosen sizes (sample) below one fraction per layer, same total",
    ("dpp-sized", "budget"): "DPP-chosen sizes (sample) below a shared budget, same total",
    ("map-sized", "uniform"): "DPP-chosen sizes (mode) below one fraction per layer, same total",
    ("map-sized", "budget"): "DPP-chosen sizes (mode) below a shared budget, same total",
}
KERNEL_ANSWERS = {
    "linear vs rbf": "kernel choice: linear below eq. 2's RBF",
    "scale-free vs rbf": "scale invariance: cosine or standardised RBF below eq. 2's",
    "learned vs rbf": "kernels learned from data: below eq. 2's",
}


def verdict_counts(rows) -> dict[str, int]:
    """``{verdict: how many rows have it}`` for the three verdicts."""
    rows = list(rows)
    return {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}


def _add(a: dict, b: dict) -> dict:
    return {v: a.get(v, 0) + b[v] for v in VERDICTS}


def kernel_counts(kernel_refs: dict) -> dict[tuple[str, str], dict[str, int]]:
    """``{(question, dataset): counts}`` of the kernels' intervals against eq. 2's kernel."""
    return {
        (question, ds): verdict_counts(
            r for r in kernel_comparisons(ref)["rbf"] if r["kernel"] in kernels
        )
        for ds, ref in kernel_refs.items()
        for question, kernels in KERNEL_QUESTIONS
    }


def size_counts(size_refs: dict) -> dict[tuple[str, str], dict[str, int]]:
    """``{(rule, rival): counts}`` over every dataset and tolerance."""
    out: dict = {}
    for ref in size_refs.values():
        for r in size_comparisons(ref):
            out[(r["rule"], r["rival"])] = _add(out.get((r["rule"], r["rival"]), {}),
                                                verdict_counts([r]))  # fmt: skip
    return out


def open_questions(kernel_refs: dict, size_refs: dict, interleaved_ref: dict) -> list[tuple]:
    """``[(question, counts)]``: the kernel questions summed over datasets, the size questions,
    and the interleaved k-DPP against random and against post-hoc DivNet."""
    by_kernel: dict = {}
    for (question, _ds), counts in kernel_counts(kernel_refs).items():
        by_kernel[question] = _add(by_kernel.get(question, {}), counts)
    sizes = size_counts(size_refs)
    rows = {(r["arm"], r["rival"]): r for r in interleaved_comparisons(interleaved_ref)}
    return (
        [(KERNEL_ANSWERS[q], by_kernel[q]) for q, _ in KERNEL_QUESTIONS]
        + [(text, sizes[key]) for key, text in SIZE_QUESTIONS.items()]
        + [
            (f"interleaved pruning: {arm} below {rival}", verdict_counts([rows[(arm, rival)]]))
            for arm, rival in (("dpp", "random"), ("dpp", "post-hoc"))
        ]
    )


def answer(counts: dict[str, int]) -> str:
    """A count in words: "holds" (every interval), "holds in k of n" (none the other way),
    the same for "does not hold", "not resolved" (none decides) or "mixed" (both ways)."""
    n, yes, no = sum(counts.values()), counts[HOLDS], counts[FAILS]
    if yes and no:
        return "mixed"
    if not (yes or no):
        return OPEN
    verdict, k = (HOLDS, yes) if yes else (FAILS, no)
    return verdict if k == n else f"{verdict} in {k} of {n}"


def _cells(c: dict) -> str:
    return f"{c[HOLDS]} | {c[FAILS]} | {c[OPEN]}"


def counts_markdown(counts: dict, header: str) -> str:
    """A table of counts keyed by tuples; ``header`` names the key's columns ("a | b")."""
    n = header.count("|") + 1
    return (
        f"| {header} | holds | does not hold | not resolved |\n|" + "---|" * n + "---:|---:|---:|\n"
        + "\n".join(f"| {' | '.join(key)} | {_cells(c)} |" for key, c in counts.items())
    )  # fmt: skip


def answers_markdown(answers: list[tuple]) -> str:
    """The table of :func:`open_questions` with each answer in words."""
    return (
        "| question | holds | does not hold | not resolved | in one word |\n|---|---:|---:|---:|---|\n"
        + "\n".join(f"| {q} | {_cells(c)} | {answer(c)} |" for q, c in answers)
    )  # fmt: skip
