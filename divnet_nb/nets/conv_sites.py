r"""Sites whose units are the channels of a ``Conv2d``: conv -> conv and conv -> dense.

A :class:`ConvSite` is ``Conv2d -> [BatchNorm2d] -> activation -> [pooling] -> consumer``
where the consumer is another ``Conv2d``, or a ``Linear`` after ``Flatten``. Its units are
the producer's output channels, and the layer's *activation vector* of a channel is its
map as the consumer reads it (after pooling), over every sample and position:

* **rows** - the map (N, C, H, W) read as an (N H W, C) matrix, one row per (sample,
  position). The Gram matrix, the kernel of eq. 2 and the fusion of eq. 3 are then over
  channels, streamed batch by batch: the (N H W, C) matrix is never stored.
* **outgoing** - the consumer's weights in the core's orientation, one row per channel.
  A removed channel written as :math:`\sum_s \alpha_{sr} a_s` at every position moves its
  taps onto the kept channels as eq. 4 moves a neuron's weights, tap by tap: a ``Conv2d``
  weight (O, C, kh, kw) becomes (C, O kh kw); a ``Linear`` weight (O, C H W) becomes
  (C, O H W), since input feature (c, p) belongs to channel c at position p.
* **bias** - the consumer's bias is spread evenly over its taps (or positions) in the
  core's orientation and summed back by ``shrink``, so an intercept (a constant map
  moved into the bias) lands where it should. A constant map reaches every tap only where
  no zero padding cuts it, so the intercept is refused for a padded ``Conv2d`` consumer
  (:meth:`ConvSite.check_intercept`).
* **shrink** - keeps the producer's output channels and bias, the entries of any
  ``BatchNorm2d`` between, and the consumer's input channels (or their H W features).
* **edges** - a channel's incoming edges are its C_in kh kw taps; the inputs an edge rule
  reads are the producer's input patches (:func:`torch.nn.functional.unfold`), one row per
  (sample, output position), so edge pruning needs no special case either.

Pooling, BatchNorm and the activation act on each channel alone, so removing a channel
commutes with them; the consumer's stride, dilation and padding need no special case
because the consumer is linear in its input map.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..core._validate import as_index_set
from .chain import chain_modules
from .site_base import LayerSite, _checked_modules, _flat_copy, _part, mask_weight

__all__ = ["ConvSite"]


@dataclass(frozen=True)
class ConvSite(LayerSite):
    """Channels of the ``Conv2d`` at position ``producer`` of the chain, read by ``consumer``.

    ``norms`` are the positions of ``BatchNorm2d`` modules between them; ``reads`` is the
    position the consumer's input map is taken before (the ``Flatten`` for a dense
    consumer, else the consumer); ``activation`` is the last module before ``reads``
    (where a gate on the channels sits).
    """

    layer: int
    producer: int
    activation: int
    consumer: int
    reads: int
    norms: tuple[int, ...] = ()

    def _convs(self, model) -> tuple[nn.Conv2d, nn.Module]:
        modules = chain_modules(model)
        return modules[self.producer], modules[self.consumer]

    def check(self, model) -> None:
        modules = _checked_modules(model)
        fits = (
            len(modules) > self.consumer
            and isinstance(modules[self.producer], nn.Conv2d)
            and isinstance(modules[self.consumer], (nn.Conv2d, nn.Linear))
            and all(isinstance(modules[i], nn.BatchNorm2d) for i in self.norms)
        )
        if not fits:
            raise ValueError(
                f"the site of layer {self.layer} (Conv2d at module {self.producer} read by module "
                f"{self.consumer}) is not in this model"
            )

    def width(self, model) -> int:
        return self._convs(model)[0].out_channels

    def feature_map(self, model) -> nn.Module:
        return _part(model, self.reads)

    def input_map(self, model) -> nn.Module:
        return _part(model, self.producer)

    def through_consumer(self, model) -> nn.Module:
        return _part(model, self.consumer + 1)

    def rows(self, output: torch.Tensor) -> torch.Tensor:
        """The map (N, C, H, W) as an (N H W, C) matrix: one row per sample and position.

        Returned as the transpose of a contiguous (C, N H W) matrix (rows in the order
        sample, then position), so that the Gram matrix ``rows.T @ rows`` is a wide product
        of contiguous rows: about twice as fast as a tall (N H W, C) copy on 2 cores.
        """
        return output.transpose(0, 1).reshape(output.shape[1], -1).T

    def maps(self, output: torch.Tensor) -> torch.Tensor:
        """The map (N, C, H, W) as (N, C, H W): the accumulator's rows without a copy."""
        return output.reshape(output.shape[0], output.shape[1], -1)

    def input_rows(self, model, output: torch.Tensor) -> torch.Tensor:
        """The producer's input patches, (N L, C_in kh kw): what each output position reads."""
        conv = self._convs(model)[0]
        if isinstance(conv.padding, str) or conv.padding_mode != "zeros":
            raise ValueError(
                f"edges of the Conv2d at module {self.producer} need integer zero padding; "
                f"got padding={conv.padding!r}, padding_mode={conv.padding_mode!r}"
            )
        patches = F.unfold(
            output, conv.kernel_size, dilation=conv.dilation, padding=conv.padding,
            stride=conv.stride,
        )  # fmt: skip
        return patches.transpose(1, 2).reshape(-1, patches.shape[1])

    def _taps(self, model) -> int:
        """Columns of the core's W per (output, channel): kh kw, or H W for a dense consumer."""
        conv, nxt = self._convs(model)
        if isinstance(nxt, nn.Linear):
            return nxt.in_features // conv.out_channels
        return nxt.kernel_size[0] * nxt.kernel_size[1]

    def outgoing(self, model) -> tuple[np.ndarray, np.ndarray]:
        """``W`` (channels, outputs x taps) and the consumer's bias spread over its taps."""
        nxt = self._convs(model)[1]
        C, taps = self.width(model), self._taps(model)
        w = nxt.weight.detach().cpu()
        O = w.shape[0]
        W = w.reshape(O, C, taps).permute(1, 0, 2).reshape(C, O * taps).numpy()
        b = nxt.bias.detach().cpu().numpy() if nxt.bias is not None else np.zeros(O, W.dtype)
        return W, np.repeat(b / taps, taps).astype(W.dtype)

    def outgoing_tensor(self, model) -> torch.Tensor:
        """The consumer's weight as (outputs x taps, channels), in the graph."""
        nxt, C = self._convs(model)[1], self.width(model)
        O, taps = nxt.weight.shape[0], self._taps(model)
        return nxt.weight.reshape(O, C, taps).permute(0, 2, 1).reshape(O * taps, C)

    def check_intercept(self, model) -> None:
        nxt = self._convs(model)[1]
        if nxt.bias is None:
            raise ValueError(
                f"the intercept moves a constant into the bias of module {self.consumer}, which has none"
            )
        if isinstance(nxt, nn.Conv2d) and (
            isinstance(nxt.padding, str) or any(p != 0 for p in nxt.padding)
        ):
            raise ValueError(
                f"the intercept is not exact for the Conv2d at module {self.consumer}: its zero "
                f"padding (padding={nxt.padding!r}) cuts a constant map at the border; use intercept=False"
            )

    def importance(self, model) -> np.ndarray:
        """Mean absolute outgoing tap per channel (He et al. 2014's onorm over the consumer's taps)."""
        return np.abs(self.outgoing(model)[0].astype(np.float64)).mean(axis=1)

    def incoming(self, model) -> np.ndarray:
        """The producer's weight as (channels, C_in kh kw), with any pruning mask applied."""
        w = self._convs(model)[0].weight.detach().cpu().numpy()
        return w.reshape(w.shape[0], -1)

    def shrink(self, model, keep, outgoing=None) -> nn.Module:
        """A flat copy of ``model`` keeping channels ``keep`` (sorted); ``model`` is not modified."""
        C, taps = self.width(model), self._taps(model)
        keep = np.sort(as_index_set(keep, C, "keep"))
        if keep.size == 0:
            raise ValueError("keep must hold at least one channel index")
        new = _flat_copy(model)
        conv, nxt = new[self.producer], new[self.consumer]
        idx = torch.from_numpy(keep).to(conv.weight.device)
        k = keep.size
        with torch.no_grad():
            new[self.producer] = _conv_like(conv, in_channels=conv.in_channels, out_channels=k)
            new[self.producer].weight.copy_(conv.weight[idx])
            if conv.bias is not None:
                new[self.producer].bias.copy_(conv.bias[idx])
            for i in self.norms:
                new[i] = _norm_part(new[i], idx)
            O = nxt.weight.shape[0]
            if outgoing is not None:
                W_new, b_new = outgoing
                w = torch.from_numpy(np.ascontiguousarray(W_new)).reshape(k, O, taps)
                b = torch.from_numpy(np.asarray(b_new)).reshape(O, taps).sum(1)
            else:
                w = nxt.weight.reshape(O, C, taps)[:, idx].permute(1, 0, 2)
                b = nxt.bias
            w = w.permute(1, 0, 2).to(nxt.weight.dtype)
            if isinstance(nxt, nn.Linear):
                smaller = nn.Linear(k * taps, O, bias=nxt.bias is not None).to(
                    nxt.weight.device, nxt.weight.dtype
                )
                smaller.weight.copy_(w.reshape(O, k * taps))
            else:
                smaller = _conv_like(nxt, in_channels=k, out_channels=O)
                smaller.weight.copy_(w.reshape(O, k, *nxt.kernel_size))
            if nxt.bias is not None:
                smaller.bias.copy_(b)
            new[self.consumer] = smaller
        return new

    def mask_incoming(self, model, mask, weights=None) -> nn.Module:
        """A flat copy whose producer keeps only the taps where ``mask`` (channels, C_in kh kw) is True."""
        new = _flat_copy(model)
        mask_weight(new[self.producer], mask, weights, "channels x C_in kh kw")
        return new


def _conv_like(conv: nn.Conv2d, *, in_channels: int, out_channels: int) -> nn.Conv2d:
    return nn.Conv2d(
        in_channels, out_channels, conv.kernel_size, stride=conv.stride, padding=conv.padding,
        dilation=conv.dilation, bias=conv.bias is not None, padding_mode=conv.padding_mode,
    ).to(conv.weight.device, conv.weight.dtype)  # fmt: skip


def _norm_part(bn: nn.BatchNorm2d, idx: torch.Tensor) -> nn.BatchNorm2d:
    """The BatchNorm2d entries of channels ``idx``."""
    new = nn.BatchNorm2d(
        idx.numel(), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
        track_running_stats=bn.track_running_stats,
    )  # fmt: skip
    like = bn.running_mean if bn.track_running_stats else bn.weight
    new = new.to(like.device, like.dtype)
    with torch.no_grad():
        if bn.affine:
            new.weight.copy_(bn.weight[idx])
            new.bias.copy_(bn.bias[idx])
        if bn.track_running_stats:
            new.running_mean.copy_(bn.running_mean[idx])
            new.running_var.copy_(bn.running_var[idx])
            new.num_batches_tracked.copy_(bn.num_batches_tracked)
    return new.train(bn.training)
