"""The report's pictures (matplotlib, Agg backend); every function returns a new Figure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.plots import (
    confusion_figure,
    cross_dataset_confusion_figure,
    message_figure,
    png_base64,
)

__all__ = [
    "class_counts_figure",
    "confusion_figure",
    "cross_dataset_confusion_figure",
    "leaderboard_figure",
    "learning_curves_figure",
    "message_figure",
    "per_subject_figure",
    "png_base64",
]

TRAIN_COLOUR, VALIDATION_COLOUR = "tab:blue", "tab:orange"


def learning_curves_figure(histories: pd.DataFrame | None, title: str) -> Figure:
    """Loss and accuracy per epoch, training vs validation, one thin line per fold and the
    mean over folds in bold (the final all-data model, fold -1, is left out)."""
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    folds = (
        histories.loc[histories["fold"] >= 0]
        if histories is not None and "fold" in histories
        else pd.DataFrame()
    )
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("epoch")
        if folds.empty or metric not in folds:
            ax.text(0.5, 0.5, "no history saved", ha="center", va="center", transform=ax.transAxes)
            continue
        for column, colour, name in (
            (metric, TRAIN_COLOUR, "train"),
            (f"val_{metric}", VALIDATION_COLOUR, "validation"),
        ):
            if column not in folds or folds[column].isna().all():
                continue
            fits = [c for c in ("seed", "fold") if c in folds]  # one line per fit
            for _, fold in folds.groupby(fits):
                ax.plot(fold["epoch"], fold[column], color=colour, alpha=0.25, linewidth=0.8)
            mean = folds.groupby("epoch")[column].mean()
            ax.plot(
                mean.index,
                mean.to_numpy(),
                color=colour,
                linewidth=2.2,
                label=f"{name} (mean of {len(folds.groupby(fits))} fits)",
            )
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8)
    figure.suptitle(title, fontsize=11)
    return figure


def per_subject_figure(per_subject: pd.DataFrame, title: str) -> Figure:
    """Accuracy per test subject (bar labels: number of test predictions)."""
    n = len(per_subject)
    figure, ax = plt.subplots(figsize=(max(6.0, 0.42 * n + 1.5), 4.0), layout="constrained")
    positions = np.arange(n)
    bars = ax.bar(positions, per_subject["accuracy"], color="tab:blue")
    ax.bar_label(bars, labels=[f"n={v}" for v in per_subject["n"]], fontsize=7, padding=2)
    ax.set_xticks(
        positions,
        per_subject["subject"],
        rotation=60 if n > 8 else 0,
        ha="right" if n > 8 else "center",
        fontsize=8,
    )
    ax.set_ylim(0, 1.12)
    ax.set_ylabel("accuracy")
    ax.set_xlabel("subject")
    ax.set_title(title, fontsize=11)
    return figure


def class_counts_figure(meta: Mapping[str, Any], label: str) -> Figure:
    """Class counts before and after augmentation."""
    classes = list(meta.get("classes") or meta.get("counts_before", {}))
    before = [meta.get("counts_before", {}).get(c, 0) for c in classes]
    after = [meta.get("counts_after", {}).get(c, 0) for c in classes]
    k = len(classes)
    figure, ax = plt.subplots(figsize=(max(5.5, 1.1 * k + 2), 4.0), layout="constrained")
    positions = np.arange(k)
    width = 0.38
    for offset, values, name, colour in (
        (-width / 2, before, "before (originals)", "tab:gray"),
        (width / 2, after, "after augmentation", "tab:green"),
    ):
        bars = ax.bar(positions + offset, values, width, label=name, color=colour)
        ax.bar_label(bars, fontsize=8, padding=2)
    ax.set_xticks(
        positions, classes, rotation=30 if k > 3 else 0, ha="right" if k > 3 else "center"
    )
    ax.set_ylabel("clips")
    ax.set_ylim(0, max([*after, *before, 1]) * 1.12)
    figure.legend(loc="outside lower center", ncol=2, fontsize=8)
    ax.set_title(f"Class counts, {label}", fontsize=11)
    return figure


def leaderboard_figure(table: pd.DataFrame) -> Figure:
    """Accuracy / UF1 / UAR per architecture, one panel per data source x mode; the
    majority-class baseline of each metric as a black tick, n/a metrics labelled n/a."""
    panels = (
        list(dict.fromkeys(zip(table["data_source"], table["mode"], strict=True)))
        if not table.empty
        else []
    )
    if not panels:
        figure, ax = plt.subplots(figsize=(6, 2.2), layout="constrained")
        ax.axis("off")
        ax.text(0.5, 0.5, "No trained model results found", ha="center", va="center", fontsize=12)
        return figure
    selections = [(table["data_source"] == s) & (table["mode"] == m) for s, m in panels]
    width_per_mode = [max(4.5, 1.6 * selected.sum() + 1.5) for selected in selections]
    figure, axes = plt.subplots(
        1,
        len(panels),
        figsize=(sum(width_per_mode), 4.4),
        layout="constrained",
        width_ratios=width_per_mode,
        squeeze=False,
    )
    metrics = (("accuracy", "tab:gray"), ("uf1", "tab:blue"), ("uar", "tab:orange"))
    width = 0.26
    for ax, (source, mode), selected in zip(axes[0], panels, selections, strict=True):
        rows = table.loc[selected].reset_index(drop=True)
        positions = np.arange(len(rows))
        for i, (metric, colour) in enumerate(metrics):
            x = positions + (i - 1) * width
            values = rows[metric].astype(float).to_numpy()
            ax.bar(
                x,
                np.nan_to_num(values),
                width,
                color=colour,
                label=metric.upper() if metric != "accuracy" else "accuracy",
            )
            # Values written mid-bar, so they never collide with the baseline ticks or the
            # chance line drawn near the bar tops.
            for xi, value in zip(x, values, strict=True):
                ax.text(
                    xi,
                    0.02 if np.isnan(value) else max(value / 2, 0.02),
                    "n/a" if np.isnan(value) else f"{value:.2f}",
                    ha="center",
                    va="bottom" if np.isnan(value) or value < 0.04 else "center",
                    fontsize=7,
                    zorder=4,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                )
            base = rows[f"majority_{metric}"].astype(float).to_numpy()
            ax.scatter(
                x,
                base,
                marker="_",
                s=260,
                color="black",
                zorder=3,
                label="majority baseline" if i == 0 else None,
            )
        chance = float(rows["chance_accuracy"].iloc[0])
        ax.axhline(chance, color="red", linestyle=":", linewidth=1, label="chance level (1/K)")
        ax.set_xticks(positions, rows["architecture"])
        ax.set_ylim(0, 1.08)
        protocols = ", ".join(sorted(set(rows["protocol"])))
        ax.set_title(f"{source} | mode {mode} | {protocols} | 1/K = {chance:.2f}", fontsize=10)
    axes[0][0].set_ylabel("score")
    figure.legend(
        *axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=8
    )
    figure.suptitle("Leaderboard", fontsize=11)
    return figure
