"""Training nodes: one per architecture, each running the whole evaluation protocol.

Every fold is trained from a fresh model on the training subjects' originals and their
augmented copies, checked for leakage first, and tested on original clips only. Nothing is
chosen on the test fold: no checkpoint selection, no early stopping on test data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from microexpression_pipeline.metrics import accuracy, uar, uf1
from microexpression_pipeline.pipelines.train.fitting import TrainingSpec, fit_model, run_fold
from microexpression_pipeline.pipelines.train.folds import (
    SUBJECT_INDEPENDENT,
    check_fold,
    make_folds,
)

logger = logging.getLogger(__name__)


def metric_slug(architecture: str) -> str:
    """The architecture's name as MLflow metric keys and file names allow it."""
    return architecture.replace("+", "_")


def check_augmented_set(meta: Mapping[str, Any], mode: str, mapping: Mapping[str, Any]) -> None:
    """Refuse a training set made for another mode or label mapping."""
    classes = list(mapping)
    if meta.get("mode") != mode or list(meta.get("classes", [])) != classes:
        raise ValueError(
            f"The augmented set was made for mode {meta.get('mode')!r} with classes "
            f"{meta.get('classes')}, but this run has mode {mode!r} with classes {classes}. "
            f"Make the right one with: kedro run --pipeline=augmentation --params mode:{mode}"
        )
    recorded = meta.get("label_mapping")
    if recorded is not None and {k: list(v) for k, v in recorded.items()} != {
        k: list(v) for k, v in mapping.items()
    }:
        raise ValueError(
            f"The augmented set for mode {mode!r} was made with another label mapping "
            f"({recorded}); re-run: kedro run --pipeline=augmentation --params mode:{mode}"
        )


def _spec(
    architecture: str, shape: tuple[int, int, int], classes: tuple[str, ...], training: Mapping
) -> TrainingSpec:
    arch = training["architectures"][architecture]
    overrides = arch.get("overrides", {})

    def setting(name: str) -> Any:
        return overrides.get(name, training[name])

    return TrainingSpec(
        architecture=architecture,
        shape=shape,
        classes=classes,
        arch_params={"binary": arch["binary"], "multiclass": arch["multiclass"]},
        epochs=setting("epochs"),
        batch_size=setting("batch_size"),
        learning_rate=setting("learning_rate"),
        validation_fraction=setting("validation_fraction"),
        reduce_lr=training["reduce_lr"],
        early_stopping=training["early_stopping"],
        intensity=training["intensity"],
        verbose=training["keras_verbose"],
    )


