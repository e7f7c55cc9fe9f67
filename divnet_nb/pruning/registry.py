"""The method registry: every pruning method is declared here, once, by the module that implements it.

A method has a *kind*, which says what it returns and so which code path applies it:

==========  ===========================================================  =====================
kind        the registered function                                      applied by
==========  ===========================================================  =====================
``neuron``  ``f(layer_data, k, rng, **options) -> kept indices``         :mod:`~divnet_nb.pruning.apply`
            (``k=None`` for methods that choose their own size)          (a physically smaller
                                                                         layer, with or without
                                                                         fusion)
``edge``    ``f(edge_data, sizes, rng, **options) -> {k: bool mask}``    :mod:`~divnet_nb.pruning.edge.masks`
            (units, d) keeping exactly ``k`` incoming weights per unit,  (a mask per unit over
            for each k of the sorted ``sizes``)                          its incoming weights)
``gate``    ``f(n_units, layer, **settings) -> UnitGate or WeightGate``  :mod:`~divnet_nb.pruning.gate.gating`
            (a module that multiplies a layer's units, or its single     (trained with a
            weights, by trainable gates, with a penalty)                 penalty, then shrunk
                                                                         or masked)
==========  ===========================================================  =====================

Each kind is a subpackage of :mod:`divnet_nb.pruning` (``neuron``, ``edge``, ``gate``) whose
import registers its methods. Declaring a method is one decorator in its module::

    @register_method("importance", "neuron", label="importance", color="tab:green",
                     marker="^", needs=("importance",))
    def importance(layer_data, k, rng):
        ...

``needs`` says what the function reads from its inputs, so the callers compute it only
when asked: ``"importance"`` (onorm scores), ``"kernel"`` (the RBF kernel of eq. 2 and its
eigendecomposition), ``"weights"`` (the outgoing weights) and ``"rng"`` (a random
generator). The experiments, the report (legends, colours, markers, tables) and the
command line read this registry; none of them lists methods itself. A *variant* is a
neuron method with or without the fusion of eqs. 3-4 (:class:`Variant`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = [
    "KINDS",
    "NEEDS",
    "DEFAULT_METHODS",
    "Method",
    "Variant",
    "register_method",
    "unregister_method",
    "get_method",
    "method_names",
    "variants",
]

KINDS = ("neuron", "edge", "gate")
NEEDS = frozenset({"importance", "kernel", "weights", "rng"})
#: The neuron methods that Table 2 and Figures 2-8 compare (each with and without fusion).
DEFAULT_METHODS = ("dpp", "random", "importance")
FUSED_SUFFIX = "+fuse"


@dataclass(frozen=True)
class Method:
    """A registered pruning method: what it is called, what it is, how it is drawn, what it needs."""

    name: str
    kind: str
    label: str
    color: str
    marker: str
    function: Callable = field(repr=False, compare=False)
    needs: frozenset = frozenset()
    sized: bool = True
    options: tuple = ()
    fused_label: str | None = None
    description: str = ""

    def variant_label(self, reweight: bool) -> str:
        """The legend entry: the label, plus " + fusion" when fused (or the method's own fused label)."""
        if not reweight:
            return self.label
        return self.fused_label or f"{self.label} + fusion"

    def style(self, reweight: bool) -> tuple[str, str, str]:
        """(colour, line style, marker): solid when fused, dashed without fusion."""
        return self.color, "-" if reweight else "--", self.marker


#: (kind, name) -> Method. A name may be used once per kind: ``"dpp"`` is both DivNet's
#: neuron rule and the DPP edge rule, and each caller asks for the kind it applies.
_METHODS: dict[tuple[str, str], Method] = {}


def _check_style(name: str, color: str, marker: str) -> None:
    from matplotlib.colors import is_color_like
    from matplotlib.markers import MarkerStyle

    if not is_color_like(color):
        raise ValueError(f"method {name!r}: color {color!r} is not a matplotlib colour")
    if marker not in MarkerStyle.markers:
        raise ValueError(f"method {name!r}: marker {marker!r} is not a matplotlib marker")


def register_method(
    name: str,
    kind: str,
    *,
    label: str,
    color: str,
    marker: str,
    needs=(),
    sized: bool = True,
    options=(),
    fused_label: str | None = None,
    description: str = "",
    replace: bool = False,
):
    """Decorator that declares a pruning method (see the module notes for each kind's signature).

    Parameters
    ----------
    name : str
        What users type (``--methods``); letters, digits and ``-`` only.
    kind : {"neuron", "edge", "gate"}
    label, color, marker
        Legend label and plot style (any matplotlib colour and marker).
    needs : iterable of str
        A subset of :data:`NEEDS`.
    sized : bool
        False for a method that chooses its own size (it is called with ``k=None``).
    options : iterable of str
        Extra keyword arguments the function accepts (e.g. ``"scale"``).
    fused_label : str, optional
        Label of the method with fusion (default: label + " + fusion").
    replace : bool
        Allow re-registering a name (otherwise a second registration is an error).
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c == "-" for c in name):
        raise ValueError(f"method name must be letters, digits and '-'; got {name!r}")
    if kind not in KINDS:
        raise ValueError(f"method {name!r}: kind must be one of {', '.join(KINDS)}; got {kind!r}")
    needs = frozenset(needs)
    if not needs <= NEEDS:
        raise ValueError(
            f"method {name!r}: needs {sorted(needs - NEEDS)} unknown; allowed: {', '.join(sorted(NEEDS))}"
        )
    _check_style(name, color, marker)
    if (kind, name) in _METHODS and not replace:
        raise ValueError(
            f"{kind} method {name!r} is already registered (pass replace=True to override)"
        )

    def decorator(function: Callable) -> Callable:
        _METHODS[(kind, name)] = Method(
            name,
            kind,
            label,
            color,
            marker,
            function,
            needs,
            bool(sized),
            tuple(options),
            fused_label,
            description or (function.__doc__ or "").strip().split("\n")[0],
        )
        return function

    return decorator


def unregister_method(name: str, kind: str | None = None) -> None:
    """Remove a method (of one kind, or of every kind) from the registry (for tests and interactive work)."""
    for key in [key for key in _METHODS if key[1] == name and kind in (None, key[0])]:
        del _METHODS[key]


def method_names(kind: str | None = None) -> tuple[str, ...]:
    """Registered method names (of one kind), in the order they were registered, each once."""
    names = (n for k, n in _METHODS if kind is None or k == kind)
    return tuple(dict.fromkeys(names))


def get_method(name, kind: str | None = None) -> Method:
    """The registered method ``name`` of ``kind``; a one-line ValueError listing the registered ones otherwise.

    Without ``kind``, a neuron method of that name comes first, then any other kind's.
    """
    method = None
    if isinstance(name, str):
        kinds = (kind,) if kind is not None else KINDS
        method = next((_METHODS[(k, name)] for k in kinds if (k, name) in _METHODS), None)
    if method is None:
        what = f"{kind} methods" if kind else "methods"
        raise ValueError(
            f"method must be one of the registered {what}: {', '.join(method_names(kind))}; got {name!r}"
        )
    return method


@dataclass(frozen=True)
class Variant:
    """A neuron-selection method with or without the fusion of eqs. 3-4. DivNet is ``Variant("dpp", True)``."""

    method: str
    reweight: bool

    @property
    def key(self) -> str:
        """``"dpp"``, ``"dpp+fuse"``, ...: the name used in results and on the command line."""
        return self.method + FUSED_SUFFIX if self.reweight else self.method

    @property
    def label(self) -> str:
        return get_method(self.method, "neuron").variant_label(self.reweight)

    @property
    def style(self) -> tuple[str, str, str]:
        return get_method(self.method, "neuron").style(self.reweight)

    @classmethod
    def from_key(cls, key: str) -> Variant:
        """Parse ``"dpp+fuse"`` into ``Variant("dpp", True)``."""
        if not isinstance(key, str):
            raise ValueError(
                f"a variant key is a method name, optionally with '+fuse'; got {key!r}"
            )
        if key.endswith(FUSED_SUFFIX):
            return cls(key[: -len(FUSED_SUFFIX)], True)
        return cls(key, False)

    def describe(self) -> dict:
        """What results.json records about the variant (so a report can be drawn without the registry)."""
        color, linestyle, marker = self.style
        return {
            "method": self.method,
            "reweight": self.reweight,
            "label": self.label,
            "color": color,
            "linestyle": linestyle,
            "marker": marker,
        }


def variants(methods=DEFAULT_METHODS) -> tuple[Variant, ...]:
    """Each neuron method without, then with, fusion; the methods are checked against the registry.

    Only methods with a size (``sized=True``) can be compared at a given number of kept
    neurons.
    """
    if isinstance(methods, str):
        methods = (methods,)
    out = []
    for name in methods:
        method = get_method(name, "neuron")
        if not method.sized:
            sized = [n for n in method_names("neuron") if get_method(n).sized]
            raise ValueError(
                f"method {name!r} chooses its own size and cannot be compared at fixed sizes; "
                f"choose from {', '.join(sized)}"
            )
        out += [Variant(name, False), Variant(name, True)]
    if not out:
        raise ValueError("at least one method is needed")
    if len({v.key for v in out}) != len(out):
        raise ValueError(f"methods must not repeat; got {list(methods)}")
    return tuple(out)
