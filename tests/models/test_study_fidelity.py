"""The 8 models (4 architectures x binary, multiclass) against the study's code, layer by layer.

``STUDY`` is written by hand from ``models/binary_models.py`` and ``models/multiclass_models.py``
of ShreyanshJoshi/Facial-Microexpression-Recognition, with the Keras 2 defaults its code relies
on spelled out: glorot_uniform kernels where it names no initialiser, orthogonal recurrent
kernels, sigmoid LSTM gates, hard_sigmoid ConvLSTM2D gates, valid padding, pooling strides
equal to the pool size, BatchNormalization's momentum 0.99 and epsilon 0.001. Models are built
with the study's own sizes (``STUDY_SIZES``) and the schemas' defaults for everything else, so
the defaults themselves are what is checked.

Skipped: the layers the project puts in front of the study's first layer (``SKIPPED``: the
uint8 input, its scaling and normalisation from ``models/inputs.py``, and the Reshape that
adds the channel axis the study's input already has). A Dense after Flatten is compared by
its units only (its input size depends on the clip size: 32 px here, 128 px in the study).
"""

from __future__ import annotations

import re

import keras
import pytest

from microexpression_pipeline.models import ARCHITECTURES, GROUPS
from microexpression_pipeline.models.conv3d import Conv3DSizes
from microexpression_pipeline.models.frame2d import Conv2DSizes
from microexpression_pipeline.models.recurrent import CnnLstmSizes, ConvLstmSizes

SHAPE = (9, 32, 32)
N_CLASSES = {"binary": 2, "multiclass": 7}
SKIPPED = {"InputLayer", "Rescaling", "LayerNormalization", "Reshape"}

# The study's sizes (its code's literal values), nothing else: the rest is the schemas' default.
STUDY_SIZES = {
    ("3dcnn", "binary"): Conv3DSizes(
        filters=[64, 96], kernel=[1, 3, 3], pool=[1, 2, 2], batch_norm=False,
        dense=[24], dropout=[0.35], dense_batch_norm=False,
    ),
    ("3dcnn", "multiclass"): Conv3DSizes(
        filters=[32, 64], kernel=[1, 3, 3], pool=[1, 2, 2], batch_norm=True,
        dense=[32], dropout=[0.27], dense_batch_norm=True,
    ),
    ("cnn_lstm", "binary"): CnnLstmSizes(
        frame_convolution="time_distributed", filters=[32, 64], kernel=3, pool=2,
        dropout_before_lstm=0.3, lstm_units=32, lstm_dropout=0.4, dense=[24], dropout=[0.35],
    ),
    ("cnn_lstm", "multiclass"): CnnLstmSizes(
        frame_convolution="time_distributed", filters=[32, 64], kernel=3, pool=2,
        dropout_before_lstm=0.3, lstm_units=32, lstm_dropout=0.4, dense=[24], dropout=[0.3],
    ),
    ("convlstm2d", "binary"): ConvLstmSizes(
        filters=32, kernel=3, pool=[1, 2, 2], dense=[48], dropout=[0.3]
    ),
    ("convlstm2d", "multiclass"): ConvLstmSizes(
        filters=32, kernel=3, pool=[1, 2, 2], dense=[64], dropout=[0.3]
    ),
    ("2dcnn", "binary"): Conv2DSizes(
        filters=[32, 64], kernel=3, pool=2, dense=[64], dropout=[0.3], dense_batch_norm=True
    ),
    ("2dcnn", "multiclass"): Conv2DSizes(
        filters=[64, 128, 256], kernel=3, pool=2, dense=[384, 96], dropout=[0.42, 0.25],
        dense_batch_norm=True,
    ),
}  # fmt: skip

BN = "BatchNormalization momentum=0.99 epsilon=0.001"
POOL2D = "MaxPooling2D (2, 2) strides=(2, 2) valid"
POOL3D = "MaxPooling3D (1, 2, 2) strides=(1, 2, 2) valid"
CONV3D = "Conv3D {} kernel=(1, 3, 3) strides=(1, 1, 1) valid relu he_uniform"
CONV2D_HE = "Conv2D {} kernel=(3, 3) strides=(1, 1) valid relu he_uniform"
CONV2D_GLOROT = "TimeDistributed(Conv2D {} kernel=(3, 3) strides=(1, 1) valid relu glorot_uniform)"
LSTM = "LSTM 32 relu gates=sigmoid dropout=0.4 glorot_uniform orthogonal sequences=False"
CONVLSTM = (
    "ConvLSTM2D 32 kernel=(3, 3) strides=(1, 1) valid relu gates=hard_sigmoid dropout=0.0 "
    "glorot_uniform orthogonal sequences=True"
)

