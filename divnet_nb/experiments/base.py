"""What the experiments on the Table 1 networks share: their networks, store and options.

``reproduce``, ``leaderboard`` and ``edges`` measure the same trained networks of one
dataset (:class:`~divnet_nb.experiments.settings.Settings`): their first phase trains
(or loads) network ``i`` as part ``train-net<i>``, whose result is its checkpoint in the
network cache and its row of the instance table; their store is named by the settings,
the networks' cache keys and the package version (:meth:`~divnet_nb.experiments.experiment.Experiment.identity`); and
their parts run on an :class:`~divnet_nb.experiments.experiment.Experiment` of the
settings (:func:`~divnet_nb.experiments.experiment.context`). No torch at import.
"""

from __future__ import annotations

import re

from ..tasks.protocol import ExperimentProtocol
from .settings import Settings

__all__ = [
    "NetworkExperiment",
    "dataset_argument",
    "kernel_argument",
    "kernel_samples_argument",
]

_TRAIN = re.compile(r"train-net(\d+)$")


def dataset_argument(parser) -> None:
    """The ``--dataset`` option of the experiments on the Table 1 networks."""
    from ..datasets import DATASETS

    parser.add_argument(
        "--dataset", required=True, choices=DATASETS, help="which dataset (digits works offline)"
    )


def kernel_argument(parser) -> None:
    """The ``--kernel`` option: the kernel over neurons of the rules that read one."""
    from ..core.kernels import kernel_names

    parser.add_argument(
        "--kernel",
        metavar="NAME",
        help="kernel over neurons of the k-DPP rules (dpp, greedy-map, dpp-best): "
        f"{', '.join(kernel_names())} (default rbf, the paper's eq. 2)",
    )


def kernel_samples_argument(parser, used_for: str = "the statistics of every layer") -> None:
    """The ``--kernel-samples`` option: how many training inputs ``used_for``."""
    parser.add_argument(
        "--kernel-samples", type=int, help=f"training inputs for {used_for} (default: all)"
    )


class NetworkExperiment(ExperimentProtocol):
    """An experiment on the trained networks of :class:`Settings`; subclasses add the measuring parts."""

    #: Settings fields and the options that set them (errors are shown under the option).
    option_names = {
        "instances": "--instances",
        "seed": "--seed",
        "n_kernel": "--kernel-samples",
        "kernel": "--kernel",
    }

    def add_arguments(self, parser) -> None:
        dataset_argument(parser)
        parser.add_argument(
            "--instances", type=int, help="networks (default: Table 1's 5; fast: 2)"
        )
        parser.add_argument("--seed", type=int, default=0, help="as for reproduce (default 0)")

    def settings_from_args(self, args, fast: bool) -> Settings:
        from .settings import settings_for

        extra = {}
        if getattr(args, "kernel_samples", None) is not None:
            extra["n_kernel"] = args.kernel_samples
        if getattr(args, "kernel", None) is not None:
            extra["kernel"] = args.kernel
        return settings_for(
            args.dataset, fast=fast, instances=args.instances, seed=args.seed, **extra
        )

    def training_phase(self, settings: Settings) -> list[str]:
        return [f"train-net{i}" for i in range(settings.instances)]

    def is_stored(self, key: str) -> bool:
        return not key.startswith("train-")

    def identity(self, settings: Settings) -> dict:
        from .experiment import context

        return context(settings).identity()

    def local(self, settings: Settings, progress: bool):
        from .experiment import Experiment, attached

        return attached(Experiment(settings.dataset, settings, progress=progress))

    def compute(self, settings: Settings, key: str):
        from .experiment import context

        exp = context(settings)
        if m := _TRAIN.match(key):
            return {"instance": exp.train_part(int(m[1])), "source": exp.data.source}
        return self.measure(exp, key)

    def measure(self, exp, key: str):
        """The value of measuring part ``key`` on the experiment's context ``exp``."""
        raise NotImplementedError
