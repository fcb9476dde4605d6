"""Linear Eulerian video magnification of short grey clips (Wu et al., SIGGRAPH 2012).

Each frame is split into a Laplacian pyramid; every pixel of every level is band-passed in
time (an ideal band on the clip's cosine transform, i.e. an FFT of the clip mirrored at its
ends, so a clip of 10-100 frames has no wrap-around jump); the band-passed signal is scaled
and added back. For a small motion ``delta(t)`` whose frequencies lie in the band,
``I(x + delta) + alpha * delta * I'(x) ~ I(x + (1 + alpha) * delta)``: motion is magnified
by ``amplification = 1 + alpha`` (the TOTAL factor: 10 makes a 0.3 px motion a 3 px one).

That first-order approximation holds while ``amplification * delta < lambda / 8`` for the
spatial wavelength ``lambda`` (Wu et al.'s bound). As they do, the full factor is applied to
the levels whose wavelength is at least ``cutoff_wavelength`` (their lambda_c), and finer
levels get the factor that keeps the bound met there, ``amplification * lambda /
cutoff_wavelength`` (linearly smaller, never below 1): fine texture is not magnified into
artefacts. Level ``k`` (0 the finest) holds most of the wavelengths near ``3 * 2**(k + 1)``
pixels (6, 12, 24, ...: a grating of that wavelength falls about half into it, a quarter
into each neighbour), the wavelength used for it here.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from scipy import fft

WHERE = "ingestion.magnification"
MIN_LEVEL_SIDE = 4  # the coarsest level keeps at least this many pixels a side


def check_arguments(
    fps: float,
    amplification: float,
    low_hz: float,
    high_hz: float,
    levels: int,
    cutoff_wavelength: float,
    where: str = WHERE,
) -> None:
    """Raise ``ValueError`` naming the first invalid argument (``<where>.<name>``, or
    ``<name>`` if ``where`` is empty) and the fix."""
    where = f"{where}." if where else ""

    def bad(value: object) -> bool:
        return (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        )

    numbers = {"fps": fps, "amplification": amplification, "low_hz": low_hz,
               "high_hz": high_hz, "cutoff_wavelength": cutoff_wavelength}  # fmt: skip
    for name, value in numbers.items():
        if bad(value):
            raise ValueError(f"{where}{name}: must be a finite number (got {value!r})")
    if fps <= 0:
        raise ValueError(f"{where}fps: must be the clips' frame rate in Hz, > 0 (got {fps})")
    if amplification < 1:
        raise ValueError(
            f"{where}amplification: is the total motion factor (magnified motion = "
            f"amplification x true motion); use >= 1, 1 leaves frames unchanged (got "
            f"{amplification})"
        )
    if low_hz < 0:
        raise ValueError(f"{where}low_hz: must be >= 0 Hz (got {low_hz})")
    if high_hz <= low_hz:
        raise ValueError(
            f"{where}high_hz: must be above low_hz = {low_hz} Hz (got {high_hz}); "
            "the band is low_hz <= f <= high_hz"
        )
    if high_hz >= fps / 2:
        raise ValueError(
            f"{where}high_hz: {high_hz} Hz is not below fps/2 = {fps / 2:g} Hz (the Nyquist "
            f"frequency of {fps:g} fps frames); lower high_hz below {fps / 2:g} or check fps"
        )
    if isinstance(levels, bool) or not isinstance(levels, int | np.integer) or levels < 1:
        raise ValueError(f"{where}levels: must be an integer >= 1 (got {levels!r})")
    if cutoff_wavelength <= 0:
        raise ValueError(f"{where}cutoff_wavelength: must be > 0 pixels (got {cutoff_wavelength})")


def level_wavelength(level: int) -> float:
    """The wavelength (pixels) representing pyramid level ``level`` (0: the finest)."""
    return 3.0 * 2.0 ** (level + 1)


def level_factors(amplification: float, levels: int, cutoff_wavelength: float) -> list[float]:
    """The total motion factor of each level: ``amplification`` from ``cutoff_wavelength`` up,
    ``amplification * lambda / cutoff_wavelength`` below it, never below 1."""
    return [
        float(np.clip(amplification * level_wavelength(k) / cutoff_wavelength, 1.0, amplification))
        for k in range(levels)
    ]


def usable_levels(height: int, width: int, levels: int) -> int:
    """``levels``, or fewer so that the coarsest level keeps ``MIN_LEVEL_SIDE`` pixels a side."""
    side, count = min(height, width), 1
    while count < levels and (side + 1) // 2 >= MIN_LEVEL_SIDE:
        side, count = (side + 1) // 2, count + 1
    return count


def band_frequencies(n_frames: int, fps: float, low_hz: float, high_hz: float) -> np.ndarray:
    """The frequencies (Hz) of the clip's cosine components that the band passes: component
    ``k`` is ``k * fps / (2 * n_frames)``; the clip's mean (k = 0) never passes."""
    freqs = np.arange(1, max(n_frames, 1)) * fps / (2.0 * n_frames)
    return freqs[(freqs >= low_hz) & (freqs <= high_hz)]


