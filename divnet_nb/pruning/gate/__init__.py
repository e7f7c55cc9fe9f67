"""The ``gate`` kind: gates trained with a penalty learn which units or weights to keep.

* :mod:`.gating` - :class:`~.gating.Gate` (and its :class:`~.gating.UnitGate` and
  :class:`~.gating.WeightGate` sorts), :class:`~.gating.GatedNetwork`,
  :func:`~.gating.wrap_with_gates` and :func:`~.gating.train_gated`: training with the
  penalty, then cutting the closed gates out through the sites;
* :mod:`.formulas` - the gate formulas on torch tensors: the hard-concrete of Louizos et
  al. (2018) and the DiffPrune-style gate (reconstructed from the abstract);
* :mod:`.modules` - those gates as modules, on neurons or on single weights;
* :mod:`.rules` - their registration as ``gate`` methods.

Importing this package registers the methods; it needs no torch (the factories import
the modules when called).
"""

from . import rules  # noqa: F401 - register the methods (no torch needed)
