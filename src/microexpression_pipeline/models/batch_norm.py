"""Batch normalisation's training step on TensorFlow's fused kernel, for the length of a fit.

Keras 3 normalises a training batch with separate ops (moments, subtraction, scaling) and
differentiates each of them: several passes over every normalised activation. TensorFlow's
``FusedBatchNormV3`` (oneDNN on CPUs, cuDNN on GPUs) computes the same function, its
gradient and the batch statistics in one kernel each way. ``fused_batch_norm(model)`` makes
every plain ``BatchNormalization`` layer of a model train through that kernel while the
block lasts and gives the layers back their own class after it, so a saved model holds
Keras's built-in layer only (and loads in safe mode anywhere). Inference is untouched: it
is one affine map per channel either way.

Same function, same parameters and moving statistics: the kernel returns the batch
variance with Bessel's correction, which is undone before the moving variance is updated
as Keras updates it (``tests/models/test_batch_norm.py`` compares outputs, gradients and
moving statistics with Keras's own layer). Layers the kernel cannot take keep Keras's path:
a mask, renormalisation, synchronised statistics, no centre or scale, or a channel axis
other than the last.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import tensorflow as tf
from keras import layers


class FusedBatchNormalization(layers.BatchNormalization):
    """``BatchNormalization`` whose training step runs ``FusedBatchNormV3``."""

    def call(self, inputs, training=None, mask=None):  # Keras' signature
        last = self.axis in (-1, len(inputs.shape) - 1)
        if not (training and self.trainable and last) or mask is not None or not fusable(self):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)
        shape = tf.shape(x)
        channels = x.shape[-1]
        # The kernel takes NHWC: any other rank is flattened to (1, positions, 1, channels),
        # which normalises over the same positions.
        flat = x if x.shape.rank == 4 else tf.reshape(x, (1, -1, 1, channels))
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=flat,
            scale=tf.cast(self.gamma, tf.float32),
            offset=tf.cast(self.beta, tf.float32),
            mean=tf.zeros((channels,), tf.float32),
            variance=tf.ones((channels,), tf.float32),
            epsilon=self.epsilon,
            data_format="NHWC",
            is_training=True,
        )
        n = tf.cast(tf.size(flat) // channels, tf.float32)
        biased = variance * tf.maximum(n - 1.0, 0.0) / n  # the kernel's is n / (n - 1) times
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + biased * (1.0 - self.momentum)
        )
        y = y if x.shape.rank == 4 else tf.reshape(y, shape)
        return tf.cast(y, self.compute_dtype)


def fusable(layer: layers.BatchNormalization) -> bool:
    """Whether the fused kernel can compute ``layer``'s training step (on the last axis)."""
    return layer.center and layer.scale and not layer.renorm and not layer.synchronized


def _batch_norms(model: keras.Model) -> list[layers.BatchNormalization]:
    nested = model._flatten_layers(include_self=False)  # every layer, nested models too
    return [layer for layer in nested if type(layer) is layers.BatchNormalization]


@contextmanager
def fused_batch_norm(model: keras.Model) -> Iterator[int]:
    """Train ``model``'s plain batch normalisation layers on the fused kernel inside the block
    (yields how many); their own class is back after it, whatever happened."""
    swapped = [layer for layer in _batch_norms(model) if fusable(layer)]
    for layer in swapped:
        layer.__class__ = FusedBatchNormalization
    try:
        yield len(swapped)
    finally:
        for layer in swapped:
            layer.__class__ = layers.BatchNormalization
