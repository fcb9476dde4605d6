"""The architecture registry: the one list of architectures.

Validation, the train pipeline's nodes, reporting, cross-dataset evaluation and the
benchmarks all read it. An entry's ``key`` is its internal name (node names, tags, metric
keys, file names); ``name`` is how the study writes it (reports, and accepted wherever a user
types a model name: ``--params model:cnn+lstm``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

from microexpression_pipeline.models.conv3d import Conv3DSizes, build_3dcnn
from microexpression_pipeline.models.frame2d import Conv2DSizes, build_2dcnn, voting_clip_model
from microexpression_pipeline.models.recurrent import (
    CnnLstmSizes,
    ConvLstmSizes,
    build_cnn_lstm,
    build_convlstm2d,
)
from microexpression_pipeline.parameters import ParameterError, StrictSection, choice_problem

Builder = Callable[[tuple[int, int, int], int, Any, str], keras.Model]


@dataclass(frozen=True)
class Architecture:
    """One architecture: its names, what it sees, its builder and its size schema."""

    key: str
    name: str
    # clips: (frames, height, width); frames: one (height, width) frame, clips voted over.
    sees: Literal["clips", "frames"]
    build: Builder
    sizes: type[StrictSection]
    description: str
    # The augmented set it trains on (a key of ``augmentation.transform_sets``); the study
    # augments its 2D CNN per frame with wider ranges (``frame2d``).
    transform_set: str = "clip"

    @property
    def frame_level(self) -> bool:
        return self.sees == "frames"

    @property
    def tag(self) -> str:
        """The tag of its training node (``model:`` selects nodes by it)."""
        return f"architecture_{self.key}"


ARCHITECTURES: dict[str, Architecture] = {
    a.key: a
    for a in (
        Architecture("3dcnn", "3dcnn", "clips", build_3dcnn, Conv3DSizes, "3D CNN"),
        Architecture(
            "cnn_lstm", "cnn+lstm", "clips", build_cnn_lstm, CnnLstmSizes,
            "TimeDistributed CNN + LSTM",
        ),
        Architecture(
            "convlstm2d", "convlstm2d", "clips", build_convlstm2d, ConvLstmSizes, "ConvLSTM2D"
        ),
        Architecture(
            "2dcnn", "2dcnn", "frames", build_2dcnn, Conv2DSizes,
            "per-frame 2D CNN, majority vote over the frames", transform_set="frame2d",
        ),
    )
}  # fmt: skip

ALL = "all"

# Every augmented set some architecture trains on, in a fixed order.
TRANSFORM_SETS: tuple[str, ...] = tuple(
    dict.fromkeys(a.transform_set for a in ARCHITECTURES.values())
)


def model_choices() -> tuple[str, ...]:
    """Every value the ``model`` parameter accepts."""
    aliases = [a.name for a in ARCHITECTURES.values() if a.name != a.key]
    return (*ARCHITECTURES, *aliases, ALL)


def get(name: str) -> Architecture:
    """The architecture called ``name`` (its key or the study's name)."""
    for architecture in ARCHITECTURES.values():
        if name in (architecture.key, architecture.name):
            return architecture
    raise ParameterError([choice_problem("model", name, model_choices())])


def selected(model: str) -> tuple[Architecture, ...]:
    """The architectures a ``model`` parameter selects (``all``: every one)."""
    return tuple(ARCHITECTURES.values()) if model == ALL else (get(model),)


def task_variant(n_classes: int) -> str:
    """The study's size variant for a task: ``binary`` (2 classes) or ``multiclass``."""
    return "binary" if n_classes == 2 else "multiclass"


def build_model(
    architecture: Architecture,
    shape: tuple[int, int, int],
    n_classes: int,
    variants: Any,
    learning_rate: float,
    intensity: str = "rescale",
) -> keras.Model:
    """A freshly initialised, compiled model (weights depend only on the global seed); for a
    frame-level architecture the frame model it is trained as."""
    sizes = getattr(variants, task_variant(n_classes))
    model = architecture.build(shape, n_classes, sizes, intensity)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
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
