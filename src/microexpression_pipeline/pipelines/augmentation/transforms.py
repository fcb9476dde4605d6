"""Clip transforms: one draw of parameters, applied with OpenCV/NumPy to whole frame stacks.

A *draw* is a plain dict ``{transform name: {parameter: value}}`` holding only the transforms
applied, with sizes already scaled to the image (e.g. ``{"translate": {"shift_px": -3}}``).
Noise carries its own seed, so a draw recorded in the sample table reproduces the clip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

# Order in which applied transforms act on a clip: geometry first, then intensities.
TRANSFORM_ORDER: tuple[str, ...] = ("scale", "rotate", "translate", "brightness_contrast", "noise")

Draw = dict[str, dict[str, Any]]


def _uniform(rng: np.random.Generator, bounds: list[float]) -> float:
    low, high = float(bounds[0]), float(bounds[1])
    return round(float(rng.uniform(low, high)), 4)


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


def draw_transforms(
    rng: np.random.Generator, transform_set: Mapping[str, Any], height: int, width: int
) -> Draw:
    """Pick which transforms apply (each with its probability) and draw their parameters."""
    enabled = [
        name
        for name in TRANSFORM_ORDER
        if name in transform_set and transform_set[name].get("enabled", False)
    ]
    if not enabled:
        raise ValueError(
            "augmentation.transform_sets: the selected set enables no transform; "
            "set `enabled: true` on at least one of " + ", ".join(TRANSFORM_ORDER)
        )
    probabilities = np.array([transform_set[name]["probability"] for name in enabled], float)
    needed = min(int(transform_set.get("min_transforms", 1)), len(enabled))
    # Redraw until enough transforms are picked: the choice conditioned on "at least one".
    chosen = rng.random(len(enabled)) < probabilities
    for _ in range(1000):
        if chosen.sum() >= needed:
            break
        chosen = rng.random(len(enabled)) < probabilities
    else:  # pragma: no cover - only with vanishing probabilities
        chosen[rng.choice(len(enabled), size=needed, replace=False)] = True
    ref = float(transform_set.get("reference_size", 128))
    size_factor = width / ref
    patch = max(1, round(int(transform_set.get("corner_patch_px", 8)) * min(height, width) / ref))
    draw: Draw = {}
    for name, on in zip(enabled, chosen, strict=True):
        if not on:
            continue
        cfg = transform_set[name]
        if name == "translate":
            low, high = (int(v) for v in cfg["shift_px"])
            shift = int(rng.integers(low, high + 1))
            scaled = max(1, round(shift * size_factor))
            draw[name] = {"shift_px": _sign(rng) * scaled}
        elif name == "rotate":
            draw[name] = {
                "angle_deg": _sign(rng) * _uniform(rng, cfg["angle_deg"]),
                "corner_patch_px": patch,
            }
        elif name == "scale":
            draw[name] = {"factor": _uniform(rng, cfg["factor"]), "corner_patch_px": patch}
        elif name == "brightness_contrast":
            draw[name] = {
                "brightness": _uniform(rng, cfg["brightness"]),
                "contrast": _uniform(rng, cfg["contrast"]),
            }
        elif name == "noise":
            draw[name] = {
                "mean": _uniform(rng, cfg["mean"]),
                "sigma": _uniform(rng, cfg["sigma"]),
                "seed": int(rng.integers(0, 2**31 - 1)),
            }
    return draw


def _corner_fill(frames: np.ndarray, patch: int) -> np.ndarray:
    """Per frame and pixel, the mean of the corner patch of the quadrant the pixel lies in."""
    _, height, width = frames.shape
    p = max(1, min(patch, height // 2, width // 2))
    means = np.stack(
        [
            frames[:, :p, :p].mean(axis=(1, 2)),
            frames[:, :p, -p:].mean(axis=(1, 2)),
            frames[:, -p:, :p].mean(axis=(1, 2)),
            frames[:, -p:, -p:].mean(axis=(1, 2)),
        ],
        axis=1,
    ).astype(np.float32)
    rows = (np.arange(height) >= height / 2).astype(np.intp)[:, None]
    cols = (np.arange(width) >= width / 2).astype(np.intp)[None, :]
    return means[:, rows * 2 + cols]


def affine_with_corner_fill(
    frames: np.ndarray, angle_deg: float, scale: float, corner_patch_px: int
) -> np.ndarray:
    """Rotate/scale every frame about its centre; uncovered corners get the corner-patch mean."""
    _, height, width = frames.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), angle_deg, scale)
    warp = {
        "dsize": (width, height),
        "flags": cv2.INTER_LINEAR,
        "borderMode": cv2.BORDER_CONSTANT,
        "borderValue": 0,
    }
    source = frames.astype(np.float32)
    warped = np.stack([cv2.warpAffine(frame, matrix, **warp) for frame in source])
    coverage = cv2.warpAffine(np.ones((height, width), np.float32), matrix, **warp)
    filled = warped + (1.0 - coverage)[None] * _corner_fill(frames, corner_patch_px)
    return np.clip(np.rint(filled), 0, 255).astype(np.uint8)


def translate_wrap(frames: np.ndarray, shift_px: int) -> np.ndarray:
    """Shift every frame horizontally; the uncovered band is filled from the opposite edge."""
    return np.roll(frames, int(shift_px), axis=2)


def brightness_contrast(frames: np.ndarray, brightness: float, contrast: float) -> np.ndarray:
    """Scale intensities about mid-grey by ``contrast`` and add ``brightness``; clipped."""
    out = (frames.astype(np.float32) - 127.5) * contrast + 127.5 + brightness
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def add_gaussian_noise(frames: np.ndarray, mean: float, sigma: float, seed: int) -> np.ndarray:
    """Add Gaussian noise (0-255 scale, drawn from ``seed``); clipped to uint8."""
    out = np.random.default_rng(seed).standard_normal(size=frames.shape, dtype=np.float32)
    out *= np.float32(sigma)
    out += np.float32(mean)
    out += frames
    np.rint(out, out=out)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def apply_draw(frames: np.ndarray, draw: Mapping[str, Mapping[str, Any]]) -> np.ndarray:
    """Apply one draw identically to every frame of ``frames`` (F x H x W uint8)."""
    out = np.asarray(frames)
    if "scale" in draw or "rotate" in draw:
        rotate, scale = draw.get("rotate", {}), draw.get("scale", {})
        patch = rotate.get("corner_patch_px", scale.get("corner_patch_px", out.shape[1] // 16))
        out = affine_with_corner_fill(
            out,
            angle_deg=float(rotate.get("angle_deg", 0.0)),
            scale=float(scale.get("factor", 1.0)),
            corner_patch_px=int(patch),
        )
    if "translate" in draw:
        out = translate_wrap(out, draw["translate"]["shift_px"])
    if "brightness_contrast" in draw:
        out = brightness_contrast(out, **draw["brightness_contrast"])
    if "noise" in draw:
        out = add_gaussian_noise(out, **draw["noise"])
    return out if out is not frames else out.copy()


def augment_clip(clip: np.ndarray, draws: list[Draw]) -> np.ndarray:
    """Apply ``draws`` to a clip: one draw for the whole clip, or one per frame."""
    if len(draws) == 1:
        return apply_draw(clip, draws[0])
    if len(draws) != clip.shape[0]:
        raise ValueError(f"{len(draws)} per-frame draws for a clip of {clip.shape[0]} frames")
    return np.concatenate([apply_draw(clip[i : i + 1], d) for i, d in enumerate(draws)])
