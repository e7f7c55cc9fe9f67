"""The experiment protocol: an experiment is a declared set of *parts*, each a pure task.

Every command of ``divnet-nb`` that computes (``reproduce``, ``leaderboard``, ``edges``,
``gates``, ``theory``) is an :class:`ExperimentProtocol`:

* :meth:`~ExperimentProtocol.phases` declares the parts: a list of phases, each a list of
  part keys. Every part of a phase may run at the same time as the others; a phase starts
  when the one before it has finished (training networks, then measuring them);
* :meth:`~ExperimentProtocol.compute` is a **pure function of (settings, part key)**: it
  returns a JSON-able value, and its randomness is seeded only from the key's coordinates
  (network, layer, method, size, ...) through :class:`numpy.random.SeedSequence`, so a part
  gives the same numbers whichever process computes it, in whatever order;
* :meth:`~ExperimentProtocol.gather` turns the finished parts into the result, a JSON-able
  dict whose ``"experiment"`` key names the protocol;
* :meth:`~ExperimentProtocol.identity` is everything that decides the parts' numbers: it
  names the folder of the :class:`~divnet_nb.tasks.store.ResultStore` that keeps finished
  parts, so a rerun resumes and a run with other settings shares nothing;
* :meth:`~ExperimentProtocol.reference` is the file a full run is committed as under
  ``reference/``.

A training part's value is the network in the network cache (its result is a checkpoint on
disk), so :meth:`~ExperimentProtocol.is_stored` says it is not kept in the store: it is
"done" when its checkpoint exists, and computing it again only loads it.

Settings are frozen dataclasses that validate themselves in ``__post_init__`` (a mistake
is a :class:`ValueError` before any work) and are pickled to the workers. The protocol
object itself is pickled too, so it must hold no state beyond its class.

Registration: :func:`register_experiment` is a class decorator, and :data:`EXPERIMENT_MODULES`
names the modules that use it, imported on the first look-up (:func:`experiments`,
:func:`get_experiment`); a new experiment is one new module and its line there. The
command line is generated from :func:`experiments` (one parser entry and one handler per
experiment). This module, and every module of that list, imports neither torch nor any
data when it is imported.
"""

from __future__ import annotations

import abc
import contextlib
import importlib
from typing import Any, ClassVar

__all__ = [
    "ExperimentProtocol",
    "register_experiment",
    "get_experiment",
    "experiments",
    "experiment_names",
    "SHARED_OPTIONS",
    "SettingError",
    "EXPERIMENT_MODULES",
]

#: Options every computing command may take; each protocol lists the ones that apply.
SHARED_OPTIONS = ("fast", "out", "fresh", "quiet", "jobs", "threads", "scheduler")


class ExperimentProtocol(abc.ABC):
    """One experiment as parts. Subclasses set the class attributes and the methods below.

    Attributes
    ----------
    name : str
        The command (``divnet-nb <name>``) and the ``"experiment"`` key of its results.
    help, description : str
        The command's one-line help and its ``--help`` text.
    file_stem : str
        What the command writes: ``<stem>.json``, ``<stem>.md`` and figures.
    options : tuple of str
        The :data:`SHARED_OPTIONS` that apply.
    uses_torch : bool
        Whether parts use torch (its thread count is then set in every worker).
    """

    name: ClassVar[str]
    help: ClassVar[str] = ""
    description: ClassVar[str] = ""
    file_stem: ClassVar[str] = "results"
    options: ClassVar[tuple[str, ...]] = SHARED_OPTIONS
    uses_torch: ClassVar[bool] = True

    # -- the command line ------------------------------------------------------------
    def add_arguments(self, parser) -> None:  # noqa: B027 - optional hook
        """Add this experiment's own options to its argparse subparser (types only)."""

    @abc.abstractmethod
    def settings_from_args(self, args, fast: bool):
        """The validated settings of a command line (raises :class:`ValueError` on a mistake)."""

    def default_out(self, settings) -> str:
        """The output folder's name under the results folder."""
        return f"{self.name}-{settings.dataset}"

    # -- the parts -----------------------------------------------------------------
    @abc.abstractmethod
    def phases(self, settings) -> list[list[str]]:
        """The part keys, phase by phase (parts of one phase are independent)."""

    @abc.abstractmethod
    def compute(self, settings, key: str) -> Any:
        """The JSON-able value of part ``key``: a pure function of ``(settings, key)``."""

    def identity(self, settings) -> dict | None:
        """What decides the parts' numbers (names the store); None: nothing is stored."""
        return {"experiment": self.name, "settings": settings.to_dict()}

    def is_stored(self, key: str) -> bool:
        """Whether part ``key`` is kept in the store (training parts are kept in the network cache)."""
        return True

    def local(self, settings, progress: bool):
        """A context manager under which parts computed in *this* process share one context
        made with ``progress`` (its bars and messages); parts in workers never show them."""
        return contextlib.nullcontext()

    @abc.abstractmethod
    def gather(self, settings, parts: dict[str, Any]) -> dict:
        """The result (JSON-able, with ``"experiment": name``) from every part's value."""

    # -- committed references --------------------------------------------------------
    def reference(self, result: dict) -> tuple[str, dict]:
        """The file name under ``reference/`` and the content a full run is committed as."""
        return f"{self.file_stem}-{result['dataset']}.json", result

    def describe_reference(self, result: dict) -> str:
        """One line saying what a written reference holds."""
        return f"{self.name} on {result.get('dataset', '?')}"

    def __repr__(self) -> str:
        return f"<experiment {self.name!r}>"

    def __reduce__(self):
        # protocols are stateless: a worker rebuilds one from its class
        return (type(self), ())


