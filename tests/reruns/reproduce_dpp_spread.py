"""The within-network spread of the k-DPP rows of the MNIST reproduction, behind
REPRODUCE_DPP_SAMPLE_SD in tests/test_reference.py.

Network 0 of reference/mnist.json (MNIST, full data, the libraries' default threads, as the
regression test runs it): its k-DPP selections drawn again, with the experiment's own random
streams and with seven others, for every Table 2 cell (train and test) and every point of
both layers' sweeps, with and without fusion. One JSON line per draw, then the standard
deviation over the draws of every cell, as a Python literal to paste.

    DIVNET_DATA=... python tests/reruns/reproduce_dpp_spread.py [--draws 7]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from _redraw import Redrawn

from divnet_nb.experiments import Experiment, settings_for, variants


def _cells(exp: Experiment) -> dict[str, list[float]]:
    dpp = variants(["dpp"])
    t2 = exp.table2_part(0, variants=dpp)["errors"]
    cells = {f"table2 {k} {w}": t2[k][w] for k in t2 for w in ("train", "test")}
    for layer in (0, 1):
        sweep = exp.sweep_part(0, layer, variants=dpp)["test_error"]
        cells.update({f"sweep{layer} {k}": v for k, v in sweep.items()})
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=7, help="draws beside the experiment's own")
    args = parser.parse_args()
    settings = settings_for("mnist", fast=False, instances=1)
    rows: dict[str, list[list[float]]] = {}
    for draw in range(-1, args.draws):
        exp = Redrawn("mnist", settings, progress=False, draw=draw)
        cells = _cells(exp)
        for key, values in cells.items():
            rows.setdefault(key, []).append(values)
        print(json.dumps({"draw": draw, **cells}), flush=True)
    sds = {k: np.round(np.std(np.asarray(v), axis=0, ddof=1), 5).tolist() for k, v in rows.items()}
    print(f"standard deviation over {args.draws + 1} draws:")
    print(json.dumps(sds, indent=1))


if __name__ == "__main__":
    main()
