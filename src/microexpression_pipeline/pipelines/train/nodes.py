"""Training nodes: one per architecture, each running the whole evaluation protocol.

Every fold is trained from a fresh model on the training subjects' originals and their
augmented copies, checked for leakage first, and tested on original clips only. Nothing is
chosen on the test fold: no checkpoint selection, no early stopping on test data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from microexpression_pipeline.metrics import accuracy, headline
from microexpression_pipeline.models import Architecture, clip_model
from microexpression_pipeline.parameters import plain
from microexpression_pipeline.pipelines.train.fitting import TrainingSpec, fit_model, run_fold
from microexpression_pipeline.pipelines.train.folds import SUBJECT_INDEPENDENT, make_folds
from microexpression_pipeline.pipelines.train.progress import FoldProgress
from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams

logger = logging.getLogger(__name__)


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
    architecture: Architecture,
    shape: tuple[int, int, int],
    classes: tuple[str, ...],
    training: TrainingParams,
) -> TrainingSpec:
    block = training.architectures[architecture.key]

    def setting(name: str) -> Any:
        override = getattr(block.overrides, name)
        return getattr(training, name) if override is None else override

    return TrainingSpec(
        architecture=architecture,
        shape=shape,
        classes=classes,
        arch_params=block,
        epochs=setting("epochs"),
        batch_size=setting("batch_size"),
        learning_rate=setting("learning_rate"),
        validation_fraction=setting("validation_fraction"),
        reduce_lr=training.reduce_lr.model_dump(),
        early_stopping=training.early_stopping.model_dump(),
        intensity=training.intensity,
        verbose=training.keras_verbose,
    )


def train_and_evaluate(
    architecture: Architecture,
    augmented: Mapping[str, np.ndarray],
    samples: pd.DataFrame,
    meta: Mapping[str, Any],
    training: TrainingParams,
    evaluation: EvaluationParams,
    seed: int,
    mode: str,
    label_mappings: Mapping[str, Any],
    run_info: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame, keras.Model, keras.Model, dict[str, Any], dict[str, Any]]:
    """Evaluate ``architecture`` under the configured protocol, then fit a final model on all
    data. Returns predictions, histories, the final clip model (twice: for the versioned file
    and for MLflow), MLflow metrics and a summary."""
    check_augmented_set(meta, mode, label_mappings[mode])
    if training.deterministic:
        tf.config.experimental.enable_op_determinism()
    clips = augmented["clips"]
    if [str(s) for s in augmented["sample_ids"]] != samples["sample_id"].astype(str).tolist():
        raise ValueError(
            "augmented clips and sample table are not row-aligned; re-run augmentation"
        )
    classes = tuple(label_mappings[mode])
    spec = _spec(architecture, tuple(clips.shape[1:]), classes, training)
    protocol = evaluation.protocol
    independent = protocol in SUBJECT_INDEPENDENT
    folds = make_folds(samples, protocol, evaluation.n_splits, evaluation.n_repeats, seed)
    progress = FoldProgress(architecture.name, len(folds), spec.epochs, enabled=spec.verbose == 0)
    all_predictions, all_histories = [], []
    started = time.perf_counter()
    for fold in folds:
        progress.start_fold(fold.index + 1)
        predictions, history = run_fold(
            spec,
            clips,
            samples,
            fold.train_ids,
            fold.test_ids,
            seed + fold.index,
            callbacks=[progress],
        )
        fold_accuracy = accuracy(predictions["true_label"], predictions["predicted_label"])
        logger.info(
            "%s fold %d/%d (%s): %d test clips, accuracy %.3f",
            architecture.name,
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
    progress.start_fold(None)
    trained, final_history = fit_model(spec, clips, table, seed + len(folds), callbacks=[progress])
    progress.close()
    final_model = clip_model(architecture, trained, clips.shape[1])
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
        settings={k: v for k, v in plain(training).items() if k != "architectures"}
        | {"architecture": plain(training.architectures[architecture.key])},
        evaluation=plain(evaluation),
        run=dict(run_info),
    )
    return predictions, histories, final_model, final_model, metrics, summary


def summarise(
    architecture: Architecture,
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
    pooled = headline(y_true, y_pred, len(classes))
    per_fold = predictions.assign(correct=y_true == y_pred).groupby("fold")["correct"].mean()
    slug = architecture.key
    metrics: dict[str, Any] = {
        f"{slug}.{name}": {"value": value, "step": 0} for name, value in pooled.items()
    }
    metrics[f"{slug}.fold_accuracy"] = [
        {"value": float(v), "step": int(k)} for k, v in per_fold.items()
    ]
    summary = {
        "architecture": architecture.name,
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


def trainer(architecture: Architecture) -> Callable[..., tuple]:
    """The training node of ``architecture``: ``train_and_evaluate`` with it bound, under a
    name of its own and with typed parameters (which Kedro validates before the run)."""

    def train(
        augmented: Mapping[str, np.ndarray],
        samples: pd.DataFrame,
        meta: Mapping[str, Any],
        training: TrainingParams,
        evaluation: EvaluationParams,
        seed: int,
        mode: str,
        label_mappings: Mapping[str, Any],
        run_info: Mapping[str, Any],
    ) -> tuple:
        return train_and_evaluate(
            architecture, augmented, samples, meta, training, evaluation, seed, mode,
            label_mappings, run_info,
        )  # fmt: skip

    train.__name__ = train.__qualname__ = f"train_{architecture.key}"
    train.__doc__ = f"Train and evaluate the {architecture.description} ({architecture.name})."
    return train
