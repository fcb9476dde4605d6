"""The study's two recurrent architectures: a per-frame CNN feeding an LSTM, and ConvLSTM2D.

Follow ``models/binary_models.py`` and ``models/multiclass_models.py`` of the study's code
(ShreyanshJoshi/Facial-Microexpression-Recognition); sizes are parameters. ConvLSTM2D is the
convolutional LSTM of Shi et al., "Convolutional LSTM Network", NeurIPS 2015.
"""

from __future__ import annotations

import keras
from keras import layers

from microexpression_pipeline.models.inputs import (
    dense_head,
    model_input,
)
from microexpression_pipeline.models.sizes import CnnLstmSizes, ConvLstmSizes


def build_cnn_lstm(
    shape: tuple[int, int, int], n_classes: int, sizes: CnnLstmSizes, intensity: str
) -> keras.Model:
    """The same Conv2D/max-pooling blocks on every frame, an LSTM over the frame sequence,
    then a dense head.

    A Conv2D applied to every frame (the study's TimeDistributed) is a Conv3D whose kernel
    spans one frame, and a per-frame MaxPooling2D a MaxPooling3D of depth 1: ``conv3d``
    computes them so, on the whole clip at once, with the same parameters (a kernel of shape
    (1, k, k, in, out) holds the (k, k, in, out) one, drawn alike by the same initialiser) and
    the same outputs (``tests/models/test_architectures.py``)."""
    pixels, x = model_input(shape, intensity)
    x = layers.Reshape((*shape, 1))(x)
    for filters in sizes.filters:
        conv = {"activation": "relu", "kernel_initializer": sizes.conv_initializer}
        if sizes.frame_convolution == "conv3d":
            x = layers.Conv3D(filters, (1, sizes.kernel, sizes.kernel), **conv)(x)
            x = layers.MaxPooling3D((1, sizes.pool, sizes.pool))(x)
        else:
            x = layers.TimeDistributed(layers.Conv2D(filters, sizes.kernel, **conv))(x)
            x = layers.TimeDistributed(layers.MaxPooling2D(sizes.pool))(x)
    if sizes.frame_convolution == "conv3d":
        x = layers.Reshape((shape[0], -1))(x)  # each frame's features, in (h, w, c) order
    else:
        x = layers.TimeDistributed(layers.Flatten())(x)
    x = layers.Dropout(sizes.dropout_before_lstm)(x)
    x = layers.LSTM(
        sizes.lstm_units,
        activation=sizes.lstm_activation,
        recurrent_activation=sizes.lstm_recurrent_activation,
        dropout=sizes.lstm_dropout,
    )(x)
    initializers = (sizes.dense_initializer, sizes.output_initializer)
    outputs = dense_head(x, sizes.dense, sizes.dropout, False, n_classes, initializers)
    return keras.Model(pixels, outputs, name="cnn_lstm")


def build_convlstm2d(
    shape: tuple[int, int, int], n_classes: int, sizes: ConvLstmSizes, intensity: str
) -> keras.Model:
    """ConvLSTM2D over the frame sequence (every step kept), max-pooled, then a dense head."""
    pixels, x = model_input(shape, intensity)
    x = layers.Reshape((*shape, 1))(x)
    x = layers.ConvLSTM2D(
        sizes.filters,
        sizes.kernel,
        activation=sizes.convlstm_activation,
        recurrent_activation=sizes.convlstm_recurrent_activation,
        kernel_initializer=sizes.convlstm_initializer,
        return_sequences=True,
    )(x)
    x = layers.MaxPooling3D(tuple(sizes.pool))(x)
    x = layers.Flatten()(x)
    initializers = (sizes.dense_initializer, sizes.output_initializer)
    outputs = dense_head(x, sizes.dense, sizes.dropout, False, n_classes, initializers)
    return keras.Model(pixels, outputs, name="convlstm2d")
