"""Training and prediction for one fold: pure inputs (arrays, tables, settings) and outputs.

Clips stay uint8 (flow: float16) until the model's own input layers; ``tf.data`` gathers one
batch at a time from the clips array (no copy of the data set, uint8 or float32, is ever
made). Every call builds a fresh model from the seed, so no fold can start from weights that
saw another fold's test clips.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from microexpression_pipeline.models.batch_norm import fused_batch_norm
from microexpression_pipeline.models.building import build_model, clip_model, predict
from microexpression_pipeline.models.precision import dtype_policy
from microexpression_pipeline.models.seeding import seeded
from microexpression_pipeline.pipelines.train.folds import subject_keys
from microexpression_pipeline.pipelines.train.spec import TrainingSpec
from microexpression_pipeline.pipelines.train.training_set import training_set
from microexpression_pipeline.pipelines.train.units import FINAL, Unit

logger = logging.getLogger(__name__)


ModelFactory = Callable[[TrainingSpec], keras.Model]


def fresh_model(spec: TrainingSpec) -> keras.Model:
    """A newly built and initialised model for ``spec``."""
    return build_model(
        spec.architecture,
        spec.shape,
        len(spec.classes),
        spec.arch_params,
        spec.learning_rate,
        spec.intensity,
        optimizer=spec.optimizer,
        momentum=spec.momentum,
    )


def make_dataset(
    clips: np.ndarray,
    onehot: np.ndarray,
    batch_size: int,
    shuffle_seed: int | None,
    frame_level: bool,
    rows: np.ndarray | None = None,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """Batches of uint8 clips (for frame-level models, single frames; for flow models,
    float16 flow fields) and labels.

    Sample ``i`` is ``clips[rows[i]]`` with label ``onehot[i]`` (``rows``: every clip by
    default). Only sample indices are shuffled and each batch is gathered from ``clips`` when
    it is needed, so no copy of the data set is made (memory does not grow with its size);
    the batches are the same as shuffling and batching the samples themselves. With
    ``drop_remainder`` the last partial batch of each epoch is left out (as the study's
    ``steps_per_epoch = len(train) // batch_size``), unless that would leave no batch.
    """
    rows = np.arange(len(clips)) if rows is None else np.asarray(rows)
    labels = onehot.astype("float32")
    frames = clips.shape[1] if frame_level else 1
    sample_shape = clips.shape[2:] if frame_level else clips.shape[1:]
    dtype = tf.as_dtype(clips.dtype)

    def gather(indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if frame_level:
            return clips[rows[indices // frames], indices % frames], labels[indices // frames]
        return clips[rows[indices]], labels[indices]

    def load(indices: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        x, y = tf.numpy_function(gather, [indices], (dtype, tf.float32), stateful=False)
        x.set_shape((None, *sample_shape))
        y.set_shape((None, labels.shape[1]))
        return x, y

    n = len(rows) * frames
    dataset = tf.data.Dataset.range(n)
    if shuffle_seed is not None:
        dataset = dataset.shuffle(n, seed=shuffle_seed, reshuffle_each_iteration=True)
    drop = drop_remainder and n >= batch_size
    return dataset.batch(batch_size, drop_remainder=drop).map(load).prefetch(tf.data.AUTOTUNE)


def predict_clips(model: keras.Model, clips: np.ndarray, spec: TrainingSpec) -> np.ndarray:
    """Class probabilities per clip, shape (clips, classes): the predicted class is the argmax
    (for a frame-level architecture, its voting clip model's output)."""
    voting = clip_model(spec.architecture, model, clips.shape[1])
    return predict(voting, clips, spec.batch_size)


def _callbacks(spec: TrainingSpec, has_validation: bool) -> list[keras.callbacks.Callback]:
    monitor = "val_loss" if has_validation else "loss"
    callbacks: list[keras.callbacks.Callback] = []
    if spec.reduce_lr.get("enabled", True):
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor,
                factor=spec.reduce_lr.get("factor", 0.5),
                patience=spec.reduce_lr.get("patience", 3),
                min_lr=spec.reduce_lr.get("min_lr", 1e-4),
            )
        )
    if spec.step_decay:
        every, factor = int(spec.step_decay["every_epochs"]), float(spec.step_decay["factor"])
        start = float(spec.learning_rate)
        callbacks.append(
            keras.callbacks.LearningRateScheduler(lambda epoch: start * factor ** (epoch // every))
        )
    if spec.early_stopping.get("enabled", False):
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=spec.early_stopping.get("patience", 5)
            )
        )
    return callbacks