def train_and_evaluate(
    architecture: str,
    augmented: Mapping[str, np.ndarray],
    samples: pd.DataFrame,
    meta: Mapping[str, Any],
    training: Mapping[str, Any],
    evaluation: Mapping[str, Any],
    seed: int,
    mode: str,
    label_mappings: Mapping[str, Any],
    run_info: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, keras.Model, keras.Model, dict[str, Any], dict[str, Any]]:
    """Evaluate ``architecture`` under the configured protocol, then fit a final model on all
    data. Returns predictions, histories, the final model (twice: for the versioned file and
    for MLflow), MLflow metrics and a summary."""
    check_augmented_set(meta, mode, label_mappings[mode])
    if training.get("deterministic", True):
        tf.config.experimental.enable_op_determinism()
    clips = augmented["clips"]
    if [str(s) for s in augmented["sample_ids"]] != samples["sample_id"].astype(str).tolist():
        raise ValueError(
            "augmented clips and sample table are not row-aligned; re-run augmentation"
        )
    classes = tuple(label_mappings[mode])
    spec = _spec(architecture, tuple(clips.shape[1:]), classes, training)
    protocol = evaluation["protocol"]
    independent = protocol in SUBJECT_INDEPENDENT
    folds = make_folds(samples, protocol, evaluation["n_splits"], evaluation["n_repeats"], seed)
    all_predictions, all_histories = [], []
    started = time.perf_counter()
    for fold in folds:
        check_fold(samples, fold, independent)
        predictions, history = run_fold(
            spec, clips, samples, fold.train_ids, fold.test_ids, seed + fold.index
        )
        fold_accuracy = accuracy(predictions["true_label"], predictions["predicted_label"])
        logger.info(
            "%s fold %d/%d (%s): %d test clips, accuracy %.3f",
            architecture,
            fold.index + 1,
            len(folds),
            fold.name,
            len(predictions),
            fold_accuracy,
        )
        all_predictions.append(predictions.assign(fold=fold.index, repeat=fold.repeat))
        all_histories.append(history.assign(fold=fold.index))
    predictions = pd.concat(all_predictions, ignore_index=True)
    predictions["protocol"] = protocol
    predictions["subject_independent"] = independent
    histories = pd.concat(all_histories, ignore_index=True)
    evaluation_seconds = time.perf_counter() - started

    table = samples.assign(row=np.arange(len(samples))).set_index("sample_id", drop=False)
    final_model, final_history = fit_model(spec, clips, table, seed + len(folds))
    histories = pd.concat([histories, final_history.assign(fold=-1)], ignore_index=True)

    metrics, summary = summarise(
        architecture, predictions, classes, protocol, independent, len(folds)
    )
    summary.update(
        mode=mode,
        seed=seed,
        evaluation_seconds=round(evaluation_seconds, 2),
        n_training_samples=len(samples),
        clip_shape=list(clips.shape[1:]),
        settings={k: v for k, v in training.items() if k != "architectures"}
        | {"architecture": dict(training["architectures"][architecture])},
        evaluation=dict(evaluation),
        run=dict(run_info),
    )
    return predictions, histories, final_model, final_model, metrics, summary


def summarise(
    architecture: str,
    predictions: pd.DataFrame,
    classes: tuple[str, ...],
    protocol: str,
    subject_independent: bool,
    n_folds: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pooled accuracy / UF1 / UAR, per-fold accuracy, as MLflow metrics and a summary."""
    index = {name: i for i, name in enumerate(classes)}
    y_true = predictions["true_label"].map(index).to_numpy()
    y_pred = predictions["predicted_label"].map(index).to_numpy()
    pooled = {
        "accuracy": accuracy(y_true, y_pred),
        "uf1": uf1(y_true, y_pred, len(classes)),
        "uar": uar(y_true, y_pred, len(classes)),
    }
    per_fold = predictions.assign(correct=y_true == y_pred).groupby("fold")["correct"].mean()
    slug = metric_slug(architecture)
    metrics: dict[str, Any] = {
        f"{slug}.{name}": {"value": value, "step": 0} for name, value in pooled.items()
    }
    metrics[f"{slug}.fold_accuracy"] = [
        {"value": float(v), "step": int(k)} for k, v in per_fold.items()
    ]
    summary = {
        "architecture": architecture,
        "classes": list(classes),
        "protocol": protocol,
        "subject_independent": subject_independent,
        "n_folds": n_folds,
        "n_test_clips": len(predictions),
        "metrics": pooled,
        "fold_accuracy_mean": float(per_fold.mean()),
        "fold_accuracy_std": float(per_fold.std(ddof=0)),
    }
    return metrics, summary


def train_3dcnn(*inputs: Any) -> tuple:
    """Train and evaluate the 3D CNN."""
    return train_and_evaluate("3dcnn", *inputs)


def train_cnn_lstm(*inputs: Any) -> tuple:
    """Train and evaluate the TimeDistributed CNN + LSTM."""
    return train_and_evaluate("cnn+lstm", *inputs)


def train_convlstm2d(*inputs: Any) -> tuple:
    """Train and evaluate the ConvLSTM2D network."""
    return train_and_evaluate("convlstm2d", *inputs)


def train_2dcnn(*inputs: Any) -> tuple:
    """Train and evaluate the per-frame 2D CNN (clips predicted by a vote over frames)."""
    return train_and_evaluate("2dcnn", *inputs)


TRAINERS = {
    "3dcnn": train_3dcnn,
    "cnn+lstm": train_cnn_lstm,
    "convlstm2d": train_convlstm2d,
    "2dcnn": train_2dcnn,
}
