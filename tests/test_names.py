"""Public names: the packages' lazy lists, the public face of pruning, the deprecated gates
module, and the cross-references in the package's docstrings."""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import re
import sys
import warnings
from pathlib import Path

import pytest

import divnet_nb

PACKAGE = Path(divnet_nb.__file__).resolve().parent

#: Names of a listed submodule's ``__all__`` that its package deliberately does not expose,
#: with the reason. (A private submodule, ``_name``, shares helpers between its package's
#: modules: only the names the package imports from it are public, so it is not checked.)
NOT_EXPOSED = {
    ("divnet_nb.experiments", "divnet_nb.experiments.edges"): {
        "FRACTIONS": "the edge experiment's fractions; the leaderboard has its own FRACTIONS",
    },
    ("divnet_nb.experiments", "divnet_nb.experiments.leaderboard"): {
        "FRACTIONS": "the leaderboard's fractions; the edge experiment has its own FRACTIONS",
        "METHODS": "the leaderboard's rules; bare, it reads as every registered method",
    },
    ("divnet_nb.report", "divnet_nb.report.readme"): {
        "main": "the command-line entry of python -m divnet_nb.report.readme",
    },
    ("divnet_nb.pruning", "divnet_nb.pruning.gate.formulas"): {
        "BETA": "the hard-concrete temperature; beside the kernel's beta a bare BETA misleads",
        "GAMMA": "a hard-concrete stretch constant, named for its module (BETA's reason)",
        "ZETA": "a hard-concrete stretch constant, named for its module (BETA's reason)",
        "EPS": "the gates' clamp; beside the kernel's eps (DEFAULT_EPS) a bare EPS misleads",
        "check_temperature": "an input check shared by the gate modules, not a formula",
        "check_stretch": "an input check shared by the gate modules, not a formula",
    },
}


