"""Sweeps the second hidden layer instead of the first (the same sizes, other numbers)."""

QUESTION = "q1"


def measure():
    exp = Experiment("digits", settings_for("digits", fast=True, instances=3), progress=False)
    variants = [v for v in exp.variants if v.key in ("dpp", "dpp+fuse")]
    sweep = exp.sweep(1, variants=variants)
    return {
        "sizes": list(sweep["sizes"]),
        "dpp": np.asarray(sweep["test_error"]["dpp"]),
        "dpp+fuse": np.asarray(sweep["test_error"]["dpp+fuse"]),
    }
