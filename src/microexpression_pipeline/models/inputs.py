"""Model inputs: raw uint8 pixels in, scaled and normalised by the model's own first layers.

A saved ``.keras`` model is therefore self-contained and loads in Keras' safe mode (no Lambda
layers, no custom objects): it takes clips exactly as the catalog stores them.
"""

from __future__ import annotations

from typing import Any, get_args

import keras
from keras import layers

from microexpression_pipeline.models.sizes import FlowNormalisation

INTENSITY_CHOICES = ("rescale", "standardize", "temporal")

# ``temporal`` divides by sqrt(variance over the frames + this), on the [0, 1] scale: a still
# pixel's sensor noise (variance ~1e-4) is not blown up to unit variance.
TEMPORAL_EPSILON = 1e-3


def model_input(shape: tuple[int, ...], intensity: str) -> tuple[Any, Any]:
    """The uint8 input of ``shape`` and its normalised float tensor.

    ``intensity``: ``rescale`` to [0, 1] only; ``standardize`` each sample to zero mean and
    unit std; ``temporal`` for a clip (frames, height, width): each pixel to zero mean over
    the clip's frames, divided by sqrt(its variance over the frames + ``TEMPORAL_EPSILON``),
    so the still face drops out and what moves stays. A single frame (height, width) has no
    frames to normalise over and gets ``standardize``.
    """
    if intensity not in INTENSITY_CHOICES:
        raise ValueError(
            f"training.intensity: {intensity!r} is not valid; "
            f"valid choices: {', '.join(INTENSITY_CHOICES)}"
        )
    pixels = keras.Input(shape=shape, dtype="uint8")
    x = layers.Rescaling(1.0 / 255)(pixels)
    if intensity == "temporal" and len(shape) == 3:
        x = layers.LayerNormalization(axis=1, epsilon=TEMPORAL_EPSILON, center=False, scale=False)(
            x
        )
    elif intensity in ("standardize", "temporal"):
        axes = list(range(1, len(shape) + 1))
        x = layers.LayerNormalization(axis=axes, center=False, scale=False)(x)
    return pixels, x


def dense_head(
    x: Any,
    dense: list[int],
    dropout: list[float],
    batch_norm: bool,
    n_classes: int,
    initializers: tuple[str, str],
) -> Any:
    """ReLU dense layers, each followed by dropout (and batch normalisation), then softmax.

    ``initializers``: the kernel initialisers of the hidden layers and of the output layer."""
    if len(dense) != len(dropout):
        raise ValueError(
            f"architecture parameters: `dense` {list(dense)} and `dropout` {list(dropout)} "
            "must have the same length"
        )
    hidden, output = initializers
    for units, rate in zip(dense, dropout, strict=True):
        x = layers.Dense(units, activation="relu", kernel_initializer=hidden)(x)
        x = layers.Dropout(rate)(x)
        if batch_norm:
            x = layers.BatchNormalization()(x)
    return layers.Dense(
        n_classes, activation="softmax", kernel_initializer=output, name="probabilities",
        dtype=OUTPUT_DTYPE,
    )(x)  # fmt: skip


# The probabilities are computed in float32 whatever the precision of the layers before them
# (``training.precision``): a softmax in 16 bits keeps about three significant digits.
OUTPUT_DTYPE = "float32"

# The flow models' input normalisations: ``none``; ``standardize`` each sample's channels to
# zero mean and unit std over the grid; ``minmax`` each sample's channels to [0, 1] over the
# grid (what STSTNet's authors do to their flow images).
FLOW_NORMALISATIONS: tuple[str, ...] = get_args(FlowNormalisation)

# ``standardize`` divides by sqrt(variance over the grid + this): far below the variance of
# real flow (pixels on the 28x28 grid) or strain, yet an all-zero channel stays finite.
FLOW_EPSILON = 1e-6


def flow_input(shape: tuple[int, ...], normalisation: str) -> tuple[Any, Any]:
    """The float32 flow input of ``shape`` (height, width, channels) and its normalised tensor.

    Float16 arrays, as the catalog stores flow, are cast to float32 on the way in. Both
    normalisations are per sample and per channel over the spatial grid, from built-in
    layers: ``standardize`` is a LayerNormalization over axes (1, 2); ``minmax`` is Keras'
    AutoContrast, (x - min) / (max - min) per image and channel (a channel with max == min,
    where that is 0 / 0, passes through unchanged instead of becoming NaN).
    """
    if normalisation not in FLOW_NORMALISATIONS:
        raise ValueError(
            f"input_normalisation: {normalisation!r} is not valid; "
            f"valid choices: {', '.join(FLOW_NORMALISATIONS)}"
        )
    flow = keras.Input(shape=shape, dtype="float32")
    x = flow
    if normalisation == "standardize":
        x = layers.LayerNormalization(axis=[1, 2], epsilon=FLOW_EPSILON, center=False, scale=False)(
            x
        )
    elif normalisation == "minmax":
        x = layers.AutoContrast(value_range=(0, 1))(x)
    return flow, x
