"""What ``divnet-nb reproduce`` writes: results.json, one PNG per figure, and report.md.

* :mod:`.figures` - the paper's figures and Table 2 as a plot, styles from the registry;
* :mod:`.markdown` - report.md and its tables (also shown by the notebooks);
* :mod:`.write` - :func:`write_report`, all of it into one folder.

The report puts Table 2 beside the paper's numbers and checks, one by one, the paper's
claims on our measurements (:func:`divnet_nb.experiments.check_claims`), saying plainly
where a claim does not hold.
"""

from ..experiments.claims import check_claims
from .figures import FIGURES, STYLE, plot_sweep, plot_table2, plot_variants, use_style
from .markdown import NAMES, divnet_table, figure_files, summarise, variants_table
from .write import write_report

__all__ = [
    "FIGURES",
    "NAMES",
    "STYLE",
    "check_claims",
    "divnet_table",
    "figure_files",
    "plot_sweep",
    "plot_table2",
    "plot_variants",
    "summarise",
    "variants_table",
    "use_style",
    "write_report",
]