STUDY = {
    ("3dcnn", "binary"): [
        CONV3D.format(64), POOL3D,
        CONV3D.format(96), POOL3D,
        "Flatten",
        "Dense 24 relu he_uniform", "Dropout 0.35",
        "Dense 2 softmax he_uniform",
    ],
    ("3dcnn", "multiclass"): [
        CONV3D.format(32), POOL3D, BN,
        CONV3D.format(64), POOL3D, BN,
        "Flatten",
        "Dense 32 relu he_uniform", "Dropout 0.27", BN,
        "Dense 7 softmax he_uniform",
    ],
    ("cnn_lstm", "binary"): [
        CONV2D_GLOROT.format(32), f"TimeDistributed({POOL2D})",
        CONV2D_GLOROT.format(64), f"TimeDistributed({POOL2D})",
        "TimeDistributed(Flatten)", "Dropout 0.3",
        LSTM,
        "Dense 24 relu glorot_uniform", "Dropout 0.35",
        "Dense 2 softmax glorot_uniform",
    ],
    ("cnn_lstm", "multiclass"): [
        CONV2D_GLOROT.format(32), f"TimeDistributed({POOL2D})",
        CONV2D_GLOROT.format(64), f"TimeDistributed({POOL2D})",
        "TimeDistributed(Flatten)", "Dropout 0.3",
        LSTM,
        "Dense 24 relu glorot_uniform", "Dropout 0.3",
        "Dense 7 softmax glorot_uniform",
    ],
    ("convlstm2d", "binary"): [
        CONVLSTM, POOL3D,
        "Flatten",
        "Dense 48 relu glorot_uniform", "Dropout 0.3",
        "Dense 2 softmax glorot_uniform",
    ],
    ("convlstm2d", "multiclass"): [
        CONVLSTM, POOL3D,
        "Flatten",
        "Dense 64 relu glorot_uniform", "Dropout 0.3",
        "Dense 7 softmax glorot_uniform",
    ],
    ("2dcnn", "binary"): [
        CONV2D_HE.format(32), POOL2D, BN,
        CONV2D_HE.format(64), POOL2D, BN,
        "Flatten",
        "Dense 64 relu he_uniform", "Dropout 0.3", BN,
        "Dense 2 softmax he_uniform",
    ],
    ("2dcnn", "multiclass"): [
        CONV2D_HE.format(64), POOL2D, BN,
        CONV2D_HE.format(128), POOL2D, BN,
        CONV2D_HE.format(256), POOL2D, BN,
        "Flatten",
        "Dense 384 relu he_uniform", "Dropout 0.42", BN,
        "Dense 96 relu he_uniform", "Dropout 0.25", BN,
        "Dense 7 softmax he_uniform",
    ],
}  # fmt: skip


