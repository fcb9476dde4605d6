"""A frame-difference baseline: |apex - onset| in the face box, logistic regression, LOSO.

It tells how learnable the synthetic motion is: well above chance, well below perfect.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

# SAMM tasks: class name -> emotions (Other is left out of both).
TASKS: dict[str, dict[str, tuple[str, ...]]] = {
    "binary": {
        "positive": ("Happiness",),
        "negative": ("Anger", "Contempt", "Disgust", "Fear", "Sadness"),
    },
    "multiclass": {
        e: (e,)
        for e in ("Anger", "Contempt", "Disgust", "Fear", "Happiness", "Sadness", "Surprise")
    },
}


def difference_features(
    ground_truth: pd.DataFrame, root: Path, grid: tuple[int, int] = (20, 24)
) -> np.ndarray:
    """One row per clip: |apex - onset| inside the face box, area-downsampled to ``grid``."""
    rows = []
    for clip in ground_truth.itertuples(index=False):
        folder = root / clip.clip_dir
        box = np.s_[
            clip.face_y : clip.face_y + clip.face_h, clip.face_x : clip.face_x + clip.face_w
        ]
        onset, apex = (
            cv2.imread(str(folder / name), cv2.IMREAD_GRAYSCALE)[box].astype(np.float32)
            for name in (clip.onset_file, clip.apex_file)
        )
        rows.append(cv2.resize(np.abs(apex - onset), grid, interpolation=cv2.INTER_AREA).ravel())
    return np.asarray(rows)


def loso_scores(
    features: np.ndarray, labels: Sequence[str], groups: Sequence[int]
) -> dict[str, Any]:
    """Leave-one-subject-out accuracy and UAR (balanced accuracy), with their chance levels."""
    labels = np.asarray(labels)
    model = make_pipeline(
        StandardScaler(), LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000)
    )
    predicted = np.empty_like(labels)
    with threadpool_limits(1):  # tiny problems: extra BLAS threads only contend
        for train, test in LeaveOneGroupOut().split(features, labels, groups):
            if len(set(labels[train])) == 1:  # too few clips: predict the only class seen
                predicted[test] = labels[train][0]
            else:
                fitted = clone(model).fit(features[train], labels[train])
                predicted[test] = fitted.predict(features[test])
    classes, counts = np.unique(labels, return_counts=True)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "uar": float(balanced_accuracy_score(labels, predicted)),
        "chance_accuracy": float(counts.max() / counts.sum()),
        "chance_uar": 1.0 / len(classes),
        "n_clips": len(labels),
        "n_subjects": len(set(groups)),
        "n_classes": len(classes),
    }


def run_baseline(
    output_dir: str | Path,
    ground_truth_csv: str | Path,
    tasks: Mapping[str, Mapping[str, Sequence[str]]] = TASKS,
) -> dict[str, dict[str, Any]]:
    """Score every task on the sample's SAMM clips; a task needs two subjects and classes."""
    table = pd.read_csv(ground_truth_csv)
    samm = table[table["dataset"] == "SAMM"].reset_index(drop=True)
    features = difference_features(samm, Path(output_dir))
    results = {}
    for task, classes in tasks.items():
        lookup = {emotion: name for name, emotions in classes.items() for emotion in emotions}
        labels = samm["emotion"].map(lookup)
        keep = labels.notna().to_numpy()
        if labels[keep].nunique() < 2 or samm.loc[keep, "subject"].nunique() < 2:
            raise ValueError(
                f"baseline task {task!r}: needs two classes and two subjects; raise synthetic.size"
            )
        results[task] = loso_scores(features[keep], labels[keep], samm.loc[keep, "subject"])
    return results
