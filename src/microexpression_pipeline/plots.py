"""Figures shared by the pipelines: confusion matrices, messages, PNG embedding
(matplotlib, Agg backend; every function returns a new Figure)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from microexpression_pipeline.metrics import row_normalised


def png_base64(figure: Figure, dpi: int = 100) -> str:
    """The figure as a base64-encoded PNG (for embedding in HTML / Markdown)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def confusion_figure(
    counts: np.ndarray, normalised: np.ndarray, classes: Sequence[str], title: str
) -> Figure:
    """Counts and row-normalised confusion matrices side by side."""
    k = len(classes)
    side = max(3.6, 0.75 * k + 2.2)
    figure, axes = plt.subplots(1, 2, figsize=(2 * side + 1.0, side + 0.6), layout="constrained")
    panels = ((counts, "counts", "Blues", None), (normalised, "row-normalised", "Greens", 1.0))
    for ax, (matrix, label, cmap, vmax) in zip(axes, panels, strict=True):
        shown = np.nan_to_num(np.asarray(matrix, float))
        top = vmax if vmax is not None else max(float(shown.max()), 1.0)
        ax.imshow(shown, cmap=cmap, vmin=0, vmax=top)
        for i in range(k):
            for j in range(k):
                value = matrix[i][j]
                text = (
                    "n/a"
                    if isinstance(value, float) and math.isnan(value)
                    else (f"{value:.2f}" if vmax else f"{value:.3g}")
                )
                dark = shown[i, j] > 0.6 * top
                ax.text(
                    j,
                    i,
                    text,
                    ha="center",
                    va="center",
                    fontsize=9,
                    color="white" if dark else "black",
                )
        ax.set_xticks(
            range(k), classes, rotation=35 if k > 3 else 0, ha="right" if k > 3 else "center"
        )
        ax.set_yticks(range(k), classes)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(label, fontsize=10)
    figure.suptitle(title, fontsize=11)
    return figure


def message_figure(message: str) -> Figure:
    """A picture that says why there is nothing to show."""
    figure, ax = plt.subplots(figsize=(7, 1.8), layout="constrained")
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, wrap=True)
    return figure


def cross_dataset_confusion_figure(summary: Mapping[str, Any], slug: str) -> Figure:
    """Confusion matrices (counts, row-normalised) of one model on CASME II, from the
    cross-dataset summary."""
    model = summary["models"][slug]
    counts = np.asarray(model["confusion"], dtype=np.int64)
    return confusion_figure(
        counts,
        row_normalised(counts),
        summary["classes"],
        f"{model['architecture']} trained on SAMM ({summary['source_mode']}), tested on CASME II",
    )
