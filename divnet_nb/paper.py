"""Numbers quoted from the paper (Mariet & Sra, ICLR 2016), kept in one place.

The experiment reports and notebooks print our measurements beside these. Table 2's
header lost its first column label in the text we work from; the first column is read
as 10 % of hidden neurons remaining (Figure 3's text speaks of removing 90 % of a
layer). Most CIFAR-10 training-error cells are missing from that text and are None here.
"""

from __future__ import annotations

from .core.constants import BETA_NUMERATOR as _BETA_NUMERATOR
from .core.constants import DEFAULT_EPS as _DEFAULT_EPS

#: Table 1: instances, training-error threshold, architecture.
TABLE1 = {
    "mnist": {"instances": 5, "threshold": 0.01, "sizes": (784, 500, 500, 10)},
    "mnist_rot": {"instances": 5, "threshold": 0.01, "sizes": (784, 500, 500, 10)},
    "cifar10": {"instances": 5, "threshold": 0.50, "sizes": (3072, 1000, 1000, 1000, 10)},
}

#: Table 2's columns: fraction of all hidden neurons remaining.
TABLE2_FRACTIONS = (0.10, 0.25, 0.50, 0.75, 1.00)

#: Table 2: DivNet without retraining, (mean, std) of the error at each fraction.
TABLE2 = {
    "mnist": {
        "train": [(0.76, 0.06), (0.28, 0.12), (0.15, 0.04), (0.06, 0.04), (0.01, 0.001)],
        "test": [(0.76, 0.07), (0.29, 0.12), (0.17, 0.05), (0.07, 0.03), (0.03, 0.002)],
    },
    "mnist_rot": {
        "train": [(0.74, 0.08), (0.54, 0.09), (0.34, 0.06), (0.20, 0.03), (0.01, 0.003)],
        "test": [(0.73, 0.09), (0.49, 0.11), (0.25, 0.07), (0.06, 0.03), (0.15, 0.008)],
    },
    "cifar10": {
        "train": [None, None, None, None, (0.49, 0.004)],
        "test": [(0.85, 0.05), (0.62, 0.02), (0.54, 0.01), (0.52, 0.01), (0.51, 0.005)],
    },
}

#: DivNet's kernel settings (section 2.1.1): beta = BETA_NUMERATOR / |T|, eps. Defined once,
#: in the core, whose kernel uses them as its defaults.
BETA_NUMERATOR = _BETA_NUMERATOR
EPS = _DEFAULT_EPS


def table2_cell(dataset: str, which: str, fraction: float):
    """The paper's Table 2 (mean, std) for ``dataset``, ``which`` ("train"/"test"), at ``fraction``.

    Cells are looked up by the fraction they belong to (never by position); None where
    the paper has no cell (another fraction, a dataset it does not report, a missing
    CIFAR-10 training cell).
    """
    row = TABLE2.get(dataset, {}).get(which)
    if row is None:
        return None
    for f, cell in zip(TABLE2_FRACTIONS, row, strict=True):
        if abs(f - float(fraction)) < 1e-9:
            return cell
    return None
