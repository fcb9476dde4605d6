"""The optical-flow models: parameter counts equal to their reference code's, safe saving and
loading on float16 flow, the input normalisations, and learning a separable toy set."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from microexpression_pipeline.models.flow_nets import (
    OffApexNetSizes,
    StstnetSizes,
    build_offapexnet,
    build_ststnet,
)
from microexpression_pipeline.models.inputs import FLOW_EPSILON, FLOW_NORMALISATIONS, flow_input
from microexpression_pipeline.models.rcn import RcnSizes, build_rcn

SHAPE = (28, 28, 3)

# Trainable parameters of the reference code for 3 classes, layer by layer (weights + biases;
# BatchNorm: gamma + beta; its running mean and variance are buffers, not parameters).
#
# christy1206/STSTNet main.py, class STSTNet (= tvaranka/meb meb/models/me_networks.py):
#   conv1 3x3, 3 -> 3:   3*3*3*3 + 3  =    84      bn1: 2*3 =  6
#   conv2 3x3, 3 -> 5:   3*3*3*5 + 5  =   140      bn2: 2*5 = 10
#   conv3 3x3, 3 -> 8:   3*3*3*8 + 8  =   224      bn3: 2*8 = 16
#   fc 5*5*16 -> 3:      400*3 + 3    = 1,203
STSTNET_PARAMS = 84 + 140 + 224 + 6 + 10 + 16 + 1203  # 1,683
STSTNET_BUFFERS = 2 * (3 + 5 + 8)  # running mean + var: Keras' non-trainable moving stats
#
# OFF-ApexNet, ECNU-Cross-Innovation-Lab/PRICAI2021-Off-TANet models/off_apexnet.py (two
# streams, README: 2.66M), per stream:
#   conv1 5x5, 1 -> 6:   5*5*1*6 + 6    =   156
#   conv2 5x5, 6 -> 16:  5*5*6*16 + 16  = 2,416
#   fc1 2*7*7*16 -> 1024: 1568*1024 + 1024 = 1,606,656
#   fc2 1024 -> 1024:     1024*1024 + 1024 = 1,049,600
#   fc3 1024 -> 3:        1024*3 + 3       =     3,075
OFFAPEXNET_PARAMS = 2 * (156 + 2416) + 1_606_656 + 1_049_600 + 3075  # 2,664,475
# tvaranka/meb meb/models/me_networks.py, class OffApexNet (u and v stacked, one stream):
#   conv1 3x3, 2 -> 6: 3*3*2*6 + 6 = 114;  conv2 3x3, 6 -> 16: 3*3*6*16 + 16 = 880
#   fc1 7*7*16 -> 1024: 784*1024 + 1024 = 803,840;  fc 1024 -> 3: 3,075
MEB_OFFAPEXNET_PARAMS = 114 + 880 + 803_840 + 3075  # 807,909
MEB_OFFAPEXNET = OffApexNetSizes(
    fusion="stacked", kernel=3, flatten_dropout=0.5, dense=[1024], dropout=[0.5]
)
#
# RCN-A, xiazhaoqiang/ParameterFreeRCNs-MicroExpressionRec MeNets.py, class RCN_A
# (num_input=3, featuremaps=32, num_layers=1, pool_size=5; the attention has no parameters):
#   conv1 5x5, 3 -> 32:     5*5*3*32 + 32  = 2,432    bn: 2*32 = 64
#   ffconv 1x1, 32 -> 32:   32*32 + 32     = 1,056    bn: 64
#   rrconv 3x3, 32 -> 32:   3*3*32*32 + 32 = 9,248    bn: 64  (one conv, applied twice)
#   classifier 5*5*32 -> 3: 800*3 + 3      = 2,403
RCN_PARAMS = 2432 + 1056 + 9248 + 3 * 64 + 2403  # 15,331
RCN_BUFFERS = 3 * 64

BUILDERS = {
    "ststnet": lambda n: build_ststnet(SHAPE, n, StstnetSizes(), "rescale"),
    "offapexnet": lambda n: build_offapexnet(SHAPE, n, OffApexNetSizes(), "rescale"),
    "rcn_a": lambda n: build_rcn(SHAPE, n, RcnSizes(), "rescale"),
}
# (reference params, buffers, inputs of the output layer) per model.
REFERENCE = {
    "ststnet": (STSTNET_PARAMS, STSTNET_BUFFERS, 400),
    "offapexnet": (OFFAPEXNET_PARAMS, 0, 1024),
    "rcn_a": (RCN_PARAMS, RCN_BUFFERS, 800),
}


def _counts(model: keras.Model) -> tuple[int, int]:
    def size(weights: list) -> int:
        return sum(int(np.prod(w.shape)) for w in weights)

    return size(model.trainable_weights), size(model.non_trainable_weights)


@pytest.mark.parametrize("key", list(BUILDERS))
def test_parameter_counts_equal_the_reference(key: str) -> None:
    params, buffers, fan_in = REFERENCE[key]
    assert _counts(BUILDERS[key](3)) == (params, buffers)
    # 2 classes: one output unit fewer, (fan_in weights + 1 bias).
    assert _counts(BUILDERS[key](2)) == (params - (fan_in + 1), buffers)


def test_offapexnet_reproduces_meb_sizes() -> None:
    model = build_offapexnet(SHAPE, 3, MEB_OFFAPEXNET, "rescale")
    assert _counts(model) == (MEB_OFFAPEXNET_PARAMS, 0)


@pytest.mark.parametrize(
    ("size", "pool", "stride", "padding"),
    [(30, 3, 3, 1), (28, 3, 3, 1), (29, 3, 3, 1), (7, 2, 2, 1), (9, 3, 2, 1), (8, 3, 3, 0)],
)
def test_max_pool_matches_pytorch_padding(size: int, pool: int, stride: int, padding: int) -> None:
    """MaxPool2d(pool, stride, padding) as PyTorch computes it: windows start at -padding on
    a -inf padded map, and the output size floors (STSTNet's is (30, 3, 3, 1))."""
    from microexpression_pipeline.models.flow_nets import torch_max_pool

    rng = np.random.default_rng(size + pool)
    x = rng.normal(size=(2, size, size, 4)).astype("float32")
    inputs = keras.Input((size, size, 4))
    got = keras.Model(inputs, torch_max_pool(inputs, pool, stride, padding)).predict(x, verbose=0)
    padded = np.pad(x, ((0, 0), (padding,) * 2, (padding,) * 2, (0, 0)), constant_values=-np.inf)
    out = (size + 2 * padding - pool) // stride + 1
    want = np.array(
        [[padded[:, stride * i : stride * i + pool, stride * j : stride * j + pool].max(axis=(1, 2))
          for j in range(out)] for i in range(out)]
    ).transpose(2, 0, 1, 3)  # fmt: skip
    np.testing.assert_array_equal(got, want)


def test_flow_input_normalisations() -> None:
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(4, *SHAPE)) * [0.5, 2.0, 0.01] + [1.0, -3.0, 0.0]).astype("float16")
    out = {}
    for normalisation in FLOW_NORMALISATIONS:
        inputs, normalised = flow_input(SHAPE, normalisation)
        out[normalisation] = keras.Model(inputs, normalised).predict(x, verbose=0)
    np.testing.assert_allclose(out["none"], x.astype("float32"))
    np.testing.assert_allclose(out["standardize"].mean(axis=(1, 2)), 0, atol=1e-4)
    variance = x.astype("float32").var(axis=(1, 2))
    np.testing.assert_allclose(
        out["standardize"].std(axis=(1, 2)),
        np.sqrt(variance / (variance + FLOW_EPSILON)),
        rtol=1e-3,
    )
    np.testing.assert_allclose(out["minmax"].min(axis=(1, 2)), 0, atol=1e-6)
    np.testing.assert_allclose(out["minmax"].max(axis=(1, 2)), 1, atol=1e-6)
    with pytest.raises(ValueError, match="input_normalisation"):
        flow_input(SHAPE, "rescale")


