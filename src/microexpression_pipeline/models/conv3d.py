"""The study's 3D CNN: Conv3D blocks over (frames, height, width), then a dense head.

Follows ``models/binary_models.py`` and ``models/multiclass_models.py`` of the study's code
(ShreyanshJoshi/Facial-Microexpression-Recognition); sizes are parameters.
"""

from __future__ import annotations

import keras
from keras import layers

from microexpression_pipeline.models.inputs import dense_head, model_input
from microexpression_pipeline.models.sizes import Conv3DSizes


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
