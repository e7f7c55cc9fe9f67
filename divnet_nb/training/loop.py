"""Training the Table 1 networks until a training-error threshold, with a cache on disk.

The paper trains "until the first iteration of backprop for which the training error
reaches a predefined threshold" (< 1 % for MNIST and MNIST_ROT, < 50 % for CIFAR-10).
Measuring the error on the whole training set after every mini-batch would cost more
than the training, so :func:`train` watches the error on the mini-batches as they
are trained on (free: their logits are computed anyway), and every ``check_every`` of
an epoch, when that running error is within :data:`GATE` times the threshold,
measures the full training error; the first full measurement below the threshold
stops training. ``max_epochs`` is a guard: a run that stops there is flagged
(``reached=False``) instead of silently passing as converged.

Optimiser: SGD with momentum on the cross-entropy of the softmax output
(DeepLearnToolbox, which the paper used, trains with SGD too), mini-batches of 100,
Glorot-uniform initialisation; all seeded, so instance ``i`` is the same network
on every CPU. CIFAR-10's 3072-1000-1000-1000-10 sigmoid network is the exception:
measured on 5000 training images, SGD (lr 0.1 or 0.01, momentum 0.9) was still
above 73 % training error after 30 epochs, so its default is Adam (lr 1e-3), which
reaches the < 50 % threshold.

The loop itself is :func:`fit`, which trains any module that maps inputs to logits and
takes two hooks: ``penalty(model)`` adds a term to each mini-batch's loss (a sparsity
penalty on gates, say) and ``monitor(model)`` adds entries to each record of the
training history (the number of open gates, say). :func:`train` builds a Table 1
network and fits it with neither. Caching trained networks is
:mod:`divnet_nb.training.cache`'s job.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ..nets.architectures import get_architecture
from ..nets.evaluate import default_device, error_rate
from ..nets.mlp import MLP
from .config import TrainConfig, default_config, recipe_config

if TYPE_CHECKING:
    from ..datasets import Dataset

__all__ = ["GATE", "TrainResult", "fit", "train"]

#: The full training error is measured once the running mini-batch error is below GATE x threshold.
GATE = 1.25


@dataclass
class TrainResult:
    """A trained network and how it got there."""

    model: nn.Module
    dataset: str
    seed: int
    config: TrainConfig
    reached: bool
    epochs: float
    iterations: int
    train_error: float
    seconds: float
    device: str
    history: list[dict] = field(default_factory=list)
    from_cache: bool = False

    def summary(self) -> str:
        origin = "loaded from cache" if self.from_cache else "trained"
        flag = "" if self.reached else f" (threshold {self.config.threshold:g} NOT reached)"
        name = getattr(self.model, "architecture", None) or "-".join(map(str, self.model.sizes))
        return (
            f"{self.dataset} {name} seed {self.seed}: {origin}, "
            f"{self.epochs:.2f} epochs ({self.iterations} iterations, {self.seconds:.1f} s on {self.device}), "
            f"training error {self.train_error:.4f}{flag}"
        )


def train(
    dataset: Dataset,
    sizes,
    seed: int,
    config: TrainConfig | None = None,
    *,
    device: str | None = None,
    progress: bool = True,
    activation: str = "sigmoid",
    until_threshold: bool = True,
) -> TrainResult:
    """Train one MLP on ``dataset`` until its training error is below ``config.threshold``.

    Parameters
    ----------
    dataset : Dataset
        From :func:`divnet_nb.datasets.load_dataset`.
    sizes : sequence of int, or str
        Layer widths, e.g. ``table1_sizes("mnist")``, or the name of a registered
        architecture (:func:`divnet_nb.nets.architectures.get_architecture`), e.g.
        ``"lenet5-caffe"``: its network, input shape and recipe (a CNN trains for its
        recipe's epochs).
    seed : int
        Seeds the initialisation and the mini-batch order.
    config : TrainConfig, optional
        Default: :func:`default_config` for the dataset.
    device : str, optional
        ``"cuda"`` when available, else ``"cpu"``.
    progress : bool
        Show a tqdm bar (on stderr).
    activation : {"sigmoid", "relu"}
        The hidden nonlinearity (:class:`~divnet_nb.nets.mlp.MLP`).
    until_threshold : bool
        ``False``: train exactly ``config.max_epochs`` epochs (as :func:`fit`).
    """
    if isinstance(sizes, str):
        return _train_architecture(
            dataset, sizes, seed, config, device=device, progress=progress,
            activation=activation, until_threshold=until_threshold,
        )  # fmt: skip
    config = config or default_config(dataset.name)
    device = device or default_device()
    sizes = tuple(sizes)
    if sizes[0] != dataset.n_features:
        raise ValueError(
            f"sizes[0] = {sizes[0]} does not match the {dataset.n_features} input features of {dataset.name}"
        )
    torch.manual_seed(seed)
    model = MLP(sizes, seed=seed, activation=activation).to(device)
    result = fit(
        model,
        dataset,
        seed,
        config,
        device=device,
        progress=progress,
        until_threshold=until_threshold,
    )
    result.model = result.model.cpu()
    return result


def _train_architecture(
    dataset, name, seed, config, *, device, progress, activation, until_threshold
):
    """:func:`train` for a registered architecture: an MLP by its sizes, a CNN on its inputs."""
    arch = get_architecture(name)
    if arch.dataset != dataset.name:
        raise ValueError(f"architecture {name!r} is for {arch.dataset}, not {dataset.name}")
    if arch.sizes is not None:
        return train(
            dataset, arch.sizes, seed, config, device=device, progress=progress,
            activation=arch.activation, until_threshold=until_threshold,
        )  # fmt: skip
    config = config or recipe_config(arch)
    device = device or default_device()
    torch.manual_seed(seed)
    model = arch.build(seed).to(device)
    result = fit(
        model, dataset, seed, config, device=device, progress=progress,
        until_threshold=not arch.fixed_epochs, inputs=arch.inputs,
    )  # fmt: skip
    result.model = result.model.cpu()
    return result


def fit(
    model: nn.Module,
    dataset: Dataset,
    seed: int,
    config: TrainConfig | None = None,
    *,
    device: str | None = None,
    progress: bool = True,
    penalty: Callable[[nn.Module], torch.Tensor] | None = None,
    monitor: Callable[[nn.Module], dict] | None = None,
    param_groups: Callable[[nn.Module], list[dict]] | None = None,
    until_threshold: bool = True,
    inputs: Callable | None = None,
) -> TrainResult:
    """Train ``model`` (inputs -> logits) in place until its training error is below the threshold.

    Parameters
    ----------
    model : torch.nn.Module
        Already on ``device``; trained in place and returned in the result.
    dataset, seed, config, device, progress
        As in :func:`train`; ``seed`` orders the mini-batches.
    penalty : callable, optional
        ``penalty(model)`` is added to every mini-batch's cross-entropy (e.g. an L0
        penalty on gates); the history records its running mean.
    monitor : callable, optional
        ``monitor(model)`` returns a dict merged into every history record.
    param_groups : callable, optional
        ``param_groups(model)`` gives the optimiser's parameter groups (e.g. gate
        parameters with their own learning rate); default: one group of every parameter.
    until_threshold : bool
        ``False`` trains exactly ``config.max_epochs`` epochs (a fixed budget, as for
        training with a sparsity penalty, whose training error is not the goal) and
        measures the full training error once, at the end; ``reached`` then says
        whether it is below the threshold, without a warning.
    inputs : callable, optional
        Turns the dataset's flattened rows into the model's inputs (e.g. images for a CNN,
        :meth:`divnet_nb.nets.architectures.Architecture.inputs`).
    """
    config = config or default_config(dataset.name)
    device = device or default_device()
    x_train = dataset.x_train if inputs is None else inputs(dataset.x_train)
    X = torch.from_numpy(x_train).to(device)
    y = torch.from_numpy(dataset.y_train).to(device)
    n = X.shape[0]
    groups = list(model.parameters()) if param_groups is None else param_groups(model)
    if config.optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=config.lr)
    else:
        opt = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
    gen = torch.Generator().manual_seed(seed)
    per_epoch = math.ceil(n / config.batch_size)
    window = max(1, round(config.check_every * per_epoch))
    history: list[dict] = []
    iteration, wrong, seen, loss_sum, penalty_sum = 0, 0, 0, 0.0, 0.0
    reached, full_error = False, float("nan")
    start = time.perf_counter()
    bar = tqdm(
        total=config.max_epochs * per_epoch,
        desc=f"train {dataset.name} seed {seed}",
        unit="it",
        disable=not progress,
        leave=False,
        file=sys.stderr,
        mininterval=1.0,
    )
    model.train()
    for _epoch in range(config.max_epochs):
        order = torch.randperm(n, generator=gen).to(device)
        for s in range(0, n, config.batch_size):
            idx = order[s : s + config.batch_size]
            logits = model(X[idx])
            loss = F.cross_entropy(logits, y[idx])
            if penalty is not None:
                extra = penalty(model)
                penalty_sum += extra.item() * idx.numel()
                total = loss + extra
            else:
                total = loss
            opt.zero_grad(set_to_none=True)
            total.backward()
            opt.step()
            iteration += 1
            wrong += int((logits.argmax(1) != y[idx]).sum())
            seen += idx.numel()
            loss_sum += loss.item() * idx.numel()
            bar.update(1)
            if iteration % window and iteration % per_epoch:
                continue
            record = {
                "iteration": iteration,
                "epoch": iteration / per_epoch,
                "running_error": wrong / seen,
                "running_loss": loss_sum / seen,
            }
            if penalty is not None:
                record["running_penalty"] = penalty_sum / seen
            if monitor is not None:
                record.update(monitor(model))
            if until_threshold and wrong / seen < GATE * config.threshold:
                full_error = error_rate(model, X, y)
                model.train()
                record["train_error"] = full_error
                reached = full_error < config.threshold
            history.append(record)
            bar.set_postfix(err=f"{wrong / seen:.4f}")
            wrong, seen, loss_sum, penalty_sum = 0, 0, 0.0, 0.0
            if reached:
                break
        if reached:
            break
    bar.close()
    seconds = time.perf_counter() - start
    if not until_threshold:
        full_error = error_rate(model, X, y)
        reached = full_error < config.threshold
    elif not reached:
        full_error = error_rate(model, X, y)
        print(
            f"divnet-nb: {dataset.name} seed {seed} stopped at max_epochs={config.max_epochs} "
            f"with training error {full_error:.4f} >= threshold {config.threshold}",
            file=sys.stderr,
        )
    model.eval()
    return TrainResult(
        model,
        dataset.name,
        seed,
        config,
        reached,
        iteration / per_epoch,
        iteration,
        full_error,
        seconds,
        str(device),
        history,
    )
