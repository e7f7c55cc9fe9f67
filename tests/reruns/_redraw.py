"""The experiment with its random streams moved, for the rerun scripts that measure the
spread between draws of a network's selections."""

from __future__ import annotations

import numpy as np

from divnet_nb.experiments import Experiment


class Redrawn(Experiment):
    """The experiment with every random stream moved by one more coordinate (``draw`` >= 0);
    ``draw = -1`` keeps the experiment's own streams."""

    def __init__(self, *args, draw: int, **kwargs):
        super().__init__(*args, **kwargs)
        self._draw = draw

    def _rng(self, *coords: int) -> np.random.Generator:
        if self._draw < 0:
            return super()._rng(*coords)
        seq = np.random.SeedSequence([self.settings.seed, *coords, 7919, self._draw])
        return np.random.default_rng(seq)
