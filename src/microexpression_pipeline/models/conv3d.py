"""The study's 3D CNN: Conv3D blocks over (frames, height, width), then a dense head.

Follows ``models/binary_models.py`` and ``models/multiclass_models.py`` of the study's code
(ShreyanshJoshi/Facial-Microexpression-Recognition); sizes are parameters.
"""

from __future__ import annotations

import keras
from keras import layers
from pydantic import Field, PositiveInt

from microexpression_pipeline.models.inputs import Initializer, dense_head, model_input
from microexpression_pipeline.parameters import StrictSection


class Conv3DSizes(StrictSection):
    filters: list[PositiveInt] = Field(min_length=1)
    kernel: list[PositiveInt] = Field(min_length=3, max_length=3)
    pool: list[PositiveInt] = Field(min_length=3, max_length=3)
    batch_norm: bool
    dense: list[PositiveInt]
    dropout: list[float]
    dense_batch_norm: bool
    # Kernel initialisers; the study: he_uniform on every layer.
    conv_initializer: Initializer = "he_uniform"
    dense_initializer: Initializer = "he_uniform"
    output_initializer: Initializer = "he_uniform"


def build_3dcnn(
    shape: tuple[int, int, int], n_classes: int, sizes: Conv3DSizes, intensity: str
) -> keras.Model:
    """Conv3D (kernel 1x3x3) and max-pooling (1x2x2) blocks, flattened into a dense head."""
    pixels, x = model_input(shape, intensity)
    x = layers.Reshape((*shape, 1))(x)
    for filters in sizes.filters:
        x = layers.Conv3D(
            filters,
            tuple(sizes.kernel),
            activation="relu",
            kernel_initializer=sizes.conv_initializer,
        )(x)
        x = layers.MaxPooling3D(tuple(sizes.pool))(x)
        if sizes.batch_norm:
            x = layers.BatchNormalization()(x)
    x = layers.Flatten()(x)
    outputs = dense_head(
        x,
        sizes.dense,
        sizes.dropout,
        sizes.dense_batch_norm,
        n_classes,
        (sizes.dense_initializer, sizes.output_initializer),
    )
    return keras.Model(pixels, outputs, name="3dcnn")