def fit_model(
    spec: TrainingSpec,
    clips: np.ndarray,
    table: pd.DataFrame,
    seed: int,
    model_factory: ModelFactory = fresh_model,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[keras.Model, pd.DataFrame, dict[str, Any]]:
    """Build a fresh model from ``seed`` and fit it on the rows of ``table``.

    ``table`` is the part of the sample table to train on, with a ``row`` column indexing
    ``clips``. Returns the fitted model (for a frame-level architecture, the frame model), its
    per-epoch history and the record of its fitting and validation sets
    (``training_set``). ``callbacks`` only watch (e.g. a progress bar).
    """
    chosen = training_set(
        table, spec.classes, seed, spec.validation_fraction, spec.validation_split,
        spec.min_validation_subjects, spec.balance_pool,
    )  # fmt: skip
    class_index = {name: i for i, name in enumerate(spec.classes)}

    def dataset(rows: pd.DataFrame, shuffle_seed: int | None, drop: bool) -> tf.data.Dataset:
        y = np.eye(len(spec.classes), dtype="float32")[rows["label"].map(class_index).to_numpy()]
        return make_dataset(
            clips, y, spec.batch_size, shuffle_seed, spec.frame_level, rows["row"].to_numpy(),
            drop,
        )  # fmt: skip

    started = time.perf_counter()
    keras.backend.clear_session()
    with seeded(seed), dtype_policy(spec.precision):
        model = model_factory(spec)
        built = time.perf_counter()
        train_ds = dataset(chosen.fit, seed, spec.drop_remainder)
        val_ds = dataset(chosen.validation, None, False) if len(chosen.validation) else None
        with fused_batch_norm(model) if spec.fused_batch_norm else nullcontext():
            history = model.fit(
                train_ds,
                validation_data=val_ds,
                epochs=spec.epochs,
                callbacks=[*_callbacks(spec, val_ds is not None), *(callbacks or [])],
                verbose=spec.verbose,
                shuffle=False,  # the dataset shuffles itself (make_dataset)
            )
    fitted = time.perf_counter()
    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    frame = frame.rename(columns={"learning_rate": "lr"})
    seconds = {"build": round(built - started, 4), "fit": round(fitted - built, 4)}
    record = {**chosen.record, "seconds": seconds, "parameters": model.count_params()}
    return model, frame, record


def indexed(samples: pd.DataFrame) -> pd.DataFrame:
    """The sample table indexed by ``sample_id``, with a ``row`` column indexing the clips."""
    return samples.assign(row=np.arange(len(samples))).set_index("sample_id", drop=False)


def run_fold(
    spec: TrainingSpec,
    clips: np.ndarray,
    samples: pd.DataFrame,
    train_ids: tuple[str, ...],
    test_ids: tuple[str, ...],
    seed: int,
    model_factory: ModelFactory = fresh_model,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Train a fresh model on ``train_ids`` and predict ``test_ids``.

    Returns the test predictions (one row per test clip, with class probabilities), the
    training history and the record of who was fitted, validated and tested.
    """
    table = indexed(samples)
    model, history, record = fit_model(
        spec, clips, table.loc[list(train_ids)], seed, model_factory, callbacks
    )
    test = table.loc[list(test_ids)]
    started = time.perf_counter()
    probabilities = predict_clips(model, clips[test["row"].to_numpy()], spec)
    record["seconds"]["predict"] = round(time.perf_counter() - started, 4)
    predicted = probabilities.argmax(axis=1)
    predictions = pd.DataFrame(
        {
            "sample_id": test["sample_id"].to_numpy(),
            "clip_id": test["source_clip_id"].to_numpy(),
            "subject": test["subject"].astype(str).to_numpy(),
            "subject_key": subject_keys(test).to_numpy(),
            "true_label": test["label"].to_numpy(),
            "predicted_label": np.asarray(spec.classes)[predicted],
        }
    )
    for i, name in enumerate(spec.classes):
        predictions[f"prob_{name}"] = probabilities[:, i].astype(float)
    record["test_subjects"] = sorted(set(subject_keys(test)))
    record["n_test_originals"] = len(test)
    return predictions, history, record


def fit_unit(
    unit: Unit,
    spec: TrainingSpec,
    clips: np.ndarray,
    samples: pd.DataFrame,
    callbacks: list[keras.callbacks.Callback] | None = None,
) -> dict[str, Any]:
    """Fit one unit from a fresh model. A fold gives its test predictions, history and
    record; the final model gives its ``.keras`` file's bytes instead (``load_final``)."""
    if spec.deterministic:
        tf.config.experimental.enable_op_determinism()
    elif tf.config.experimental.is_op_determinism_enabled():
        logger.warning(
            "%s: training.deterministic is false, but this process ran a deterministic unit "
            "before, and TensorFlow cannot turn op determinism off again: it stays on",
            unit.label,
        )
    if unit.fold != FINAL:
        predictions, history, record = run_fold(
            spec, clips, samples, unit.train_ids, unit.test_ids, unit.fit_seed,
            callbacks=callbacks,
        )  # fmt: skip
        return {"predictions": predictions, "history": history, "record": record}
    table = indexed(samples)
    model, history, record = fit_model(
        spec, clips, table.loc[list(unit.train_ids)], unit.fit_seed, callbacks=callbacks
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return {"model_file": path.read_bytes(), "history": history, "record": record}


def load_final(model_file: bytes) -> keras.Model:
    """The final unit's fitted model (for a frame-level architecture, the frame model) from
    its ``.keras`` file, loaded in safe mode: the model as it was trained, optimizer state
    included, wherever it was fitted."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        path.write_bytes(model_file)
        return keras.models.load_model(path, safe_mode=True)
