"""Figures of the paper, drawn from results: test error against kept neurons, with error bars.

Figures follow the paper's: test error against the number of neurons kept in one
hidden layer, mean over networks with error bars of one standard deviation (ddof = 1,
as MATLAB's ``std``). Colours,
line styles and markers come from the method registry (recorded in the results as
each variant's ``color``, ``linestyle`` and ``marker``), so a newly registered method
is drawn like the others without an edit here.
"""

from __future__ import annotations

import functools

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .._io import atomic_write
from ..datasets import title
from ..paper import table2_cell
from ..pruning.registry import Variant
from ..verdicts import mean_std

__all__ = [
    "FIGURES",
    "plot_sweep",
    "plot_leaderboard",
    "plot_table2",
    "plot_variants",
    "save_figure",
    "variant_style",
    "log_axis",
    "STYLE",
    "use_style",
    "styled",
    "excess_error",
    "symlog_axis",
    "unpruned_errors",
]

#: The one style of every figure of the project (package, notebooks, README): readable at
#: 100 dpi and above, no text under 9 pt. Applied by :func:`use_style`, and by the
#: package's own plots through ``plt.rc_context(STYLE)`` where they draw outside pyplot.
STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 120,
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


def use_style() -> None:
    """Make :data:`STYLE` matplotlib's default for this process (notebooks call it first).

    Call it after ``%matplotlib inline``, which resets some of these settings.
    """
    matplotlib.rcParams.update(STYLE)


#: (file stem, hidden layer, variants, title) for each figure of the paper.
FIGURES = (
    (
        "fig2_dpp_vs_random",
        0,
        ("dpp", "random"),
        "Figure 2: k-DPP vs random pruning, first hidden layer",
    ),
    (
        "fig3_fusion",
        0,
        ("dpp", "dpp+fuse"),
        "Figure 3: k-DPP pruning without and with fusion (DivNet)",
    ),
    (
        "fig4_divnet_vs_random_fused",
        0,
        ("dpp+fuse", "random+fuse"),
        "Figure 4: DivNet vs random pruning, both fused",
    ),
    (
        "fig5_importance",
        0,
        ("random", "importance", "dpp+fuse", "importance+fuse"),
        "Figure 5: random vs importance pruning vs DivNet",
    ),
    (
        "fig6_layer2_dpp_vs_random",
        1,
        ("dpp", "random"),
        "Figure 6 (Appendix A): k-DPP vs random, second hidden layer",
    ),
    (
        "fig7_layer2_fusion",
        1,
        ("dpp", "dpp+fuse"),
        "Figure 7 (Appendix A): k-DPP without and with fusion",
    ),
    (
        "fig8_layer2_divnet_vs_random_fused",
        1,
        ("dpp+fuse", "random+fuse"),
        "Figure 8 (Appendix A): DivNet vs random pruning, both fused",
    ),
)


def log_axis(ax, which: str = "y") -> None:
    """A log-scale axis whose ticks read as plain numbers (1, 2, 5 per decade, no 10^x).

    Curves that differ by fractions of a point (fused errors near the unpruned one) are
    told apart on a log axis; its default labels (2 x 10^0) are hard to read.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis = ax.yaxis if which == "y" else ax.xaxis
    (ax.set_yscale if which == "y" else ax.set_xscale)("log")
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def variant_style(key: str, described: dict | None = None) -> tuple[str, str, str]:
    """(colour, line style, marker) of a variant: from its description in the results, else the registry."""
    if described and {"color", "linestyle", "marker"} <= set(described):
        return described["color"], described["linestyle"], described["marker"]
    return Variant.from_key(key).style


def styled(draw):
    """Decorate a plot function so that it draws in :data:`STYLE` (sizes fixed at drawing)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def _curve(ax, x, values, style, label: str) -> None:
    """One variant's mean over networks, with error bars of one standard deviation (ddof = 1)."""
    mean, std = mean_std(values)
    color, ls, marker = style
    yerr = None if np.isnan(std).all() else std  # one network: no spread to draw
    ax.errorbar(x, mean, yerr=yerr, color=color, ls=ls, marker=marker, ms=4, capsize=3, label=label)