def _name(initializer: keras.initializers.Initializer) -> str:
    """``HeUniform`` -> ``he_uniform``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(initializer).__name__).lower()


def describe(layer: keras.layers.Layer) -> str:
    """One layer as the tables write it: its type and every setting the study chose."""
    kind = type(layer).__name__
    if isinstance(layer, keras.layers.TimeDistributed):
        return f"TimeDistributed({describe(layer.layer)})"
    if isinstance(layer, keras.layers.ConvLSTM2D):
        return (
            f"{kind} {layer.filters} kernel={layer.kernel_size} strides={layer.strides} "
            f"{layer.padding} {layer.activation.__name__} "
            f"gates={layer.recurrent_activation.__name__} dropout={layer.dropout} "
            f"{_name(layer.kernel_initializer)} {_name(layer.recurrent_initializer)} "
            f"sequences={layer.return_sequences}"
        )
    if isinstance(layer, keras.layers.LSTM):
        return (
            f"{kind} {layer.units} {layer.activation.__name__} "
            f"gates={layer.recurrent_activation.__name__} dropout={layer.dropout} "
            f"{_name(layer.kernel_initializer)} {_name(layer.recurrent_initializer)} "
            f"sequences={layer.return_sequences}"
        )
    if isinstance(layer, keras.layers.Conv2D | keras.layers.Conv3D):
        return (
            f"{kind} {layer.filters} kernel={layer.kernel_size} strides={layer.strides} "
            f"{layer.padding} {layer.activation.__name__} {_name(layer.kernel_initializer)}"
        )
    if isinstance(layer, keras.layers.MaxPooling2D | keras.layers.MaxPooling3D):
        return f"{kind} {layer.pool_size} strides={layer.strides} {layer.padding}"
    if isinstance(layer, keras.layers.Dense):
        return f"{kind} {layer.units} {layer.activation.__name__} {_name(layer.kernel_initializer)}"
    if isinstance(layer, keras.layers.Dropout):
        return f"{kind} {layer.rate}"
    if isinstance(layer, keras.layers.BatchNormalization):
        return f"{kind} momentum={layer.momentum} epsilon={layer.epsilon}"
    return kind  # Flatten, or a layer no table expects (the comparison then fails)


def _study_layers(model: keras.Model) -> list[str]:
    return [describe(la) for la in model.layers if type(la).__name__ not in SKIPPED]


def _build(key: str, variant: str, sizes=None) -> keras.Model:
    sizes = sizes or STUDY_SIZES[key, variant]
    return ARCHITECTURES[key].build(SHAPE, N_CLASSES[variant], sizes, "rescale")


@pytest.mark.parametrize(("key", "variant"), list(STUDY))
def test_every_layer_is_the_studys(key: str, variant: str) -> None:
    model = _build(key, variant)
    assert _study_layers(model) == STUDY[key, variant]
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)
        if hasattr(inner, "use_bias"):  # Keras 2 and 3 defaults: a bias, initialised to zero
            assert inner.use_bias and _name(inner.bias_initializer) == "zeros", layer.name
        if hasattr(inner, "unit_forget_bias"):
            assert inner.unit_forget_bias, layer.name


@pytest.mark.parametrize(
    ("key", "variant", "change"),
    [
        ("cnn_lstm", "binary", {"lstm_activation": "tanh"}),
        ("cnn_lstm", "multiclass", {"lstm_recurrent_activation": "hard_sigmoid"}),
        ("cnn_lstm", "binary", {"conv_initializer": "he_uniform"}),
        ("convlstm2d", "binary", {"convlstm_activation": "tanh"}),
        ("convlstm2d", "multiclass", {"convlstm_recurrent_activation": "sigmoid"}),
        ("convlstm2d", "binary", {"dense_initializer": "he_uniform"}),
        ("3dcnn", "binary", {"output_initializer": "glorot_uniform"}),
        ("3dcnn", "multiclass", {"batch_norm": False}),
        ("2dcnn", "multiclass", {"dropout": [0.42, 0.3]}),
        ("2dcnn", "binary", {"conv_initializer": "glorot_uniform"}),
    ],
)
def test_the_comparison_catches_a_difference(key: str, variant: str, change: dict) -> None:
    sizes = STUDY_SIZES[key, variant].model_copy(update=change)
    assert _study_layers(_build(key, variant, sizes)) != STUDY[key, variant]


def test_shipped_layer_settings_are_the_studys(shipped_training) -> None:
    """conf/base writes every activation and initialiser out; each is the study's (default)."""
    for key in GROUPS["study"]:
        architecture = ARCHITECTURES[key]
        fields = {
            name: field.default
            for name, field in architecture.sizes.model_fields.items()
            if name.endswith(("_activation", "_initializer"))
        }
        assert fields, key
        for variant in N_CLASSES:
            shipped = getattr(shipped_training.architectures[key], variant)
            assert fields.keys() <= shipped.model_fields_set, (key, variant)
            assert {name: getattr(shipped, name) for name in fields} == fields, (key, variant)


def test_study_environment_is_the_studys_protocol(project_root) -> None:
    """conf/study: the training settings of the study's main.py, its 5-fold x 3 over clips."""
    from kedro.config import OmegaConfigLoader

    from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams
    from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(str(project_root / "conf"), default_run_env="study", **args)
    params = dict(loader["parameters"])
    training = TrainingParams.model_validate(params["training"])
    evaluation = EvaluationParams.model_validate(params["evaluation"])
    assert params["data_source"] == "real"
    assert params["ingestion"]["image_size"] == 128
    assert (evaluation.protocol, evaluation.n_splits, evaluation.n_repeats) == (
        "stratified_kfold", 5, 3,
    )  # fmt: skip
    assert (training.epochs, training.batch_size, training.learning_rate) == (25, 16, 0.003)
    assert (training.validation_fraction, training.validation_split) == (0.27, "clip")
    assert training.intensity == "rescale" and training.drop_last_batch
    reduce_lr = training.reduce_lr
    assert (reduce_lr.factor, reduce_lr.patience, reduce_lr.min_lr) == (0.5, 3, 0.0001)
    frames = training.architectures["2dcnn"].overrides
    assert (frames.learning_rate, frames.batch_size, frames.validation_fraction) == (
        0.0035, 128, 0.25,
    )  # fmt: skip
    # kept apart from the subject-independent results: own data root, own MLflow experiment
    base = OmegaConfigLoader(str(project_root / "conf"), default_run_env="real", **args)
    for config in (loader, base):
        config.config_patterns["mlflow"] = ["mlflow*", "mlflow*/**"]  # as kedro-mlflow adds it
    assert loader["globals"]["data_root"] != base["globals"]["data_root"]
    experiments = [c["mlflow"]["tracking"]["experiment"]["name"] for c in (loader, base)]
    assert experiments[0] != experiments[1]