def _laplacian(frame: np.ndarray, levels: int) -> list[np.ndarray]:
    pyramid, current = [], frame
    for _ in range(levels - 1):
        down = cv2.pyrDown(current)
        pyramid.append(current - cv2.pyrUp(down, dstsize=current.shape[::-1]))
        current = down
    return [*pyramid, current]


def _collapse(pyramid: list[np.ndarray]) -> np.ndarray:
    image = pyramid[-1]
    for level in reversed(pyramid[:-1]):
        image = cv2.pyrUp(image, dstsize=level.shape[::-1]) + level
    return image


def magnify(
    frames: np.ndarray,
    fps: float,
    amplification: float,
    low_hz: float,
    high_hz: float,
    levels: int = 4,
    cutoff_wavelength: float = 16.0,
    *,
    where: str = WHERE,
) -> np.ndarray:
    """The clip with its motion in ``low_hz``-``high_hz`` magnified ``amplification`` times.

    ``frames``: (T, H, W) grey, uint8 or float; returned in the same dtype (uint8 rounded and
    clipped). ``fps``: the clip's frame rate. ``levels``: Laplacian levels (fewer if the
    frames are small, see ``usable_levels``). ``cutoff_wavelength``: lambda_c in pixels (see
    the module). A clip whose band holds none of its ``band_frequencies`` (too short for it)
    comes back unchanged. Raises ``ValueError`` naming ``<where>.<argument>``.
    """
    check_arguments(fps, amplification, low_hz, high_hz, levels, cutoff_wavelength, where)
    frames = np.asarray(frames)
    if frames.ndim != 3 or not (
        frames.dtype == np.uint8 or np.issubdtype(frames.dtype, np.floating)
    ):
        raise ValueError(
            f"frames: expected a (T, H, W) grey uint8 or float array, got {frames.dtype} "
            f"{frames.shape}"
        )
    n_frames, height, width = frames.shape
    if (
        amplification == 1
        or min(frames.shape) == 0
        or not band_frequencies(n_frames, fps, low_hz, high_hz).size
    ):
        return frames.copy()
    work = np.float64 if frames.dtype == np.float64 else np.float32
    stack = frames.astype(work)
    count = usable_levels(height, width, levels)
    pyramids = [_laplacian(frame, count) for frame in stack]
    freqs = np.arange(n_frames) * fps / (2.0 * n_frames)
    keep = ((freqs >= low_hz) & (freqs <= high_hz) & (freqs > 0)).astype(work)
    added: list[np.ndarray] = []
    for k, factor in enumerate(level_factors(amplification, count, cutoff_wavelength)):
        level = np.stack([pyramid[k] for pyramid in pyramids])
        if factor == 1.0:
            added.append(np.zeros_like(level))
            continue
        spectrum = fft.dct(level, type=2, axis=0, norm="ortho")
        spectrum *= keep.reshape(-1, 1, 1)
        added.append((factor - 1.0) * fft.idct(spectrum, type=2, axis=0, norm="ortho").astype(work))
    out = stack + np.stack([_collapse([a[t] for a in added]) for t in range(n_frames)])
    if frames.dtype == np.uint8:
        return np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return out.astype(frames.dtype)
