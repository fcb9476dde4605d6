"""The field's metrics on pooled predictions (the MEGC convention).

UF1 is the mean over classes of 2TP / (2TP + FP + FN) and UAR the mean over classes of
recall, both from counts summed over every fold. A class with no true sample and no
prediction has no defined F1 or recall and is left out of the mean (NaN if no class is left).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts, rows = true class, columns = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def _per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tp = np.diag(matrix).astype(float)
    fp = matrix.sum(axis=0) - tp
    fn = matrix.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    return f1, recall


def _nanmean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


def uf1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Unweighted F1: mean over classes of 2TP / (2TP + FP + FN)."""
    return _nanmean(_per_class(confusion(y_true, y_pred, n_classes))[0])


def uar(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Unweighted average recall: mean over the classes present of their recall."""
    return _nanmean(_per_class(confusion(y_true, y_pred, n_classes))[1])


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of correct predictions (NaN when there is none)."""
    y_true = np.asarray(y_true)
    return float((y_true == np.asarray(y_pred)).mean()) if y_true.size else float("nan")


def per_class(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """Precision, recall, F1 (NaN where undefined) and support per class."""
    matrix = confusion(y_true, y_pred, n_classes)
    tp = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    support = matrix.sum(axis=1)
    f1, recall = _per_class(matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / predicted, np.nan)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support}


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row of a confusion matrix divided by its total (NaN for an empty row)."""
    totals = matrix.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, matrix / np.where(totals > 0, totals, 1), np.nan)


def chance_uf1(support: np.ndarray) -> float:
    """UF1 expected from uniform random guessing over K classes, from expected counts.

    With n_c true samples of class c among N, guessing uniformly gives TP = n_c / K,
    FP = (N - n_c) / K and FN = n_c (K - 1) / K, so F1_c = 2 n_c / (N + K n_c); classes
    without a sample score 0 (they are predicted, never right) and count in the mean.
    """
    support = np.asarray(support, float)
    total, k = support.sum(), support.size
    if total == 0:
        return float("nan")
    return float(np.mean(2 * support / (total + k * support)))


HEADLINE = ("accuracy", "uf1", "uar")


def encode(labels: pd.Series, classes: Sequence[str]) -> np.ndarray:
    """Class indices of ``labels``; a label outside ``classes`` is an error."""
    index = {name: i for i, name in enumerate(classes)}
    unknown = sorted(set(labels.astype(str)) - set(index))
    if unknown:
        raise ValueError(f"labels {unknown} are not among the classes {list(classes)}")
    return labels.astype(str).map(index).to_numpy(dtype=int)


def headline(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, float]:
    """Pooled accuracy, UF1 and UAR."""
    return {
        "accuracy": accuracy(y_true, y_pred),
        "uf1": uf1(y_true, y_pred, n_classes),
        "uar": uar(y_true, y_pred, n_classes),
    }


def per_class_table(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class."""
    return pd.DataFrame({"class": list(classes), **per_class(y_true, y_pred, len(classes))})


def chance_level(y_true: np.ndarray, n_classes: int) -> dict[str, float]:
    """Expected accuracy / UF1 / UAR of uniform random guessing."""
    if len(y_true) == 0:
        return {name: float("nan") for name in HEADLINE}
    support = np.bincount(np.asarray(y_true, int), minlength=n_classes)
    return {"accuracy": 1 / n_classes, "uf1": chance_uf1(support), "uar": 1 / n_classes}


# A run is one complete pass over the test clips: one training seed and one repeat of the
# protocol (stratified k-fold repeats); every clip is tested once per run.
RUN_KEYS = ("seed", "repeat")


def run_scores(
    predictions: pd.DataFrame, classes: Sequence[str], scorer: str = "predicted_label"
) -> pd.DataFrame:
    """Accuracy / UF1 / UAR pooled within each run (seed x repeat), one row per run.

    Metrics are never pooled across runs: that would count every clip once per run."""
    keys = [key for key in RUN_KEYS if key in predictions]
    groups = predictions.groupby(keys, sort=True) if keys else [((), predictions)]
    rows = []
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        scores = headline(encode(group["true_label"], classes), encode(group[scorer], classes),
                          len(classes))  # fmt: skip
        rows.append({**dict(zip(keys, values, strict=True)), "n": len(group), **scores})
    return pd.DataFrame(rows)


def mean_std(per_run: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) standard deviation over runs of each headline metric."""
    mean = {name: float(per_run[name].mean()) for name in HEADLINE}
    std = {name: float(per_run[name].std(ddof=0)) for name in HEADLINE}
    return mean, std
