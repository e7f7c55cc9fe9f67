"""What the experiments write, and the README's results: tables, figures, Markdown.

* :mod:`.figures` - the paper's figures and Table 2 as a plot, styles from the registry,
  the one figure style of the package (:data:`STYLE`, :func:`use_style`);
* :mod:`.markdown` - ``report.md`` of ``divnet-nb reproduce`` and its tables (also shown by
  the notebooks); :mod:`.write` - :func:`write_report`, all of it into one folder;
* :mod:`.leaderboard`, :mod:`.kernels`, :mod:`.edges`, :mod:`.gates`, :mod:`.theory` - the other
  experiments' tables and figures;
* :mod:`.outputs` - one writer per experiment, found by the result's ``"experiment"`` key;
* :mod:`.readme` - the README's result blocks and figures, generated from ``reference/``.

The report puts Table 2 beside the paper's numbers and checks, one by one, the paper's
claims on our measurements (:func:`divnet_nb.experiments.check_claims`), saying plainly
where a claim does not hold. Names are loaded on first use (:mod:`lazy_loader`).
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "figures": [
            "FIGURES",
            "STYLE",
            "excess_error",
            "log_axis",
            "plot_leaderboard",
            "plot_sweep",
            "plot_table2",
            "plot_variants",
            "save_figure",
            "styled",
            "symlog_axis",
            "unpruned_errors",
            "use_style",
            "variant_style",
        ],
        "markdown": [
            "NAMES",
            "claims_section",
            "divnet_table",
            "figure_files",
            "summarise",
            "variants_table",
        ],
        "write": ["write_report"],
        "outputs": ["write_json", "write_outputs", "write_text", "writer_names", "writes"],
        "leaderboard": [
            "entry_name",
            "fusion_table",
            "labels_of",
            "leaderboard_markdown",
            "table_lines",
            "write_leaderboard",
        ],
        "kernels": [
            "KERNEL_STYLES",
            "kernels_markdown",
            "kernels_summary",
            "plot_kernels",
            "save_kernels_figure",
            "write_kernels",
        ],
        "edges": ["edges_markdown", "plot_edges", "write_edges"],
        "gates": [
            "POSTHOC_LABELS",
            "best_posthoc",
            "gate_costs",
            "gate_findings",
            "gate_groups",
            "gates_markdown",
            "plot_gate_training",
            "plot_gates",
            "save_gates_figure",
            "write_gates",
        ],
        "theory": ["plot_learning_curves", "plot_pruned", "save_theory_figure", "theory_markdown"],
        "readme": ["BLOCK", "blocks", "render"],
    },
)
