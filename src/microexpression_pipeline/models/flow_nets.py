"""The field's shallow optical-flow CNNs: STSTNet and OFF-ApexNet.

Both take one clip's onset -> apex flow, (height, width, [u, v, strain]), normalised by
``flow_input``; ``intensity`` (a pixel setting) is accepted and ignored: flow models take flow.
Both references are PyTorch; this module rebuilds their layers from built-in Keras layers only
(saved ``.keras`` files load in safe mode) and, with ``initializer: reference``, PyTorch's
default initialisation from built-in initialisers. The ``torch_*`` helpers are shared with
``rcn``.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import layers

from microexpression_pipeline.models.inputs import OUTPUT_DTYPE, flow_input
from microexpression_pipeline.models.sizes import OffApexNetSizes, StstnetSizes


def torch_default_init(fan_in: int, initializer: str) -> dict[str, Any]:
    """Kernel and bias initialisers of a layer with ``fan_in`` inputs per output.

    ``reference``: PyTorch's default for Conv2d and Linear, U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for kernel (kaiming_uniform with a = sqrt(5)) and bias alike."""
    if initializer != "reference":
        return {"kernel_initializer": initializer, "bias_initializer": "zeros"}
    bound = 1 / math.sqrt(fan_in)
    return {
        "kernel_initializer": keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
        "bias_initializer": keras.initializers.RandomUniform(-bound, bound),
    }


def torch_batch_norm(**kwargs: Any) -> layers.BatchNormalization:
    """BatchNorm2d's defaults: momentum 0.1 of the new batch (Keras: 0.9 of the old), eps 1e-5."""
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, **kwargs)


def torch_conv(
    x: Any, filters: int, kernel: int, padding: int, initializer: str, **kwargs: Any
) -> Any:
    """Conv2d(kernel, stride 1, zero ``padding`` on each side) on channels-last ``x``."""
    if padding:
        x = layers.ZeroPadding2D(padding)(x)
    fan_in = kernel * kernel * int(x.shape[-1])
    return layers.Conv2D(filters, kernel, **torch_default_init(fan_in, initializer), **kwargs)(x)


def _edge(x: Any, axis: int, first: bool) -> Any:
    """The first or last row (``axis`` 1) or column (``axis`` 2) of ``x``."""
    n = int(x.shape[axis]) - 1
    crop = (0, n) if first else (n, 0)
    return layers.Cropping2D((crop, (0, 0)) if axis == 1 else ((0, 0), crop))(x)


def torch_max_pool(x: Any, pool: int, stride: int, padding: int) -> Any:
    """MaxPool2d(pool, stride, padding) exactly: PyTorch pads with -inf, so a padded element
    never wins; repeating the edge row/column instead (``padding`` <= pool / 2, as PyTorch
    requires, keeps the edge itself in every window that holds a repeat) gives the same
    maxima. Then valid pooling, which floors like PyTorch."""
    for axis in (1, 2):
        if padding:
            before = [_edge(x, axis, first=True)] * padding
            after = [_edge(x, axis, first=False)] * padding
            x = layers.Concatenate(axis=axis)([*before, x, *after])
    return layers.MaxPooling2D(pool, strides=stride)(x)


def _probabilities(x: Any, n_classes: int, initializer: str) -> Any:
    return layers.Dense(
        n_classes,
        activation="softmax",
        name="probabilities",
        dtype=OUTPUT_DTYPE,
        **torch_default_init(int(x.shape[-1]), initializer),
    )(x)


