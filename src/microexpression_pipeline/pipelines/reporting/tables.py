"""The numbers of the report, from pooled per-fold predictions (the MEGC convention).

A run is one training seed and one repeat of the protocol: every test clip is predicted once
per run. UF1, UAR and accuracy are pooled over the folds of a run, then given as mean and
(population) std over runs (``metrics.run_scores``); confusion matrices are the mean over runs.

Baselines are computed under the same protocol as the model:

* majority: in every fold, predict the most frequent class among the original clips of the
  *other* folds of the same repeat (that fold's training subjects; ties go to the first
  class). Augmented copies are not in the predictions table and are not counted: the
  baseline is the trivial rule learnt from the real training clips, whatever balancing
  the model's training set received;
* chance: uniform random guessing over the K classes, in expectation: accuracy and UAR
  1/K, UF1 from expected counts (``metrics.chance_uf1``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.metrics import (
    HEADLINE,
    RUN_KEYS,
    chance_level,
    confusion,
    encode,
    mean_std,
    per_class_table,
    row_normalised,
    run_scores,
)
from microexpression_pipeline.models.registry import ARCHITECTURES
from microexpression_pipeline.pipelines.reporting.results import ModelResult

NA = "n/a"


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table; ``n/a`` for a metric that cannot be computed."""
    if value is None:
        return NA
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return NA if math.isnan(number) else f"{number:.{digits}f}"


def _folds(predictions: pd.DataFrame) -> pd.DataFrame:
    frame = predictions.copy()
    for column in RUN_KEYS:
        if column not in frame:
            frame[column] = 0
    return frame


