"""The architectures' size parameters (``training.architectures.<key>.<variant>``), one
schema per architecture, without TensorFlow: validating parameters and listing pipelines
import this, not the builders."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from microexpression_pipeline.parameters import StrictSection

# Layer settings the size schemas offer (Keras' built-in names; all load in safe mode).
Initializer = Literal["he_uniform", "he_normal", "glorot_uniform", "glorot_normal"]
Activation = Literal["relu", "tanh"]
# Gate activation of an LSTM cell. Keras 3's ``hard_sigmoid`` is clip(x / 6 + 0.5, 0, 1);
# Keras 2's, the study's ConvLSTM2D default, was clip(0.2 x + 0.5, 0, 1).
GateActivation = Literal["sigmoid", "hard_sigmoid"]
# The flow models' input normalisations (``inputs.flow_input``).
FlowNormalisation = Literal["none", "standardize", "minmax"]
# ``reference``: the reference code's PyTorch initialisation; or a Keras initialiser for all.
FlowInitializer = Literal["reference", "he_uniform", "glorot_uniform"]


class _StudyCnnSizes(StrictSection):
    """What the study's 3D and 2D CNNs share: the dense head and he_uniform initialisers."""

    filters: list[PositiveInt] = Field(min_length=1)
    dense: list[PositiveInt]
    dropout: list[float]
    dense_batch_norm: bool
    # Kernel initialisers; the study: he_uniform on every layer.
    conv_initializer: Initializer = "he_uniform"
    dense_initializer: Initializer = "he_uniform"
    output_initializer: Initializer = "he_uniform"


class _StudyRecurrentSizes(StrictSection):
    """What the study's recurrent models share: the dense head and glorot_uniform (Keras'
    default, the study's, on every layer) for its dense layers."""

    dense: list[PositiveInt]
    dropout: list[float]
    dense_initializer: Initializer = "glorot_uniform"
    output_initializer: Initializer = "glorot_uniform"


class Conv3DSizes(_StudyCnnSizes):
    kernel: list[PositiveInt] = Field(min_length=3, max_length=3)
    pool: list[PositiveInt] = Field(min_length=3, max_length=3)
    batch_norm: bool


class CnnLstmSizes(_StudyRecurrentSizes):
    # How the per-frame CNN is computed: ``conv3d``, each frame's Conv2D and max-pooling as a
    # Conv3D and MaxPooling3D of depth 1 over the clip (the same function, the same
    # parameters, faster); ``time_distributed``, the study's TimeDistributed layers.
    frame_convolution: Literal["conv3d", "time_distributed"] = "conv3d"
    filters: list[PositiveInt] = Field(min_length=1)
    kernel: PositiveInt
    pool: PositiveInt
    dropout_before_lstm: float = Field(ge=0, lt=1)
    lstm_units: PositiveInt
    lstm_dropout: float = Field(ge=0, lt=1)
    # The study: relu (tanh with sigmoid gates lets Keras use cuDNN's LSTM kernel on a GPU).
    lstm_activation: Activation = "relu"
    lstm_recurrent_activation: GateActivation = "sigmoid"
    conv_initializer: Initializer = "glorot_uniform"


class ConvLstmSizes(_StudyRecurrentSizes):
    filters: PositiveInt
    kernel: PositiveInt
    pool: list[PositiveInt] = Field(min_length=3, max_length=3)
    # The study: relu, and Keras 2's default gates, hard_sigmoid.
    convlstm_activation: Activation = "relu"
    convlstm_recurrent_activation: GateActivation = "hard_sigmoid"
    convlstm_initializer: Initializer = "glorot_uniform"


class Conv2DSizes(_StudyCnnSizes):
    kernel: PositiveInt
    pool: PositiveInt


class StstnetSizes(StrictSection):
    # One stream per entry: Conv2d(filters, kernel, padding) -> ReLU -> BatchNorm -> MaxPool
    # -> Dropout, the streams concatenated, average-pooled, flattened into the softmax layer.
    filters: list[PositiveInt] = Field(default=[3, 5, 8], min_length=1)
    kernel: PositiveInt = 3
    conv_padding: NonNegativeInt = 2
    pool: PositiveInt = 3
    pool_stride: PositiveInt = 3
    pool_padding: NonNegativeInt = 1
    avg_pool: PositiveInt = 2
    batch_norm: bool = True
    dropout: float = Field(default=0.5, ge=0, lt=1)
    input_normalisation: FlowNormalisation = "minmax"
    initializer: FlowInitializer = "reference"


class OffApexNetSizes(StrictSection):
    # ``streams``: one CNN per flow component, u and v (the paper); ``stacked``: u and v as
    # the two channels of one CNN (tvaranka/meb).
    fusion: Literal["streams", "stacked"] = "streams"
    # Conv2d(filters, kernel, "same" padding) -> ReLU -> MaxPool(pool) per entry.
    filters: list[PositiveInt] = Field(default=[6, 16], min_length=1)
    kernel: PositiveInt = 5
    pool: PositiveInt = 2
    # Dropout on the flattened features (meb: 0.5), then Dense(units) -> ReLU -> Dropout.
    flatten_dropout: float = Field(default=0.0, ge=0, lt=1)
    dense: list[PositiveInt] = Field(default=[1024, 1024])
    dropout: list[float] = Field(default=[0.5, 0.5])
    input_normalisation: FlowNormalisation = "standardize"
    initializer: FlowInitializer = "reference"


class RcnSizes(StrictSection):
    # Feature maps of every conv; the authors' README command: --featuremap 32 --poolsize 5.
    featuremaps: PositiveInt = 32
    conv_kernel: PositiveInt = 5
    # Recurrent convolutional blocks (num_layers) and iterations of the shared 3x3 conv each.
    blocks: PositiveInt = 1
    iterations: PositiveInt = 2
    recurrent_kernel: PositiveInt = 3
    pool: PositiveInt = 2
    # Output side of the adaptive average pooling before the classifier (pool_size).
    pool_size: PositiveInt = 5
    dropout: float = Field(default=0.5, ge=0, lt=1)
    # The parameter-free attention unit (RCN-A); off: the plain recurrent network.
    attention: bool = True
    input_normalisation: FlowNormalisation = "standardize"
    initializer: FlowInitializer = "reference"
