"""Writing the results of :func:`~divnet_nb.experiments.reproduce`: results.json, the figures, report.md.

Every file is written atomically (:func:`divnet_nb._io.atomic_write`): a reader, or a
run stopped halfway through writing, sees the old file or the new one, never half.
"""

from __future__ import annotations

import json
from pathlib import Path

from .._io import atomic_write
from ..datasets import title
from ..experiments.claims import check_claims
from .figures import FIGURES, plot_sweep, plot_table2, plot_variants, save_figure, variant_style
from .markdown import figure_files, summarise
from .outputs import writes

__all__ = ["write_report"]


@writes("reproduce")
def write_report(results: dict, out_dir: Path) -> Path:
    """Write results.json, the figures and report.md into ``out_dir``; return the report's path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if "claims" not in results:
        results = dict(results, claims=check_claims(results))
    with atomic_write(out_dir / "results.json", "w") as f:
        json.dump(results, f, indent=1, default=float)
    described = results["variants"]
    labels = {k: v["label"] for k, v in described.items()}
    styles = {k: variant_style(k, v) for k, v in described.items()}
    name = title(results["dataset"])
    drawn = {stem for stem, _ in figure_files(results)}
    for stem, layer, variants, caption in FIGURES:
        if stem not in drawn:
            continue
        if results["dataset"] == "cifar10" and stem.startswith("fig5"):
            caption += " (Figure 11, Appendix C)"
        sweep = results["sweeps"][str(layer)]
        save_figure(
            lambda ax, sweep=sweep, variants=variants, caption=caption: plot_sweep(
                sweep, variants, labels, f"{caption} ({name})", ax=ax, styles=styles
            ),
            out_dir / f"{stem}.png",
        )
    for layer in results["sweeps"]:
        save_figure(
            lambda ax, layer=layer: plot_variants(results, layer, ax=ax),
            out_dir / f"layer{int(layer) + 1}_all_variants.png",
        )
    save_figure(lambda ax: plot_table2(results, ax=ax), out_dir / "table2.png")
    report = out_dir / "report.md"
    with atomic_write(report, "w") as f:
        f.write(summarise(results))
    return report
