"""The package's figures: one readable style (fonts >= 9 pt, PNGs >= 100 dpi) and sweep
figures whose close curves can be told apart (a log axis and a paired difference panel).

Every plot is drawn on small synthetic results whose values are known.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from divnet_nb.pruning.registry import variants
from divnet_nb.report.edges import plot_edges
from divnet_nb.report.figures import (
    STYLE,
    excess_error,
    plot_leaderboard,
    plot_sweep,
    plot_table2,
    plot_variants,
    save_figure,
)
from divnet_nb.report.gates import plot_gate_training, plot_gates
from divnet_nb.report.theory import plot_learning_curves, plot_pruned

SIZES = [10, 50, 200]
UNPRUNED = [0.020, 0.025, 0.030]
#: (pruned - unpruned) of each variant, network and size: known values, paired by network.
EXCESS = {
    v.key: np.array([[0.5, 0.05, 0.005], [0.4, 0.04, 0.004], [0.3, 0.03, 0.003]])
    * (1.0 if v.reweight else 1.5)
    * (1 + 0.1 * i)
    for i, v in enumerate(variants())
}


def sweep_results() -> dict:
    errors = {k: (d + np.array(UNPRUNED)[:, None]).tolist() for k, d in EXCESS.items()}
    sweep = {"layer": 0, "sizes": SIZES, "layer_size": 300, "test_error": errors}
    return {
        "dataset": "mnist",
        "variants": {v.key: v.describe() for v in variants()},
        "sweeps": {"0": sweep},
        "instances": [{"test_error": u} for u in UNPRUNED],
        "table2": {
            "fractions": [0.1, 0.5],
            "errors": {
                k: {"test": (d[:, 1:] + np.array(UNPRUNED)[:, None]).tolist()}
                for k, d in EXCESS.items()
            },
        },
    }


def small_fonts(fig) -> list[tuple[str, float]]:
    """(text, size) of every visible, non-empty text of the figure below 9 pt."""
    fig.draw_without_rendering()  # ticks and their labels exist only once drawn
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert texts
    return [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 9]


def test_style_is_readable():
    assert STYLE["figure.dpi"] >= 100 and STYLE["savefig.dpi"] >= 100
    sizes = [v for k, v in STYLE.items() if "size" in k and "figsize" not in k]
    assert sizes and min(sizes) >= 9


def test_excess_error_is_paired_by_network():
    got = excess_error([[0.5, 0.1], [0.3, 0.2]], [0.1, 0.2])
    assert np.allclose(got, [[0.4, 0.0], [0.1, 0.0]])
    with pytest.raises(ValueError, match="one unpruned error per network"):
        excess_error([[0.5, 0.1], [0.3, 0.2]], [0.1, 0.2, 0.3])


def curves(ax) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{label: (x, mean, half-length of the error bar)} of every errorbar curve on ``ax``."""
    out = {}
    for c in ax.containers:
        line, _, bars = c.lines
        half = np.array([abs(seg[1, 1] - seg[0, 1]) / 2 for seg in bars[0].get_segments()])
        out[c.get_label()] = (np.asarray(line.get_xdata()), np.asarray(line.get_ydata()), half)
    return out


def test_sweep_has_a_log_axis_and_a_difference_panel_of_the_paired_differences():
    results = sweep_results()
    fig = Figure(figsize=(11, 4))
    main, diff = plot_variants(results, "0", ax=fig.subplots(1, 2))
    assert main.get_yscale() == "log"
    assert diff.get_yscale() == "symlog"
    drawn = curves(diff)
    assert len(drawn) == len(EXCESS)
    for key, known in EXCESS.items():
        x, mean, half = drawn[results["variants"][key]["label"]]
        assert np.allclose(x, SIZES)
        assert np.allclose(mean, known.mean(axis=0))
        assert np.allclose(half, known.std(axis=0, ddof=1))
    # the first panel: the errors themselves, and the unpruned line at their mean
    x, mean, _ = curves(main)[results["variants"]["dpp"]["label"]]
    assert np.allclose(mean, np.mean(results["sweeps"]["0"]["test_error"]["dpp"], axis=0))
    grey = [line for line in main.lines if line.get_label() == "unpruned network"]
    assert len(grey) == 1 and np.allclose(grey[0].get_ydata(), np.mean(UNPRUNED))
    assert not small_fonts(fig)


def test_the_difference_pairs_each_network_with_its_own_unpruned_error():
    """The spread of the paired differences, not of the pruned errors: a network that is
    worse before pruning and equally worse after it adds no spread."""
    base = np.array([0.01, 0.05, 0.09])
    excess = np.array([0.02, 0.021, 0.019])
    sweep = {
        "sizes": [5],
        "layer_size": 10,
        "test_error": {"dpp+fuse": (base + excess)[:, None].tolist()},
    }
    fig = Figure()
    _, diff = plot_sweep(sweep, ["dpp+fuse"], {"dpp+fuse": "DivNet"}, "t", ax=fig.subplots(1, 2),
                         unpruned=base.tolist())  # fmt: skip
    _, mean, half = curves(diff)["DivNet"]
    assert np.allclose(mean, excess.mean()) and np.allclose(half, excess.std(ddof=1))
    assert half[0] < 0.01 < (base + excess).std(ddof=1)


def test_one_axes_is_split_and_the_old_call_still_draws_on_a_log_axis():
    results = sweep_results()
    fig = Figure(figsize=(6.4, 4.2))
    main, diff = plot_variants(results, "0", ax=fig.subplots())
    assert len(fig.axes) == 2 and diff.get_yscale() == "symlog"
    assert fig.get_size_inches()[1] > 4.2  # taller, so that both panels stay readable
    sweep = results["sweeps"]["0"]
    fig = Figure()
    ax = plot_sweep(sweep, ["dpp", "random"], {"dpp": "a", "random": "b"}, "t", ax=fig.subplots())
    assert ax.get_yscale() == "log" and len(fig.axes) == 1
    assert not small_fonts(fig)


