r"""The gate formulas, elementwise on torch tensors: the hard-concrete of Louizos et al. (2018)
and our DiffPrune-style gate (reconstructed from the abstract).

Hard-concrete (Louizos, Welling & Kingma, "Learning Sparse Neural Networks through
:math:`L_0` Regularization", ICLR 2018), with :math:`\gamma < 0 < 1 < \zeta` and a
temperature :math:`\beta > 0`:

.. math::

    s = \sigma\big((\log u - \log(1 - u) + \log\alpha) / \beta\big), \qquad
    z = \min\big(1, \max(0, s(\zeta - \gamma) + \gamma)\big), \qquad u \sim U(0, 1),

    P(z \ne 0) = \sigma\big(\log\alpha - \beta \log(-\gamma / \zeta)\big), \qquad
    \hat z = \min\big(1, \max(0, \sigma(\log\alpha)(\zeta - \gamma) + \gamma)\big)
    \text{ (test time)}.

DiffPrune-style gate (reconstructed from the abstract)
------------------------------------------------------
Shulman (2020)'s abstract states the properties, not the formula: a deterministic,
differentiable transformation of any real-valued (random) variable that approximates
a Bernoulli variable, gates that may be computed deterministically or stochastically
and take exact zeros, and a surrogate of the :math:`L_0` norm in the loss. Our
reconstruction is the stretched-and-clamped sigmoid with a temperature :math:`\tau`
applied to a real variable :math:`x`:

.. math::

    g_\tau(x) = \min\big(1, \max(0, (\zeta - \gamma)\,\sigma(x / \tau) + \gamma)\big),
    \qquad x = \theta + s\,\epsilon, \quad \epsilon = \log u - \log(1 - u)

with one real parameter :math:`\theta` per group (a weight or a neuron) and a
logistic noise of scale :math:`s \ge 0` (:math:`s = 0`: deterministic). Why:

* :math:`g_\tau` is deterministic, differentiable and increasing where
  :math:`0 < g < 1`, with exact zeros for :math:`x \le \tau \log(-\gamma/\zeta)` and
  exact ones for :math:`x \ge \tau \log((1 - \gamma)/(\zeta - 1))` (the stretch past
  [0, 1] followed by the clamp);
* both thresholds tend to 0 as :math:`\tau \to 0`, so for any real random vector
  :math:`X` (with no atom at 0) :math:`g_\tau(X) \to 1[X > 0]` elementwise: a
  multivariate Bernoulli variable with :math:`P(Z_i = 1) = P(X_i > 0)` and the
  dependence of :math:`X`. Annealing :math:`\tau` makes the gates binary;
* the :math:`L_0` surrogate is :math:`R(\theta) = \sigma\big((\theta - \tau \log(-\gamma/\zeta))
  / \rho\big)` with :math:`\rho = s` when :math:`s > 0` (then :math:`R = P(z \ne 0)`
  exactly, the expected :math:`L_0` norm) and :math:`\rho = 1` when deterministic (a
  smoothed indicator of :math:`z \ne 0`, equal to 1/2 at the threshold, with a nonzero
  gradient everywhere, so that a gate stuck at exactly 1, which gets no gradient from
  the loss, is still pushed down).

With :math:`s = 1` and :math:`\tau = \beta`, :math:`g_\tau(\theta + \epsilon)` *is* the
hard-concrete sample with :math:`\log\alpha = \theta` and :math:`R` its
:math:`P(z \ne 0)`: the reconstruction differs from Louizos et al. by its deterministic
use (no noise, so training sees exactly the test-time gate), the annealed temperature
and the test-time gate :math:`g_\tau(\theta)`. DiffPrune's own transformation may differ;
nothing here is taken from its full text, which we have not read.
"""

from __future__ import annotations

import math
import numbers

import torch

__all__ = [
    "BETA",
    "GAMMA",
    "ZETA",
    "EPS",
    "check_temperature",
    "check_stretch",
    "hard_concrete_sample",
    "hard_concrete_prob_nonzero",
    "hard_concrete_test_gate",
    "logistic_noise",
    "diffprune_gate",
    "diffprune_surrogate",
    "diffprune_thresholds",
]

#: Louizos et al.'s temperature and stretch interval (gamma, zeta).
BETA, GAMMA, ZETA = 2.0 / 3.0, -0.1, 1.1
#: Uniform noise is drawn in (EPS, 1 - EPS), as in the reference code.
EPS = 1e-6


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    return value


def check_temperature(value, name: str = "temperature") -> float:
    """``value`` as a float > 0; a one-line ValueError otherwise."""
    value = _real(value, name)
    if value <= 0.0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return value


def check_stretch(gamma, zeta) -> tuple[float, float]:
    """``(gamma, zeta)`` as floats with ``gamma < 0`` and ``zeta > 1``; a one-line ValueError otherwise."""
    gamma, zeta = _real(gamma, "gamma"), _real(zeta, "zeta")
    if gamma >= 0.0:
        raise ValueError(f"gamma must be < 0 (the stretch below 0 makes exact zeros); got {gamma}")
    if zeta <= 1.0:
        raise ValueError(f"zeta must be > 1 (the stretch above 1 makes exact ones); got {zeta}")
    return gamma, zeta