@pytest.mark.parametrize("key", list(BUILDERS))
def test_saves_and_loads_in_safe_mode(key: str, tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = BUILDERS[key](3)
    assert model.layers[-1].name == "probabilities"
    flow = np.random.default_rng(2).normal(size=(5, *SHAPE)).astype("float16")
    path = tmp_path / f"{key}.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(loaded.predict(flow, verbose=0), model.predict(flow, verbose=0))


def _toy_flows(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Class 0: a positive u bump on the left half; 1: a negative v bump at the top; 2: an
    outward radial field. Random bump centres and amplitudes, Gaussian noise, float16."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28].astype("float32")
    flows, labels = [], []
    for label in range(3):
        for _ in range(per_class):
            flow = rng.normal(scale=0.3, size=SHAPE).astype("float32")
            amplitude = rng.uniform(1.0, 2.0)
            if label == 0:
                cy, cx = rng.uniform(6, 22), rng.uniform(3, 11)
                flow[..., 0] += amplitude * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18)
            elif label == 1:
                cy, cx = rng.uniform(3, 9), rng.uniform(6, 22)
                flow[..., 1] -= amplitude * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 18)
            else:
                cy, cx = rng.uniform(11, 17, size=2)
                flow[..., 0] += amplitude * (xx - cx) / 14
                flow[..., 1] += amplitude * (yy - cy) / 14
            flow[..., 2] += np.hypot(*np.gradient(flow[..., 0]))
            flows.append(flow)
            labels.append(label)
    order = rng.permutation(len(labels))
    return np.asarray(flows, dtype="float16")[order], np.asarray(labels)[order]