def exposed_lists() -> dict[str, dict[str, list[str]]]:
    """{package: {submodule: names}}: every ``lazy_loader.attach`` list and ``from .x import``
    line of the package's ``__init__`` files, read from their source."""
    out: dict[str, dict[str, list[str]]] = {}
    for init in sorted(PACKAGE.rglob("__init__.py")):
        package = ".".join(init.relative_to(PACKAGE.parent).parent.parts)
        lists: dict[str, list[str]] = {}
        for node in ast.walk(ast.parse(init.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "attach":
                first = node.args[0]
                base = package if isinstance(first, ast.Name) else ast.literal_eval(first)
                for keyword in node.keywords:
                    if keyword.arg == "submod_attrs":
                        for sub, names in ast.literal_eval(keyword.value).items():
                            lists[f"{base}.{sub}"] = list(names)
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                lists[f"{package}.{node.module}"] = [a.asname or a.name for a in node.names]
        if lists:
            out[package] = lists
    return out


LISTS = exposed_lists()


def drift(package: str, lists: dict[str, list[str]], exposed) -> list[str]:
    """What is wrong with ``package``'s lists: a listed name that does not exist, or a name of a
    listed submodule's ``__all__`` that is neither exposed nor excluded in :data:`NOT_EXPOSED`."""
    module = importlib.import_module(package)
    problems = [f"{package}.{n} is exposed but does not exist" for n in exposed
                if not hasattr(module, n)]  # fmt: skip
    for sub, names in lists.items():
        source = importlib.import_module(sub)
        problems += [f"{package} lists {n} from {sub}, which has no such name"
                     for n in names if not hasattr(source, n)]  # fmt: skip
        if sub.rsplit(".", 1)[-1].startswith("_"):
            continue
        if not hasattr(source, "__all__"):
            problems.append(f"{sub} has no __all__ to check {package}'s list against")
            continue
        excluded = NOT_EXPOSED.get((package, sub), {})
        problems += [f"{package} does not expose {sub}.{n}" for n in source.__all__
                     if n not in exposed and n not in excluded]  # fmt: skip
    return problems


def test_the_lists_are_found():
    assert set(LISTS) >= {"divnet_nb", "divnet_nb.core", "divnet_nb.nets", "divnet_nb.pruning",
                          "divnet_nb.training", "divnet_nb.datasets", "divnet_nb.theory",
                          "divnet_nb.experiments", "divnet_nb.report"}  # fmt: skip
    assert "WeightGate" in LISTS["divnet_nb.pruning"]["divnet_nb.pruning.gate.gating"]
    assert LISTS["divnet_nb"]["divnet_nb.core"][:2] == ["BETA_NUMERATOR", "DEFAULT_EPS"]
    assert "Dataset" in LISTS["divnet_nb.datasets"]["divnet_nb.datasets._common"]


def test_drift_is_found():
    lists = {k: list(v) for k, v in LISTS["divnet_nb.nets"].items()}
    exposed = [n for names in lists.values() for n in names]
    assert drift("divnet_nb.nets", lists, exposed) == []
    lists["divnet_nb.nets.mlp"].append("MLPP")
    assert drift("divnet_nb.nets", lists, [*exposed, "MLPP"]) == [
        "divnet_nb.nets.MLPP is exposed but does not exist",
        "divnet_nb.nets lists MLPP from divnet_nb.nets.mlp, which has no such name",
    ]
    exposed.remove("ELEMENTWISE")
    assert drift("divnet_nb.nets", LISTS["divnet_nb.nets"], exposed) == [
        "divnet_nb.nets does not expose divnet_nb.nets.sites.ELEMENTWISE"
    ]


@pytest.mark.parametrize("package", sorted(LISTS))
def test_every_lazy_list_matches_its_modules(package):
    """Every ``__all__`` name of a listed submodule is exposed (or excluded with a reason), and
    every exposed name exists."""
    exposed = importlib.import_module(package).__all__
    assert drift(package, LISTS[package], exposed) == []


def test_every_exclusion_is_still_needed():
    for (package, sub), names in NOT_EXPOSED.items():
        exposed = importlib.import_module(package).__all__
        for name in names:
            assert name in importlib.import_module(sub).__all__ and name not in exposed, name


# --------------------------------------------------------------------------- the public face


def test_prune_is_every_public_name_of_pruning():
    import divnet_nb.prune as prune
    import divnet_nb.pruning as pruning

    assert prune.__all__ == pruning.__all__
    assert all(getattr(prune, n) is getattr(pruning, n) for n in prune.__all__)
    assert {"prune_layer", "prune_network", "prune_edges", "train_gated", "wrap_with_gates",
            "GatedNetwork", "Gate", "UnitGate", "WeightGate", "hard_concrete_sample",
            "diffprune_gate", "HardConcreteUnitGate", "DiffPruneWeightGate",
            "method_names"} <= set(prune.__all__)  # fmt: skip
    assert "METHODS" not in prune.__all__ and not hasattr(prune, "METHODS")
    with pytest.raises(AttributeError, match="no attribute 'prune_everything'"):
        prune.prune_everything  # noqa: B018
    documented = set(re.findall(r"``(\w+)(?:\(\))?``", prune.__doc__))
    assert set(prune.__all__) <= documented, set(prune.__all__) - documented


def test_method_names_sees_later_registrations():
    from divnet_nb.prune import method_names, register_method, unregister_method

    assert "latest" not in method_names("neuron")
    register_method("latest", "neuron", label="latest", color="tab:orange", marker="o")(
        lambda data, k, rng: list(range(k))
    )
    try:
        assert method_names("neuron")[-1] == "latest"
    finally:
        unregister_method("latest")
    assert "latest" not in method_names()


def test_the_gates_module_is_deprecated_but_still_works(monkeypatch):
    import divnet_nb.prune as prune

    monkeypatch.delitem(sys.modules, "divnet_nb.gates", raising=False)
    with pytest.warns(DeprecationWarning, match=r"divnet_nb\.gates .*divnet_nb\.prune") as caught:
        import divnet_nb.gates as gates
    assert caught[0].filename == __file__  # the warning points at the importing code
    assert "train_gated" in gates.__all__ and len(gates.__all__) == 19
    for name in gates.__all__:
        with pytest.warns(DeprecationWarning, match=rf"use divnet_nb\.prune\.{name}$"):
            assert getattr(gates, name) is getattr(prune, name)
    with pytest.raises(AttributeError):
        gates.prune_layer  # noqa: B018 - only the names it had
    from divnet_nb.gates.methods import GATE_METHODS

    assert GATE_METHODS is prune.GATE_METHODS


# --------------------------------------------------------------------------- cross-references

ROLE = re.compile(r":(mod|func|class|meth|data|attr|exc|obj):`([^`]+)`")


def _modules() -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        found = pkgutil.walk_packages(divnet_nb.__path__, prefix="divnet_nb.")
        return ["divnet_nb"] + [i.name for i in found if not i.name.endswith("__main__")]


def _documented(names: list[str]) -> dict[str, str]:
    """Every module, and every object defined in one (with its classes' attributes), by full name."""
    objects = {}
    for name in names:
        objects[name] = "module"
        for key, value in vars(importlib.import_module(name)).items():
            if key.startswith("__") or inspect.ismodule(value):
                continue
            if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ != name:
                continue  # imported from elsewhere: documented there
            objects[f"{name}.{key}"] = "object"
            for base in inspect.getmro(value) if inspect.isclass(value) else ():
                for attribute in vars(base):
                    objects.setdefault(f"{name}.{key}.{attribute}", "object")
    return objects


def _importable(path: str) -> bool:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:]:
                obj = getattr(obj, part)
        except AttributeError:
            return False
        return True
    return False


def resolves(module: str, role: str, target: str, objects: dict[str, str]) -> bool:
    """Whether a reference in ``module``'s docstrings names something, by Sphinx's rules: a
    ``.name`` target is the module's own, else the one object whose name ends so (a module,
    for ``:mod:``); any other target is a full name, a builtin, or one of the module's own."""
    if target.startswith("."):
        pool = [o for o, kind in objects.items() if role != "mod" or kind == "module"]
        return f"{module}{target}" in pool or sum(o.endswith(target) for o in pool) == 1
    return (hasattr(builtins, target) or _importable(target)
            or _importable(f"{module}.{target}")
            or any(o.startswith(f"{module}.") and o.endswith(f".{target}") for o in objects))  # fmt: skip


@pytest.fixture(scope="module")
def documented() -> tuple[list[str], dict[str, str]]:
    names = _modules()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return names, _documented(names)


def test_the_reference_check_finds_a_stale_reference(documented):
    _, objects = documented
    gate = "divnet_nb.pruning.gate.modules"
    assert resolves(gate, "mod", ".formulas", objects)
    assert resolves(gate, "class", ".gating.UnitGate", objects)
    assert resolves(gate, "func", "torch.manual_seed", objects)
    assert not resolves(gate, "mod", ".gate_formulas", objects)
    assert not resolves(
        "divnet_nb.pruning.neuron.select", "class", ".statistics.LayerData", objects
    )
    assert not resolves(gate, "func", "divnet_nb.pruning.gating.train_gated", objects)


def test_every_cross_reference_in_the_docstrings_resolves(documented):
    names, objects = documented
    bad = []
    for name in names:
        source = inspect.getsource(importlib.import_module(name))
        for match in ROLE.finditer(source):
            role, target = match.groups()
            target = (target.split("<")[-1].rstrip(">") if "<" in target else target).lstrip("~")
            target = target.removesuffix("()")
            if not resolves(name, role, target, objects):
                line = source[: match.start()].count("\n") + 1
                bad.append(f"{name}:{line} :{role}:`{target}`")
    assert bad == []
