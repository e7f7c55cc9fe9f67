"""The notebook series follows its conventions (the notebooks themselves run under nbval in make test)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SERIES = [
    "00_introduction",
    "01_determinantal_point_processes",
    "02_rbf_kernel_over_neurons",
    "03_sampling",
    "04_fusing_neurons",
    "05_training_the_table1_networks",
    "06_pruning_the_first_layer",
    "07_table2",
    "08_second_layer",
    "09_beta_and_network_size",
    "10_cifar10",
    "11_which_neurons_to_keep",
    "12_teacher_student_theory",
    "13_dpp_edge_pruning",
    "14_pruning_while_training",
    "15_kernels_and_sizes",
    "16_paired_intervals",
]
_spec = importlib.util.spec_from_file_location("normalize", NOTEBOOKS / "normalize.py")
normalize = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(normalize)


def load(name):
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


#: Relative font sizes below 9 pt at the style's 10 pt base ("small" is 8.33 pt).
_SMALL_NAMES = {"xx-small", "x-small", "small", "smaller"}
_SETTING = re.compile(
    r"\b(dpi|fontsize|labelsize|titlesize)\s*=\s*(?:(\d+(?:\.\d+)?)|[\"']([\w-]+)[\"'])"
)


def unreadable_settings(code: str) -> list[str]:
    """Settings in notebook code that make a figure hard to read: dpi below 100, text below 9 pt."""
    bad = []
    for match in _SETTING.finditer(code):
        name, number, word = match.groups()
        if number is not None:
            low = float(number) < (100 if name == "dpi" else 9)
        else:
            low = name != "dpi" and word in _SMALL_NAMES
        if low:
            bad.append(match.group(0))
    return bad


def test_the_readability_scan_finds_small_settings():
    code = 'fig.savefig(p, dpi=72)\nax.legend(fontsize=8)\nax.set_title("t", fontsize = 9)\n'
    code += 'ax.tick_params(labelsize="small")\nplt.figure(dpi=120)\nax.legend(fontsize=10.5)'
    assert unreadable_settings(code) == ["dpi=72", "fontsize=8", 'labelsize="small"']


def test_the_series_is_complete():
    assert sorted(p.stem for p in NOTEBOOKS.glob("[0-9]*.ipynb")) == SERIES


@pytest.mark.parametrize("name", SERIES)
def test_notebook_conventions(name):
    nb = load(name)
    assert normalize.problems(nb) == [], "run make notebooks (it normalises the outputs)"
    code = [c for c in nb.cells if c.cell_type == "code"]
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    first = code[0].source
    assert "fast_mode()" in first and "seed" in first, (
        "first code cell: the size switch and a fixed seed"
    )
    assert "use_style()" in first, "first code cell: the shared figure style, use_style()"
    if "%matplotlib inline" in first:  # the magic resets some settings: the style comes after
        assert first.index("use_style()") > first.index("%matplotlib inline")
    assert unreadable_settings("\n".join(c.source for c in code)) == []
    assert re.search(r"^(from divnet_nb|import divnet_nb)", "\n".join(c.source for c in code), re.M)
    for cell in code:
        assert "sys.path" not in cell.source, "notebooks import the installed package"
    headings = [line for md in markdown for line in md.splitlines() if line.startswith("## ")]
    assert headings[-2:] == ["## Summary", "## Exercises"], headings[-3:]
    assert any(line.startswith("## 1.") for line in headings), "numbered sections"
    checked = [c for c in code if "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, "at least one cell's small deterministic output is checked by nbval"
    for cell in code:
        if "# NBVAL_CHECK_OUTPUT" in cell.source:
            assert all(o.get("name") != "stderr" for o in cell.get("outputs", [])), (
                "checked cells print no stderr"
            )


def run_record(nb) -> tuple[list, str | None]:
    """The code cells' execution counts, and the fast-mode flag the first cell printed (if any)."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    printed = "".join(o.get("text", "") for o in code[0].get("outputs", []))
    match = re.search(r"fast mode(?::| is) (True|False|ON|OFF)", printed)
    fast = match and {"ON": "True", "OFF": "False"}.get(match[1], match[1])
    return [c.get("execution_count") for c in code], fast


def test_the_run_record_sees_a_skipped_cell_and_a_fast_run():
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell("print(fast_mode())", execution_count=1)
    first.outputs = [nbformat.v4.new_output("stream", text="divnet_nb 1.0; fast mode: True\n")]
    nb.cells = [
        first,
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("y", execution_count=2),
    ]
    counts, fast = run_record(nb)
    assert counts == [1, None, 2] and fast == "True"
    first.outputs = [nbformat.v4.new_output("stream", text="divnet_nb 1.0; fast mode is OFF\n")]
    assert run_record(nb)[1] == "False"


@pytest.mark.parametrize("name", SERIES)
def test_the_committed_outputs_are_one_full_run_from_top_to_bottom(name):
    """Every code cell ran, in order, in one kernel, and (where it says) not in fast mode."""
    counts, fast = run_record(load(name))
    assert counts == list(range(1, len(counts) + 1)), (
        f"{name}: cells ran out of order or not at all ({counts}); re-run it top to bottom"
    )
    assert fast in (None, "False"), f"{name} was committed from a fast-mode run"
