"""The within-network spread of the DPP edge rows, behind EDGE_DPP_SAMPLE_SD in
tests/test_reference.py.

Network 0 of reference/edges-mnist.json (MNIST, full data, one BLAS and torch thread, as the
regression test runs it), its DPP edge masks drawn again with the experiment's own random
stream and with seven others; each draw's test error at every fraction, plain and
reweighted, one JSON line per draw, then the standard deviation over the draws.

    DIVNET_DATA=... python tests/reruns/edge_dpp_spread.py [--draws 7]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import threadpoolctl
import torch

from divnet_nb.experiments import Experiment, settings_for
from divnet_nb.experiments.edges import FRACTIONS, edge_sizes
from divnet_nb.experiments.settings import method_stream
from divnet_nb.nets.evaluate import error_rate
from divnet_nb.nets.sites import site_for
from divnet_nb.pruning.edge.masks import edge_statistics, reweight_edges, select_edge_masks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=7, help="draws beside the experiment's own")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = {"dpp": [], "dpp+rw": []}
    with threadpoolctl.threadpool_limits(1):
        exp = Experiment("mnist", settings_for("mnist", fast=False, instances=1), progress=False)
        model = exp.model(0)
        site = site_for(model, 0)
        data = edge_statistics(model, site, exp.x_kernel)
        ks = edge_sizes(data.n_inputs, FRACTIONS)
        xt, yt = exp.data.x_test, exp.data.y_test
        streams = [exp._rng(0, 400, method_stream("dpp"))] + [
            np.random.default_rng(np.random.SeedSequence([7919, s])) for s in range(args.draws)
        ]
        for draw, rng in enumerate(streams):
            masks = select_edge_masks("dpp", ks, data, rng=rng)
            plain = [error_rate(site.mask_incoming(model, masks[k]), xt, yt) for k in ks]
            rw = [
                error_rate(
                    site.mask_incoming(
                        model, masks[k], reweight_edges(data.stats, masks[k], data.weights)
                    ),
                    xt,
                    yt,
                )
                for k in ks
            ]
            rows["dpp"].append(plain)
            rows["dpp+rw"].append(rw)
            print(json.dumps({"draw": draw, "dpp": plain, "dpp+rw": rw}), flush=True)
    for key, values in rows.items():
        sd = np.std(np.asarray(values), axis=0, ddof=1)
        print(f"{key}: standard deviation over {len(values)} draws", np.round(sd, 5).tolist())


if __name__ == "__main__":
    main()
