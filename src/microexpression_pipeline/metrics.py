"""The field's metrics on pooled predictions (the MEGC convention).

UF1 is the mean over classes of 2TP / (2TP + FP + FN) and UAR the mean over classes of
recall, both from counts summed over every fold. A class with no true sample and no
prediction has no defined F1 or recall and is left out of the mean (NaN if no class is left).
"""

from __future__ import annotations

import numpy as np


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
