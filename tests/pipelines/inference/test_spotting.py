"""Spotting intervals of motion in aligned face crops."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from microexpression_pipeline.pipelines.inference.spotting import (
    Interval,
    motion_curve,
    spot_intervals,
)

SIDE = 32
PATCH = np.s_[12:20, 10:22]  # a region of the face that moves (inside the border)


def _face(seed: int = 0) -> np.ndarray:
    """A smooth textured face (float64, SIDE x SIDE), so that registration has a gradient."""
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.uniform(40, 200, (SIDE, SIDE)), (0, 0), 1.5)


def crops_with_events(
    count: int, apexes: list[int], *, noise: int = 0, amplitude: float = 60.0, seed: int = 0
) -> np.ndarray:
    """uint8 (count, SIDE, SIDE): a fixed face in which one region brightens and fades in a
    Gaussian bump (sigma 3 frames) around each apex, plus frame-to-frame noise."""
    rng = np.random.default_rng(seed)
    face = _face(seed)
    frames = np.arange(count, dtype=np.float64)
    bump = np.zeros(count)
    for apex in apexes:
        bump += amplitude * np.exp(-((frames - apex) ** 2) / (2 * 3.0**2))
    crops = np.repeat(face[None], count, axis=0)
    crops[(slice(None), *PATCH)] += bump[:, None, None]
    if noise:
        crops = crops + rng.integers(-noise, noise + 1, crops.shape)
    return np.clip(np.rint(crops), 0, 255).astype(np.uint8)


def test_motion_curve_measures_local_change_not_lighting_or_head_movement():
    face = _face()
    local = face.copy()
    local[PATCH] += 50
    shifted = np.roll(face, (1, 1), axis=(0, 1))  # the head moved by a pixel
    lit = face * 0.8 + 30  # the same face, dimmer and with less contrast
    crops = np.clip(np.rint(np.stack([face, local, shifted, lit])), 0, 255).astype(np.uint8)
    curve = motion_curve(crops)
    assert curve.dtype == np.float64
    assert curve[0] == 0.0
    assert curve[1] > 10 * max(curve[2], curve[3])  # a facial change dominates
    assert curve[2] < 2.0 and curve[3] < 2.0
    assert motion_curve(crops, start=1)[1] == 0.0


def test_single_clip_finds_the_apex_exactly():
    crops = crops_with_events(30, [17])
    assert spot_intervals(crops, max_clip_frames=30, threshold=1000.0) == [
        Interval(0, 17, 29, pytest.approx(motion_curve(crops)[17]))
    ]


def test_single_clip_is_one_interval_even_when_static():
    crops = np.full((5, SIDE, SIDE), 80, np.uint8)
    assert spot_intervals(crops, max_clip_frames=10, threshold=2.0) == [Interval(0, 1, 4, 0.0)]


def test_long_source_gives_one_interval_per_event():
    crops = crops_with_events(200, [50, 140], noise=1)
    intervals = spot_intervals(crops, max_clip_frames=30, threshold=4.0)
    assert len(intervals) == 2
    for interval, apex in zip(intervals, [50, 140], strict=True):
        assert abs(interval.apex - apex) <= 2
        assert interval.onset < interval.apex < interval.offset <= interval.onset + 29
        assert interval.peak >= 5.0
        assert interval.offset - interval.apex <= 6  # the bump halves ~3.5 frames on


def test_event_in_the_last_frames_is_found_by_the_last_window():
    # windows start at 0, 15, ..., 60, then 70 so that the last ends at frame 99
    intervals = spot_intervals(crops_with_events(100, [95]), max_clip_frames=30, threshold=4.0)
    assert [(i.onset, i.apex) for i in intervals] == [(70, 95)]


def test_static_noisy_long_source_spots_nothing():
    crops = crops_with_events(150, [], noise=3)
    assert spot_intervals(crops, max_clip_frames=30, threshold=5.0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_clip_frames": 2, "threshold": 1.0}, "inference.max_clip_frames"),
        ({"max_clip_frames": 30, "threshold": -1.0}, "inference.spotting_threshold"),
        ({"max_clip_frames": 30, "threshold": float("nan")}, "inference.spotting_threshold"),
        ({"max_clip_frames": 30, "threshold": 1.0, "stride": 0}, "stride"),
    ],
)
def test_argument_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spot_intervals(crops_with_events(40, [20]), **kwargs)
