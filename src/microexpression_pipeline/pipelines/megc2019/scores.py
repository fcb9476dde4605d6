"""MEGC 2019's metrics: UF1 and UAR over the pooled predictions of the composite and of each
dataset's part, per run (seed x repeat), as mean and std over runs, beside the majority
baseline and chance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.metrics import chance_level, encode, headline, run_scores

COMPOSITE = "composite"
METRICS = ("uf1", "uar")


def dataset_of_clips(composite_index: pd.DataFrame) -> dict[str, str]:
    """Clip id -> its dataset in the composite."""
    return dict(
        zip(
            composite_index["clip_id"].astype(str),
            composite_index["dataset"].astype(str),
            strict=True,
        )
    )


def part_scores(
    predictions: pd.DataFrame,
    parts: pd.Series,
    classes: Sequence[str],
    whole: str | None = COMPOSITE,
) -> pd.DataFrame:
    """Accuracy / UF1 / UAR per run and part (``parts``: each prediction's part, such as its
    dataset), and with ``whole`` all of them pooled: ``metrics.run_scores`` on each part.
    One row per (run, part), ``n`` clips."""
    frame = predictions.assign(part=parts.to_numpy())
    groups = [(name, frame[frame["part"] == name]) for name in dict.fromkeys(frame["part"])]
    if whole is not None:
        groups.insert(0, (whole, frame))
    return pd.concat(
        [run_scores(group, classes).assign(part=part) for part, group in groups],
        ignore_index=True,
    )


def datasets_of(predictions: pd.DataFrame, dataset_of: Mapping[str, str]) -> pd.Series:
    """Each prediction's dataset; raises if a clip is not in the composite."""
    datasets = predictions["clip_id"].astype(str).map(dataset_of)
    if datasets.isna().any():
        missing = sorted(set(predictions.loc[datasets.isna(), "clip_id"].astype(str)))[:5]
        raise ValueError(
            f"predicted clips {missing} are not in the composite's clip index (predictions "
            "of another composite)"
        )
    return datasets


def summarise_parts(per_run: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Part -> mean and (population) std over runs of UF1 / UAR / accuracy, runs, clips."""
    out: dict[str, dict[str, float]] = {}
    for part, group in per_run.groupby("part", sort=False):
        entry: dict[str, float] = {"runs": len(group), "n": int(group["n"].iloc[0])}
        for name in ("accuracy", *METRICS):
            entry[name] = float(group[name].mean())
            entry[f"{name}_std"] = float(group[name].std(ddof=0))
        out[str(part)] = entry
    return out


def baselines(
    composite_index: pd.DataFrame, classes: Sequence[str], parts: Sequence[str]
) -> tuple[str, dict[str, dict[str, dict[str, float]]]]:
    """The composite's most frequent class, and per part the majority baseline (every clip
    called that class) and chance (uniform random guessing, expected value)."""
    truth = composite_index["megc_class"].astype(str)
    majority = truth.value_counts().idxmax()
    out: dict[str, dict[str, dict[str, float]]] = {"majority": {}, "chance": {}}
    for part in parts:
        rows = truth if part == COMPOSITE else truth[composite_index["dataset"] == part]
        y = encode(rows, classes)
        constant = np.full(len(y), list(classes).index(majority))
        out["majority"][part] = headline(y, constant, len(classes))
        out["chance"][part] = chance_level(y, len(classes))
    return str(majority), out


def format_cell(entry: Mapping[str, float] | None, metric: str) -> str:
    """``0.713 ± 0.012`` (the std only when there are several runs), or '-'."""
    if not entry or entry.get(metric) is None or np.isnan(entry[metric]):
        return "-"
    std = entry.get(f"{metric}_std")
    runs = entry.get("runs", 1)
    return f"{entry[metric]:.3f}" + (f" ± {std:.3f}" if runs and runs > 1 else "")


NAMES = {"smic": "SMIC", "casme2": "CASME II", "samm": "SAMM", COMPOSITE: "Composite"}


def part_name(part: str) -> str:
    """``casme2`` -> ``CASME II``; a hold-out pair ``samm->casme2`` -> ``SAMM → CASME II``."""
    if "->" in part:
        train, test = part.split("->")
        return f"{NAMES.get(train, train)} → {NAMES.get(test, test)}"
    return NAMES.get(part, part)


def megc_layout(rows: Sequence[Mapping[str, Any]], parts: Sequence[str]) -> pd.DataFrame:
    """The MEGC layout: one row per method, columns ``<Part> UF1`` and ``<Part> UAR``.

    ``rows``: ``{"method": ..., "parts": {part: entry}}``."""
    table = []
    for row in rows:
        cells = {"method": row["method"]}
        for part in parts:
            for metric in METRICS:
                cells[f"{part_name(part)} {metric.upper()}"] = format_cell(
                    row["parts"].get(part), metric
                )
        table.append(cells)
    return pd.DataFrame(table)
