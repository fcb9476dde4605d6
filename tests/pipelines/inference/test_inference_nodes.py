"""The inference pipeline's nodes in-process: the parameters, key frames and model checks,
and spotting on a clip of the synthetic generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.models.card import SYNTHETIC_WARNING, ModelCard, make_card
from microexpression_pipeline.parameters import ParameterError
from microexpression_pipeline.pipelines.inference.clip_reader import (
    ClipFrames,
    read_clip_source,
)
from microexpression_pipeline.pipelines.inference.model_source import from_mlflow, latest_local
from microexpression_pipeline.pipelines.inference.nodes import find_intervals
from microexpression_pipeline.pipelines.inference.preprocess import selected_positions
from microexpression_pipeline.pipelines.inference.schema import InferenceParams
from microexpression_pipeline.synthetic import smic_format
from microexpression_pipeline.synthetic.clips import ClipSpec, render_clip
from microexpression_pipeline.synthetic.face import make_subject

INGESTION = {
    "image_size": 32,
    "frames_between_key_frames": 3,
    "missing_frame_tolerance": 2,
    "face_margin": 0.15,
    "detection_max_side": 320,
    "min_face_confidence": 0.9,
    "no_face": "quarantine",
    "magnification": {"enabled": False},
}


def card(**changes: object) -> ModelCard:
    summary = {
        "architecture": "3dcnn",
        "mode": "binary",
        "classes": ["negative", "positive"],
        "protocol": "loso",
        "metrics": {"uf1": 0.5, "uar": 0.6, "accuracy": 0.7},
        "run": {
            "data_source": "synthetic",
            "kedro_session_id": "v2",
            "input_versions": {"augmentation.clip.clips": "v1", "train_3dcnn_model": "v2"},
        },
    } | changes
    return make_card(summary, "3dcnn", "clips", INGESTION)


class _Trained:
    """What ``find_intervals`` reads of a trained model: its card."""

    def __init__(self) -> None:
        self.card = card()


def test_card_records_preprocessing_provenance_and_registry_tags():
    made = card()
    assert made.preprocessing.image_size == 32 and made.flow is None
    assert made.training_data_versions == {"augmentation.clip.clips": "v1"}  # not its own
    assert made.registered_name == "microexpression-binary-3dcnn"
    tags = made.tags()
    assert tags["data_source"] == "synthetic" and tags["protocol"] == "loso"
    assert (tags["uf1"], tags["uar"]) == ("0.5000", "0.6000")
    assert tags["warning"] == SYNTHETIC_WARNING
    assert "warning" not in card(run={"data_source": "real"}).tags()
    assert ModelCard.model_validate(json.loads(made.model_dump_json())) == made


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"onset": 3}, "together, or none"),
        ({"onset": 5, "apex": 2, "offset": 9}, "out of order"),
        ({"onset": -1, "apex": 2, "offset": 9}, "greater than or equal to 0"),
        ({"max_clip_frames": 2}, "greater than or equal to 3"),
    ],
)
def test_parameters_name_what_is_wrong(given: dict, message: str):
    with pytest.raises((ParameterError, ValueError), match=message):
        InferenceParams.model_validate(given)


def _frames(count: int) -> ClipFrames:
    return ClipFrames("clip.avi", "video", tuple(f"frame {i}" for i in range(count)),
                      tuple(range(count)), 100.0, 8, 8)  # fmt: skip


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ((0, 5, 12), "offset = 12 is outside the clip, whose frames are 0 to 9"),
        ((0, 10, 9), "apex = 10 is outside"),
        ((4, 2, 8), "out of order"),
        ((3, 4, 4), "fewer than 3 frames"),
    ],
)
def test_key_frames_outside_the_clip_or_out_of_order_are_refused(keys: tuple, message: str):
    with pytest.raises(InputError, match=message):
        selected_positions(_frames(10), *keys, between=3)


def test_key_frames_select_the_study_layout():
    assert selected_positions(_frames(20), 2, 10, 18, 3) == [2, 4, 6, 8, 10, 12, 14, 16, 18]


def test_frames_are_selected_by_frame_number_as_ingestion_selects_them():
    from microexpression_pipeline.pipelines.ingestion.frames import select_frames

    numbers = (*range(1, 10), *range(11, 22))  # frame 10 is missing
    names = tuple(f"img{n}.png" for n in numbers)
    frames = ClipFrames("folder", "frames", names, numbers, None, 8, 8)
    positions = selected_positions(frames, 0, 8, len(numbers) - 1, 3, tolerance=2)
    ingested = select_frames(dict(zip(numbers, names, strict=True)), 1, 9, 21, between=3,
                             tolerance=2)  # fmt: skip
    assert [names[p] for p in positions] == ingested.files
    assert [numbers[p] for p in positions] == [1, 3, 5, 7, 9, 12, 15, 18, 21]
    with pytest.raises(InputError, match="no frame within 0 of the requested"):
        selected_positions(frames, 0, 17, len(numbers) - 1, 3, tolerance=0)  # asks for 10


def test_a_card_for_clips_of_other_settings_is_refused():
    with pytest.raises(InputError, match=r"trained on clips of shape \[9, 64, 64\]"):
        card(clip_shape=[9, 64, 64])
    assert card(clip_shape=[9, 32, 32]).preprocessing.image_size == 32


def test_the_newest_complete_local_version_is_used(tmp_path: Path):
    import keras

    folder = tmp_path / "synthetic" / "binary" / "3dcnn"
    network = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    for version, made in (("2026-01-01", card()), ("2026-02-01", card(mode="binary"))):
        (folder / "card.json" / version).mkdir(parents=True)
        (folder / "card.json" / version / "card.json").write_text(made.model_dump_json())
        (folder / "model.keras" / version).mkdir(parents=True)
        network.save(folder / "model.keras" / version / "model.keras")
    (folder / "card.json" / "2026-03-01").mkdir()  # an interrupted save: no file
    trained = latest_local(str(tmp_path), "synthetic", "binary", "3dcnn")
    assert trained.uri.endswith("model.keras/2026-02-01/model.keras")
    (folder / "model.keras" / "2026-02-01" / "model.keras").unlink()
    with pytest.raises(InputError, match="has no model of the same run"):
        latest_local(str(tmp_path), "synthetic", "binary", "3dcnn")


def test_latest_local_model_missing_or_ambiguous(tmp_path: Path):
    with pytest.raises(InputError, match=r"no trained 3dcnn model for mode 'binary'.*kedro run"):
        latest_local(str(tmp_path), "synthetic", "binary", "3dcnn")
    with pytest.raises(InputError, match="selects 4 architectures"):
        latest_local(str(tmp_path), "synthetic", "binary", "study")


def test_unknown_mlflow_model_uri_is_an_input_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with pytest.raises(InputError, match=r"inference\.model: 'models:/no-such-model/1' cannot"):
        from_mlflow("models:/no-such-model/1")


def _render(folder: Path, seed: int) -> tuple[ClipSpec, int]:
    """One SMIC-HS-format clip (240x180 colour BMP) of the generator; its blink count."""
    rng = np.random.default_rng([seed, 1])
    subject = make_subject(rng, 240, 180, smic_format.FACE_FRACTION, colour=smic_format.COLOUR)
    spec = ClipSpec("SMIC", 1, "s1_po_01", "positive", "12", onset=6, apex=17, offset=28,
                    first=1, last=32, folder="s1")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    blinks = render_clip(
        subject, spec, np.random.default_rng([seed, 2]),
        lambda n: folder / f"image{n:06d}.bmp",
        au_amplitude=3.0, noise_sigma=2.0, jpeg_quality=85, frame_scale=32 / 65,
    )  # fmt: skip
    return spec, blinks


@pytest.mark.slow
def test_spotting_finds_the_apex_of_a_synthetic_clip_within_two_frames(tmp_path: Path):
    # A clip whose only facial movement is the expression: a blink is a facial movement too,
    # and spotting reports it as one (the module's docstring).
    for seed in range(20):
        spec, blinks = _render(tmp_path / str(seed), seed)
        if blinks == 0:
            break
    assert blinks == 0
    frames = read_clip_source(tmp_path / str(seed))
    intervals = find_intervals(frames, _Trained(), InferenceParams())
    assert len(intervals) == 1
    (row,) = intervals.itertuples()
    assert row.spotted and (row.onset, row.offset) == (0, len(frames) - 1)
    true_apex = frames.numbers.index(spec.apex)
    assert abs(row.apex - true_apex) <= 2, (row.apex, true_apex)


def _png(image: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".png", image)[1].tobytes()


def test_frames_without_a_face_are_refused_naming_the_frames():
    from microexpression_pipeline.pipelines.inference.preprocess import face_crop
    from microexpression_pipeline.pipelines.ingestion.faces import default_detector

    rng = np.random.default_rng(0)
    files = [_png(rng.integers(0, 255, (60, 80), dtype=np.uint8)) for _ in range(5)]
    frames = ClipFrames.from_image_files("request", files)
    with pytest.raises(InputError, match=r"no face found on frame 0 \(onset\) or frame 2"):
        face_crop(frames, 0, 2, card().preprocessing, default_detector())


def test_request_frames_of_different_sizes_or_too_few_are_refused():
    small, large = np.full((60, 80), 90, np.uint8), np.full((60, 81), 90, np.uint8)
    with pytest.raises(InputError, match="frame 2 is 81x60 px but frame 0 is 80x60 px"):
        ClipFrames.from_image_files("request", [_png(small), _png(small), _png(large)])
    with pytest.raises(InputError, match="has 2 frame"):
        ClipFrames.from_image_files("request", [_png(small)] * 2)
    with pytest.raises(InputError, match="frame 1 is not an image file"):
        ClipFrames.from_image_files("request", [_png(small), b"text", _png(small)])
