"""The layer sizes of Table 1's networks (no torch here, so the command line can check sizes at once)."""

from __future__ import annotations

__all__ = ["table1_sizes"]


def table1_sizes(dataset: str) -> tuple[int, ...]:
    """Layer sizes for a dataset: Table 1's for mnist, mnist_rot and cifar10; 64-100-100-10 for digits."""
    from ..paper import TABLE1

    if dataset == "digits":
        return (64, 100, 100, 10)
    if dataset not in TABLE1:
        raise ValueError(
            f"no Table 1 network for dataset {dataset!r}; known: digits, {', '.join(TABLE1)}"
        )
    return TABLE1[dataset]["sizes"]
