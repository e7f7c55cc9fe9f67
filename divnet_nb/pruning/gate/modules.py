r"""Gate modules: hard-concrete and DiffPrune-style gates, on neurons or on single weights.

Each family is a mixin that owns one real parameter per group (``log_alpha`` or
``theta``) and computes the gates; the group is a unit (with
:class:`~divnet_nb.pruning.gate.gating.UnitGate`: the input units of the next layer) or a
weight (with :class:`~divnet_nb.pruning.gate.gating.WeightGate`). The formulas are
:mod:`divnet_nb.pruning.gate.formulas`'s.

Both families start from a drop rate ``p``: the parameter is :math:`\log(1 - p) - \log p`
(0.2 for a gate on the network's inputs or on the first layer's weights, 0.5 elsewhere,
as in Louizos et al.'s code) and is kept in :data:`LOG_ALPHA_RANGE` =
[log 1e-2, log 1e2]: it is clamped in place before each training forward pass (the
reference code clamps after each optimiser step; the next forward pass sees the same
values) and functionally at test time. One gate sample is drawn per mini-batch and
shared by its examples (the reference code's default); the noise comes from torch's
global generator, so :func:`torch.manual_seed` reproduces a run.

Penalty (before the factor lambda): :math:`\sum_g P(z_g \ne 0)\, n_g`, with
:math:`n_g = 1`, or with ``group_size=True`` the number of weights the unit feeds (the
weight-level :math:`L_0` of a neuron group, as in the reference code); for weight gates
:math:`n_g = 1`. ``weight_decay`` :math:`w` adds :math:`\frac{w}{2} \sum_g P(z_g \ne 0)
\lVert W_g \rVert^2` (the expected L2 norm of the weights that stay), not multiplied by
lambda. Our lambda multiplies a mean cross-entropy, so it is the reference code's
lambda divided by the number of training examples.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ...core._validate import as_count, as_positive_real
from .formulas import BETA, EPS, GAMMA, ZETA, _stretch_clamp, check_stretch, check_temperature
from .gating import INPUT, UnitGate, WeightGate

__all__ = [
    "LOG_ALPHA_RANGE",
    "drop_rate_init",
    "HardConcreteUnitGate",
    "HardConcreteWeightGate",
    "DiffPruneUnitGate",
    "DiffPruneWeightGate",
]

#: log_alpha (and theta) are kept in [log 1e-2, log 1e2].
LOG_ALPHA_RANGE = (math.log(1e-2), math.log(1e2))


def drop_rate_init(drop_rate) -> float:
    r""":math:`\log(1 - p) - \log p` for a drop rate ``p`` in (0, 1), clamped to :data:`LOG_ALPHA_RANGE`."""
    p = as_positive_real(drop_rate, "drop_rate")
    if not p < 1.0:
        raise ValueError(f"drop_rate must be in (0, 1); got {p}")
    lo, hi = LOG_ALPHA_RANGE
    return min(hi, max(lo, math.log1p(-p) - math.log(p)))


def _default_drop_rate(drop_rate, layer, unit: bool) -> float:
    if drop_rate is not None:
        return drop_rate
    first = layer == INPUT if unit else layer == 0
    return 0.2 if first else 0.5


class _StretchedSigmoid(torch.autograd.Function):
    r"""``min(1, max(0, (zeta - gamma) sigmoid((param + noise) / T) + gamma))``, fused.

    The formulas of :mod:`~divnet_nb.pruning.gate.formulas` in a few in-place passes: the gradient only needs
    the stretched value :math:`s = (\zeta - \gamma)\sigma + \gamma` (inside (0, 1),
    :math:`(\zeta - \gamma)\sigma(1 - \sigma) = (s - \gamma)(\zeta - s) / (\zeta - \gamma)`),
    so one tensor is kept instead of autograd's five, which makes gates on every weight
    cheap. ``noise`` (already scaled, no gradient) is overwritten.
    """

    @staticmethod
    def forward(ctx, param, noise, temperature, gamma, zeta):
        x = noise.add_(param) if noise is not None else param.clone()
        stretched = x.div_(temperature).sigmoid_().mul_(zeta - gamma).add_(gamma)
        ctx.save_for_backward(stretched)
        ctx.constants = (temperature, gamma, zeta)
        return stretched.clamp(0.0, 1.0)

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        temperature, gamma, zeta = ctx.constants
        inside = torch.ops.aten.hardtanh_backward(grad, s, 0.0, 1.0)  # grad where 0 < s < 1, else 0
        d = torch.sub(zeta + gamma, s).mul_(s).sub_(gamma * zeta)  # (s - gamma)(zeta - s)
        return d.mul_(inside).mul_(1.0 / ((zeta - gamma) * temperature)), None, None, None, None


def _logistic(like: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Logistic noise ``scale * (log u - log(1 - u))``, u from torch's generator clamped to [EPS, 1 - EPS]."""
    u = torch.rand(like.shape, device=like.device, dtype=like.dtype)
    noise = torch.logit(u, EPS)
    return noise if scale == 1.0 else noise.mul_(scale)


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return value


