"""RCN-A: a recurrent convolutional network with a parameter-free attention unit, on flow.

Built from built-in Keras layers only (saved ``.keras`` files load in safe mode): the recurrent
convolution shares its weights across iterations by calling the same layer objects again, and
the attention reuses the classifier layer itself, as the authors' code reuses its weights.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from microexpression_pipeline.models.flow_nets import (
    torch_batch_norm,
    torch_conv,
    torch_default_init,
)
from microexpression_pipeline.models.inputs import OUTPUT_DTYPE, flow_input
from microexpression_pipeline.models.sizes import RcnSizes


def _conv(x: Any, filters: int, kernel: int, padding: int, initializer: str) -> Any:
    """Conv2d as the authors initialise it: kaiming_normal (fan_out, ReLU) kernel, default
    (uniform, fan_in) bias."""
    if initializer != "reference":
        return torch_conv(x, filters, kernel, padding, initializer)
    fan_in = kernel * kernel * int(x.shape[-1])
    bias = torch_default_init(fan_in, "reference")["bias_initializer"]
    if padding:
        x = layers.ZeroPadding2D(padding)(x)
    kernel_init = keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")
    return layers.Conv2D(filters, kernel, kernel_initializer=kernel_init, bias_initializer=bias)(x)


def _recurrent_block(x: Any, sizes: RcnSizes) -> Any:
    """RclBlock: y = ffconv(x); then ``iterations`` times y = rrconv(x + y), the SAME conv and
    BatchNorm each time; then MaxPool and Dropout."""
    n, init = sizes.featuremaps, sizes.initializer
    y = layers.ReLU()(torch_batch_norm()(_conv(x, n, 1, 0, init)))
    padding = sizes.recurrent_kernel // 2
    shared_pad = layers.ZeroPadding2D(padding)
    if init == "reference":
        shared_conv = layers.Conv2D(
            n,
            sizes.recurrent_kernel,
            kernel_initializer=keras.initializers.VarianceScaling(
                2.0, "fan_out", "untruncated_normal"
            ),
            bias_initializer=torch_default_init(sizes.recurrent_kernel**2 * n, init)[
                "bias_initializer"
            ],
        )
    else:
        shared_conv = layers.Conv2D(n, sizes.recurrent_kernel, kernel_initializer=init)
    shared_bn = torch_batch_norm()
    for _ in range(sizes.iterations):
        y = layers.ReLU()(shared_bn(shared_conv(shared_pad(layers.Add()([x, y])))))
    y = layers.MaxPooling2D(sizes.pool)(y)
    return layers.Dropout(sizes.dropout)(y)


def _attention(features: Any, classifier: layers.Dense, size: int) -> Any:
    """SpatialAttentionBlock_P: per class c and cell p of the pooled features l (size x size x
    n), cam_c[p] = mean over channels k of W_c[p, k] l[p, k], W the classifier's weights;
    each class map min-max normalised over the cells, then averaged over the classes.

    Built-in layers only: l masked to one cell p (crop to it, zero-pad back) and flattened is
    the classifier's input whose output is sum_k W_c[p, k] l[p, k] + b_c = C cam_c[p] + b_c;
    the min-max (AutoContrast per class map) removes the factor C and the bias b_c."""
    cells = []
    for i in range(size):
        for j in range(size):
            crop = ((i, size - 1 - i), (j, size - 1 - j))
            cell = layers.ZeroPadding2D(crop)(layers.Cropping2D(crop)(features))
            cells.append(layers.Reshape((1, -1))(cell))
    scores = classifier(layers.Concatenate(axis=1)(cells))  # (cells, classes)
    classes = int(scores.shape[-1])
    maps = layers.Reshape((size, size, classes))(scores)
    maps = layers.AutoContrast(value_range=(0, 1))(maps)  # per class over the cells
    per_class = layers.Permute((2, 1))(layers.Reshape((size * size, classes))(maps))
    mean = layers.GlobalAveragePooling1D()(per_class)  # over the classes
    return layers.Reshape((size, size, 1))(mean)


def build_rcn(
    shape: tuple[int, int, int], n_classes: int, sizes: RcnSizes, intensity: str
) -> keras.Model:
    """RCN-A: Xia, Peng, Hong & Zhao, "Revealing the Invisible With Model and Data Shrinking
    for Composite-Database Micro-Expression Recognition", IEEE TIP 29, 2020.

    Checked against the authors' PyTorch code, xiazhaoqiang/ParameterFreeRCNs-MicroExpressionRec
    ``MeNets.py``, class RCN_A with model_version=3 (the default, and the only version whose
    forward runs), as trained by ``ModelTrain_Final.py`` (num_input=3, num_layers=1); the
    same class is in tvaranka/meb ``meb/models/RCNs.py``. Layers: Conv 5x5 (valid) -> BN ->
    ReLU -> MaxPool 2 -> Dropout; one RclBlock (1x1 ffconv -> BN -> ReLU, then the shared
    3x3 conv -> BN -> ReLU applied twice to x + y) -> MaxPool 2 -> Dropout; adaptive average
    pooling to pool_size x pool_size; times the attention map computed from the first
    block's output (adaptive-pooled) and the classifier's weights; flatten -> classifier.
    32 feature maps, pool_size 5, 3 classes: 15,331 trainable parameters plus 192 BatchNorm
    moving statistics.

    Differences: the classifier is a linear Dense ("classifier") followed by the softmax
    Activation "probabilities" (the attention needs the classifier's linear outputs, PyTorch
    puts the softmax in the loss); where a class map is constant the min-max keeps it as is
    (PyTorch: 0 / 0 = NaN); Keras flattens (h, w, c), PyTorch (c, h, w). The authors' input
    size is not in the code (PNG flow images; meb resizes to 60); here 28x28 (24 -> 12 -> 6
    -> adaptive 5). ``intensity`` is ignored: flow models take flow.
    """
    del intensity
    flow, x = flow_input(shape, sizes.input_normalisation)
    n = sizes.featuremaps
    x = layers.ReLU()(torch_batch_norm()(_conv(x, n, sizes.conv_kernel, 0, sizes.initializer)))
    x = layers.MaxPooling2D(sizes.pool)(x)
    x = layers.Dropout(sizes.dropout)(x)
    first = x
    for _ in range(sizes.blocks):
        x = _recurrent_block(x, sizes)
    x = layers.AdaptiveAveragePooling2D(sizes.pool_size)(x)
    kernel = (
        keras.initializers.RandomNormal(stddev=0.01)
        if sizes.initializer == "reference"
        else sizes.initializer
    )
    classifier = layers.Dense(
        n_classes, kernel_initializer=kernel, bias_initializer="zeros", name="classifier"
    )
    if sizes.attention:
        pooled = layers.AdaptiveAveragePooling2D(sizes.pool_size)(first)
        x = layers.Multiply()([x, _attention(pooled, classifier, sizes.pool_size)])
    logits = classifier(layers.Flatten()(x))
    outputs = layers.Activation("softmax", name="probabilities", dtype=OUTPUT_DTYPE)(logits)
    return keras.Model(flow, outputs, name="rcn_a" if sizes.attention else "rcn")