def fold_accuracy(predictions: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and test-set size per (seed, repeat, fold)."""
    frame = _folds(predictions)
    frame["correct"] = frame["true_label"].astype(str) == frame["predicted_label"].astype(str)
    grouped = frame.groupby([*RUN_KEYS, "fold"])["correct"]
    return (
        pd.DataFrame({"n": grouped.size(), "accuracy": grouped.mean()})
        .reset_index()
        .astype({"seed": int, "repeat": int, "fold": int, "n": int, "accuracy": float})
    )


def fold_statistics(per_fold: pd.DataFrame) -> pd.DataFrame:
    """Mean +- std (population) of per-fold accuracy: over every fold of every run (a fold
    trained with several seeds counts once per seed), and per run (seed, repeat) when there is
    more than one."""

    def row(scope: str, values: pd.Series) -> dict[str, Any]:
        return {
            "scope": scope,
            "n_folds": int(values.size),
            "mean": float(values.mean()) if values.size else float("nan"),
            "std": float(values.std(ddof=0)) if values.size else float("nan"),
        }

    runs = per_fold.groupby(list(RUN_KEYS))
    several = {key: per_fold[key].nunique() > 1 for key in RUN_KEYS}

    def name(run: tuple) -> str:
        return ", ".join(f"{k} {int(v)}" for k, v in zip(RUN_KEYS, run, strict=True) if several[k])

    rows = [
        row("all folds" if runs.ngroups == 1 else "all folds of all runs", per_fold["accuracy"])
    ]
    if runs.ngroups > 1:
        rows += [row(name(run), group["accuracy"]) for run, group in runs]
    return pd.DataFrame(rows, columns=["scope", "n_folds", "mean", "std"])


def majority_predictions(predictions: pd.DataFrame, classes: Sequence[str]) -> pd.Series:
    """Per fold, the majority class of the other folds' original clips (same run).

    A fold with no other fold to learn from gets no prediction (NaN)."""
    frame = _folds(predictions)
    predicted = pd.Series(np.nan, index=frame.index, dtype=object)
    for _, group in frame.groupby(list(RUN_KEYS)):
        for fold in group["fold"].unique():
            train = group.loc[group["fold"] != fold, "true_label"].astype(str)
            if train.empty:
                continue
            counts = [int((train == c).sum()) for c in classes]
            predicted[group.index[group["fold"] == fold]] = classes[int(np.argmax(counts))]
    return predicted


def majority_baseline(predictions: pd.DataFrame, classes: Sequence[str]) -> dict[str, Any]:
    """Accuracy / UF1 / UAR and per-fold accuracy of the majority-class baseline."""
    predicted = majority_predictions(predictions, classes)
    known = predicted.notna()
    if not known.any():
        return {name: float("nan") for name in HEADLINE} | {"fold_accuracy_mean": float("nan")}
    frame = predictions.loc[known].assign(predicted_label=predicted[known])
    scores, _ = mean_std(run_scores(frame, classes))
    per_fold = fold_accuracy(frame)
    return scores | {
        "fold_accuracy_mean": float(per_fold["accuracy"].mean()),
        "fold_accuracy_std": float(per_fold["accuracy"].std(ddof=0)),
    }


def per_subject_accuracy(predictions: pd.DataFrame) -> pd.DataFrame:
    """Accuracy and number of test predictions per subject, a (dataset, subject) pair where
    the predictions say (``subject_key``), over every run (seed, repeat) that tested it."""
    key = "subject_key" if "subject_key" in predictions else "subject"
    frame = predictions.assign(
        correct=predictions["true_label"].astype(str) == predictions["predicted_label"].astype(str),
        subject=predictions[key].astype(str),
    )
    grouped = frame.groupby("subject")["correct"]
    return (
        pd.DataFrame({"n": grouped.size(), "accuracy": grouped.mean()})
        .reset_index()
        .sort_values("subject", key=lambda s: s.str.zfill(8))
        .reset_index(drop=True)
    )


def _per_class_over_runs(predictions: pd.DataFrame, classes: Sequence[str]) -> pd.DataFrame:
    """Precision, recall, F1 and support per class within each run, averaged over runs
    (undefined values left out of the mean)."""
    tables = [
        per_class_table(encode(run["true_label"], classes), encode(run["predicted_label"], classes),
                        classes)
        for _, run in _folds(predictions).groupby(list(RUN_KEYS))
    ]  # fmt: skip
    mean = pd.concat(tables).groupby("class", sort=False).mean()
    return mean.reindex(list(classes)).reset_index()


def evaluate(result: ModelResult) -> dict[str, Any]:
    """Everything the report shows about one model (tables as DataFrames)."""
    classes = result.classes
    predictions = result.predictions.reset_index(drop=True)
    y_true = encode(predictions["true_label"], classes)
    y_pred = encode(predictions["predicted_label"], classes)
    per_run = run_scores(predictions, classes)
    mean, std = mean_std(per_run)
    n_runs = len(per_run)
    matrix = confusion(y_true, y_pred, len(classes))
    matrix = matrix // n_runs if (matrix % n_runs == 0).all() else matrix / n_runs  # per run
    per_fold = fold_accuracy(predictions)
    first_run = _folds(predictions).groupby(list(RUN_KEYS)).ngroup() == 0
    protocol = str(result.summary.get("protocol") or NA)
    return {
        "key": result.key,
        "mode": result.mode,
        "architecture": result.architecture,
        "slug": result.slug,
        "version": result.version,
        "classes": classes,
        "protocol": protocol,
        "subject_independent": bool(result.summary.get("subject_independent", False)),
        "data_source": result.data_source,
        "mlflow_run_id": result.run.get("mlflow_run_id"),
        "input_versions": dict(result.run.get("input_versions") or {}),
        "settings": result.summary.get("settings") or {},
        "evaluation": result.summary.get("evaluation") or {},
        "seed": result.summary.get("seed"),
        "seeds": sorted(_folds(predictions)["seed"].unique().tolist()),
        "n_runs": n_runs,
        "n_test": int(first_run.sum()),
        "metrics": mean,
        "metrics_std": std,
        "per_run": per_run,
        "majority": majority_baseline(predictions, classes),
        "chance": chance_level(y_true[first_run.to_numpy()], len(classes)),
        "per_class": _per_class_over_runs(predictions, classes),
        "confusion": matrix,
        "confusion_normalised": row_normalised(matrix),
        "fold_accuracy": per_fold,
        "fold_statistics": fold_statistics(per_fold),
        "per_subject": per_subject_accuracy(predictions),
        "histories": result.histories,
    }


LEADERBOARD_COLUMNS = [
    "data_source",
    "mode",
    "architecture",
    "protocol",
    "subject_independent",
    "n_folds",
    "n_runs",
    "n_test",
    "accuracy",
    "accuracy_std",
    "uf1",
    "uf1_std",
    "uar",
    "uar_std",
    "fold_accuracy_mean",
    "fold_accuracy_std",
    "majority_accuracy",
    "majority_uf1",
    "majority_uar",
    "chance_accuracy",
    "chance_uf1",
    "chance_uar",
    "version",
    "mlflow_run_id",
]


def leaderboard(evaluations: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per data source x mode x architecture, in the registry's architecture order
    within a data source and mode (never ranked by test score)."""
    rows = []
    for ev in evaluations:
        overall = ev["fold_statistics"].iloc[0]
        rows.append(
            {
                "data_source": ev["data_source"],
                "mode": ev["mode"],
                "architecture": ev["architecture"],
                "protocol": ev["protocol"],
                "subject_independent": ev["subject_independent"],
                "n_folds": int(ev["fold_accuracy"]["fold"].nunique()),
                "n_runs": ev["n_runs"],
                "n_test": ev["n_test"],
                **ev["metrics"],
                **{f"{k}_std": v for k, v in ev["metrics_std"].items()},
                "fold_accuracy_mean": overall["mean"],
                "fold_accuracy_std": overall["std"],
                **{f"majority_{k}": ev["majority"][k] for k in HEADLINE},
                **{f"chance_{k}": ev["chance"][k] for k in HEADLINE},
                "version": ev["version"],
                "mlflow_run_id": ev["mlflow_run_id"] or NA,
            }
        )
    table = pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)
    if table.empty:
        return table
    # an architecture no longer registered (an old MLflow run) comes last
    order = {name: i for i, a in enumerate(ARCHITECTURES.values()) for name in (a.key, a.name)}
    position = table["architecture"].map(lambda name: order.get(name, len(order)))
    return (
        table.assign(_order=position)
        .sort_values(["data_source", "mode", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def mlflow_metrics(evaluations: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``<data source>.<mode>.<arch>.<metric>`` for the model and its baselines (undefined
    ones left out)."""
    metrics: dict[str, dict[str, float]] = {}
    for ev in evaluations:
        prefix = f"{ev['data_source']}.{ev['mode']}.{ev['slug']}"
        values = {
            **ev["metrics"],
            **{f"{k}_std": v for k, v in ev["metrics_std"].items()},
            "fold_accuracy_mean": ev["fold_statistics"].iloc[0]["mean"],
            "fold_accuracy_std": ev["fold_statistics"].iloc[0]["std"],
            **{f"majority_{k}": ev["majority"][k] for k in HEADLINE},
            **{f"chance_{k}": ev["chance"][k] for k in HEADLINE},
        }
        for name, value in values.items():
            if value is not None and not math.isnan(float(value)):
                metrics[f"{prefix}.{name}"] = {"value": float(value), "step": 0}
    return metrics
