"""Error rates of a network, the one measurement every experiment reports."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["default_device", "error_rate", "as_tensor"]


def default_device() -> str:
    """``"cuda"`` when a GPU is usable, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def as_tensor(x, device=None, dtype=torch.float32) -> torch.Tensor:
    """Tensor on ``device`` from a numpy array or tensor; floating data converted to ``dtype``.

    No copy when the data is already right.
    """
    t = (
        torch.from_numpy(np.ascontiguousarray(x))
        if isinstance(x, np.ndarray)
        else torch.as_tensor(x)
    )
    if t.is_floating_point() and t.dtype != dtype:
        t = t.to(dtype)
    return t.to(device) if device is not None else t


@torch.no_grad()
def error_rate(model: torch.nn.Module, X, y, *, batch_size: int = 10000) -> float:
    """Fraction of inputs whose arg-max output differs from the label (between 0 and 1)."""
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        X = as_tensor(X, param.device, param.dtype)
        y = as_tensor(y, param.device)
        wrong = 0
        for s in range(0, X.shape[0], batch_size):
            wrong += int((model(X[s : s + batch_size]).argmax(1) != y[s : s + batch_size]).sum())
    finally:
        model.train(was_training)
    return wrong / X.shape[0]
