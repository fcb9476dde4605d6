"""Transforms: one draw per clip shared by every frame, fills, ranges and probabilities."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from microexpression_pipeline.pipelines.augmentation.transforms import (
    add_gaussian_noise,
    affine_with_corner_fill,
    apply_draw,
    augment_clip,
    draw_transforms,
    translate_wrap,
)


def _only(transform_set: dict, name: str) -> dict:
    out = dict(transform_set)
    for key in ("translate", "rotate", "noise", "brightness_contrast", "scale"):
        out[key] = {**out[key], "enabled": key == name, "probability": 1.0}
    return out


def _smooth_clip(frames: int = 9, size: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, size=(frames, size, size), dtype=np.uint8)
    return np.stack([cv2.GaussianBlur(f, (5, 5), 1.5) for f in noise])


def test_translation_is_the_same_on_every_frame(augmentation):
    transform_set = _only(augmentation["transform_sets"]["clip"], "translate")
    clip = np.random.default_rng(1).integers(0, 256, size=(9, 32, 32), dtype=np.uint8)
    rng = np.random.default_rng(3)
    for _ in range(10):
        draw = draw_transforms(rng, transform_set, 32, 32)
        out = augment_clip(clip, [draw])
        shifts = [
            [s for s in range(-32, 33) if np.array_equal(np.roll(clip[f], s, axis=1), out[f])]
            for f in range(9)
        ]
        assert all(draw["translate"]["shift_px"] in found for found in shifts)
        assert all(found == shifts[0] for found in shifts)


def test_rotation_is_the_same_on_every_frame(augmentation):
    transform_set = _only(augmentation["transform_sets"]["clip"], "rotate")
    clip = _smooth_clip()
    draw = draw_transforms(np.random.default_rng(5), transform_set, 32, 32)
    out = augment_clip(clip, [draw])
    grid = np.round(np.arange(-14, 14.01, 0.5), 2)
    best = []
    for f in range(9):
        errors = [
            np.abs(
                affine_with_corner_fill(clip[f : f + 1], a, 1.0, 2)[0].astype(int) - out[f]
            ).mean()
            for a in grid
        ]
        best.append(grid[int(np.argmin(errors))])
    assert len(set(best)) == 1
    assert abs(best[0] - draw["rotate"]["angle_deg"]) <= 0.25


def test_identical_frames_stay_identical_with_one_draw_per_clip(augmentation):
    transform_set = dict(augmentation["transform_sets"]["clip"])
    transform_set["noise"] = {**transform_set["noise"], "enabled": False}
    transform_set["brightness_contrast"] = {**transform_set["brightness_contrast"], "enabled": True}
    transform_set["scale"] = {**transform_set["scale"], "enabled": True}
    clip = np.repeat(_smooth_clip(1), 9, axis=0)
    rng = np.random.default_rng(0)
    for _ in range(20):
        out = augment_clip(clip, [draw_transforms(rng, transform_set, 32, 32)])
        assert all(np.array_equal(out[0], out[f]) for f in range(9))


def test_per_frame_set_draws_each_frame_on_its_own(augmentation):
    transform_set = _only(augmentation["transform_sets"]["frame2d"], "rotate")
    clip = np.repeat(_smooth_clip(1), 9, axis=0)
    rng = np.random.default_rng(0)
    draws = [draw_transforms(rng, transform_set, 32, 32) for _ in range(9)]
    out = augment_clip(clip, draws)
    assert len({d["rotate"]["angle_deg"] for d in draws}) == 9
    assert len({out[f].tobytes() for f in range(9)}) == 9


def test_rotation_fills_uncovered_corners_with_the_corner_mean():
    frames = np.full((2, 32, 32), 100, dtype=np.uint8)
    out = affine_with_corner_fill(frames, 13.0, 1.0, 2)
    assert np.array_equal(out, frames)
    frames[:, :4, :4] = 200  # top-left corner brighter: its uncovered corner gets 200
    out = affine_with_corner_fill(frames, 13.0, 1.0, 4)
    assert out[0, 0, 0] == 200 and out[0, 31, 31] == 100


def test_translation_wraps_the_band_from_the_opposite_edge():
    frames = np.arange(2 * 4 * 8, dtype=np.uint8).reshape(2, 4, 8)
    out = translate_wrap(frames, 3)
    assert np.array_equal(out[:, :, :3], frames[:, :, -3:])
    assert np.array_equal(out[:, :, 3:], frames[:, :, :-3])


def test_noise_is_clipped_and_has_the_drawn_mean():
    frames = np.full((9, 32, 32), 128, dtype=np.uint8)
    out = add_gaussian_noise(frames, mean=5.0, sigma=3.0, seed=1)
    assert out.dtype == np.uint8
    assert abs(out.mean() - 133) < 0.3
    bright = add_gaussian_noise(np.full((1, 8, 8), 254, np.uint8), mean=6.0, sigma=10.0, seed=1)
    assert bright.max() == 255


def test_draws_respect_ranges_scaling_and_at_least_one_transform(augmentation):
    transform_set = augmentation["transform_sets"]["clip"]
    rng = np.random.default_rng(0)
    draws = [draw_transforms(rng, transform_set, 32, 32) for _ in range(2000)]
    assert all(draws)
    assert {name for d in draws for name in d} == {"translate", "rotate", "noise"}
    for name in ("translate", "rotate", "noise"):
        assert 0.5 < np.mean([name in d for d in draws]) < 0.65  # 0.5 / (1 - 1/8) = 0.571
    shifts = np.array([d["translate"]["shift_px"] for d in draws if "translate" in d])
    assert set(np.abs(shifts)) <= {1, 2, 3, 4} and (shifts < 0).any() and (shifts > 0).any()
    angles = np.array([d["rotate"]["angle_deg"] for d in draws if "rotate" in d])
    assert np.all((np.abs(angles) >= 1) & (np.abs(angles) <= 13))
    noise = [d["noise"] for d in draws if "noise" in d]
    assert all(1 <= n["mean"] <= 6 and 1 <= n["sigma"] <= 10 for n in noise)
    wide = [draw_transforms(rng, transform_set, 128, 128) for _ in range(500)]
    big = np.abs([d["translate"]["shift_px"] for d in wide if "translate" in d])
    assert big.min() >= 1 and big.max() == 15


def test_draws_and_results_are_deterministic(augmentation):
    transform_set = augmentation["transform_sets"]["clip"]
    clip = _smooth_clip()
    first = [draw_transforms(np.random.default_rng(7), transform_set, 32, 32) for _ in range(3)]
    second = [draw_transforms(np.random.default_rng(7), transform_set, 32, 32) for _ in range(3)]
    assert first == second
    assert np.array_equal(apply_draw(clip, first[0]), apply_draw(clip, second[0]))


def test_no_enabled_transform_is_refused(augmentation):
    transform_set = dict(augmentation["transform_sets"]["clip"])
    for key in ("translate", "rotate", "noise"):
        transform_set[key] = {**transform_set[key], "enabled": False}
    with pytest.raises(ValueError, match="enables no transform"):
        draw_transforms(np.random.default_rng(0), transform_set, 32, 32)
