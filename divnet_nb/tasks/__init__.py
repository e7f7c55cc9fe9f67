"""Experiments as tasks: parts, where they run, and where they are kept.

* :mod:`.protocol` - :class:`ExperimentProtocol` (an experiment as a set of pure parts,
  a gather step and a committed reference) and its registry, from which the command line
  is generated;
* :mod:`.executors` - where parts run: this process, local worker processes (joblib) or a
  Dask cluster, with BLAS and torch thread limits inside every part;
* :mod:`.store` - finished parts on disk, keyed by what decides their numbers;
* :mod:`.contexts` - what the parts of one experiment share in a process (data, networks);
* :mod:`.driver` - :func:`run_experiment`: the loop that runs, keeps and gathers;
* :mod:`.provenance` - :func:`environment`: where a set of numbers came from;
* :mod:`.options` - argument types the experiments' options share.

This layer sits at the bottom of the package beside :mod:`divnet_nb.core`: it imports no
torch, no data and nothing of the stages above it, which register their experiments here.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submod_attrs={
        "protocol": [
            "SHARED_OPTIONS",
            "ExperimentProtocol",
            "SettingError",
            "EXPERIMENT_MODULES",
            "experiment_names",
            "experiments",
            "get_experiment",
            "register_experiment",
        ],
        "executors": [
            "DaskCluster",
            "Executor",
            "InProcess",
            "LocalProcesses",
            "PartFailed",
            "default_threads",
            "make_executor",
            "run_part",
            "thread_limits",
        ],
        "store": ["RESULTS_FORMAT", "ResultStore"],
        "contexts": ["Contexts"],
        "driver": ["run_experiment", "store_for"],
        "options": ["comma_list", "floats", "ints", "names"],
        "provenance": ["PACKAGES", "environment"],
    },
)
