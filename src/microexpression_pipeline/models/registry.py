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
from microexpression_pipeline.models.flow_nets import (
    OffApexNetSizes,
    StstnetSizes,
    build_offapexnet,
    build_ststnet,
)
from microexpression_pipeline.models.frame2d import Conv2DSizes, build_2dcnn, voting_clip_model
from microexpression_pipeline.models.rcn import RcnSizes, build_rcn
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
    # clips: (frames, height, width); frames: one (height, width) frame, clips voted over;
    # flow: the onset -> apex flow of a clip, (height, width, [u, v, strain]) (``motion``).
    sees: Literal["clips", "frames", "flow"]
    build: Builder
    sizes: type[StrictSection]
    description: str
    # The augmented set it trains on (a key of ``augmentation.transform_sets``); the study
    # augments its 2D CNN per frame with wider ranges (``frame2d``); flow models train on the
    # flow of augmented frames (``flow``).
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
        Architecture(
            "ststnet", "ststnet", "flow", build_ststnet, StstnetSizes,
            "STSTNet (shallow triple-stream CNN on onset-apex flow and strain)",
            transform_set="flow",
        ),
        Architecture(
            "offapexnet", "offapexnet", "flow", build_offapexnet, OffApexNetSizes,
            "OFF-ApexNet (two-stream CNN on onset-apex flow)", transform_set="flow",
        ),
        Architecture(
            "rcn_a", "rcn-a", "flow", build_rcn, RcnSizes,
            "RCN-A (recurrent convolutional network with attention, on onset-apex flow)",
            transform_set="flow",
        ),
    )
}  # fmt: skip

ALL = "all"

# Every augmented set some architecture trains on, in a fixed order.
TRANSFORM_SETS: tuple[str, ...] = tuple(
    dict.fromkeys(a.transform_set for a in ARCHITECTURES.values())
)


# The augmented sets whose models take flow (their augmentation branch computes it).
FLOW_SETS: frozenset[str] = frozenset(
    a.transform_set for a in ARCHITECTURES.values() if a.sees == "flow"
)
if any(a.transform_set in FLOW_SETS for a in ARCHITECTURES.values() if a.sees != "flow"):
    raise RuntimeError("a transform set is either for flow models or for frame models")

# Groups a user can select by one name (``--params model:flow``).
GROUPS: dict[str, tuple[str, ...]] = {
    "study": tuple(k for k, a in ARCHITECTURES.items() if a.sees != "flow"),
    "flow": tuple(k for k, a in ARCHITECTURES.items() if a.sees == "flow"),
}


def model_choices() -> tuple[str, ...]:
    """Every value the ``model`` parameter accepts."""
    aliases = [a.name for a in ARCHITECTURES.values() if a.name != a.key]
    return (*ARCHITECTURES, *aliases, *GROUPS, ALL)


def get(name: str) -> Architecture:
    """The architecture called ``name`` (its key or the study's name)."""
    for architecture in ARCHITECTURES.values():
        if name in (architecture.key, architecture.name):
            return architecture
    raise ParameterError([choice_problem("model", name, model_choices())])


def selected(model: str) -> tuple[Architecture, ...]:
    """The architectures a ``model`` parameter selects (``all``: every one; ``study``: the
    study's four frame models; ``flow``: the flow models)."""
    if model == ALL:
        return tuple(ARCHITECTURES.values())
    if model in GROUPS:
        return tuple(ARCHITECTURES[key] for key in GROUPS[model])
    return (get(model),)


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
