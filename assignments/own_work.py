"""Grading support shipped with every assignment: is this function the student's own work?

The hidden tests call the student's function with the matching ``divnet_nb`` functions
replaced by ones that fail (:func:`package_disabled`), and check that the function does not
refer to anything from the package (:func:`uses_package`), so an answer that only calls
``divnet_nb`` scores nothing. A question that builds on earlier answers is graded with
reference answers in their place (:func:`given`).
"""

from __future__ import annotations

import contextlib
import inspect
import types
from unittest import mock

PACKAGE = "divnet_nb"


def _names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # comprehensions, inner functions
            names |= _names(const)
    return names


def uses_package(fn, ignore=()) -> list[str]:
    """Names that ``fn`` (or a helper function of the same notebook that it calls) takes from divnet_nb.

    Names in ``ignore`` are not followed (earlier questions' answers, graded on their own).
    """
    seen, found, stack = set(), [], [fn]
    while stack:
        f = stack.pop()
        if id(f) in seen or not hasattr(f, "__code__"):
            continue
        seen.add(id(f))
        for name in sorted(_names(f.__code__) - set(ignore)):
            if name.split(".")[0] == PACKAGE:  # "import divnet_nb" inside the function
                found.append(name)
                continue
            obj = f.__globals__.get(name)
            if isinstance(obj, types.ModuleType):
                origin = obj.__name__
            else:
                origin = getattr(obj, "__module__", None) or ""
            if origin.split(".")[0] == PACKAGE:
                found.append(name)
            elif inspect.isfunction(obj) and obj.__module__ == f.__module__:
                stack.append(obj)
    return found


@contextlib.contextmanager
def package_disabled(*targets: str):
    """Within the block, each ``divnet_nb`` function named by its dotted path raises when called.

    The function is replaced wherever the package holds it: in the module that defines it
    and in every loaded ``divnet_nb`` module that has it among its names (the package
    re-exports its core functions, and caches them there once used).
    """
    import importlib
    import sys

    with contextlib.ExitStack() as stack:
        for target in targets:
            module_name, attr = target.rsplit(".", 1)
            original = getattr(importlib.import_module(module_name), attr)
            fake = mock.Mock(side_effect=AssertionError(f"{target} was called: write your own"))
            for name, module in list(sys.modules.items()):
                if name.split(".")[0] == PACKAGE and vars(module).get(attr) is original:
                    stack.enter_context(mock.patch.object(module, attr, fake))
        yield


@contextlib.contextmanager
def given(fn, **functions):
    """Within the block, ``fn`` finds ``functions`` under their names instead of the student's own.

    A question that builds on earlier answers is graded with the earlier questions' reference
    answers in their place, so a mistake costs points on the question that has it, not again
    on every question after it. Check :func:`own` outside the block.
    """
    with mock.patch.dict(fn.__globals__, functions):
        yield


def own(fn, ignore=()) -> bool:
    """True when ``fn`` refers to nothing from divnet_nb (prints what it found otherwise).

    ``ignore`` names functions of earlier questions that are graded on their own.
    """
    found = uses_package(fn, ignore)
    if found:
        print(f"{fn.__name__} uses {found} from {PACKAGE}: the task is to write it yourself")
    return not found
