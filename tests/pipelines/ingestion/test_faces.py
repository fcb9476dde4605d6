"""Alignment geometry and intensity normalisation."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from microexpression_pipeline.pipelines.ingestion.decoding import decode_frame
from microexpression_pipeline.pipelines.ingestion.faces import (
    Face,
    aligned_crop,
    apply_crop,
    raw_to_crop,
)


@pytest.mark.parametrize("angle", [0.0, 12.0, -20.0])
def test_eyes_level_and_fixed_distance(angle):
    centre, half = np.array([300.0, 200.0]), 40.0
    direction = np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
    left, right = centre - half * direction, centre + half * direction
    face = Face((0, 0, 1, 1), tuple(left), tuple(right), 0.99)
    crop = aligned_crop(face, margin=0.15)
    out = 64
    a, b = raw_to_crop(tuple(left), crop, out), raw_to_crop(tuple(right), crop, out)
    assert a[1] == pytest.approx(b[1], abs=1e-6)  # level
    assert b[0] > a[0]
    assert np.hypot(*(b - a)) == pytest.approx(out / (2.4 * 1.3), rel=1e-6)
    assert (a[0] + b[0]) / 2 == pytest.approx(out / 2)


def test_same_crop_from_reduced_decode():
    image = np.zeros((400, 600), np.uint8)
    cv2.circle(image, (300, 200), 60, 255, -1)
    _ok, data = cv2.imencode(".jpg", image)
    full, scale_full, shape = decode_frame(data.tobytes(), gray=True)
    half, scale_half, _ = decode_frame(data.tobytes(), gray=True, min_scale=0.3)
    assert (shape, scale_full, scale_half) == ((400, 600), 1.0, 0.5)
    face = Face((0, 0, 1, 1), (270.0, 180.0), (330.0, 180.0), 1.0)
    crop = aligned_crop(face, 0.15)
    a = apply_crop(full, crop, 32).astype(int)
    b = apply_crop(half, crop, 32, scale_half).astype(int)
    assert np.abs(a - b).mean() < 4
