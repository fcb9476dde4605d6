"""One clip: its specification and the rendering of its frames (AU motion plus distractors)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from microexpression_pipeline.synthetic.action_units import blink_field, displacement_field
from microexpression_pipeline.synthetic.face import Subject


@dataclass
class ClipSpec:
    """What a clip shows and which frame numbers it spans (``first``..``last`` inclusive)."""

    dataset: str
    subject: int
    clip_id: str
    emotion: str
    action_units: str
    onset: int
    apex: int
    offset: int
    first: int
    last: int
    folder: str  # relative to the sample's root, POSIX separators
    intensity: float = 1.0
    extra: dict = field(default_factory=dict)  # per-dataset sheet values


def expression_profile(frames: np.ndarray, onset: int, apex: int, offset: int) -> np.ndarray:
    """0 before onset, smooth rise to 1 at apex, smooth fall back to 0 at offset."""
    rise = np.clip((frames - onset) / max(apex - onset, 1), 0.0, 1.0)
    fall = np.clip((offset - frames) / max(offset - apex, 1), 0.0, 1.0)
    return np.where(
        frames <= apex, np.sin(0.5 * np.pi * rise) ** 2, np.sin(0.5 * np.pi * fall) ** 2
    )


def _bumps(frames: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Sum of sin^2 bumps of ``length`` frames beginning at each of ``starts``."""
    phase = (frames[:, None] - starts[None, :]) / max(length, 1)
    inside = (phase >= 0) & (phase <= 1)
    return (np.sin(np.pi * np.clip(phase, 0, 1)) ** 2 * inside).sum(axis=1)


def _smooth_walk(rng: np.random.Generator, n: int, amplitude: float) -> np.ndarray:
    """A smooth random trajectory of ``n`` steps, within about +/- ``amplitude``."""
    t = np.arange(n, dtype=np.float64)[:, None]
    periods = rng.uniform(20.0, 120.0, 3)
    phases = rng.uniform(0.0, 2 * np.pi, 3)
    weights = rng.normal(0.0, 1.0, 3)
    walk = (weights * np.sin(2 * np.pi * t / periods + phases)).sum(axis=1)
    return amplitude * walk / max(np.abs(weights).sum(), 1e-6)


@dataclass(frozen=True)
class Distractors:
    """Per-clip nuisance motion and noise (present in every class)."""

    blink_starts: np.ndarray
    blink_length: int
    head_x: np.ndarray
    head_y: np.ndarray
    head_angle: np.ndarray
    gain: np.ndarray


def draw_distractors(
    rng: np.random.Generator, n_frames: int, iod: float, frame_scale: float
) -> Distractors:
    """Blinks (0-2), a small head drift (translation and rotation) and a flickering gain.

    ``frame_scale`` is the mean onset-to-offset length relative to SAMM's (65 frames): a
    blink lasts 30 frames (150 ms) at real durations and keeps that share of a clip at others.
    """
    n_blinks = int(rng.choice(3, p=[0.45, 0.4, 0.15]))
    blink_length = max(round(30 * frame_scale), 3)
    starts = rng.integers(-blink_length // 2, n_frames, n_blinks)
    head = rng.uniform(0.002, 0.012) * iod
    return Distractors(
        blink_starts=np.sort(starts),
        blink_length=blink_length,
        head_x=_smooth_walk(rng, n_frames, head),
        head_y=_smooth_walk(rng, n_frames, head),
        head_angle=_smooth_walk(rng, n_frames, rng.uniform(0.0, 0.004)),
        gain=1.0 + rng.normal(0.0, 0.004, n_frames),
    )


def render_clip(
    subject: Subject,
    clip: ClipSpec,
    rng: np.random.Generator,
    frame_path: Callable[[int], Path],
    *,
    au_amplitude: float,
    noise_sigma: float,
    jpeg_quality: int,
    frame_scale: float,
) -> int:
    """Write every frame of ``clip``; return how many blinks it shows.

    The format follows ``frame_path``'s suffix (``.jpg``: JPEG at ``jpeg_quality``; ``.bmp``)
    and the channels the subject's (gray or BGR colour); sensor noise is drawn per channel.
    """
    height, width = subject.image.shape[:2]
    channels = subject.image.size // (height * width)
    frames = np.arange(clip.first, clip.last + 1)
    au = expression_profile(frames, clip.onset, clip.apex, clip.offset) * clip.intensity
    au_field = displacement_field(
        subject.landmarks, clip.action_units, (height, width), au_amplitude
    )
    lid_field = blink_field(subject.landmarks, (height, width))
    nuisance = draw_distractors(rng, len(frames), subject.inter_ocular, frame_scale)
    blink = np.clip(
        _bumps(np.arange(len(frames)), nuisance.blink_starts, nuisance.blink_length), 0, 1
    )

    grid_x, grid_y = np.meshgrid(
        np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)
    )
    cx, cy = subject.landmarks[:3].mean(axis=0)
    rel_x, rel_y = grid_x - np.float32(cx), grid_y - np.float32(cy)
    rows, cols = np.nonzero(np.abs(au_field).sum(axis=2) + np.abs(lid_field).sum(axis=2))
    moving = np.s_[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    au_x, au_y, lid_x, lid_y = (
        np.ascontiguousarray(field[moving][..., axis])
        for field in (au_field, lid_field)
        for axis in (0, 1)
    )
    values = height * width * channels
    noise_pool = rng.normal(0.0, noise_sigma, 2 * values + 1).astype(np.float32)
    offsets = rng.integers(0, values, len(frames))
    suffix = frame_path(int(frames[0])).suffix.lower()
    params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)] if suffix == ".jpg" else []
    for i, number in enumerate(frames):
        angle, a, b = float(nuisance.head_angle[i]), float(au[i]), float(blink[i])
        # head motion: a small rotation about the face centre plus a shift, for the whole frame
        map_x = cv2.addWeighted(rel_y, angle, grid_x, 1.0, -float(nuisance.head_x[i]))
        map_y = cv2.addWeighted(rel_x, -angle, grid_y, 1.0, -float(nuisance.head_y[i]))
        # facial motion: only where the AU and blink fields reach
        map_x[moving] -= cv2.addWeighted(au_x, a, lid_x, b, 0.0)
        map_y[moving] -= cv2.addWeighted(au_y, a, lid_y, b, 0.0)
        frame = cv2.remap(
            subject.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        noise = noise_pool[offsets[i] : offsets[i] + values].reshape(subject.image.shape)
        pixels = cv2.addWeighted(frame, float(nuisance.gain[i]), noise, 1.0, 0.0, dtype=cv2.CV_8U)
        ok, encoded = cv2.imencode(suffix, pixels, params)
        if not ok:
            raise RuntimeError(f"could not encode frame {number} of {clip.clip_id}")
        frame_path(int(number)).write_bytes(encoded.tobytes())
    return len(nuisance.blink_starts)
