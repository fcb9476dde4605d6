"""The four architectures: the study's layer sequences, output sizes, safe saving."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from microexpression_pipeline.pipelines.train.architectures import build_model
from microexpression_pipeline.pipelines.train.fitting import vote

SHAPE = (9, 32, 32)

EXPECTED = {
    ("3dcnn", 2): ["Rescaling", "Reshape", "Conv3D", "MaxPooling3D", "Conv3D", "MaxPooling3D",
                   "Flatten", "Dense", "Dropout", "Dense"],
    ("3dcnn", 7): ["Rescaling", "Reshape", "Conv3D", "MaxPooling3D", "BatchNormalization",
                   "Conv3D", "MaxPooling3D", "BatchNormalization", "Flatten", "Dense", "Dropout",
                   "BatchNormalization", "Dense"],
    ("cnn+lstm", 2): ["Rescaling", "Reshape", "TimeDistributed", "TimeDistributed",
                      "TimeDistributed", "TimeDistributed", "TimeDistributed", "Dropout", "LSTM",
                      "Dense", "Dropout", "Dense"],
    ("convlstm2d", 2): ["Rescaling", "Reshape", "ConvLSTM2D", "MaxPooling3D", "Flatten", "Dense",
                        "Dropout", "Dense"],
    ("2dcnn", 2): ["Rescaling", "Reshape", "Conv2D", "MaxPooling2D", "BatchNormalization",
                   "Conv2D", "MaxPooling2D", "BatchNormalization", "Flatten", "Dense", "Dropout",
                   "BatchNormalization", "Dense"],
    ("2dcnn", 7): ["Rescaling", "Reshape"]
    + ["Conv2D", "MaxPooling2D", "BatchNormalization"] * 3
    + ["Flatten", "Dense", "Dropout", "BatchNormalization", "Dense", "Dropout",
       "BatchNormalization", "Dense"],
}  # fmt: skip


def _model(shipped_params: dict, architecture: str, n_classes: int, **kwargs) -> keras.Model:
    arch = shipped_params["training"]["architectures"][architecture]
    return build_model(architecture, SHAPE, n_classes, arch, 0.003, **kwargs)


@pytest.mark.parametrize(("architecture", "n_classes"), list(EXPECTED))
def test_layer_sequence_is_the_studys(shipped_params, architecture, n_classes) -> None:
    model = _model(shipped_params, architecture, n_classes)
    assert [type(layer).__name__ for layer in model.layers] == EXPECTED[architecture, n_classes]


@pytest.mark.parametrize("architecture", ["3dcnn", "cnn+lstm", "convlstm2d", "2dcnn"])
@pytest.mark.parametrize("n_classes", [2, 7])
def test_builds_for_both_modes_with_the_right_output(shipped_params, architecture, n_classes):
    model = _model(shipped_params, architecture, n_classes)
    frame_level = architecture == "2dcnn"
    assert model.input_shape == (None, *(SHAPE[1:] if frame_level else SHAPE))
    assert model.inputs[0].dtype == "uint8"
    assert model.output_shape == (None, n_classes)
    assert model.layers[-1].activation.__name__ == "softmax"
    x = np.zeros((2, *model.input_shape[1:]), np.uint8)
    np.testing.assert_allclose(model.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-5)


def test_study_sizes(shipped_params) -> None:
    convs = [
        layer.filters
        for layer in _model(shipped_params, "3dcnn", 2).layers
        if isinstance(layer, keras.layers.Conv3D)
    ]
    assert convs == [64, 96]
    lstm = next(
        layer
        for layer in _model(shipped_params, "cnn+lstm", 7).layers
        if isinstance(layer, keras.layers.LSTM)
    )
    assert (lstm.units, lstm.dropout) == (32, 0.4)


def test_standardize_adds_per_sample_normalisation(shipped_params) -> None:
    model = _model(shipped_params, "3dcnn", 2, intensity="standardize")
    assert type(model.layers[1]).__name__ == "LayerNormalization"
    with pytest.raises(ValueError, match=r"training\.intensity"):
        _model(shipped_params, "3dcnn", 2, intensity="zscore")


def test_temporal_keeps_what_moves_and_drops_the_still_face(shipped_params) -> None:
    model = _model(shipped_params, "3dcnn", 2, intensity="temporal")
    assert type(model.layers[1]).__name__ == "LayerNormalization"
    normalised = keras.Model(model.inputs, model.layers[1].output)
    rng = np.random.default_rng(0)
    moving = rng.integers(0, 60, SHAPE).astype(np.uint8)
    faces = [rng.integers(0, 150, SHAPE[1:]).astype(np.uint8) for _ in range(2)]
    # The same movement over two different still faces: the same model input.
    a, b = (normalised(np.stack([moving + face])).numpy() for face in faces)
    np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(a.mean(axis=1), 0.0, atol=1e-4)
    # A frame-level model sees one frame: it gets per-sample standardisation.
    frame = _model(shipped_params, "2dcnn", 2, intensity="temporal")
    assert type(frame.layers[1]).__name__ == "LayerNormalization"
    assert list(frame.layers[1].axis) == [1, 2]


@pytest.mark.parametrize("intensity", ["rescale", "temporal"])
def test_saved_model_loads_in_safe_mode(shipped_params, tmp_path: Path, intensity) -> None:
    model = _model(shipped_params, "cnn+lstm", 2, intensity=intensity)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).integers(0, 255, (2, *SHAPE), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_vote_majority_then_mean_probability() -> None:
    p = np.array(
        [
            # 5 of 9 frames say class 1 although the mean favours class 0.
            [[0.9, 0.1]] * 4 + [[0.45, 0.55]] * 5,
            # A 1-1-1 tie between three classes: the highest mean probability wins.
            [[0.5, 0.2, 0.3], [0.1, 0.6, 0.3], [0.2, 0.1, 0.7]] + [[0.4, 0.35, 0.25]] * 0,
        ],
        dtype=object,
    )
    predicted, mean = vote(np.array(p[0], float)[None])
    assert predicted.tolist() == [1]
    assert mean[0, 0] > mean[0, 1]
    predicted, _ = vote(np.array(p[1], float)[None])
    assert predicted.tolist() == [2]  # means: 0.267, 0.3, 0.433
