"""The registry's architectures: the study's layer sequences, output sizes, safe saving, and
the 2D CNN's vote over frames as part of its clip model."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from microexpression_pipeline.models import ARCHITECTURES, GROUPS, get, model_choices, selected
from microexpression_pipeline.models.building import build_model, clip_model
from microexpression_pipeline.models.frame2d import voting_clip_model
from microexpression_pipeline.parameters import ParameterError

SHAPE = (9, 32, 32)

EXPECTED = {
    ("3dcnn", 2): ["Rescaling", "Reshape", "Conv3D", "MaxPooling3D", "Conv3D", "MaxPooling3D",
                   "Flatten", "Dense", "Dropout", "Dense"],
    ("3dcnn", 7): ["Rescaling", "Reshape", "Conv3D", "MaxPooling3D", "BatchNormalization",
                   "Conv3D", "MaxPooling3D", "BatchNormalization", "Flatten", "Dense", "Dropout",
                   "BatchNormalization", "Dense"],
    ("cnn_lstm", 2): ["Rescaling", "Reshape", "Conv3D", "MaxPooling3D", "Conv3D",
                      "MaxPooling3D", "Reshape", "Dropout", "LSTM", "Dense", "Dropout", "Dense"],
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


def _model(training, architecture: str, n_classes: int, **kwargs) -> keras.Model:
    a = get(architecture)
    return build_model(a, SHAPE, n_classes, training.architectures[a.key], 0.003, **kwargs)


def _layers(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers if type(layer).__name__ != "InputLayer"]


def test_registry_names_and_model_choices() -> None:
    assert list(ARCHITECTURES) == [
        "3dcnn", "cnn_lstm", "convlstm2d", "2dcnn", "ststnet", "offapexnet", "rcn_a",
    ]  # fmt: skip
    assert get("cnn+lstm") is get("cnn_lstm") is ARCHITECTURES["cnn_lstm"]
    assert ARCHITECTURES["cnn_lstm"].name == "cnn+lstm"
    assert [a.key for a in selected("all")] == list(ARCHITECTURES)
    assert [a.key for a in selected("cnn+lstm")] == ["cnn_lstm"]
    assert set(model_choices()) == {*ARCHITECTURES, "cnn+lstm", "rcn-a", "study", "flow", "all"}
    assert [a.key for a in selected("flow")] == ["ststnet", "offapexnet", "rcn_a"]
    assert [a.key for a in selected("study")] == ["3dcnn", "cnn_lstm", "convlstm2d", "2dcnn"]
    assert get("rcn-a") is ARCHITECTURES["rcn_a"]
    # Every flow model is selectable by name and trains on the flow set.
    for name in ("ststnet", "offapexnet", "rcn-a"):
        assert selected(name) == (get(name),) and get(name).transform_set == "flow"
    with pytest.raises(ParameterError, match="model: 'vgg' is not valid; valid choices"):
        selected("vgg")
    assert [a.key for a in ARCHITECTURES.values() if a.frame_level] == ["2dcnn"]


@pytest.mark.parametrize(("architecture", "n_classes"), list(EXPECTED))
def test_layer_sequence_is_the_studys(shipped_training, architecture, n_classes) -> None:
    model = _model(shipped_training, architecture, n_classes)
    assert _layers(model) == EXPECTED[architecture, n_classes]


@pytest.mark.parametrize("architecture", GROUPS["study"])
@pytest.mark.parametrize("n_classes", [2, 7])
def test_builds_for_both_modes_with_the_right_output(shipped_training, architecture, n_classes):
    model = _model(shipped_training, architecture, n_classes)
    frame_level = ARCHITECTURES[architecture].frame_level
    assert model.input_shape == (None, *(SHAPE[1:] if frame_level else SHAPE))
    assert model.inputs[0].dtype == "uint8"
    assert model.output_shape == (None, n_classes)
    assert model.layers[-1].activation.__name__ == "softmax"
    clips = clip_model(ARCHITECTURES[architecture], model, SHAPE[0])
    assert clips.input_shape == (None, *SHAPE)
    x = np.zeros((2, *SHAPE), np.uint8)
    np.testing.assert_allclose(clips.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-5)


def test_study_sizes(shipped_training) -> None:
    convs = [
        layer.filters
        for layer in _model(shipped_training, "3dcnn", 2).layers
        if isinstance(layer, keras.layers.Conv3D)
    ]
    assert convs == [64, 96]
    lstm = next(
        layer
        for layer in _model(shipped_training, "cnn+lstm", 7).layers
        if isinstance(layer, keras.layers.LSTM)
    )
    assert (lstm.units, lstm.dropout) == (32, 0.4)


def test_standardize_adds_per_sample_normalisation(shipped_training) -> None:
    model = _model(shipped_training, "3dcnn", 2, intensity="standardize")
    assert _layers(model)[1] == "LayerNormalization"
    with pytest.raises(ValueError, match=r"training\.intensity"):
        _model(shipped_training, "3dcnn", 2, intensity="zscore")


def test_temporal_keeps_what_moves_and_drops_the_still_face(shipped_training) -> None:
    model = _model(shipped_training, "3dcnn", 2, intensity="temporal")
    norm = next(la for la in model.layers if isinstance(la, keras.layers.LayerNormalization))
    normalised = keras.Model(model.inputs, norm.output)
    rng = np.random.default_rng(0)
    moving = rng.integers(0, 60, SHAPE).astype(np.uint8)
    faces = [rng.integers(0, 150, SHAPE[1:]).astype(np.uint8) for _ in range(2)]
    # The same movement over two different still faces: the same model input.
    a, b = (normalised(np.stack([moving + face])).numpy() for face in faces)
    np.testing.assert_allclose(a, b, atol=1e-4)
    np.testing.assert_allclose(a.mean(axis=1), 0.0, atol=1e-4)
    # A frame-level model sees one frame: it gets per-sample standardisation.
    frame = _model(shipped_training, "2dcnn", 2, intensity="temporal")
    norm = next(la for la in frame.layers if isinstance(la, keras.layers.LayerNormalization))
    assert list(norm.axis) == [1, 2]


@pytest.mark.parametrize(("architecture", "intensity"), [("cnn+lstm", "rescale"),
                                                         ("cnn+lstm", "temporal"),
                                                         ("convlstm2d", "rescale"),
                                                         ("2dcnn", "temporal")])  # fmt: skip
def test_saved_clip_model_loads_in_safe_mode(
    shipped_training, tmp_path: Path, architecture, intensity
) -> None:
    model = clip_model(
        get(architecture), _model(shipped_training, architecture, 2, intensity=intensity), 9
    )
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).integers(0, 255, (2, *SHAPE), dtype=np.uint8)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def _voting(frame_probabilities: list[list[list[int]]]) -> np.ndarray:
    """The voting clip model over a frame model that outputs its input / 100 (so a frame's
    'probabilities' are chosen by the test)."""
    k = len(frame_probabilities[0][0])
    pixels = keras.Input((1, k), dtype="uint8")
    frame_model = keras.Model(
        pixels, keras.layers.Reshape((k,))(keras.layers.Rescaling(0.01)(pixels))
    )
    clips = np.array(frame_probabilities, np.uint8)[:, :, None, :]
    model = voting_clip_model(frame_model, clips.shape[1])
    return model.predict(clips, verbose=0)


def test_vote_majority_then_mean_probability() -> None:
    # 5 of 9 frames say class 1 although the mean favours class 0.
    majority = _voting([[[90, 10]] * 4 + [[45, 55]] * 5])
    assert majority.argmax(axis=1).tolist() == [1]
    mean = np.array([(4 * 0.9 + 5 * 0.45) / 9, (4 * 0.1 + 5 * 0.55) / 9])
    np.testing.assert_allclose(majority[0], (np.array([4, 5]) + mean) / 10, atol=1e-6)
    # A 1-1-1 tie between three classes: the highest mean probability (0.433) wins.
    tie = _voting([[[50, 20, 30], [10, 60, 30], [20, 10, 70]]])
    assert tie.argmax(axis=1).tolist() == [2]
    np.testing.assert_allclose(tie.sum(axis=1), 1.0, atol=1e-6)


def test_cnn_lstm_frame_convolution_as_conv3d_is_the_time_distributed_model(
    shipped_training,
) -> None:
    """The per-frame CNN computed as depth-1 Conv3D / MaxPooling3D: the same parameters,
    drawn alike from the same seed, and the same outputs as the study's TimeDistributed form."""
    block = shipped_training.architectures["cnn_lstm"]
    forms = {}
    for form in ("conv3d", "time_distributed"):
        keras.utils.set_random_seed(5)
        variant = block.binary.model_copy(update={"frame_convolution": form})
        sizes = block.model_copy(update={"binary": variant})
        forms[form] = build_model(get("cnn_lstm"), SHAPE, 2, sizes, 0.003)
    fast, study = forms["conv3d"], forms["time_distributed"]
    assert {type(la).__name__ for la in fast.layers}.isdisjoint({"TimeDistributed"})
    assert fast.count_params() == study.count_params()
    for a, b in zip(fast.get_weights(), study.get_weights(), strict=True):
        np.testing.assert_array_equal(a.reshape(b.shape), b)  # (1, k, k, i, o) holds (k, k, i, o)
    clips = np.random.default_rng(0).integers(0, 256, (4, *SHAPE), dtype=np.uint8)
    np.testing.assert_allclose(fast.predict(clips, verbose=0), study.predict(clips, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
