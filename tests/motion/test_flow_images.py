"""Colour-wheel pictures of flow fields and grey pictures of strain."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from microexpression_pipeline.motion.flow_images import flow_to_rgb, strain_to_grey


def _field(u: float, v: float, size: int = 8) -> np.ndarray:
    return np.tile(np.float32([u, v]), (size, size, 1))


def _hue_degrees(rgb: np.ndarray) -> float:
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL)  # hue 0..255 for 0..360 degrees
    return float(hsv[..., 0].mean()) * 360 / 256


def test_zero_field_is_black() -> None:
    image = flow_to_rgb(np.zeros((6, 7, 2), dtype=np.float32))
    assert image.shape == (6, 7, 3)
    assert image.dtype == np.uint8
    assert not image.any()


def test_opposite_directions_are_opposite_hues() -> None:
    right, left = flow_to_rgb(_field(1, 0)), flow_to_rgb(_field(-1, 0))
    assert (right == right[0, 0]).all()
    assert right[0, 0].tolist() == [255, 0, 0]  # rightward is red, full brightness
    difference = abs(_hue_degrees(right) - _hue_degrees(left))
    assert difference == pytest.approx(180, abs=3)
    down, up = flow_to_rgb(_field(0, 1)), flow_to_rgb(_field(0, -1))
    assert abs(_hue_degrees(down) - _hue_degrees(up)) == pytest.approx(180, abs=3)
    assert not np.array_equal(down, right)


def test_magnitude_scaling_and_clipping() -> None:
    flow = np.zeros((1, 4, 2), dtype=np.float32)
    flow[0, :, 0] = [0.0, 0.5, 1.0, 2.0]
    clipped = flow_to_rgb(flow, max_magnitude=1.0).max(axis=2)[0]  # HSV value = max of RGB
    assert clipped.tolist() == [0, 128, 255, 255]
    own = flow_to_rgb(flow).max(axis=2)[0]  # scaled by the field's own maximum, 2
    assert own.tolist() == [0, 64, 128, 255]


def test_flow_to_rgb_rejects_bad_shape() -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 2\)"):
        flow_to_rgb(np.zeros((4, 4, 3)))


def test_strain_to_grey() -> None:
    strain = np.float32([[0.0, 0.05], [0.1, 0.4]])
    assert strain_to_grey(strain).tolist() == [[0, 32], [64, 255]]
    assert strain_to_grey(strain, max_value=0.1).tolist() == [[0, 128], [255, 255]]
    zero = strain_to_grey(np.zeros((3, 3), dtype=np.float32))
    assert zero.dtype == np.uint8
    assert not zero.any()
