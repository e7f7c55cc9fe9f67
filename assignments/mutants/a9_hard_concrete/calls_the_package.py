"""Draws the training gates with divnet_nb's sampler instead of the notebook's own functions."""

QUESTION = "q5"


def gated_run(lams, steps=200, hidden=32, seed=0, lr=0.05):
    from divnet_nb import prune

    data = load_dataset("digits")
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    x_test, y_test = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    out = {"kept": [], "test_error": []}
    for lam in lams:
        torch.manual_seed(seed)
        first, second = torch.nn.Linear(64, hidden), torch.nn.Linear(hidden, 10)
        log_alpha = torch.nn.Parameter(torch.zeros(hidden))
        optimizer = torch.optim.Adam([*first.parameters(), *second.parameters(), log_alpha], lr=lr)
        for _ in range(steps):
            u = torch.rand(hidden).clamp(1e-6, 1 - 1e-6)
            z = prune.hard_concrete_sample(log_alpha, u)
            logits = second(torch.sigmoid(first(x)) * z)
            loss = torch.nn.functional.cross_entropy(logits, y) + l0_penalty(log_alpha, lam)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            gate = test_gate(log_alpha)
            predicted = second(torch.sigmoid(first(x_test)) * gate).argmax(dim=1)
        out["kept"].append(int((gate > 0).sum()))
        out["test_error"].append(float((predicted != y_test).double().mean()))
    return out
