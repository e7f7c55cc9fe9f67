"""The contexts parts run in: one per settings in a process, made once and reused.

A part is a pure function of (settings, key), but computing it needs things that are
expensive to make and the same for every part of one experiment: the dataset read from
disk, the networks loaded from the cache. :class:`Contexts` keeps them per process:

* a caller that already has one (a notebook's :class:`~divnet_nb.experiments.Experiment`,
  the command line with its progress bars) **attaches** it for the parts it runs in its
  own process (held weakly: it lives as long as the caller keeps it);
* otherwise a worker process **makes** one for the settings of the parts it is sent, and
  keeps the last few, so that the parts of one experiment share it.

Contexts are keyed by the settings and by where data and networks come from
(``DIVNET_DATA``, ``DIVNET_CACHE``), so a reused worker never serves networks of another
cache.
"""

from __future__ import annotations

import collections
import contextlib
import os
import weakref
from collections.abc import Callable

__all__ = ["Contexts"]


def _key(settings) -> tuple:
    return (settings, os.environ.get("DIVNET_DATA"), os.environ.get("DIVNET_CACHE"))


class Contexts:
    """This process's contexts of one experiment: ``make(settings)`` builds a missing one."""

    def __init__(self, make: Callable, keep: int = 2):
        self._make = make
        self._keep = keep
        self._attached: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._made: collections.OrderedDict = collections.OrderedDict()

    @contextlib.contextmanager
    def attached(self, context, settings):
        """Inside the block, parts of ``settings`` computed in this process use ``context``."""
        key = _key(settings)
        before = self._attached.get(key)
        self._attached[key] = context
        try:
            yield context
        finally:
            if before is None:
                self._attached.pop(key, None)
            else:
                self._attached[key] = before

    def get(self, settings):
        """The attached context of ``settings``, else the one made here (made now if missing)."""
        key = _key(settings)
        context = self._attached.get(key)
        if context is not None:
            return context
        context = self._made.pop(key, None)
        if context is None:
            context = self._make(settings)
        self._made[key] = context
        while len(self._made) > self._keep:
            self._made.popitem(last=False)
        return context
