"""What a network costs: parameters and multiply-accumulates per layer, and measured latency.

:func:`layer_costs` counts, for each weighted layer (``Conv2d``, ``Linear``), its parameters
(weights and bias; a :mod:`torch.nn.utils.prune` mask counts only the kept weights) and the
multiply-accumulate operations of one input's forward pass (a ``Conv2d``: output positions x
output channels x input channels x kernel taps). :func:`latency` times the forward pass of a
batch on this machine's CPU, so that the speed-up of a physically smaller network is
measured rather than inferred from counts.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

from .chain import chain_modules

__all__ = ["layer_costs", "latency"]


def _weights_kept(module: nn.Module) -> int:
    mask = getattr(module, "weight_mask", None)
    return int(mask.sum()) if mask is not None else module.weight.numel()


@torch.no_grad()
def layer_costs(model: nn.Module, input_shape) -> list[dict]:
    """One row per weighted layer: ``{"layer", "kind", "params", "macs"}`` for one input of ``input_shape``."""
    rows: list[dict] = []
    hooks = []

    def record(module, inputs, output):
        params = _weights_kept(module) + (module.bias.numel() if module.bias is not None else 0)
        if isinstance(module, nn.Conv2d):
            taps = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            macs = output[0].numel() * taps
        else:
            macs = module.in_features * module.out_features
        rows.append(
            {"layer": len(rows), "kind": type(module).__name__, "params": params, "macs": macs}
        )

    for m in chain_modules(model):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            hooks.append(m.register_forward_hook(record))
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    try:
        model(torch.zeros((1, *input_shape), dtype=param.dtype, device=param.device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows


@torch.no_grad()
def latency(
    model: nn.Module, input_shape, batch: int, *, repeats: int = 20, warmup: int = 3
) -> float:
    """Median wall time (seconds) of one forward pass of a ``batch`` of inputs, on the CPU.

    Uses the process's torch thread count as it is (a worker's ``--threads``).
    """
    param = next(model.parameters())
    x = torch.rand((batch, *input_shape), dtype=param.dtype, device=param.device)
    was_training = model.training
    model.eval()
    try:
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - start)
    finally:
        model.train(was_training)
    return statistics.median(times)
