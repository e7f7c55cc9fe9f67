"""Gates trained with an L0 penalty: the hard-concrete of Louizos et al. (2018) and our
DiffPrune-style gate (reconstructed from the abstract).

The formulas against hand computations and against integrals over the noise, exact
zeros and ones, gradients, Monte Carlo means of the modules' own samples, extraction
that computes exactly what the gated network does, training on the digits (lambda = 0
keeps every unit, a large lambda prunes, seeds reproduce) and bad input.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from divnet_nb.datasets import load_dataset
from divnet_nb.nets.mlp import MLP
from divnet_nb.prune import (
    GATE_METHODS,
    LOG_ALPHA_RANGE,
    DiffPruneUnitGate,
    DiffPruneWeightGate,
    HardConcreteUnitGate,
    HardConcreteWeightGate,
    count_parameters,
    diffprune_gate,
    diffprune_surrogate,
    diffprune_thresholds,
    get_method,
    hard_concrete_prob_nonzero,
    hard_concrete_sample,
    hard_concrete_test_gate,
    train_gated,
    wrap_with_gates,
)
from divnet_nb.training import default_config

B, G, Z = 2.0 / 3.0, -0.1, 1.1


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def hand_sample(la: float, u: float, beta=B, gamma=G, zeta=Z) -> float:
    s = sig((math.log(u) - math.log(1 - u) + la) / beta)
    return min(1.0, max(0.0, s * (zeta - gamma) + gamma))


def num(t: torch.Tensor) -> float:
    return float(t.detach())


def t64(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


# --------------------------------------------------------------------------- formulas


def test_hard_concrete_formulas_match_hand_computations():
    la = [0.0, math.log(4.0), -3.0, 3.0, 0.5]
    # P(z != 0) = sigmoid(log_alpha - beta log(-gamma / zeta)); beta log(0.1/1.1) = -(2/3) log 11
    want_p = [sig(a + (2.0 / 3.0) * math.log(11.0)) for a in la]
    torch.testing.assert_close(hard_concrete_prob_nonzero(t64(la)), t64(want_p))
    assert want_p[0] == pytest.approx(0.831822, abs=1e-6)
    # test-time gate: 0.5 * 1.2 - 0.1 = 0.5; 0.8 * 1.2 - 0.1 = 0.86; clamped to 0 and 1
    want_z = [0.5, 0.86, 0.0, 1.0, sig(0.5) * 1.2 - 0.1]
    torch.testing.assert_close(hard_concrete_test_gate(t64(la)), t64(want_z))
    # samples: u = 1/2 gives sigmoid(log_alpha / beta); other temperatures and stretches
    u = [0.5, 0.9, 0.3, 0.6, 0.05]
    got = hard_concrete_sample(t64(la), t64(u))
    torch.testing.assert_close(got, t64([hand_sample(a, v) for a, v in zip(la, u, strict=True)]))
    got = hard_concrete_sample(t64(la), t64(u), beta=0.3, gamma=-0.5, zeta=1.2)
    want = [hand_sample(a, v, 0.3, -0.5, 1.2) for a, v in zip(la, u, strict=True)]
    torch.testing.assert_close(got, t64(want))
    p = hard_concrete_prob_nonzero(t64(la), beta=0.3, gamma=-0.5, zeta=1.2)
    torch.testing.assert_close(p, t64([sig(a - 0.3 * math.log(0.5 / 1.2)) for a in la]))
    # broadcasting: one log_alpha per column, noise per element
    out = hard_concrete_sample(t64([0.0, 1.0]), torch.full((3, 2), 0.5, dtype=torch.float64))
    assert out.shape == (3, 2) and out.dtype == torch.float64


def test_exact_zeros_and_ones_are_reached_and_gradients_live_inside():
    la = torch.linspace(-4, 4, 41, dtype=torch.float64, requires_grad=True)
    for u in (1e-6, 0.5, 1 - 1e-6):
        z = hard_concrete_sample(la, torch.full_like(la, u))
        (grad,) = torch.autograd.grad(z.sum(), la)
        inside = (z > 0) & (z < 1)
        assert bool((grad[inside] > 0).all()) and bool((grad[~inside] == 0).all())
    assert (hard_concrete_sample(la, torch.full_like(la, 1e-6)) == 0.0).all()
    assert (hard_concrete_sample(la, torch.full_like(la, 1 - 1e-6)) == 1.0).all()
    zt = hard_concrete_test_gate(la)
    assert (zt == 0.0).any() and (zt == 1.0).any() and ((zt > 0) & (zt < 1)).any()
    (grad,) = torch.autograd.grad(hard_concrete_prob_nonzero(la).sum(), la)
    assert bool((grad > 0).all())  # the penalty pulls every gate, open or closed
    # the DiffPrune-style gate: exactly 0 below x0, exactly 1 above x1, increasing between
    tau = 0.4
    x0, x1 = diffprune_thresholds(tau)
    assert x0 == pytest.approx(tau * math.log(0.1 / 1.1)) and x1 == pytest.approx(
        tau * math.log(11)
    )
    x = t64([x0 - 1, x0, x0 + 1e-3, 0.0, x1 - 1e-3, x1, x1 + 1]).requires_grad_()
    gx = diffprune_gate(x, tau)
    g = gx.detach()
    assert g[0] == 0.0 and g[1] == pytest.approx(0.0, abs=1e-12) and g[5] == pytest.approx(1.0)
    assert g[6] == 1.0 and 0 < g[2] < g[3] < g[4] < 1 and g[3] == pytest.approx(0.5)
    (grad,) = torch.autograd.grad(gx.sum(), x)
    assert bool((grad[2:5] > 0).all()) and grad[0] == 0 and grad[6] == 0


def test_the_reconstruction_with_unit_logistic_noise_is_the_hard_concrete():
    theta = torch.linspace(-3, 3, 13, dtype=torch.float64)
    u = torch.linspace(0.02, 0.98, 13, dtype=torch.float64)
    eps = torch.log(u) - torch.log1p(-u)
    torch.testing.assert_close(diffprune_gate(theta + eps, B), hard_concrete_sample(theta, u))
    torch.testing.assert_close(diffprune_surrogate(theta, B), hard_concrete_prob_nonzero(theta))
    # as the temperature falls the gate becomes the step 1[x > 0]
    x = t64([-0.5, -0.1, 0.1, 0.5])
    torch.testing.assert_close(diffprune_gate(x, 0.01), t64([0, 0, 1, 1]))


@pytest.mark.parametrize("family", ["hard-concrete", "diffprune"])
def test_the_modules_fused_gates_and_gradients_are_the_formulas(family):
    la = torch.linspace(-4, 4, 33, dtype=torch.float64)
    if family == "hard-concrete":
        gate = HardConcreteUnitGate(33, 0).double()
    else:
        gate = DiffPruneUnitGate(33, 0, noise=0.7, temperature=0.3).double()
    param = next(gate.parameters())
    with torch.no_grad():
        param.copy_(la)
    gate.train()
    torch.manual_seed(11)
    z = gate.gates()
    (grad,) = torch.autograd.grad((z * torch.arange(33.0)).sum(), param)
    torch.manual_seed(11)
    u = torch.rand(33, dtype=torch.float64)
    x = la.clone().requires_grad_()
    if family == "hard-concrete":
        want = hard_concrete_sample(x, u)
    else:
        want = diffprune_gate(x + 0.7 * (torch.log(u) - torch.log1p(-u)), 0.3)
    (want_grad,) = torch.autograd.grad((want * torch.arange(33.0)).sum(), x)
    assert ((want > 0) & (want < 1)).sum() >= 5 and (want == 0).any() and (want == 1).any()
    torch.testing.assert_close(z, want.detach())
    torch.testing.assert_close(grad, want_grad)


def exact_mean(la: float, n: int = 400_000) -> float:
    """E[z] = integral of z(u) over (0, 1), midpoint rule in float64 (error ~ 1e-7)."""
    u = (np.arange(n) + 0.5) / n
    s = 1 / (1 + np.exp(-((np.log(u) - np.log1p(-u) + la) / B)))
    return float(np.clip(s * (Z - G) + G, 0, 1).mean())


@pytest.mark.parametrize("la", [-1.5, 0.0, 1.2])
def test_monte_carlo_means_of_the_modules_match_the_exact_expectations(la):
    torch.manual_seed(5)
    gate = HardConcreteUnitGate(20_000, 1)  # one log_alpha per unit, each sampled once per call
    with torch.no_grad():
        gate.log_alpha.fill_(la)
    gate.train()
    z = gate.gates().detach().double()
    n = z.numel()
    p = float(hard_concrete_prob_nonzero(torch.tensor(la)))
    se_p = math.sqrt(p * (1 - p) / n)
    assert abs(float((z > 0).double().mean()) - p) < 4 * se_p
    se_z = float(z.std()) / math.sqrt(n)
    assert abs(float(z.mean()) - exact_mean(la)) < 4 * se_z
    # P(z = 1) = 1 - sigmoid(beta log((1 - gamma)/(zeta - 1)) - log_alpha)
    q = 1 - sig(B * math.log(11.0) - la)
    assert abs(float((z == 1).double().mean()) - q) < 4 * math.sqrt(q * (1 - q) / n)
    # the DiffPrune-style gate with noise s: the fraction of open gates is its surrogate
    dp = DiffPruneUnitGate(20_000, 1, noise=0.5, temperature=0.4)
    with torch.no_grad():
        dp.theta.fill_(la)
    dp.train()
    open_ = float((dp.gates() > 0).double().mean())
    p = num(dp.prob_nonzero()[0])
    assert p == pytest.approx(sig((la - 0.4 * math.log(0.1 / 1.1)) / 0.5))
    assert abs(open_ - p) < 4 * math.sqrt(p * (1 - p) / 20_000)


# --------------------------------------------------------------------------- modules


def test_parameters_start_from_the_drop_rate_and_stay_clamped():
    assert num(HardConcreteUnitGate(5, 0).log_alpha[0]) == 0.0  # p = 0.5
    assert num(HardConcreteUnitGate(5, "input").log_alpha[0]) == pytest.approx(math.log(4))
    assert num(HardConcreteUnitGate(5, 1, drop_rate=0.9).log_alpha[0]) == pytest.approx(
        -math.log(9)
    )
    w0, w1 = HardConcreteWeightGate(3, 0), DiffPruneWeightGate(3, 1)
    w0.bind((3, 4))
    w1.bind((3, 4))
    assert w0.log_alpha.shape == (3, 4) and num(w0.log_alpha[0, 0]) == pytest.approx(math.log(4))
    assert num(w1.theta[0, 0]) == 0.0
    lo, hi = LOG_ALPHA_RANGE
    assert (lo, hi) == pytest.approx((math.log(1e-2), math.log(1e2)))
    gate = HardConcreteUnitGate(3, 0)
    with torch.no_grad():
        gate.log_alpha.copy_(torch.tensor([10.0, -10.0, 1.0]))
    torch.testing.assert_close(
        gate.test_gates(), hard_concrete_test_gate(torch.tensor([hi, lo, 1.0]))
    )
    gate.train()
    gate.gates()
    torch.testing.assert_close(gate.log_alpha.detach(), torch.tensor([hi, lo, 1.0]))


def test_penalties_by_hand():
    gate = HardConcreteUnitGate(3, 0, group_size=True, weight_decay=0.2)
    with torch.no_grad():
        gate.log_alpha.copy_(torch.tensor([0.0, 1.0, -2.0]))
    gate.bind((7, 3))  # the consumer's weight: 7 outputs, 3 gated units
    p = [sig(a + (2 / 3) * math.log(11)) for a in (0.0, 1.0, -2.0)]
    assert num(gate.penalty()) == pytest.approx(7 * sum(p), rel=1e-6)
    W = torch.arange(21.0).reshape(7, 3) / 10
    col = (W**2).sum(0).tolist()
    want = 0.1 * sum(pi * c for pi, c in zip(p, col, strict=True))
    assert num(gate.weight_penalty(W)) == pytest.approx(want, rel=1e-6)
    assert num(HardConcreteUnitGate(3, 0).weight_penalty(W)) == 0.0
    wg = HardConcreteWeightGate(2, 1, weight_decay=1.0)
    wg.bind((2, 2))
    W = torch.tensor([[1.0, 2.0], [0.0, 3.0]])
    assert num(wg.penalty()) == pytest.approx(4 * sig((2 / 3) * math.log(11)), rel=1e-6)
    assert num(wg.weight_penalty(W)) == pytest.approx(0.5 * 14 * sig((2 / 3) * math.log(11)))


def test_the_deterministic_reconstruction_trains_what_it_tests_and_anneals():
    gate = DiffPruneUnitGate(50, 0, temperature=1.0, final_temperature=0.1, anneal_steps=10)
    with torch.no_grad():
        gate.theta.copy_(torch.linspace(-2, 2, 50))
    gate.train()
    assert gate.temperature() == 1.0
    z = gate.gates()
    torch.testing.assert_close(z, gate.test_gates())  # no noise: no train/test mismatch
    for _ in range(4):
        gate.gates()
    assert gate.temperature() == pytest.approx(1.0 * 0.1**0.5)  # halfway, geometrically
    for _ in range(20):
        gate.gates()
    assert gate.temperature() == pytest.approx(0.1) and int(gate.step) == 25
    z = gate.test_gates()
    x0, x1 = diffprune_thresholds(0.1)
    theta = gate.theta.detach()
    assert bool((z[theta <= x0] == 0).all()) and bool((z[theta >= x1] == 1).all())
    p = gate.prob_nonzero()  # deterministic: unit scale around the current threshold
    torch.testing.assert_close(p, torch.sigmoid(theta - 0.1 * math.log(0.1 / 1.1)))


# --------------------------------------------------------------------------- networks


def randomised(gated, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for gate in gated.gates.values():
            for p in gate.parameters():
                p.copy_(torch.rand(p.shape, generator=gen) * 7 - 3.5)
    return gated


@pytest.mark.parametrize(
    "method, inputs",
    [(m, False) for m in GATE_METHODS] + [("hard-concrete", True), ("diffprune", True)],
)
def test_extracted_networks_compute_what_the_gated_network_computes(method, inputs):
    gated = randomised(wrap_with_gates(MLP((12, 9, 7, 3), seed=1), method, inputs=inputs))
    gated.eval()
    small = gated.extract()
    x = torch.rand(64, 12)
    with torch.no_grad():
        torch.testing.assert_close(small(x), gated(x), rtol=1e-6, atol=1e-6)
    # in float64 the extraction is exact up to round-off
    gated64 = randomised(
        wrap_with_gates(MLP((12, 9, 7, 3), seed=1).double(), method, inputs=inputs)
    )
    small64 = gated64.eval().extract()
    with torch.no_grad():
        torch.testing.assert_close(small64(x.double()), gated64(x.double()), rtol=0, atol=1e-12)
    opened = gated.open_gates()
    if "weights" in method:
        assert small.sizes == (12, 9, 7, 3)
        masks = [int(small[i].weight_mask.sum()) for i in (0, 2)]
        assert masks == [opened["open_0"], opened["open_1"]] and sum(masks) < 12 * 9 + 9 * 7
        assert count_parameters(small) == sum(masks) + 9 + 7 + 7 * 3 + 3
    else:
        assert small.sizes == (12, opened["open_0"], opened["open_1"], 3)
        assert small.hidden_sizes < (9, 7)
        if inputs:
            kept_inputs = small[0].weight_mask.any(0)
            assert int(kept_inputs.sum()) == opened["open_input"] < 12


def test_gates_sit_on_input_units_and_weights():
    gated = wrap_with_gates(MLP((4, 3, 2), seed=0), "hard-concrete", inputs=True)
    assert set(gated.gates) == {"0", "input"}
    assert gated.gates["input"].n_units == 4 and gated.gates["0"].weight_shape == (2, 3)
    wg = wrap_with_gates(MLP((4, 3, 2), seed=0), "diffprune-weights")
    assert wg.gates["0"].theta.shape == (3, 4)
    # a gated network whose gates are all 1 is the plain network
    plain = MLP((4, 3, 2), seed=0)
    for g in (gated, wg):
        with torch.no_grad():
            for p in g.gates.parameters():
                p.fill_(LOG_ALPHA_RANGE[1])
        x = torch.rand(5, 4)
        torch.testing.assert_close(g.eval()(x), plain(x))


DIGITS_LAM = {
    "hard-concrete": 0.03,
    "diffprune": 0.05,
    "hard-concrete-weights": 0.002,
    "diffprune-weights": 0.002,
}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def digits_config(epochs=20):
    return default_config("digits", max_epochs=epochs, threshold=1e-6, optimizer="adam", lr=0.01)


@pytest.mark.slow  # 7-40 s per gate method on a quiet machine
@pytest.mark.parametrize("method", GATE_METHODS)
def test_lambda_zero_keeps_every_unit_and_a_large_lambda_prunes(digits, method):
    sizes = (64, 40, 30, 10)
    full = {"open_0": 40, "open_1": 30}
    if "weights" in method:
        full = {"open_0": 64 * 40, "open_1": 40 * 30}
    small, gated, result = train_gated(
        digits, sizes, method, 0, 0.0, digits_config(), progress=False
    )
    assert gated.open_gates() == full and result.train_error < 0.1
    small, gated, result = train_gated(
        digits, sizes, method, 0, DIGITS_LAM[method], digits_config(), progress=False
    )
    kept = gated.open_gates()
    assert all(0 < kept[k] for k in full) and sum(kept.values()) < sum(full.values())
    assert result.history[-1]["running_penalty"] > 0
    x = torch.from_numpy(digits.x_test)
    with torch.no_grad():
        torch.testing.assert_close(small(x), gated(x), rtol=1e-6, atol=1e-6)


def test_seeds_reproduce(digits):
    runs = [
        train_gated(
            digits, (64, 20, 10), "hard-concrete", s, 0.03, digits_config(3), progress=False
        )
        for s in (3, 3, 4)
    ]
    (_, a, ra), (_, b, rb), (_, c, _) = runs
    assert torch.equal(a.gates["0"].log_alpha, b.gates["0"].log_alpha) and ra.history == rb.history
    assert not torch.equal(a.gates["0"].log_alpha, c.gates["0"].log_alpha)


# --------------------------------------------------------------------------- registry, bad input


def test_the_methods_are_registered_with_honest_labels():
    for name in GATE_METHODS:
        method = get_method(name, "gate")
        assert "temperature" in method.options and "drop_rate" in method.options
    assert (
        "DiffPrune-style (reconstructed from the abstract)" in get_method("diffprune", "gate").label
    )
    assert "noise" in get_method("diffprune-weights", "gate").options
    code = "import sys, divnet_nb.prune; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # registering the names needs no torch


def one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: hard_concrete_sample(torch.zeros(2), torch.full((2,), 0.5), beta=0.0), "beta"),
        (lambda: hard_concrete_prob_nonzero(torch.zeros(2), beta=-1.0), "beta"),
        (lambda: hard_concrete_sample(torch.zeros(2), torch.full((2,), 0.5), gamma=0.0), "gamma"),
        (lambda: hard_concrete_test_gate(torch.zeros(2), zeta=1.0), "zeta"),
        (lambda: hard_concrete_prob_nonzero(torch.zeros(2), zeta=0.5), "zeta"),
        (lambda: hard_concrete_sample(torch.zeros(2), torch.tensor([0.5, 1.0])), "u must"),
        (lambda: hard_concrete_sample(torch.zeros(2), torch.tensor([0.0, 0.5])), "u must"),
        (lambda: diffprune_gate(torch.zeros(2), float("nan")), "temperature"),
        (lambda: HardConcreteUnitGate(3, 0, temperature=0), "temperature"),
        (lambda: DiffPruneUnitGate(3, 0, final_temperature=-1.0, anneal_steps=5), "final_temp"),
        (lambda: DiffPruneUnitGate(3, 0, final_temperature=0.1), "anneal_steps"),
        (lambda: DiffPruneUnitGate(3, 0, noise=-0.1), "noise"),
        (lambda: HardConcreteUnitGate(3, 0, gamma=0.1), "gamma"),
        (lambda: HardConcreteUnitGate(3, 0, drop_rate=1.0), "drop_rate"),
        (lambda: HardConcreteUnitGate(3, 0, weight_decay=-1.0), "weight_decay"),
        (lambda: HardConcreteWeightGate(3, 0).penalty(), "bind"),
        (lambda: wrap_with_gates(MLP((4, 3, 2)), "hard-concrete", layers=[1]), "layer must be"),
        (lambda: wrap_with_gates(MLP((4, 3, 2)), "hard-concrete", layers=[0, 0]), "repeat"),
        (lambda: wrap_with_gates(MLP((4, 3, 2)), "hard-concrete", beta=1.0), "no setting"),
        (lambda: wrap_with_gates(MLP((4, 3, 2)), "diffprune", zeta=1.0), "zeta"),
        (lambda: wrap_with_gates(MLP((4, 3, 2)), "diffprune-weights", inputs=True), "unit-gate"),
        (
            lambda: wrap_with_gates(MLP((4, 3, 2)), "hard-concrete-weights", group_size=True),
            "no set",
        ),
        (lambda: wrap_with_gates(MLP((4, 3, 2)), "l0"), "registered gate methods"),
    ],
)
def test_bad_input_is_a_one_line_value_error(call, match):
    with pytest.raises(ValueError, match=match) as info:
        call()
    one_line(info)


def test_negative_lambda_and_gates_that_all_close(digits):
    with pytest.raises(ValueError, match="lam") as info:
        train_gated(digits, (64, 5, 10), "hard-concrete", 0, -0.1, progress=False)
    one_line(info)
    with pytest.raises(ValueError, match="every gate of hidden layer 0 closed during training"):
        config = default_config("digits", max_epochs=3)
        train_gated(digits, (64, 8, 10), "diffprune", 0, 5.0, config, progress=False)
    gated = wrap_with_gates(MLP((6, 5, 2), seed=0), "hard-concrete-weights")
    with torch.no_grad():
        gated.gates["0"].log_alpha.fill_(-4.0)
    with pytest.raises(ValueError, match="every weight gate of hidden layer 0 is closed") as info:
        gated.extract()
    one_line(info)
