"""The within-network spread of the sampled rows of the kernel comparison, behind
KERNELS_SAMPLE_SD in tests/test_kernel_reference.py.

Network 0 of reference/kernels-mnist.json (MNIST, full data, one BLAS and torch thread, as the
reference's parts ran), one kernel's part drawn again with the experiment's own random
streams and with seven others: the test error of each selector at every fraction, one JSON
line per draw, then the standard deviation over the draws (the greedy MAP, which draws
nothing, comes out the same every time).

    DIVNET_DATA=... python tests/reruns/kernels_dpp_spread.py --kernel cosine [--draws 7]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import threadpoolctl
import torch
from _redraw import Redrawn

from divnet_nb.experiments import settings_for
from divnet_nb.experiments.kernels import FRACTIONS, KERNELS, kernel_part


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kernel", choices=KERNELS, required=True)
    parser.add_argument("--draws", type=int, default=7, help="draws beside the experiment's own")
    args = parser.parse_args()
    torch.set_num_threads(1)
    settings = settings_for("mnist", fast=False, instances=1)
    rows: dict[str, list[list[float]]] = {}
    with threadpoolctl.threadpool_limits(1):
        for draw in range(-1, args.draws):
            exp = Redrawn("mnist", settings, progress=False, draw=draw)
            errors = kernel_part(exp, 0, args.kernel, FRACTIONS)["test_error"]
            for selector, values in errors.items():
                rows.setdefault(selector, []).append(values)
            print(json.dumps({"draw": draw, **errors}), flush=True)
    sds = {k: np.round(np.std(np.asarray(v), axis=0, ddof=1), 5).tolist() for k, v in rows.items()}
    print(f"standard deviation over {args.draws + 1} draws ({args.kernel}):")
    print(json.dumps(sds))


if __name__ == "__main__":
    main()
