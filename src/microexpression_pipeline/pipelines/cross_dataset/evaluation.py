"""CASME II clips mapped to the model's classes, and the scores of a model on them."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.metrics import (
    chance_level,
    confusion,
    encode,
    headline,
    per_class_table,
)


def map_labels(emotions: pd.Series, mapping: Mapping[str, Sequence[str]]) -> pd.Series:
    """Class of each emotion (case-insensitive); NaN for an emotion the mapping leaves out."""
    lookup = {str(e).strip().lower(): cls for cls, labels in mapping.items() for e in labels}
    return emotions.astype(str).str.strip().str.lower().map(lookup)


def score(
    true_labels: pd.Series,
    predicted_labels: pd.Series,
    classes: Sequence[str],
    majority_class: str | None,
) -> dict[str, Any]:
    """Accuracy / UF1 / UAR, confusion, per-class table, majority and chance baselines."""
    y_true = encode(true_labels, classes)
    y_pred = encode(predicted_labels, classes)
    k = len(classes)
    majority = (
        headline(y_true, np.full_like(y_true, list(classes).index(majority_class)), k)
        if majority_class is not None
        else {}
    )
    return {
        "metrics": headline(y_true, y_pred, k),
        "confusion": confusion(y_true, y_pred, k).tolist(),
        "per_class": per_class_table(y_true, y_pred, classes)
        .astype({"support": int})
        .to_dict(orient="records"),
        "majority_class": majority_class,
        "majority": majority,
        "chance": chance_level(y_true, k),
    }


def json_ready(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by ``None`` (JSON has no NaN)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        return None
    return value


def training_majority(predictions: pd.DataFrame | None, classes: Sequence[str]) -> str | None:
    """Most frequent class among the training set's original clips (first repeat of the
    saved test predictions: every original clip is tested once per repeat)."""
    if predictions is None or predictions.empty:
        return None
    if "repeat" in predictions:
        predictions = predictions.loc[predictions["repeat"] == predictions["repeat"].min()]
    counts = [int((predictions["true_label"].astype(str) == c).sum()) for c in classes]
    return classes[int(np.argmax(counts))]