def build_ststnet(
    shape: tuple[int, int, int], n_classes: int, sizes: StstnetSizes, intensity: str
) -> keras.Model:
    """STSTNet: Liong, Gan, See, Khor & Huang, "Shallow Triple Stream Three-dimensional CNN
    (STSTNet) for Micro-expression Recognition", FG 2019 (arXiv:1902.03634).

    Checked layer by layer against the authors' PyTorch code, christy1206/STSTNet ``main.py``
    (class STSTNet), identical to tvaranka/meb ``meb/models/me_networks.py`` (STSTNet): three
    streams of 3, 5 and 8 3x3 filters with padding 2 on the (28, 28, 3) flow, each ReLU ->
    BatchNorm -> MaxPool(3, stride 3, padding 1) -> Dropout(0.5) (element-wise), concatenated
    (16 x 10 x 10), AvgPool(2) to 16 x 5 x 5, flattened into one linear layer: 1,683 trainable
    parameters for 3 classes, plus the 32 BatchNorm moving statistics (PyTorch buffers).

    Differences: the softmax is the last layer (PyTorch: in the cross-entropy loss); Keras
    flattens (h, w, c), PyTorch (c, h, w) (a permutation of the linear layer's inputs);
    ``minmax`` normalises to [0, 1], the authors feed 8-bit min-max flow images as 0..255.
    ``intensity`` is ignored: flow models take flow.

    The three streams are computed as one: they convolve the same input with the same kernel
    size and padding, and everything after the convolution (ReLU, batch norm, max-pool,
    element-wise dropout) acts on each channel alone, so one convolution of 3 + 5 + 8 filters
    followed by the same layers is the same function with the same parameters, their
    concatenation in order (``tests/models/test_flow_models.py`` checks this against the
    three-stream form), in half the time per epoch. With ``initializer: reference`` (PyTorch's,
    by fan-in only) the initial weights are drawn alike too; a Keras initializer that also
    depends on fan-out (Glorot) draws the merged kernel's as one 16-filter layer's.
    """
    del intensity
    flow, x = flow_input(shape, sizes.input_normalisation)
    x = torch_conv(x, sum(sizes.filters), sizes.kernel, sizes.conv_padding, sizes.initializer)
    x = layers.ReLU()(x)
    if sizes.batch_norm:
        x = torch_batch_norm()(x)
    x = torch_max_pool(x, sizes.pool, sizes.pool_stride, sizes.pool_padding)
    x = layers.Dropout(sizes.dropout)(x)
    x = layers.AveragePooling2D(sizes.avg_pool)(x)
    x = layers.Flatten()(x)
    return keras.Model(flow, _probabilities(x, n_classes, sizes.initializer), name="ststnet")


def _offapex_stream(x: Any, sizes: OffApexNetSizes) -> Any:
    for filters in sizes.filters:
        # "same": PyTorch's padding (kernel - 1) / 2 on each side, for odd kernels.
        x = torch_conv(x, filters, sizes.kernel, sizes.kernel // 2, sizes.initializer)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(sizes.pool)(x)
    return layers.Flatten()(x)


def build_offapexnet(
    shape: tuple[int, int, int], n_classes: int, sizes: OffApexNetSizes, intensity: str
) -> keras.Model:
    """OFF-ApexNet: Gan, Liong, Yau, Huang & Tan, "OFF-ApexNet on micro-expression recognition
    system", Signal Processing: Image Communication 74, 2019 (arXiv:1805.08699).

    Uses the flow's channels 0 and 1 (u, v) only; the strain channel is unused, as in the
    paper. The authors' code is not public. The defaults (``fusion: streams``) are the
    paper's two-stream layout with the sizes of the PyTorch reproduction in
    ECNU-Cross-Innovation-Lab/PRICAI2021-Off-TANet ``models/off_apexnet.py``: per stream
    5x5 convs of 6 and 16 filters with padding 2, each followed by MaxPool(2); the two
    7 x 7 x 16 maps flattened and concatenated (1,568), Dense 1024 -> Dense 1024 (dropout
    0.5 after each) -> softmax: 2,664,475 parameters for 3 classes (that repository's README:
    2.66M). tvaranka/meb ``meb/models/me_networks.py`` (OffApexNet) is reproduced exactly by
    ``fusion: stacked, kernel: 3, flatten_dropout: 0.5, dense: [1024], dropout: [0.5]``
    (807,909 parameters).

    Differences: a ReLU follows each conv (as in meb; the Off-TANet reproduction has none,
    the paper's convs use ReLU); the softmax is the last layer (PyTorch: in the loss).
    ``intensity`` is ignored: flow models take flow.
    """
    del intensity
    if len(sizes.dense) != len(sizes.dropout):
        raise ValueError(
            f"architecture parameters: `dense` {list(sizes.dense)} and `dropout` "
            f"{list(sizes.dropout)} must have the same length"
        )
    flow, x = flow_input(shape, sizes.input_normalisation)
    height, width, channels = shape
    # (channels, height * width): channel c is row c; crop rows 0 (u) and 1 (v).
    rows = layers.Reshape((channels, height * width))(layers.Permute((3, 1, 2))(x))
    u_map = layers.Reshape((height, width, 1))(layers.Cropping1D((0, channels - 1))(rows))
    v_map = layers.Reshape((height, width, 1))(layers.Cropping1D((1, channels - 2))(rows))
    if sizes.fusion == "streams":
        x = layers.Concatenate()([_offapex_stream(u_map, sizes), _offapex_stream(v_map, sizes)])
    else:
        x = _offapex_stream(layers.Concatenate()([u_map, v_map]), sizes)
    if sizes.flatten_dropout:
        x = layers.Dropout(sizes.flatten_dropout)(x)
    for units, rate in zip(sizes.dense, sizes.dropout, strict=True):
        x = layers.Dense(
            units, activation="relu", **torch_default_init(int(x.shape[-1]), sizes.initializer)
        )(x)
        x = layers.Dropout(rate)(x)
    return keras.Model(flow, _probabilities(x, n_classes, sizes.initializer), name="offapexnet")
