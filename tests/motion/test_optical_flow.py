"""Dense optical flow, optical strain and flow features against known displacement fields."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from microexpression_pipeline.motion.optical_flow import (
    DEFAULT_SETTINGS,
    FLOW_METHODS,
    _make_flow,
    check_settings,
    clip_flows,
    dense_flow,
    flow_features,
    optical_strain,
)

SIZE = 128
BORDER = 6  # pixels left out of the error: the warp replicates the image edge there
# Mouth corners of the 128 px astronaut face and the outward-up direction of the pull.
MOUTH_CORNERS = (((42, 69), (-1.0, -1.0)), ((66, 68), (1.0, -1.0)))

# Mean end-point error bounds (pixels) over the face less BORDER; "lip" is the whole face,
# "lip_moving" only where the true displacement exceeds 0.5 px (mean true magnitude there:
# 0.95 px). Measured with OpenCV 5.0.0 (the module's defaults), the bounds ~1.5-2x that:
#   tvl1       shift0.5 0.022  shift1 0.021  shift2 0.021  lip 0.033  lip_moving 0.216
#   farneback  shift0.5 0.111  shift1 0.186  shift2 0.330  lip 0.048  lip_moving 0.177
#   dis        shift0.5 0.035  shift1 0.037  shift2 0.041  lip 0.018  lip_moving 0.097
EPE_BOUNDS = {
    "tvl1": {"shift0.5": 0.05, "shift1": 0.05, "shift2": 0.05, "lip": 0.07, "lip_moving": 0.35},
    "farneback": {"shift0.5": 0.2, "shift1": 0.3, "shift2": 0.5, "lip": 0.1, "lip_moving": 0.3},
    "dis": {"shift0.5": 0.07, "shift1": 0.07, "shift2": 0.08, "lip": 0.04, "lip_moving": 0.2},
}
SHIFT_DIRECTION = np.array([0.8, 0.6], dtype=np.float32)  # unit vector, right and down


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """The astronaut's face, grey uint8, SIZE x SIZE."""
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey[30:240, 135:345], (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    return xs, ys


def warp(image: np.ndarray, field: np.ndarray) -> np.ndarray:
    """``second`` with ``image[y, x] = second[y + v, x + u]``, (u, v) = field[y, x].

    second(q) = image(p) where p + field(p) = q, solved by fixed-point iteration.
    """
    xs, ys = _grid(image.shape[0])
    px, py = xs.copy(), ys.copy()
    for _ in range(20):
        u = cv2.remap(field[..., 0], px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        v = cv2.remap(field[..., 1], px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        px, py = xs - u, ys - v
    out = cv2.remap(
        image.astype(np.float32), px, py, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def uniform_field(
    magnitude: float, size: int = SIZE, direction: np.ndarray = SHIFT_DIRECTION
) -> np.ndarray:
    return np.tile(direction * magnitude, (size, size, 1)).astype(np.float32)


def lip_pull_field(amplitude: float = 1.5, sigma: float = 10.0) -> np.ndarray:
    """Gaussian bumps of displacement at both mouth corners, pointing outward and up."""
    xs, ys = _grid(SIZE)
    field = np.zeros((SIZE, SIZE, 2), dtype=np.float32)
    for (cx, cy), direction in MOUTH_CORNERS:
        unit = np.asarray(direction) / np.hypot(*direction)
        bump = amplitude * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2))
        field += bump[..., None] * unit.astype(np.float32)
    return field


def end_point_error(flow: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.linalg.norm(flow - truth, axis=2)[BORDER:-BORDER, BORDER:-BORDER]


@pytest.mark.parametrize("method", FLOW_METHODS)
@pytest.mark.parametrize("magnitude", [0.5, 1.0, 2.0])
def test_uniform_subpixel_shift(face: np.ndarray, method: str, magnitude: float) -> None:
    truth = uniform_field(magnitude)
    flow = dense_flow(face, warp(face, truth), method)
    assert flow.shape == (SIZE, SIZE, 2)
    assert flow.dtype == np.float32
    bound = EPE_BOUNDS[method][f"shift{magnitude:g}"]
    assert bound < magnitude / 2
    assert end_point_error(flow, truth).mean() < bound


@pytest.mark.parametrize("method", FLOW_METHODS)
def test_local_lip_corner_pull(face: np.ndarray, method: str) -> None:
    truth = lip_pull_field()
    flow = dense_flow(face, warp(face, truth), method)
    error = end_point_error(flow, truth)
    moving = (np.linalg.norm(truth, axis=2) > 0.5)[BORDER:-BORDER, BORDER:-BORDER]
    assert error.mean() < EPE_BOUNDS[method]["lip"]
    assert error[moving].mean() < EPE_BOUNDS[method]["lip_moving"]
    for (cx, cy), _ in MOUTH_CORNERS:
        estimated = flow[cy - 2 : cy + 3, cx - 2 : cx + 3].reshape(-1, 2).mean(axis=0)
        true = truth[cy, cx]
        cosine = estimated @ true / (np.linalg.norm(estimated) * np.linalg.norm(true))
        assert cosine > 0.95, (estimated, true)
        assert 0.5 < np.linalg.norm(estimated) / np.linalg.norm(true) < 1.3, (estimated, true)


def test_dense_flow_rejects_bad_frames(face: np.ndarray) -> None:
    with pytest.raises(ValueError, match="uint8"):
        dense_flow(face.astype(np.float32), face)
    with pytest.raises(ValueError, match="uint8"):
        dense_flow(np.dstack([face, face, face]), face)
    with pytest.raises(ValueError, match="differ in shape"):
        dense_flow(face, face[:64, :64])


def test_strain_of_translation_is_zero() -> None:
    flow = np.tile(np.float32([1.3, -0.7]), (20, 20, 1))
    assert np.abs(optical_strain(flow)).max() < 1e-6


@pytest.mark.parametrize(
    ("component", "axis", "expected"), [(0, "x", 1.0), (0, "y", 0.5**0.5), (1, "x", 0.5**0.5)]
)
def test_strain_of_linear_fields(component: int, axis: str, expected: float) -> None:
    """u = a x gives strain a; the shears u = b y and v = b x give b / sqrt(2) (the shear
    e = b / 2 on both off-diagonals of the strain tensor)."""
    xs, ys = _grid(24)
    coefficient = 0.03
    flow = np.zeros((24, 24, 2), dtype=np.float32)
    flow[..., component] = coefficient * (xs if axis == "x" else ys)
    strain = optical_strain(flow)
    assert strain.shape == (24, 24)
    assert strain.dtype == np.float32
    np.testing.assert_allclose(strain[2:-2, 2:-2], coefficient * expected, rtol=1e-5)


def test_strain_combines_normal_and_shear_terms() -> None:
    xs, ys = _grid(16)
    flow = np.dstack([0.02 * xs + 0.04 * ys, 0.01 * ys + 0.06 * xs]).astype(np.float32)
    expected = np.sqrt(0.02**2 + 0.01**2 + (0.04 + 0.06) ** 2 / 2)
    np.testing.assert_allclose(optical_strain(flow), expected, rtol=1e-5)


@pytest.mark.parametrize("angle_deg", [30.0, 45.0, 90.0])
def test_strain_does_not_change_when_the_field_turns(angle_deg: float) -> None:
    """A linear field and the same motion seen turned by an angle (gradient R G R^T) have the
    same strain: the norm of the strain tensor is rotation invariant (the form with
    ((u_y + v_x) / 2)^2 is not: 0.055 against 0.074 at 45 degrees for this field)."""
    xs, ys = _grid(16)
    gradient = np.array([[0.02, 0.04], [0.06, 0.01]])  # [[u_x, u_y], [v_x, v_y]]
    angle = np.radians(angle_deg)
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strains = []
    for g in (gradient, turn @ gradient @ turn.T):
        flow = np.dstack([g[0, 0] * xs + g[0, 1] * ys, g[1, 0] * xs + g[1, 1] * ys])
        strains.append(optical_strain(flow.astype(np.float32))[2:-2, 2:-2])
    np.testing.assert_allclose(strains[1], strains[0], rtol=1e-5)


def test_flow_features_scale_displacement_to_the_stored_grid(face: np.ndarray) -> None:
    """A 2 px shift at 112 px, stored at 28 px, is a 0.5 px shift of the stored grid."""
    at_112 = cv2.resize(face, (112, 112), interpolation=cv2.INTER_AREA)
    second = warp(at_112, uniform_field(2.0, 112))
    features = flow_features(at_112, second, "dis", size=28)
    assert features.shape == (28, 28, 3)
    assert features.dtype == np.float32
    inner = features[3:-3, 3:-3]
    np.testing.assert_allclose(
        np.median(inner[..., :2], axis=(0, 1)), SHIFT_DIRECTION * 0.5, atol=0.05
    )
    assert (features[..., 2] >= 0).all()
    assert np.median(inner[..., 2]) < 0.05  # a translation has (almost) no strain

    # The same motion given at 56 px (1 px) and computed at 112: the same stored shift.
    at_56 = cv2.resize(face, (56, 56), interpolation=cv2.INTER_AREA)
    second_56 = warp(at_56, uniform_field(1.0, 56))
    upsampled = flow_features(at_56, second_56, "dis", size=28, compute_size=112)
    np.testing.assert_allclose(
        np.median(upsampled[3:-3, 3:-3, :2], axis=(0, 1)), SHIFT_DIRECTION * 0.5, atol=0.05
    )


def test_flow_features_strain_sees_the_lip_pull(face: np.ndarray) -> None:
    features = flow_features(face, warp(face, lip_pull_field()), "dis", size=28)
    strain = features[..., 2]
    assert (strain >= 0).all()
    # Around the mouth (rows 12..18 of 28) the strain is far above the still forehead.
    assert strain[12:19, 8:20].mean() > 3 * strain[4:8, 10:18].mean()


@pytest.fixture(scope="module")
def clips(face: np.ndarray) -> np.ndarray:
    """Two 5-frame 32 px clips whose face moves right by 0.5 px per frame."""
    small = cv2.resize(face, (32, 32), interpolation=cv2.INTER_AREA)
    right = np.float32([1, 0])
    frames = [warp(small, uniform_field(0.5 * f, 32, right)) for f in range(5)]
    clip = np.stack(frames)
    return np.stack([clip, clip[:, ::-1, :]])  # the second upside down


@pytest.mark.parametrize("method", FLOW_METHODS)
def test_clip_flows_shapes_and_determinism(clips: np.ndarray, method: str) -> None:
    apex = clip_flows(clips, method, size=28)
    assert apex.shape == (2, 28, 28, 3)
    assert apex.dtype == np.float16
    sequence = clip_flows(clips, method, size=28, sequence=True)
    assert sequence.shape == (2, 5, 28, 28, 3)
    assert sequence.dtype == np.float16
    assert not sequence[:, 0].any()
    assert sequence[:, 1:].any()
    np.testing.assert_array_equal(sequence[:, 2], apex)  # apex is frame 5 // 2 = 2
    np.testing.assert_array_equal(clip_flows(clips, method, size=28, sequence=True), sequence)
    # Onset -> apex is a 1 px rightward shift at 32 px: 28 / 32 * 1 px stored.
    assert np.median(apex[:, 4:-4, 4:-4, 0].astype(np.float32)) == pytest.approx(0.875, abs=0.15)


def test_clip_flows_rejects_bad_clips(clips: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"\(N, F, H, W\)"):
        clip_flows(clips[0])
    with pytest.raises(ValueError, match="uint8"):
        clip_flows(clips.astype(np.float32))


def test_check_settings_merges_defaults() -> None:
    merged = check_settings("tvl1", {"lambda": 0.3})
    assert merged["lambda"] == 0.3
    assert merged["warps"] == DEFAULT_SETTINGS["tvl1"]["warps"]
    assert check_settings("farneback", None) == DEFAULT_SETTINGS["farneback"]
    assert set(DEFAULT_SETTINGS) == set(FLOW_METHODS)


def test_check_settings_names_the_parameter_path() -> None:
    with pytest.raises(ValueError, match=r"features\.flow\.methods\.tvl1\.lamda") as info:
        check_settings("tvl1", {"lamda": 0.3})
    assert "lambda" in str(info.value)  # lists the valid keys
    with pytest.raises(ValueError, match=r"features\.flow\.methods\.raft") as info:
        check_settings("raft", {})
    assert "tvl1, farneback, dis" in str(info.value)
    with pytest.raises(ValueError, match=r"features\.flow\.methods\.dis\.preset"):
        check_settings("dis", {"preset": "slow"})


def test_settings_reach_opencv() -> None:
    tvl1 = _make_flow(
        "tvl1", {"lambda": 0.3, "inner_iterations": 7, "scale_step": 0.6, "median_filtering": 3}
    )
    assert tvl1.getLambda() == pytest.approx(0.3)
    assert tvl1.getInnerIterations() == 7
    assert tvl1.getScaleStep() == pytest.approx(0.6)
    assert tvl1.getMedianFiltering() == 3
    dis = _make_flow("dis", {"preset": "fast", "patch_size": 6})
    assert dis.getFinestScale() == 0  # the module's default overrides the preset's
    assert dis.getPatchSize() == 6
    assert _make_flow("dis", {"finest_scale": None, "preset": "fast"}).getFinestScale() == 2
