"""FLOPs of a Keras model counted from its layer shapes, and the machine's dense matmul rate.

Convention: a multiply-add is 2 FLOPs; only Dense, Conv2D/Conv3D, LSTM and ConvLSTM2D are
counted (pooling, normalisation, activations and reshapes are not); a training step counts as
3x the forward pass (the backward pass computes the gradients for both the inputs and the
weights, each about one forward pass).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import keras
from keras import layers

TRAINING_FACTOR = 3
COUNTED = (
    layers.TimeDistributed,
    layers.ConvLSTM2D,
    layers.LSTM,
    layers.Conv2D,
    layers.Conv3D,
    layers.Dense,
)


def _size(shape: Sequence[int | None]) -> int:
    return math.prod(int(d) for d in shape)


def layer_flops(layer: layers.Layer, in_shape: tuple, out_shape: tuple) -> int:
    """Forward FLOPs of one layer for ONE sample (shapes include the batch axis)."""
    if isinstance(layer, layers.TimeDistributed):
        steps = int(in_shape[1])
        inner_in = (in_shape[0], *in_shape[2:])
        inner_out = (out_shape[0], *out_shape[2:])
        return steps * layer_flops(layer.layer, inner_in, inner_out)
    if isinstance(layer, layers.ConvLSTM2D):
        steps, channels = int(in_shape[1]), int(in_shape[-1])
        spatial = _size(out_shape[2:-1] if layer.return_sequences else out_shape[1:-1])
        kernel = _size(layer.kernel_size)
        gates = 4 * layer.filters
        per_step = 2 * spatial * gates * kernel * (channels + layer.filters)
        return steps * per_step
    if isinstance(layer, layers.LSTM):
        steps, features = int(in_shape[1]), int(in_shape[-1])
        return steps * 2 * 4 * layer.units * (features + layer.units)
    if isinstance(layer, layers.Conv2D | layers.Conv3D):
        channels = int(in_shape[-1]) // getattr(layer, "groups", 1)
        return 2 * _size(out_shape[1:]) * _size(layer.kernel_size) * channels
    if isinstance(layer, layers.Dense):
        return 2 * _size(in_shape[1:]) * layer.units
    return 0


def forward_flops(model: keras.Model) -> dict[str, int]:
    """Forward FLOPs per model input sample, per counted layer (in model order)."""
    counts: dict[str, int] = {}
    for layer in model.layers:
        if not isinstance(layer, COUNTED):
            continue
        in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
        flops = layer_flops(layer, in_shape, out_shape)
        if flops:
            counts[layer.name] = flops
    return counts


def training_flops_per_clip(model: keras.Model, frames_per_sample: int = 1) -> dict[str, Any]:
    """Forward and training FLOPs per clip (``frames_per_sample``: 9 for a per-frame model)."""
    per_layer = forward_flops(model)
    forward = sum(per_layer.values()) * frames_per_sample
    return {
        "forward_flops_per_clip": forward,
        "training_flops_per_clip": TRAINING_FACTOR * forward,
        "per_layer_forward_flops_per_sample": per_layer,
        "convention": "2 FLOPs per multiply-add; training = 3 x forward",
    }


def matmul_rate(size: int, dtype: str = "float32", min_seconds: float = 1.0) -> dict[str, Any]:
    """The best dense ``size`` x ``size`` tf.matmul rate over 3 rounds, after a warm-up."""
    import tensorflow as tf

    generator = tf.random.Generator.from_seed(0)
    a = tf.cast(generator.normal((size, size)), dtype)
    b = tf.cast(generator.normal((size, size)), dtype)
    tf.matmul(a, b).numpy()  # warm-up: kernels chosen, threads started
    flops = 2 * size**3
    started = time.perf_counter()
    tf.matmul(a, b).numpy()
    reps = max(1, math.ceil(min_seconds / 3 / max(time.perf_counter() - started, 1e-6)))
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(reps):
            c = tf.matmul(a, b)
        c.numpy()
        best = min(best, (time.perf_counter() - started) / reps)
    return {
        "size": size,
        "dtype": dtype,
        "seconds_per_matmul": best,
        "gflops": flops / best / 1e9,
    }
