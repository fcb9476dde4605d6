"""Building, compiling and predicting with the registry's architectures (TensorFlow)."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from microexpression_pipeline.models.frame2d import voting_clip_model
from microexpression_pipeline.models.registry import Architecture, task_variant


def build_model(
    architecture: Architecture,
    shape: tuple[int, int, int],
    n_classes: int,
    variants: Any,
    learning_rate: float,
    intensity: str = "rescale",
    optimizer: str = "adam",
    momentum: float = 0.0,
) -> keras.Model:
    """A freshly initialised, compiled model (weights depend only on the global seed); for a
    frame-level architecture the frame model it is trained as. ``optimizer``: ``adam`` or
    ``sgd`` (with ``momentum``)."""
    sizes = getattr(variants, task_variant(n_classes))
    model = architecture.build(shape, n_classes, sizes, intensity)
    if optimizer == "sgd":
        chosen = keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum)
    else:
        chosen = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(
        optimizer=chosen,
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def clip_model(architecture: Architecture, model: keras.Model, frames: int) -> keras.Model:
    """The model as it predicts and is saved: clips in, class probabilities out."""
    return voting_clip_model(model, frames) if architecture.frame_level else model


def predict(model: keras.Model, clips: np.ndarray, batch_size: int) -> np.ndarray:
    """Class probabilities per clip, (clips, classes), in batches of ``batch_size`` clips.

    Batches come from a plain ``tf.data`` pipeline: Keras' own for NumPy input adds a parallel
    map that TensorFlow logs an error about when op determinism is on."""
    batches = tf.data.Dataset.from_tensor_slices(clips).batch(batch_size)
    return model.predict(batches, verbose=0)
