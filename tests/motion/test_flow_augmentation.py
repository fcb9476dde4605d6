"""Augmenting frames and recomputing flow transforms the flow as the image: a rotation
rotates the field and its vectors, a zoom scales them, a shift moves the field."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from microexpression_pipeline.motion.optical_flow import dense_flow
from microexpression_pipeline.pipelines.augmentation.transforms import apply_draw

SIZE = 96


def _face_pair() -> np.ndarray:
    """Onset and apex (2 x SIZE x SIZE uint8): the astronaut's face, and the same face with
    its mouth corners pulled outwards and up by a smooth field of up to 1.5 px."""
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    onset = cv2.resize(grey[40:250, 125:335], (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    u = np.zeros_like(xs)
    v = np.zeros_like(xs)
    for cx, direction in ((0.38 * SIZE, -1.0), (0.62 * SIZE, 1.0)):
        bump = 1.5 * np.exp(-((xs - cx) ** 2 + (ys - 0.7 * SIZE) ** 2) / (2 * 8.0**2))
        u += direction * bump
        v -= 0.5 * bump
    # apex(x + flow(x)) = onset(x): sample the onset at x - flow (first order).
    apex = cv2.remap(onset, xs - u, ys - v, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return np.stack([onset, apex])


def _rotated_field(
    flow: np.ndarray, angle_deg: float, scale: float = 1.0, transform_vectors: bool = True
) -> np.ndarray:
    """``flow`` as the camera sees it after rotating/zooming the frames about their centre:
    the field moved with the image and its vectors rotated and scaled with it."""
    centre = ((SIZE - 1) / 2.0, (SIZE - 1) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, angle_deg, scale)
    moved = np.stack(
        [
            cv2.warpAffine(flow[..., i], matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR)
            for i in (0, 1)
        ],
        axis=-1,
    )
    return moved @ matrix[:, :2].T.astype(np.float32) if transform_vectors else moved


def _epe(a: np.ndarray, b: np.ndarray, border: int = 20, mask: np.ndarray | None = None) -> float:
    """Mean end-point error inside a border (or over ``mask``)."""
    if mask is not None:
        return float(np.linalg.norm(a[mask] - b[mask], axis=-1).mean())
    inner = (slice(border, -border), slice(border, -border))
    return float(np.linalg.norm(a[inner] - b[inner], axis=-1).mean())


@pytest.fixture(scope="module")
def pair() -> np.ndarray:
    return _face_pair()


@pytest.mark.parametrize(
    ("draw", "angle", "scale"),
    [
        ({"rotate": {"angle_deg": 12.0, "corner_patch_px": 6}}, 12.0, 1.0),
        ({"rotate": {"angle_deg": -12.0, "corner_patch_px": 6}}, -12.0, 1.0),
        ({"scale": {"factor": 1.2, "corner_patch_px": 6}}, 0.0, 1.2),
    ],
)
def test_recomputed_flow_is_the_transformed_flow(
    pair: np.ndarray, draw: dict, angle: float, scale: float
) -> None:
    original = dense_flow(pair[0], pair[1], "tvl1")
    augmented = apply_draw(pair, draw)
    recomputed = dense_flow(augmented[0], augmented[1], "tvl1")
    expected = _rotated_field(original, angle, scale)
    # The transformed field, not the untouched one: vectors turned by the angle.
    assert _epe(recomputed, expected) < 0.12
    moving = np.hypot(*np.moveaxis(expected, -1, 0)) > 0.5
    assert moving.sum() > 50
    # Where the face moves, the recomputed vectors are the turned / scaled ones: closer to
    # them than to the field moved with the image but with its vectors left as they were.
    unturned = _rotated_field(original, angle, scale, transform_vectors=False)
    near, far = _epe(recomputed, expected, mask=moving), _epe(recomputed, unturned, mask=moving)
    assert near < 0.7 * far, (near, far)


def test_horizontal_shift_moves_the_field(pair: np.ndarray) -> None:
    original = dense_flow(pair[0], pair[1], "tvl1")
    shifted = dense_flow(*apply_draw(pair, {"translate": {"shift_px": 7}}), "tvl1")
    assert _epe(shifted, np.roll(original, 7, axis=1)) < 0.08
    assert _epe(shifted, original) > 2 * _epe(shifted, np.roll(original, 7, axis=1))


def test_photometric_change_leaves_the_flow(pair: np.ndarray) -> None:
    original = dense_flow(pair[0], pair[1], "tvl1")
    brighter = apply_draw(pair, {"brightness_contrast": {"brightness": 15.0, "contrast": 1.1}})
    assert _epe(dense_flow(brighter[0], brighter[1], "tvl1"), original) < 0.1
