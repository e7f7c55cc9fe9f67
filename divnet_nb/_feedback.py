"""Grading feedback that does not mislead: an otter-grader plugin for the course's assignments.

otter-grader's own report says "All test cases passed!" for a question whose *public*
tests pass, even when a hidden test of it failed, and shows a failed hidden test as its
full doctest trace, which can give away what the test expects. Every assignment's
autograder (``assignments/build.py``) runs :class:`HonestFeedback`, which rewrites the
results after grading and before they are reported (to Gradescope's ``results.json``, to
``otter run`` and to ``assignments/grade.py``):

* the summary of the public tests says how many public tests passed and that the hidden
  tests are graded separately; it never says that all tests passed;
* a question's full summary says "all tests passed" only when every test, hidden ones
  included, passed, and otherwise lists each test with its points;
* a failed hidden test is reported by its ``failure_message`` (what it checked, written in
  the master notebook), never by its code, its trace or the value it expected.

This module is imported by otter only (it is not part of the pruning pipeline); it ships
in the package so that every grading environment that installs ``divnet_nb`` has it.
"""

from __future__ import annotations

import functools

from otter.plugins import AbstractOtterPlugin

__all__ = ["HonestFeedback", "case_line", "summary"]

#: How a failed hidden test without a ``failure_message`` is described.
UNDESCRIBED = "a hidden test (its description is missing from the master notebook)"


def _points(x: float) -> str:
    return f"{x:g}"


def _of(score: float, possible: float) -> str:
    """'3 of 4 points', '1 of 1 point'."""
    return f"{score:g} of {possible:g} point{'' if possible == 1 else 's'}"


def case_line(result) -> str:
    """One line (and, for a failed public test, its trace) for one test case's result."""
    case = result.test_case
    kind = "hidden" if case.hidden else "public"
    mark = "passed" if result.passed else "FAILED"
    line = f"- {kind} test {case.name} ({_points(case.points)} pt): {mark}"
    if result.passed:
        return line
    if case.hidden:
        return f"{line}. Checked: {case.failure_message or UNDESCRIBED}"
    what = f". Checked: {case.failure_message}" if case.failure_message else ""
    return f"{line}{what}\n" + "\n".join("    " + t for t in first_failure(result.message or ""))


def first_failure(report: str) -> list[str]:
    """The failing line of a public test and what it raised, from otter's doctest report.

    The whole report lists every line tried; a student needs the first line that failed and
    its error (later lines usually fail only because of it). Falls back to the report.
    """
    lines = report.replace("❌ Test case failed", "").strip().splitlines()
    try:
        start = next(i for i, t in enumerate(lines) if t.strip() == "Failed example:")
    except StopIteration:
        return lines
    code, rest = [], lines[start + 1 :]
    while rest and rest[0].strip() not in ("Exception raised:", "Expected:", "Expected nothing"):
        code.append(rest.pop(0).strip())
    if rest and rest[0].strip() == "Exception raised:":
        traceback = []
        for t in rest[1:]:
            if not t.startswith("    "):  # the traceback is indented; the next report is not
                break
            traceback.append(t.strip())
        return [f"failed: {' '.join(code)}", f"raised: {traceback[-1] if traceback else '?'}"]
    return [f"failed: {' '.join(code)}"] + [t.strip() for t in rest[:4]]


def _tests(n: int, kind: str = "") -> str:
    return f"{n} {kind + ' ' if kind else ''}test{'' if n == 1 else 's'}"


def summary(test_file, public_only: bool = False) -> str:
    """The honest replacement of otter's ``TestFile.summary`` (see the module notes)."""
    results = test_file.test_case_results
    public = [r for r in results if not r.test_case.hidden]
    hidden = [r for r in results if r.test_case.hidden]
    name = test_file.name
    if public_only:
        passed = sum(r.passed for r in public)
        head = f"{name}: {passed} of {_tests(len(public), 'public')} passed"
        if hidden:
            points = sum(r.test_case.points for r in hidden)
            verb = "is" if len(hidden) == 1 else "are"
            head += (
                f"; {_tests(len(hidden), 'hidden')} ({_of(points, test_file.possible)}) {verb} "
                "graded separately, and shown when grades are published"
            )
        failed = [case_line(r) for r in public if not r.passed]
        return "\n".join([head + "."] + failed)
    score, possible = test_file.score, test_file.possible
    head = f"{name}: {_of(score, possible)}"
    if results and all(r.passed for r in results):
        return f"{head}; all {_tests(len(results))} passed ({len(public)} public, {len(hidden)} hidden)."
    passed = sum(r.passed for r in results)
    lines = [f"{head}; {passed} of {_tests(len(results))} passed."]
    return "\n".join(lines + [case_line(r) for r in results])


class HonestFeedback(AbstractOtterPlugin):
    """otter-grader plugin: after grading, make every summary say what was checked (module notes).

    Named in each autograder's ``otter_config.json`` (``plugins``); it takes no configuration.
    """

    def after_grading(self, results):
        """Replace failed hidden tests' messages and each question's summary, in place."""
        for test_file in results.results.values():
            for result in test_file.test_case_results:
                case = result.test_case
                if case.hidden:
                    result.message = (
                        "passed"
                        if result.passed
                        else f"failed; checked: {case.failure_message or UNDESCRIBED}"
                    )
            test_file.summary = functools.partial(summary, test_file)