def test_table2_has_the_paper_on_the_errors_and_a_paired_difference_panel():
    results = sweep_results()
    fig = Figure(figsize=(12, 4.4))
    main, diff = plot_table2(results, ax=fig.subplots(1, 2))
    assert main.get_yscale() == "log" and diff.get_yscale() == "symlog"
    drawn = curves(diff)
    assert len(drawn) == len(EXCESS)  # every variant, and not the paper's stars
    for key, known in EXCESS.items():
        x, mean, half = drawn[results["variants"][key]["label"]]
        assert np.allclose(x, [0.1, 0.5])
        assert np.allclose(mean, known[:, 1:].mean(axis=0))
        assert np.allclose(half, known[:, 1:].std(axis=0, ddof=1))
    stars = curves(main)["DivNet, paper's Table 2"]
    assert np.allclose(stars[0], [0.1, 0.5]) and np.allclose(stars[1], [0.76, 0.17])  # the paper's
    assert not small_fonts(fig)
    del results["instances"]  # no unpruned errors: one panel, as before
    fig = Figure(figsize=(7, 5))
    ax = plot_table2(results, ax=fig.subplots())
    assert ax.get_yscale() == "log" and len(fig.axes) == 1


def test_leaderboard_and_table2_fonts():
    results = sweep_results()
    fig = Figure(figsize=(7, 5))
    ax, _ = plot_table2(results, ax=fig.subplots())
    assert ax.get_yscale() == "log" and len(fig.axes) == 2 and not small_fonts(fig)
    board = {
        "dataset": "mnist",
        "fractions": [0.1, 0.5],
        "entries": [
            {"key": m, "method": m, "target": "pruned", "budget": "uniform"}
            for m in ("dpp", "random", "importance")
        ],
        "test_error": {m: [[0.2, 0.03], [0.3, 0.04]] for m in ("dpp", "random", "importance")},
        "unpruned_test_error": [0.02, 0.021],
    }
    fig = Figure(figsize=(7, 5))
    plot_leaderboard(board, {"dpp": "DivNet"}, ax=fig.subplots())
    assert not small_fonts(fig)


def test_edges_gates_and_theory_fonts():
    from test_gate_experiment import synthetic

    style = {"color": "tab:blue", "linestyle": "-", "marker": "o"}
    edges = {
        "dataset": "mnist", "d": 784, "H": 500, "H_next": 500,
        "parameter_fraction": [0.1, 0.5],
        "test_error": {"dpp": [[0.1, 0.03], [0.12, 0.035]], "magnitude": [[0.2, 0.04], [0.2, 0.05]]},
        "variants": {"dpp": {**style, "label": "DPP edges"}, "magnitude": {**style, "label": "magnitude"}},
        "unpruned_test_error": [0.02, 0.021],
    }  # fmt: skip
    fig = Figure(figsize=(7.2, 4.6))
    plot_edges(edges, ax=fig.subplots())
    assert not small_fonts(fig)
    gates = synthetic([0.020, 0.021, 0.022], [0.030, 0.032, 0.031])
    fig = Figure(figsize=(12, 5.5), layout="constrained")
    plot_gates(gates, fig)
    assert not small_fonts(fig)
    fig = Figure(figsize=(11, 3.8))
    plot_gate_training(gates, "lenet-300-100", "hard-concrete", axes=fig.subplots(1, 2))
    assert not small_fonts(fig)
    theory = {
        "rules": ["node dpp", "edge magnitude"],
        "parameters": {"node": [10, 20], "edge": [10, 20]},
        "pooled": {r: {"mean": [0.1, 0.05], "se": [0.01, 0.01]} for r in ["node dpp", "edge magnitude"]},
        "unpruned": 0.01,
        "students": [{"curve": {"alpha": [0, 1, 10], "error": [1.0, 0.5, 0.1]}}],
        "ode": {"alpha": [0, 1, 10], "error": [1.0, 0.4, 0.1]},
    }  # fmt: skip
    fig = Figure(figsize=(10, 3.5))
    a, b = fig.subplots(1, 2)
    plot_pruned(theory, a)
    plot_learning_curves(theory, b)
    assert not small_fonts(fig)


def test_saved_figures_are_at_least_100_dpi_and_in_the_style(tmp_path):
    results = sweep_results()
    drawn = []

    def draw(ax):
        drawn.append(ax.figure)
        plot_variants(results, "0", ax=ax)

    path = tmp_path / "sweep.png"
    with matplotlib.rc_context({"font.size": 5, "xtick.labelsize": 5, "ytick.labelsize": 5,
                                "legend.fontsize": 5, "axes.titlesize": 5, "axes.labelsize": 5}):  # fmt: skip
        save_figure(draw, path)
    dpi = Image.open(path).info["dpi"]
    assert min(dpi) >= 99.5  # PNG stores pixels per metre: 120 dpi reads back as 119.99...
    assert not small_fonts(drawn[0])  # the style is applied whatever the process default
    with pytest.raises(ValueError, match="100 dpi"):
        save_figure(draw, tmp_path / "low.png", dpi=72)
    save_figure(lambda axes: plot_variants(results, "0", ax=axes), tmp_path / "two.png",
                panels=2, figsize=(11, 4))  # fmt: skip
    assert Image.open(tmp_path / "two.png").size[0] >= 11 * 100