class SettingError(ValueError):
    """A setting that cannot work: ``field`` names it, the message says why and what it got.

    The command line shows it under the option's name (``--sizes`` for ``sweep_sizes``).
    """

    def __init__(self, field: str, message: str):
        super().__init__(field, message)
        self.field, self.message = field, message

    def __str__(self) -> str:
        return self.as_option(self.field)

    def as_option(self, name: str) -> str:
        """The message with the setting called ``name`` (e.g. a command-line flag)."""
        sep = " " if self.message.startswith("must") else ": "
        return f"{name}{sep}{self.message}"


#: The modules that register experiments, in the order the command line lists them.
EXPERIMENT_MODULES = (
    "divnet_nb.experiments.reproduce",
    "divnet_nb.experiments.leaderboard",
    "divnet_nb.experiments.kernels",
    "divnet_nb.experiments.edges",
    "divnet_nb.theory.experiment",
    "divnet_nb.experiments.gates",
    "divnet_nb.experiments.cnn",
    "divnet_nb.experiments.sizes",
    "divnet_nb.experiments.interleaved",
    "divnet_nb.experiments.edge_bandwidths",
)

_EXPERIMENTS: dict[str, ExperimentProtocol] = {}


def _load() -> None:
    for module in EXPERIMENT_MODULES:
        importlib.import_module(module)


def register_experiment(cls: type[ExperimentProtocol]) -> type[ExperimentProtocol]:
    """Class decorator: make ``cls`` a command of ``divnet-nb`` and a kind of result."""
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"{cls.__name__} needs a name")
    unknown = set(cls.options) - set(SHARED_OPTIONS)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown shared options {sorted(unknown)}")
    existing = _EXPERIMENTS.get(name)
    if existing is not None and type(existing).__qualname__ != cls.__qualname__:
        raise ValueError(f"an experiment named {name!r} is already registered")
    _EXPERIMENTS[name] = cls()
    return cls


def get_experiment(name: str) -> ExperimentProtocol:
    """The registered experiment ``name`` (a one-line error lists the registered ones)."""
    _load()
    try:
        return _EXPERIMENTS[name]
    except KeyError:
        raise ValueError(
            f"unknown experiment {name!r}; registered: {', '.join(sorted(_EXPERIMENTS))}"
        ) from None


def experiments() -> list[ExperimentProtocol]:
    """Every registered experiment: those of :data:`EXPERIMENT_MODULES` in its order, then
    any other in registration order (whichever module a process happened to import first)."""
    _load()
    order = {module: i for i, module in enumerate(EXPERIMENT_MODULES)}
    return sorted(_EXPERIMENTS.values(), key=lambda e: order.get(type(e).__module__, len(order)))


def experiment_names() -> list[str]:
    return [e.name for e in experiments()]
