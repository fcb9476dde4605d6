"""The Action Units move the right part of the face; the baseline learns from the motion."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.pipelines.synthetic import create_pipeline
from microexpression_pipeline.pipelines.synthetic.nodes import (
    evaluate_frame_difference_baseline,
    generate_synthetic_sample,
)
from microexpression_pipeline.synthetic.action_units import displacement_field, parse_action_units
from microexpression_pipeline.synthetic.baseline import run_baseline
from microexpression_pipeline.synthetic.clips import expression_profile
from microexpression_pipeline.synthetic.face import make_subject
from microexpression_pipeline.synthetic.settings import SyntheticSettings


def _apex_change(action_units: str) -> tuple[np.ndarray, np.ndarray]:
    """|apex - neutral| of a subject showing ``action_units`` (no distractors), and landmarks."""
    subject = make_subject(np.random.default_rng(4), 480, 256, 0.4)
    field = displacement_field(subject.landmarks, action_units, subject.image.shape)
    grid_x, grid_y = np.meshgrid(np.arange(480, dtype=np.float32), np.arange(256, dtype=np.float32))
    apex = cv2.remap(
        subject.image, grid_x - field[..., 0], grid_y - field[..., 1], cv2.INTER_LINEAR
    )
    return np.abs(apex - subject.image), subject.landmarks


def _mean_around(change: np.ndarray, point: np.ndarray, half: int) -> float:
    x, y = np.round(point).astype(int)
    return float(change[y - half : y + half, x - half : x + half].mean())


def _region_means(change: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
    """Mean change around the mouth corners and around the brows."""
    left_eye, right_eye, _, mouth_left, mouth_right = landmarks
    iod = np.linalg.norm(right_eye - left_eye)
    half = int(0.35 * iod)
    brow = np.array([0.0, -0.4 * iod])
    mouth = np.mean([_mean_around(change, p, half) for p in (mouth_left, mouth_right)])
    brows = np.mean([_mean_around(change, p + brow, half) for p in (left_eye, right_eye)])
    return mouth, brows


def test_lip_corner_pull_moves_the_mouth_not_the_brows():
    mouth, brows = _region_means(*_apex_change("12"))
    assert mouth > 0.5
    assert mouth > 5 * brows


def test_brow_lowering_moves_the_brows_not_the_mouth():
    mouth, brows = _region_means(*_apex_change("4"))
    assert brows > 0.5
    assert brows > 5 * mouth


def test_unilateral_unit_moves_one_side_only():
    change, landmarks = _apex_change("R14")
    left, right = (_mean_around(change, corner, 12) for corner in landmarks[3:])
    assert left > 5 * right  # the subject's right is the image's left


def test_action_unit_codes_parse_like_the_sheets():
    assert parse_action_units("R6A+12") == [(6, "R"), (12, "")]
    assert parse_action_units("15A + 17") == [(15, ""), (17, "")]
    with pytest.raises(ValueError, match="unsupported Action Unit '99'"):
        parse_action_units("4+99")


def test_expression_rises_to_apex_and_fades_by_offset():
    frames = np.arange(0, 40)
    profile = expression_profile(frames, onset=10, apex=18, offset=30)
    assert profile[:11].max() == 0 and profile[30:].max() == 0
    assert profile[18] == pytest.approx(1.0)
    assert np.all(np.diff(profile[10:19]) > 0) and np.all(np.diff(profile[18:31]) < 0)


def test_generated_apex_differs_from_onset_in_the_face(sample):
    truth = pd.read_csv(sample["ground_truth_csv"]).query("dataset == 'SAMM'")
    row = truth.iloc[0]
    folder = f"{sample['output_dir']}/{row.clip_dir}"
    onset, apex = (
        cv2.imread(f"{folder}/{name}", 0).astype(float) for name in (row.onset_file, row.apex_file)
    )
    assert np.abs(apex - onset).mean() > 0


def test_baseline_on_a_small_sample(tmp_path, tiny_settings):
    settings = {**tiny_settings, "size": 0.2, "output_dir": str(tmp_path / "s")}
    summary = generate_synthetic_sample(SyntheticSettings.model_validate(settings), 0)
    report, metrics = evaluate_frame_difference_baseline(summary)
    assert set(report) == {"binary", "multiclass"}
    assert report["multiclass"]["n_classes"] == 7
    assert report["binary"]["n_clips"] == len(
        pd.read_csv(summary["samm_metadata_csv"]).query(
            "`Estimated Emotion` not in ['Other', 'Surprise']"
        )
    )
    for scores in report.values():
        assert 0.0 <= scores["accuracy"] <= 1.0 and 0.0 <= scores["uar"] <= 1.0
        assert scores["n_subjects"] == 6
    assert metrics["binary.uar"] == {"value": report["binary"]["uar"], "step": 0}


def test_baseline_refuses_too_few_subjects(sample):
    with pytest.raises(ValueError, match="needs two classes and two subjects"):
        run_baseline(
            sample["output_dir"],
            sample["ground_truth_csv"],
            {"one": {"a": ("Anger",), "b": ("Nope",)}},
        )


def test_pipeline_wiring():
    pipeline = create_pipeline()
    assert {n.name for n in pipeline.nodes} == {
        "generate_synthetic_sample",
        "evaluate_synthetic_baseline",
    }
    assert pipeline.inputs() == {"params:synthetic", "params:seed"}
    assert pipeline.outputs() == {"synthetic_baseline_report", "synthetic_baseline_metrics"}
