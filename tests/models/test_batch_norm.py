"""Batch normalisation's fused training step: the same function, gradients and moving
statistics as Keras' own layer, and a model that keeps Keras' layer once the fit is over."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from microexpression_pipeline.models.batch_norm import FusedBatchNormalization, fused_batch_norm


def _pair(shape: tuple[int, ...], **kwargs) -> tuple[keras.Model, keras.Model]:
    """Two one-layer models with the same (non-trivial) weights."""
    models = []
    for _ in range(2):
        inputs = keras.Input(shape[1:])
        models.append(keras.Model(inputs, layers.BatchNormalization(**kwargs)(inputs)))
    rng = np.random.default_rng(1)
    channels = models[0].layers[-1].gamma.shape[0]
    weights = [rng.uniform(0.5, 2, channels), rng.normal(0, 1, channels),
               rng.normal(0, 1, channels), rng.uniform(0.5, 2, channels)]  # fmt: skip
    for model in models:
        model.layers[-1].set_weights([w.astype("float32") for w in weights])
    return models


def _step(model: keras.Model, x: np.ndarray, upstream: np.ndarray) -> list[np.ndarray]:
    """Training-mode output, gradients of a weighted sum (input, gamma, beta), then the
    moving statistics the step left."""
    inputs = tf.constant(x)
    bn = model.layers[-1]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        y = model(inputs, training=True)
        loss = tf.reduce_sum(y * upstream)
    grads = tape.gradient(loss, [inputs, bn.gamma, bn.beta])
    return [np.asarray(t) for t in (y, *grads, bn.moving_mean, bn.moving_variance)]


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((8, 6, 5, 4), {}),  # frames (2D CNN, STSTNet)
        ((4, 3, 6, 5, 4), {}),  # clips (3D CNN)
        ((16, 7), {}),  # a dense layer's units
        ((8, 6, 5, 4), {"momentum": 0.9, "epsilon": 1e-5}),  # PyTorch's settings (STSTNet)
        ((8, 4, 6, 5), {"axis": 1}),  # channels first: Keras' own path
    ],
)
def test_fused_training_step_is_keras_batch_norm(shape, kwargs) -> None:
    keras_model, fused_model = _pair(shape, **kwargs)
    rng = np.random.default_rng(2)
    x = rng.normal(3, 2, shape).astype("float32")
    upstream = rng.normal(0, 1, shape).astype("float32")

    expected = _step(keras_model, x, upstream)
    with fused_batch_norm(fused_model) as swapped:
        assert swapped == 1
        got = _step(fused_model, x, upstream)
    names = ["output", "d input", "d gamma", "d beta", "moving mean", "moving variance"]
    for name, a, b in zip(names, got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5, err_msg=name)
    # Inference is Keras' own either way, from (up to rounding) the same moving statistics.
    np.testing.assert_allclose(
        fused_model(x, training=False), keras_model(x, training=False), rtol=2e-5, atol=2e-5
    )


def test_the_fused_kernel_is_what_runs_in_the_block() -> None:
    model, _ = _pair((8, 6, 5, 4))
    traced = tf.function(lambda x: model(x, training=True))
    with fused_batch_norm(model):
        graph = traced.get_concrete_function(tf.TensorSpec((8, 6, 5, 4))).graph
    assert "FusedBatchNormV3" in {op.type for op in graph.get_operations()}


def test_the_model_gets_keras_layer_back_even_after_an_error(tmp_path) -> None:
    inputs = keras.Input((6, 5, 1))
    inner = keras.Model(inputs, layers.BatchNormalization()(layers.Conv2D(2, 3)(inputs)))
    clips = keras.Input((3, 6, 5, 1))
    model = keras.Model(clips, layers.TimeDistributed(inner)(clips))  # nested, as voting
    with pytest.raises(RuntimeError, match="mid-fit"), fused_batch_norm(model) as swapped:
        assert swapped == 1
        assert type(inner.layers[-1]) is FusedBatchNormalization
        raise RuntimeError("mid-fit")
    assert type(inner.layers[-1]) is layers.BatchNormalization
    model.save(tmp_path / "m.keras")
    assert "FusedBatchNormalization" not in (tmp_path / "m.keras").read_bytes().decode("latin-1")
    keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