def _tensor(x, name: str) -> torch.Tensor:
    try:
        t = torch.as_tensor(x)
    except Exception as exc:
        raise ValueError(
            f"{name} must be a tensor of real numbers; got {type(x).__name__}"
        ) from exc
    if not t.is_floating_point():
        if t.dtype == torch.bool or t.is_complex():
            raise ValueError(f"{name} must hold real numbers; got dtype {t.dtype}")
        t = t.to(torch.get_default_dtype())
    return t


def _stretch_clamp(s: torch.Tensor, gamma: float, zeta: float) -> torch.Tensor:
    return torch.clamp(s * (zeta - gamma) + gamma, 0.0, 1.0)


def logistic_noise(u: torch.Tensor) -> torch.Tensor:
    """``log u - log(1 - u)``: standard logistic noise from uniform ``u`` in (0, 1)."""
    return torch.log(u) - torch.log1p(-u)


def hard_concrete_sample(log_alpha, u, beta=BETA, gamma=GAMMA, zeta=ZETA) -> torch.Tensor:
    r"""A hard-concrete gate from uniform noise ``u`` in (0, 1), elementwise (broadcast).

    :math:`z = \min(1, \max(0, \sigma((\log u - \log(1-u) + \log\alpha)/\beta)(\zeta-\gamma)+\gamma))`.
    """
    beta = check_temperature(beta, "beta (the temperature)")
    gamma, zeta = check_stretch(gamma, zeta)
    log_alpha, u = _tensor(log_alpha, "log_alpha"), _tensor(u, "u")
    if not bool(((u > 0) & (u < 1)).all()):
        raise ValueError("u must lie strictly inside (0, 1)")
    s = torch.sigmoid((logistic_noise(u) + log_alpha) / beta)
    return _stretch_clamp(s, gamma, zeta)


def hard_concrete_prob_nonzero(log_alpha, beta=BETA, gamma=GAMMA, zeta=ZETA) -> torch.Tensor:
    r""":math:`P(z \ne 0) = \sigma(\log\alpha - \beta \log(-\gamma/\zeta))`, elementwise."""
    beta = check_temperature(beta, "beta (the temperature)")
    gamma, zeta = check_stretch(gamma, zeta)
    return torch.sigmoid(_tensor(log_alpha, "log_alpha") - beta * math.log(-gamma / zeta))


def hard_concrete_test_gate(log_alpha, gamma=GAMMA, zeta=ZETA) -> torch.Tensor:
    r"""The test-time gate :math:`\min(1, \max(0, \sigma(\log\alpha)(\zeta-\gamma)+\gamma))`, elementwise."""
    gamma, zeta = check_stretch(gamma, zeta)
    return _stretch_clamp(torch.sigmoid(_tensor(log_alpha, "log_alpha")), gamma, zeta)


def diffprune_gate(x, temperature, gamma=GAMMA, zeta=ZETA) -> torch.Tensor:
    r"""DiffPrune-style (reconstructed from the abstract): :math:`g_\tau(x) = \min(1, \max(0, (\zeta-\gamma)\sigma(x/\tau)+\gamma))`.

    ``x`` is the real variable (``theta``, or ``theta + s * logistic noise``).
    """
    temperature = check_temperature(temperature)
    gamma, zeta = check_stretch(gamma, zeta)
    return _stretch_clamp(torch.sigmoid(_tensor(x, "x") / temperature), gamma, zeta)


def diffprune_surrogate(theta, temperature, scale=1.0, gamma=GAMMA, zeta=ZETA) -> torch.Tensor:
    r"""DiffPrune-style (reconstructed from the abstract) :math:`L_0` surrogate :math:`\sigma((\theta - \tau\log(-\gamma/\zeta))/\rho)`.

    With ``scale`` :math:`\rho = s` it is :math:`P(g_\tau(\theta + s\epsilon) \ne 0)` for
    standard logistic :math:`\epsilon`.
    """
    temperature = check_temperature(temperature)
    scale = check_temperature(scale, "scale")
    gamma, zeta = check_stretch(gamma, zeta)
    threshold = temperature * math.log(-gamma / zeta)
    return torch.sigmoid((_tensor(theta, "theta") - threshold) / scale)


def diffprune_thresholds(temperature, gamma=GAMMA, zeta=ZETA) -> tuple[float, float]:
    r"""``(x0, x1)``: :math:`g_\tau(x) = 0` exactly for :math:`x \le x_0` and 1 exactly for :math:`x \ge x_1`."""
    temperature = check_temperature(temperature)
    gamma, zeta = check_stretch(gamma, zeta)
    return temperature * math.log(-gamma / zeta), temperature * math.log((1 - gamma) / (zeta - 1))
