"""Solutions to the coding exercises of notebook 14 (pruning while training).

``exercise_1`` returns what the exercise asks for; its docstring gives the written part of the
answer. ``tests/test_solutions.py`` runs it.
"""

from __future__ import annotations

import math

import torch

from divnet_nb import prune


def exercise_1(
    betas=(0.1, 2 / 3, 2.0), log_alphas=(-2.0, 0.0, 2.0), n: int = 200_000, seed: int = 0
) -> dict:
    """Hard-concrete samples at several temperatures: the mass at 0 and at 1, and P(z != 0) against its formula.

    A low temperature (beta = 0.1) makes s nearly a step function of the logistic noise, so
    almost every sample is stretched past 0 or 1 and clipped: the gate is close to a Bernoulli
    variable, with little mass strictly inside (0, 1). A high one (beta = 2) spreads s over
    (0, 1), so more mass lies inside and less at the two ends. The formula P(z != 0) =
    sigmoid(log alpha - beta log(-gamma/zeta)) holds at every temperature: z != 0 exactly when
    s > -gamma / (zeta - gamma), and inverting the logistic gives it for any beta.
    """
    generator = torch.Generator().manual_seed(seed)
    u = torch.rand(n, generator=generator, dtype=torch.float64).clamp(1e-6, 1 - 1e-6)
    rows = []
    for beta in betas:
        for log_alpha in log_alphas:
            la = torch.full((n,), log_alpha, dtype=torch.float64)
            z = prune.hard_concrete_sample(la, u, beta=beta)
            formula = float(
                prune.hard_concrete_prob_nonzero(
                    torch.tensor(log_alpha, dtype=torch.float64), beta=beta
                )
            )
            open_ = float((z != 0).double().mean())
            rows.append(
                {
                    "beta": beta,
                    "log alpha": log_alpha,
                    "P(z = 0)": float((z == 0).double().mean()),
                    "P(z = 1)": float((z == 1).double().mean()),
                    "P(z != 0) sampled": open_,
                    "P(z != 0) formula": formula,
                    "standard error": math.sqrt(formula * (1 - formula) / n),
                }
            )
    return rows