class _Family:
    """What both families share: one clamped parameter per group, penalties, settings."""

    PARAM = "log_alpha"

    def _setup(self, layer, drop_rate, gamma, zeta, group_size, weight_decay, **extra):
        unit = isinstance(self, UnitGate)
        drop_rate = _default_drop_rate(drop_rate, layer, unit)
        self._init = drop_rate_init(drop_rate)
        self.gamma, self.zeta = check_stretch(gamma, zeta)
        self.group_size = _check_flag(group_size, "group_size")
        if self.group_size and not unit:
            raise ValueError("group_size applies to neuron gates (a weight is a group of one)")
        self.weight_decay = as_positive_real(weight_decay, "weight_decay", allow_zero=True)
        self.settings = {
            "layer": layer,
            "drop_rate": float(drop_rate),
            "gamma": self.gamma,
            "zeta": self.zeta,
            "group_size": self.group_size,
            "weight_decay": self.weight_decay,
            **extra,
        }
        if unit:
            self._make((self.n_units,))

    def _make(self, shape) -> None:
        setattr(self, self.PARAM, nn.Parameter(torch.full(tuple(shape), self._init)))

    def bind(self, weight_shape) -> None:
        super().bind(weight_shape)
        if isinstance(self, WeightGate):
            if self.weight_shape[0] != self.n_units:
                raise ValueError(
                    f"weight shape {self.weight_shape} does not have {self.n_units} units (rows)"
                )
            self._make(self.weight_shape)

    def _param(self) -> torch.Tensor:
        param = getattr(self, self.PARAM, None)
        if param is None:
            raise ValueError("a weight gate has no parameters until bind(weight_shape) is called")
        return param

    def _constrained(self) -> torch.Tensor:
        """The parameter, clamped in place into LOG_ALPHA_RANGE (no graph saves it, so this is safe)."""
        param = self._param()
        with torch.no_grad():
            param.clamp_(*LOG_ALPHA_RANGE)
        return param

    def _clamped(self) -> torch.Tensor:
        return self._param().clamp(*LOG_ALPHA_RANGE)

    def prob_nonzero(self) -> torch.Tensor:
        """P(z != 0) (or its surrogate) per group, differentiable."""
        raise NotImplementedError

    def penalty(self) -> torch.Tensor:
        p = self.prob_nonzero()
        if self.group_size:
            if self.weight_shape is None:
                raise ValueError("group_size=True needs the gate bound to its weight (bind)")
            return p.sum() * self.weight_shape[0]
        return p.sum()

    def weight_penalty(self, weight: torch.Tensor) -> torch.Tensor:
        if self.weight_decay == 0.0:
            return weight.new_zeros(())
        sq = weight.pow(2)
        if isinstance(self, UnitGate):
            sq = sq.sum(0)  # the weights a unit feeds: its column of the consumer's weight
        return 0.5 * self.weight_decay * (self.prob_nonzero() * sq).sum()

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.settings.items())


class _HardConcrete(_Family):
    def _hc_setup(self, layer, drop_rate, temperature, gamma, zeta, group_size, weight_decay):
        self.beta = check_temperature(temperature)
        self._setup(layer, drop_rate, gamma, zeta, group_size, weight_decay, temperature=self.beta)

    def gates(self) -> torch.Tensor:
        log_alpha = self._constrained()
        noise = _logistic(log_alpha)
        return _StretchedSigmoid.apply(log_alpha, noise, self.beta, self.gamma, self.zeta)

    def test_gates(self) -> torch.Tensor:
        return _stretch_clamp(torch.sigmoid(self._clamped()), self.gamma, self.zeta)

    def prob_nonzero(self) -> torch.Tensor:
        return torch.sigmoid(self._param() - self.beta * math.log(-self.gamma / self.zeta))


class HardConcreteUnitGate(_HardConcrete, UnitGate):
    """Hard-concrete gates (Louizos et al. 2018) on the units of a layer, one ``log_alpha`` each."""

    def __init__(
        self,
        n_units,
        layer=None,
        *,
        drop_rate=None,
        temperature=BETA,
        gamma=GAMMA,
        zeta=ZETA,
        group_size=False,
        weight_decay=0.0,
    ):
        UnitGate.__init__(self, as_count(n_units, "n_units", minimum=1))
        self._hc_setup(layer, drop_rate, temperature, gamma, zeta, group_size, weight_decay)


