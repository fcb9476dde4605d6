"""Linear Eulerian magnification: a known sinusoidal motion comes out ``amplification``
times larger inside the band, unchanged outside it, and the arguments are checked."""

from __future__ import annotations

import re

import numpy as np
import pytest

from microexpression_pipeline.motion.magnification import (
    band_frequencies,
    level_factors,
    magnify,
    usable_levels,
)

FPS, T, SIDE = 200.0, 100, 64
TIME = np.arange(T) / FPS
YY, XX = np.mgrid[0:SIDE, 0:SIDE].astype(float)
THETA = 0.5  # direction of the blob's motion (radians from the x axis)
BACKGROUND = 100.0


def blob_clip(amplitude: float, hz: float, sigma: float = 8.0) -> np.ndarray:
    """A Gaussian blob on a grey background, moving by amplitude * sin(2 pi hz t) along
    THETA (float32, no clipping anywhere)."""
    shift = amplitude * np.sin(2 * np.pi * hz * TIME)
    cx, cy = SIDE / 2 + shift * np.cos(THETA), SIDE / 2 + shift * np.sin(THETA)
    return np.stack(
        [
            BACKGROUND + 100 * np.exp(-((XX - x) ** 2 + (YY - y) ** 2) / (2 * sigma**2))
            for x, y in zip(cx, cy, strict=True)
        ]
    ).astype(np.float32)


def blob_position(frames: np.ndarray) -> np.ndarray:
    """Per frame: the intensity-weighted centroid above the background, along THETA."""
    weight = frames.astype(float) - BACKGROUND
    total = weight.sum(axis=(1, 2))
    cx = (weight * XX).sum(axis=(1, 2)) / total
    cy = (weight * YY).sum(axis=(1, 2)) / total
    return cx * np.cos(THETA) + cy * np.sin(THETA)


def grating_clip(amplitude: float, hz: float, wavelength: float) -> np.ndarray:
    """A vertical sine grating moving along x by amplitude * sin(2 pi hz t)."""
    shift = amplitude * np.sin(2 * np.pi * hz * TIME)
    return np.stack([128 + 60 * np.cos(2 * np.pi * (XX - s) / wavelength) for s in shift])


def grating_position(frames: np.ndarray, wavelength: float) -> np.ndarray:
    """Per frame: the grating's shift along x, from the phase of its spatial frequency."""
    rows = frames.astype(float).mean(axis=1)
    phase = np.angle(np.fft.fft(rows, axis=1)[:, round(SIDE / wavelength)])
    return -np.unwrap(phase) * wavelength / (2 * np.pi)


def amplitude_at(position: np.ndarray, hz: float) -> float:
    """Least-squares amplitude of the sinusoid at ``hz`` in a position series."""
    design = np.stack(
        [np.ones_like(TIME), np.sin(2 * np.pi * hz * TIME), np.cos(2 * np.pi * hz * TIME)], 1
    )
    coef, *_ = np.linalg.lstsq(design, position, rcond=None)
    return float(np.hypot(coef[1], coef[2]))


def ratio(clip: np.ndarray, out: np.ndarray, hz: float, position=blob_position) -> float:
    return amplitude_at(position(out), hz) / amplitude_at(position(clip), hz)


@pytest.mark.parametrize("factor", [5.0, 10.0])
def test_in_band_motion_is_magnified_by_the_factor(factor):
    clip = blob_clip(0.3, 10.0)
    assert amplitude_at(blob_position(clip), 10.0) == pytest.approx(0.3, rel=0.02)
    out = magnify(clip, FPS, factor, 4.0, 30.0, levels=5)
    assert out.dtype == np.float32 and out.shape == clip.shape
    assert ratio(clip, out, 10.0) == pytest.approx(factor, rel=0.2)  # measured 4.86, 9.68


def test_uint8_clip_is_magnified_and_stays_uint8():
    clip = np.rint(blob_clip(0.3, 10.0)).astype(np.uint8)
    out = magnify(clip, FPS, 10.0, 4.0, 30.0, levels=5)
    assert out.dtype == np.uint8
    assert ratio(clip, out, 10.0) == pytest.approx(10.0, rel=0.2)  # measured 9.48


@pytest.mark.parametrize(("hz", "band"), [(60.0, (4.0, 30.0)), (4.0, (15.0, 40.0))])
def test_motion_outside_the_band_is_not_magnified(hz, band):
    clip = blob_clip(0.3, hz)
    out = magnify(clip, FPS, 10.0, *band, levels=5)
    assert ratio(clip, out, hz) == pytest.approx(1.0, rel=0.2)  # measured 1.03, 1.01