def excess_error(errors, unpruned) -> np.ndarray:
    """Each network's pruned error minus its own unpruned error (a paired difference).

    Parameters
    ----------
    errors : array_like, shape (n_networks, n_sizes)
        Test error of each network pruned to each size.
    unpruned : array_like, shape (networks,)
        Test error of each network before pruning, in the same order.

    Returns
    -------
    numpy.ndarray, shape (n_networks, n_sizes)
        ``errors[i, j] - unpruned[i]``.
    """
    errors, unpruned = np.asarray(errors, dtype=float), np.asarray(unpruned, dtype=float)
    if errors.ndim != 2 or unpruned.shape != (errors.shape[0],):
        raise ValueError(f"one unpruned error per network: {unpruned.shape} vs {errors.shape}")
    return errors - unpruned[:, None]


def symlog_axis(ax, linthresh: float = 1e-3) -> None:
    """A symmetric log y axis (linear within +-``linthresh``) with plain tick labels.

    Differences from the unpruned error span decades (0.001 to 0.8) and may be slightly
    negative (a pruned network can be better than the unpruned one on the test set).
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter, SymmetricalLogLocator

    ax.set_yscale("symlog", linthresh=linthresh, linscale=0.5)
    locator = SymmetricalLogLocator(base=10, linthresh=linthresh, subs=(1.0, 3.0))
    ax.yaxis.set_major_locator(locator)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _panels(ax, unpruned, figsize) -> tuple[list, bool]:
    """The axes to draw on: one, or (with ``unpruned``) the error axes and a difference axes.

    With ``unpruned`` and one axes given, that axes is split: the difference goes below it,
    in a figure made taller. Returns the axes and whether it was split.
    """
    if ax is None:
        if unpruned is None:
            ax = plt.subplots(figsize=figsize)[1]
        else:
            ax = plt.subplots(1, 2, figsize=(1.8 * figsize[0], figsize[1]))[1]
    axes = list(np.atleast_1d(ax))
    split = unpruned is not None and len(axes) == 1
    if split:
        from mpl_toolkits.axes_grid1 import make_axes_locatable

        fig = axes[0].figure
        if len(fig.axes) == 1:
            width, height = fig.get_size_inches()
            fig.set_size_inches(width, 1.7 * height)
        axes.append(make_axes_locatable(axes[0]).append_axes("bottom", "70%", pad=0.35))
    return axes, split


def _difference_panel(main, dax, x, curves: dict, unpruned, xlabel: str, split: bool) -> None:
    """Each network's pruned error minus its own unpruned error, per curve (mean ± std).

    ``curves`` maps a key to (errors of shape (networks, len(x)), style, label). The mean
    unpruned error is drawn on ``main`` as a grey line; ``dax`` gets a symmetric log axis
    around zero, where curves that lie on that line in ``main`` come apart.
    """
    lowest, highest = 0.0, 0.0
    for errors, style, label in curves.values():
        diff = excess_error(errors, unpruned)
        _curve(dax, x, diff, style, label)
        mean, std = mean_std(diff)
        lowest = min(lowest, float(np.nanmin(mean - np.nan_to_num(std))))
        highest = max(highest, float(np.nanmax(mean + np.nan_to_num(std))))
    main.axhline(np.mean(unpruned), color="gray", lw=1, ls=":", label="unpruned network")
    dax.axhline(0.0, color="gray", lw=1, ls=":")
    symlog_axis(dax, linthresh := 1e-3)
    dax.set_ylim(min(-linthresh, 1.5 * lowest), max(linthresh, 1.5 * highest))
    dax.set_xlabel(xlabel)
    dax.set_ylabel("pruned - unpruned error\n(paired, symlog)")
    if split:
        main.set_xlabel("")
    else:
        dax.set_title("difference from each network's unpruned error (mean ± std)")
    dax.grid(True, alpha=0.3, which="both")


@styled
def plot_sweep(
    sweep: dict,
    variants,
    labels: dict,
    title: str,
    ax=None,
    styles: dict | None = None,
    *,
    unpruned=None,
):
    """Test error vs kept neurons for some variants of one layer sweep (mean +- std), log y.

    Parameters
    ----------
    sweep : dict
        A layer sweep (:meth:`divnet_nb.experiments.Experiment.sweep`): ``sizes``,
        ``layer_size`` and ``test_error[variant]``, one row per network.
    variants : sequence of str
        Keys of the variants to draw.
    labels : dict
        Legend label of each variant.
    title : str
        Title of the (first) panel.
    ax : matplotlib Axes or pair of Axes, optional
        Where to draw. With ``unpruned`` and a pair, the second axes gets the difference
        panel; with ``unpruned`` and one axes, that axes is split in two (error above,
        difference below). A new figure when omitted.
    styles : dict, optional
        (colour, line style, marker) per variant; the registry's otherwise.
    unpruned : array_like, optional
        Test error of each network before pruning (same order as the sweep's rows). It is
        drawn as a grey line, and a second panel shows each network's pruned error minus
        its own unpruned error (mean +- std over networks, symmetric log axis), where
        curves that lie on the unpruned line in the first panel come apart.

    Returns
    -------
    matplotlib Axes, or a tuple (error axes, difference axes) when ``unpruned`` is given.
    """
    axes, split = _panels(ax, unpruned, (6.4, 4.2))
    main = axes[0]
    sizes = sweep["sizes"]
    xlabel = f"neurons kept in the layer (of {sweep['layer_size']})"
    main.set_xlabel(xlabel)
    curves = {}
    for key in variants:
        style = (styles or {}).get(key) or variant_style(key)
        _curve(main, sizes, sweep["test_error"][key], style, labels[key])
        curves[key] = (sweep["test_error"][key], style, labels[key])
    if unpruned is not None:
        _difference_panel(main, axes[1], sizes, curves, unpruned, xlabel, split)
    log_axis(main)
    main.set_ylabel("test error (log scale)")
    main.set_title(title)
    main.grid(True, alpha=0.3, which="both")
    main.legend()
    return main if unpruned is None else (main, axes[1])


def unpruned_errors(results: dict) -> list[float] | None:
    """Each network's unpruned test error from ``results["instances"]``, if recorded."""
    rows = results.get("instances") or []
    if not rows or any("test_error" not in r for r in rows):
        return None
    return [r["test_error"] for r in rows]


def plot_variants(results: dict, layer: str, ax=None):
    """Every measured variant of one layer sweep in ``results``, in the registry's styles.

    With the networks' unpruned errors in ``results["instances"]``, a difference panel is
    drawn too (see :func:`plot_sweep`).
    """
    described = results["variants"]
    sweep = results["sweeps"][layer]
    keys = [k for k in described if k in sweep["test_error"]]
    labels = {k: described[k]["label"] for k in keys}
    styles = {k: variant_style(k, described[k]) for k in keys}
    caption = f"Hidden layer {int(layer) + 1}, {title(results['dataset'])}: every variant"
    unpruned = unpruned_errors(results)
    if unpruned is not None and len(unpruned) != len(next(iter(sweep["test_error"].values()))):
        unpruned = None
    return plot_sweep(sweep, keys, labels, caption, ax=ax, styles=styles, unpruned=unpruned)


@styled
def plot_leaderboard(board: dict, labels: dict, ax=None):
    """Test error vs fraction kept for every leaderboard entry (log scale), mean ± std over networks."""
    ax = ax or plt.subplots(figsize=(7.2, 4.6))[1]
    fr = board["fractions"]
    for entry in board["entries"]:
        key, method = entry["key"], entry["method"]
        color, _, marker = Variant(method, True).style
        ls = "-" if key == method else (":" if entry["target"] == "original" else "-.")
        if entry["budget"] == "allocated" and entry["target"] == "original":
            ls = (0, (1, 1))
        label = labels.get(method, method) + ("" if key == method else f" ({key.split(' | ')[1]})")
        _curve(ax, fr, board["test_error"][key], (color, ls, marker), label)
    ax.axhline(np.mean(board["unpruned_test_error"]), color="gray", lw=1, label="unpruned")
    log_axis(ax)
    ax.set_xlabel("fraction of hidden neurons kept (all layers), every rule with fusion")
    ax.set_ylabel("test error (log scale)")
    ax.set_title(f"Which neurons to keep, {title(board['dataset'])}: no retraining")
    ax.grid(alpha=0.3, which="both")
    ax.legend(ncol=2)
    return ax


@styled
def plot_table2(results: dict, ax=None):
    """Table 2 as a plot: test error vs fraction of hidden neurons kept, all variants, with the paper's DivNet.

    Parameters
    ----------
    results : dict
        ``dataset``, ``table2`` (``fractions`` and ``errors[variant]["test"]``, one row per
        network) and ``variants`` (each one's ``label``). With each network's unpruned
        ``test_error`` in ``results["instances"]``, in the same order as the rows, a second
        panel shows each network's pruned error minus its own unpruned error (paired, mean
        ± std, symmetric log axis): the fused curves, which overlap near the unpruned
        error on the first panel, come apart there.
    ax : matplotlib Axes or pair of Axes, optional
        As in :func:`plot_sweep`.

    Returns
    -------
    matplotlib Axes, or a tuple (error axes, difference axes) when a difference is drawn.
    """
    fr = results["table2"]["fractions"]
    described = results["variants"]
    errors = {key: errs["test"] for key, errs in results["table2"]["errors"].items()}
    unpruned = unpruned_errors(results)
    if unpruned is not None and any(len(e) != len(unpruned) for e in errors.values()):
        unpruned = None
    axes, split = _panels(ax, unpruned, (6.4, 4.2))
    main = axes[0]
    xlabel = "fraction of hidden neurons kept (every layer)"
    main.set_xlabel(xlabel)
    curves = {}
    for key, errs in errors.items():
        style = variant_style(key, described.get(key))
        _curve(main, fr, errs, style, described[key]["label"])
        curves[key] = (errs, style, described[key]["label"])
    cells = [(f, table2_cell(results["dataset"], "test", f)) for f in fr]
    pts = [(f, *cell) for f, cell in cells if cell]
    if pts:
        main.errorbar(
            [p[0] for p in pts],
            [p[1] for p in pts],
            yerr=[p[2] for p in pts],
            color="black",
            ls="none",
            marker="*",
            ms=9,
            capsize=3,
            label="DivNet, paper's Table 2",
        )
    if unpruned is not None:
        _difference_panel(main, axes[1], fr, curves, unpruned, xlabel, split)
    main.set_ylabel("test error (log scale)")
    log_axis(main)  # fused (~0.02-0.1) and unfused (~0.1-0.9) curves both readable
    main.set_title(f"Table 2, {title(results['dataset'])}: all layers pruned, no retraining")
    main.grid(alpha=0.3, which="both")
    main.legend()
    return main if unpruned is None else (main, axes[1])


def save_figure(draw, path, *, figsize=(6.4, 4.2), dpi: int = 120, panels: int = 1) -> None:
    """Draw with ``draw(ax)`` on a new figure in :data:`STYLE` and save it as PNG, atomically.

    No pyplot: any backend works and notebooks' figures are left alone.

    Parameters
    ----------
    draw : callable
        Called with the new figure's axes: one Axes, or an array of ``panels`` side by side.
    path : str or pathlib.Path
        The PNG to write.
    figsize : tuple of float
        Figure size in inches.
    dpi : int
        Resolution of the PNG; at least 100, so that 9 pt text stays readable.
    panels : int
        Number of axes, side by side.
    """
    if dpi < 100:
        raise ValueError(f"figures are saved at 100 dpi or more, not {dpi}")
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=figsize)
        draw(fig.subplots(1, panels) if panels > 1 else fig.subplots())
        fig.tight_layout()
        with atomic_write(path) as handle:
            fig.savefig(handle, dpi=dpi, format="png")
