"""A model as a chain of layers: the one view of a network that sites are found in.

Pruning reads a network as a flat list of modules applied one after the other, the
layout of :class:`torch.nn.Sequential`. :func:`chain_modules` gives that list for

* an :class:`torch.nn.Sequential`, with nested sequential containers opened up;
* any other module whose ``forward`` :mod:`torch.fx` can trace into a chain: each step
  takes the previous step's output only. Calls of functions such as ``F.relu``,
  ``F.max_pool2d`` or ``torch.flatten(x, 1)`` (and ``x.view(x.size(0), -1)``) become the
  equivalent modules.

Anything else is refused with a one-line :class:`ValueError` naming the step: a residual
addition or a concatenation couples units of two layers, so removing one would change
the other. :func:`as_chain` returns the chain as a flat :class:`~torch.nn.Sequential`
that shares the model's parameters; a pruned network is always returned in that form.
"""

from __future__ import annotations

import operator
import weakref

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["chain_modules", "as_chain", "model_inputs"]

_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: Functions (and tensor methods) that act on each unit alone, as modules.
_FUNCTIONS = {
    F.relu: nn.ReLU, torch.relu: nn.ReLU, "relu": nn.ReLU,
    torch.sigmoid: nn.Sigmoid, F.sigmoid: nn.Sigmoid, "sigmoid": nn.Sigmoid,
    torch.tanh: nn.Tanh, F.tanh: nn.Tanh, "tanh": nn.Tanh,
    F.gelu: nn.GELU, F.silu: nn.SiLU, F.elu: nn.ELU, F.leaky_relu: nn.LeakyReLU,
    F.softplus: nn.Softplus,
}  # fmt: skip
_POOLS = {F.max_pool2d: nn.MaxPool2d, F.avg_pool2d: nn.AvgPool2d}
_FLATTENS = {torch.flatten, "flatten"}
_RESHAPES = {"view", "reshape", torch.reshape}
_JOINS = {operator.add, torch.add, "add", operator.iadd, torch.cat, torch.concat, torch.stack}


def chain_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` in the order they are applied (nested containers opened).

    Raises a one-line :class:`ValueError` when ``model`` is not such a chain.
    """
    if isinstance(model, nn.Sequential):
        out: list[nn.Module] = []
        for child in model.children():
            out.extend(chain_modules(child) if isinstance(child, nn.Sequential) else [child])
        return out
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    if not any(True for _ in model.children()):
        raise ValueError(
            f"model must be a torch.nn.Sequential, or a module whose forward torch.fx traces "
            f"into a chain of layers; got a single {type(model).__name__}"
        )
    cached = _TRACED.get(model)
    if cached is None:
        cached = _trace(model)
        _TRACED[model] = cached
    return list(cached)


def as_chain(model: nn.Module) -> nn.Sequential:
    """``model`` as a flat :class:`~torch.nn.Sequential` sharing its modules (itself if already flat)."""
    modules = chain_modules(model)
    if isinstance(model, nn.Sequential) and modules == list(model.children()):
        return model
    return nn.Sequential(*modules)


def _trace(model: nn.Module) -> list[nn.Module]:
    name = type(model).__name__
    try:
        graph = torch.fx.symbolic_trace(model).graph
    except Exception as exc:  # noqa: BLE001 - any tracing failure is reported the same way
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"{name} is not an nn.Sequential and torch.fx cannot trace its forward ({first}); "
            f"write it as an nn.Sequential"
        ) from None
    modules: list[nn.Module] = []
    previous = None
    sizes: set = set()
    for node in graph.nodes:
        if node.op == "placeholder":
            if previous is not None:
                raise ValueError(f"{name}.forward takes more than one input; pruning reads one")
            previous = node
            continue
        if node.op == "output":
            if node.args[0] is not previous:
                raise ValueError(f"{name}.forward does not return its last step's output")
            break
        if node.op == "call_method" and node.target == "size":
            sizes.add(node)  # x.size(0) for a view: read with the view below
            continue
        inputs = [a for a in node.all_input_nodes if a not in sizes]
        target = node.target
        if target in _JOINS or len(inputs) > 1:
            raise ValueError(
                f"{name} step {node.name!r} ({_describe(node)}) combines two tensors, as a residual "
                f"addition or a concatenation does; it couples units, and pruning refuses it"
            )
        if inputs != [previous]:
            raise ValueError(
                f"{name} step {node.name!r} ({_describe(node)}) does not read the previous step's "
                f"output; pruning needs a chain of layers"
            )
        modules.append(_as_module(model, node, name))
        previous = node
    return modules


def _describe(node) -> str:
    target = (
        node.target
        if isinstance(node.target, str)
        else getattr(node.target, "__name__", node.target)
    )
    return f"{node.op} {target}"


def _as_module(model: nn.Module, node, name: str) -> nn.Module:
    target = node.target
    if node.op == "call_module":
        return model.get_submodule(target)
    if target in _FUNCTIONS:
        return _FUNCTIONS[target]()
    if target in _POOLS:
        args = list(node.args[1:])
        return _POOLS[target](*args, **dict(node.kwargs))
    if target in _FLATTENS:
        start = node.args[1] if len(node.args) > 1 else node.kwargs.get("start_dim", 0)
        if start != 1 or len(node.args) > 2:
            raise ValueError(f"{name} step {node.name!r} flattens other than from dimension 1")
        return nn.Flatten()
    if target in _RESHAPES:
        shape = node.args[1:] if len(node.args) > 2 else tuple(node.args[1])
        if len(shape) == 2 and shape[1] == -1:
            return nn.Flatten()
        raise ValueError(
            f"{name} step {node.name!r} reshapes to {shape}; only x.view(x.size(0), -1) is read"
        )
    raise ValueError(
        f"{name} step {node.name!r} ({_describe(node)}) is not a module or a function pruning "
        f"knows; make it a module of an nn.Sequential"
    )


def model_inputs(model: nn.Module, data, dtype: torch.dtype) -> torch.Tensor:
    """``data`` as a tensor, checked against the shape the model's first layer reads.

    A ``Linear`` first layer reads (n_samples, in_features) (after a leading ``Flatten``,
    any shape with that many features per sample); a ``Conv2d`` first layer reads
    (n_samples, in_channels, height, width) images.
    """
    from .evaluate import as_tensor

    X = as_tensor(data, dtype=dtype)
    modules = chain_modules(model)
    flattened = False
    for i, m in enumerate(modules):
        if isinstance(m, nn.Flatten):
            flattened = True
        elif isinstance(m, nn.Linear):
            n = m.in_features
            fits = (
                X.ndim >= 2 and X[0].numel() == n if flattened else X.ndim == 2 and X.shape[1] == n
            )
            if not fits:
                raise ValueError(
                    f"data must be a 2-D array of inputs (n_samples, {n}) for the first layer "
                    f"(module {i}, Linear with {n} inputs); got shape {tuple(X.shape)}"
                )
            return X
        elif isinstance(m, nn.Conv2d):
            c = m.in_channels
            if X.ndim != 4 or X.shape[1] != c:
                raise ValueError(
                    f"data must be images of shape (n_samples, {c}, height, width) for the first "
                    f"layer (module {i}, Conv2d with {c} input channels); got shape {tuple(X.shape)}"
                    + (": reshape it, e.g. X.reshape(len(X), 1, 28, 28)" if X.ndim == 2 else "")
                )
            return X
    return X