class HardConcreteWeightGate(_HardConcrete, WeightGate):
    """Hard-concrete gates on every incoming weight of a layer's units (created by :meth:`bind`)."""

    def __init__(
        self,
        n_units,
        layer=None,
        *,
        drop_rate=None,
        temperature=BETA,
        gamma=GAMMA,
        zeta=ZETA,
        weight_decay=0.0,
    ):
        WeightGate.__init__(self, as_count(n_units, "n_units", minimum=1))
        self._hc_setup(layer, drop_rate, temperature, gamma, zeta, False, weight_decay)


class _DiffPrune(_Family):
    """DiffPrune-style (reconstructed from the abstract): g_tau(theta + s * noise), annealed tau."""

    PARAM = "theta"

    def _dp_setup(
        self,
        layer,
        drop_rate,
        temperature,
        final_temperature,
        anneal_steps,
        noise,
        gamma,
        zeta,
        group_size,
        weight_decay,
    ):
        self.tau0 = check_temperature(temperature)
        self.tau1 = (
            self.tau0
            if final_temperature is None
            else check_temperature(final_temperature, "final_temperature")
        )
        self.anneal_steps = as_count(anneal_steps, "anneal_steps")
        if self.anneal_steps == 0 and self.tau1 != self.tau0:
            raise ValueError(
                "final_temperature differs from temperature: give anneal_steps > 0 "
                "(the training steps over which the temperature is annealed)"
            )
        self.noise = as_positive_real(noise, "noise", allow_zero=True)
        self._setup(
            layer,
            drop_rate,
            gamma,
            zeta,
            group_size,
            weight_decay,
            temperature=self.tau0,
            final_temperature=self.tau1,
            anneal_steps=self.anneal_steps,
            noise=self.noise,
        )
        self.register_buffer("step", torch.zeros((), dtype=torch.long))

    def temperature(self) -> float:
        r"""The current :math:`\tau = \tau_0 (\tau_1/\tau_0)^{\min(1, t/T)}` after ``t`` training steps."""
        if self.anneal_steps == 0 or self.tau1 == self.tau0:
            return self.tau0
        frac = min(1.0, int(self.step) / self.anneal_steps)
        return self.tau0 * (self.tau1 / self.tau0) ** frac

    def gates(self) -> torch.Tensor:
        self.step += 1
        theta = self._constrained()
        noise = _logistic(theta, self.noise) if self.noise else None
        return _StretchedSigmoid.apply(theta, noise, self.temperature(), self.gamma, self.zeta)

    def test_gates(self) -> torch.Tensor:
        x = self._clamped() / self.temperature()
        return _stretch_clamp(torch.sigmoid(x), self.gamma, self.zeta)

    def prob_nonzero(self) -> torch.Tensor:
        threshold = self.temperature() * math.log(-self.gamma / self.zeta)
        return torch.sigmoid((self._param() - threshold) / (self.noise or 1.0))


class DiffPruneUnitGate(_DiffPrune, UnitGate):
    """DiffPrune-style (reconstructed from the abstract) gates on the units of a layer."""

    def __init__(
        self,
        n_units,
        layer=None,
        *,
        drop_rate=None,
        temperature=BETA,
        final_temperature=None,
        anneal_steps=0,
        noise=0.0,
        gamma=GAMMA,
        zeta=ZETA,
        group_size=False,
        weight_decay=0.0,
    ):
        UnitGate.__init__(self, as_count(n_units, "n_units", minimum=1))
        self._dp_setup(
            layer,
            drop_rate,
            temperature,
            final_temperature,
            anneal_steps,
            noise,
            gamma,
            zeta,
            group_size,
            weight_decay,
        )


class DiffPruneWeightGate(_DiffPrune, WeightGate):
    """DiffPrune-style (reconstructed from the abstract) gates on every incoming weight of a layer."""

    def __init__(
        self,
        n_units,
        layer=None,
        *,
        drop_rate=None,
        temperature=BETA,
        final_temperature=None,
        anneal_steps=0,
        noise=0.0,
        gamma=GAMMA,
        zeta=ZETA,
        weight_decay=0.0,
    ):
        WeightGate.__init__(self, as_count(n_units, "n_units", minimum=1))
        self._dp_setup(
            layer,
            drop_rate,
            temperature,
            final_temperature,
            anneal_steps,
            noise,
            gamma,
            zeta,
            False,
            weight_decay,
        )
