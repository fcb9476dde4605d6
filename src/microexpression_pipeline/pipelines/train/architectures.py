"""The study's four architectures, built fresh from parameters.

Each builder takes the clip shape (frames, height, width), the number of classes and the
architecture's size parameters for the task variant (``binary`` for two classes, else
``multiclass``). Models take raw uint8 pixels: a ``Rescaling`` layer scales them to [0, 1]
(plus a ``LayerNormalization`` for ``standardize`` or ``temporal`` intensity), so a saved
``.keras`` model is self-contained and loads in Keras' safe mode (no Lambda layers, no
custom objects).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
from keras import layers

Shape = tuple[int, int, int]
Blueprint = tuple[tuple[int, ...], list[layers.Layer]]  # model input shape, layers after it


def task_variant(n_classes: int) -> str:
    """The study's size variant for a task: ``binary`` (2 classes) or ``multiclass``."""
    return "binary" if n_classes == 2 else "multiclass"


def _dense_head(
    dense: Sequence[int],
    dropout: Sequence[float],
    batch_norm: bool,
    n_classes: int,
) -> list[layers.Layer]:
    if len(dense) != len(dropout):
        raise ValueError(
            f"architecture parameters: `dense` {list(dense)} and `dropout` {list(dropout)} "
            "must have the same length"
        )
    head: list[layers.Layer] = []
    for units, rate in zip(dense, dropout, strict=True):
        head += [layers.Dense(units, activation="relu", kernel_initializer="he_uniform")]
        head += [layers.Dropout(rate)]
        if batch_norm:
            head += [layers.BatchNormalization()]
    head += [layers.Dense(n_classes, activation="softmax", name="probabilities")]
    return head


def build_3dcnn(shape: Shape, n_classes: int, p: Mapping[str, Any]) -> Blueprint:
    """Conv3D blocks (kernel 1x3x3, pool 1x2x2), then a dense head."""
    frames, height, width = shape
    body: list[layers.Layer] = [layers.Reshape((frames, height, width, 1))]
    for filters in p["filters"]:
        body += [
            layers.Conv3D(
                filters,
                tuple(p["kernel"]),
                activation="relu",
                kernel_initializer="he_uniform",
            ),
            layers.MaxPooling3D(tuple(p["pool"])),
        ]
        if p["batch_norm"]:
            body += [layers.BatchNormalization()]
    body += [layers.Flatten()]
    return _sequential(
        shape, body + _dense_head(p["dense"], p["dropout"], p["dense_batch_norm"], n_classes)
    )


def build_cnn_lstm(shape: Shape, n_classes: int, p: Mapping[str, Any]) -> Blueprint:
    """A per-frame CNN (TimeDistributed) feeding an LSTM over the frame sequence."""
    frames, height, width = shape
    body: list[layers.Layer] = [layers.Reshape((frames, height, width, 1))]
    for filters in p["filters"]:
        body += [
            layers.TimeDistributed(
                layers.Conv2D(
                    filters, p["kernel"], activation="relu", kernel_initializer="he_uniform"
                )
            ),
            layers.TimeDistributed(layers.MaxPooling2D(p["pool"])),
        ]
    body += [
        layers.TimeDistributed(layers.Flatten()),
        layers.Dropout(p["dropout_before_lstm"]),
        layers.LSTM(p["lstm_units"], dropout=p["lstm_dropout"]),
    ]
    return _sequential(shape, body + _dense_head(p["dense"], p["dropout"], False, n_classes))


def build_convlstm2d(shape: Shape, n_classes: int, p: Mapping[str, Any]) -> Blueprint:
    """ConvLSTM2D over the frame sequence, pooled spatially, then a dense head."""
    frames, height, width = shape
    body: list[layers.Layer] = [
        layers.Reshape((frames, height, width, 1)),
        layers.ConvLSTM2D(p["filters"], p["kernel"], return_sequences=True),
        layers.MaxPooling3D(tuple(p["pool"])),
        layers.Flatten(),
    ]
    return _sequential(shape, body + _dense_head(p["dense"], p["dropout"], False, n_classes))


def build_2dcnn(shape: Shape, n_classes: int, p: Mapping[str, Any]) -> Blueprint:
    """A per-frame 2D CNN: input is ONE frame (height, width); clips are voted over frames."""
    _, height, width = shape
    body: list[layers.Layer] = [layers.Reshape((height, width, 1))]
    for filters in p["filters"]:
        body += [
            layers.Conv2D(filters, p["kernel"], activation="relu", kernel_initializer="he_uniform"),
            layers.MaxPooling2D(p["pool"]),
            layers.BatchNormalization(),
        ]
    body += [layers.Flatten()]
    return _sequential(
        (height, width),
        body + _dense_head(p["dense"], p["dropout"], p["dense_batch_norm"], n_classes),
    )


INTENSITY_CHOICES = ("rescale", "standardize", "temporal")

# ``temporal`` divides by sqrt(variance over the frames + this), on the [0, 1] scale: a still
# pixel's sensor noise (variance ~1e-4) is not blown up to unit variance.
TEMPORAL_EPSILON = 1e-3


def _input_layers(input_shape: tuple[int, ...], intensity: str) -> list[Any]:
    """uint8 input scaled to [0, 1], then by ``intensity``:

    - ``rescale``: nothing more;
    - ``standardize``: each sample to zero mean and unit std;
    - ``temporal``: for clip models (frames, height, width), each pixel to zero mean over the
      clip's frames, divided by sqrt(its variance over the frames + ``TEMPORAL_EPSILON``):
      the still face drops out and what changes between frames stays. A frame-level model
      sees one frame, so it gets ``standardize``.
    """
    if intensity not in INTENSITY_CHOICES:
        raise ValueError(
            f"training.intensity: {intensity!r} is not valid; "
            f"valid choices: {', '.join(INTENSITY_CHOICES)}"
        )
    head: list[Any] = [keras.Input(shape=input_shape, dtype="uint8"), layers.Rescaling(1.0 / 255)]
    if intensity == "temporal" and len(input_shape) == 3:
        head.append(
            layers.LayerNormalization(axis=1, epsilon=TEMPORAL_EPSILON, center=False, scale=False)
        )
    elif intensity in ("standardize", "temporal"):
        axes = list(range(1, len(input_shape) + 1))
        head.append(layers.LayerNormalization(axis=axes, center=False, scale=False))
    return head


def _sequential(input_shape: tuple[int, ...], body: list[layers.Layer]) -> Blueprint:
    return input_shape, body


BUILDERS: dict[str, Callable[[Shape, int, Mapping[str, Any]], Blueprint]] = {
    "3dcnn": build_3dcnn,
    "cnn+lstm": build_cnn_lstm,
    "convlstm2d": build_convlstm2d,
    "2dcnn": build_2dcnn,
}

FRAME_LEVEL = frozenset({"2dcnn"})


def _name(architecture: str) -> str:
    return architecture.replace("+", "_")


def build_model(
    architecture: str,
    shape: Shape,
    n_classes: int,
    arch_params: Mapping[str, Any],
    learning_rate: float,
    intensity: str = "rescale",
) -> keras.Model:
    """A freshly initialised, compiled model (weights depend only on the global seed)."""
    sizes = arch_params[task_variant(n_classes)]
    input_shape, body = BUILDERS[architecture](shape, n_classes, sizes)
    model = keras.Sequential(
        [*_input_layers(input_shape, intensity), *body], name=_name(architecture)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