def test_long_wavelength_grating_is_magnified_fine_one_attenuated():
    """Wu et al.'s lambda_c: wavelengths >= 4 lambda_c get ~ the full factor, much finer
    ones (where the linear approximation would fail) a smaller one."""
    coarse = grating_clip(0.2, 10.0, 64.0)
    out = magnify(coarse, FPS, 10.0, 4.0, 30.0, levels=5, cutoff_wavelength=16.0)
    coarse_ratio = ratio(coarse, out, 10.0, lambda f: grating_position(f, 64.0))
    assert coarse_ratio == pytest.approx(10.0, rel=0.2)  # measured 9.46
    fine = grating_clip(0.2, 10.0, 4.0)
    out = magnify(fine, FPS, 10.0, 4.0, 30.0, levels=5, cutoff_wavelength=16.0)
    fine_ratio = ratio(fine, out, 10.0, lambda f: grating_position(f, 4.0))
    assert 1.0 < fine_ratio < 0.5 * coarse_ratio  # measured 3.0


def test_level_factors_follow_the_cutoff_wavelength():
    assert level_factors(10.0, 4, 16.0) == [3.75, 7.5, 10.0, 10.0]  # wavelengths 6, 12, 24, 48
    assert level_factors(10.0, 3, 1000.0) == [1.0, 1.0, 1.0]
    assert level_factors(1.0, 4, 16.0) == [1.0] * 4


def test_amplification_one_returns_the_input():
    clip = np.rint(blob_clip(0.3, 10.0)).astype(np.uint8)
    np.testing.assert_array_equal(magnify(clip, FPS, 1.0, 4.0, 30.0), clip)
    floats = blob_clip(0.3, 10.0)
    out = magnify(floats, FPS, 1.0 + 1e-6, 4.0, 30.0)
    np.testing.assert_allclose(out, floats, atol=1e-3)


def test_short_clips():
    """A 12-frame clip resolves 8.3 Hz steps; a 3-frame clip has nothing in 4-30 Hz but
    33 Hz, so it comes back unchanged; a single frame too."""
    assert band_frequencies(12, FPS, 4.0, 30.0).tolist() == pytest.approx([25 / 3, 50 / 3, 25])
    clip = blob_clip(0.3, 10.0)
    short = clip[:12]
    out = magnify(short, FPS, 10.0, 4.0, 30.0)
    assert out.shape == short.shape and np.abs(out - short).max() > 1.0
    for frames in (clip[:3], clip[:1]):
        np.testing.assert_array_equal(magnify(frames, FPS, 10.0, 4.0, 30.0), frames)


def test_small_frames_use_fewer_levels():
    assert usable_levels(32, 32, 8) == 4  # 32, 16, 8, 4
    assert usable_levels(128, 96, 4) == 4
    assert usable_levels(5, 5, 4) == 1
    tiny = np.random.default_rng(0).uniform(0, 255, (20, 6, 6)).astype(np.uint8)
    assert magnify(tiny, FPS, 3.0, 4.0, 30.0, levels=6).shape == tiny.shape


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"high_hz": 100.0}, "ingestion.magnification.high_hz: 100.0 Hz is not below fps/2"),
        ({"high_hz": 3.0}, "ingestion.magnification.high_hz: must be above low_hz"),
        ({"low_hz": -1.0}, "ingestion.magnification.low_hz: must be >= 0"),
        ({"amplification": 0.5}, "ingestion.magnification.amplification: is the total"),
        ({"fps": 0.0}, "ingestion.magnification.fps: must be the clips' frame rate"),
        ({"fps": float("nan")}, "ingestion.magnification.fps: must be a finite number"),
        ({"levels": 0}, "ingestion.magnification.levels: must be an integer >= 1"),
        ({"levels": 2.5}, "ingestion.magnification.levels: must be an integer >= 1"),
        ({"cutoff_wavelength": 0.0}, "ingestion.magnification.cutoff_wavelength: must be > 0"),
    ],
)
def test_argument_errors_name_the_parameter(change, message):
    args = {"fps": FPS, "amplification": 5.0, "low_hz": 4.0, "high_hz": 30.0, "levels": 4}
    with pytest.raises(ValueError, match=re.escape(message)):
        magnify(blob_clip(0.3, 10.0)[:10], **{**args, **change})


def test_frames_must_be_a_grey_stack():
    with pytest.raises(ValueError, match=r"frames: expected a \(T, H, W\) grey"):
        magnify(np.zeros((4, 8, 8, 3), np.uint8), FPS, 5.0, 4.0, 30.0)
    with pytest.raises(ValueError, match="frames: expected"):
        magnify(np.zeros((4, 8, 8), np.int32), FPS, 5.0, 4.0, 30.0)