# (learning rate, epochs) per model: enough for the toy set, fast on two cores.
TOY_TRAINING = {"ststnet": (0.01, 25), "offapexnet": (3e-4, 6), "rcn_a": (3e-3, 10)}


@pytest.mark.parametrize("key", list(BUILDERS))
def test_learns_a_separable_toy_set(key: str) -> None:
    keras.utils.set_random_seed(0)
    x_train, y_train = _toy_flows(40, seed=10)
    x_test, y_test = _toy_flows(20, seed=11)
    learning_rate, epochs = TOY_TRAINING[key]
    model = BUILDERS[key](3)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy")
    train = tf.data.Dataset.from_tensor_slices(
        (x_train, keras.utils.to_categorical(y_train, 3))
    ).batch(16)  # float16 flow through tf.data
    model.fit(train, epochs=epochs, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)  # float16 NumPy
    accuracy = float((predicted == y_test).mean())
    print(f"{key} toy accuracy {accuracy:.3f}")
    assert accuracy >= 0.8


def test_ststnet_merged_streams_equal_the_three_streams() -> None:
    """STSTNet's one 16-filter convolution is its three streams of 3, 5 and 8 filters: the
    reference's layout (per stream conv -> ReLU -> BatchNorm -> MaxPool -> Dropout, then
    concatenated), given the same weights, gives the same outputs, in inference and training
    (dropout off)."""
    from keras import layers

    from microexpression_pipeline.models.flow_nets import (
        torch_batch_norm,
        torch_conv,
        torch_max_pool,
    )

    sizes = StstnetSizes(dropout=0.0)
    merged = build_ststnet(SHAPE, 3, sizes, "rescale")
    flow, x = flow_input(SHAPE, sizes.input_normalisation)
    streams, convs, norms = [], [], []
    for filters in sizes.filters:
        s = torch_conv(x, filters, 3, 2, "reference")
        convs.append(s._keras_history.operation)
        norm = torch_batch_norm()
        norms.append(norm)
        s = torch_max_pool(norm(layers.ReLU()(s)), 3, 3, 1)
        streams.append(s)
    s = layers.Flatten()(layers.AveragePooling2D(2)(layers.Concatenate()(streams)))
    dense = layers.Dense(3, activation="softmax")
    reference = keras.Model(flow, dense(s))

    rng = np.random.default_rng(5)
    (conv,) = [layer for layer in merged.layers if isinstance(layer, layers.Conv2D)]
    (norm,) = [layer for layer in merged.layers if isinstance(layer, layers.BatchNormalization)]
    (out,) = [layer for layer in merged.layers if isinstance(layer, layers.Dense)]
    kernel = rng.normal(size=(3, 3, 3, 16)).astype("float32")
    bias = rng.normal(size=16).astype("float32")
    stats = [rng.uniform(0.5, 1.5, 16).astype("float32") for _ in range(4)]  # g, b, mean, var
    conv.set_weights([kernel, bias])
    norm.set_weights(stats)
    out.set_weights([w + 0.1 for w in out.get_weights()])
    start = 0
    for layer, bn, filters in zip(convs, norms, sizes.filters, strict=True):
        part = slice(start, start + filters)
        layer.set_weights([kernel[..., part], bias[part]])
        bn.set_weights([w[part] for w in stats])
        start += filters
    dense.set_weights(out.get_weights())
    assert _counts(merged) == _counts(reference)
    data = rng.normal(size=(6, *SHAPE)).astype("float32")
    np.testing.assert_allclose(merged(data, training=False), reference(data, training=False),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    np.testing.assert_allclose(merged(data, training=True), reference(data, training=True),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
