"""An apex estimated from the frames, for a dataset that codes none (SMIC).

The measure (``ingestion.smic_apex: max_motion``): every frame of the clip is decoded in
grayscale (``decoding.decode_file``, the decoder extraction uses), reduced with area averaging
so that its longest side is at most ``MOTION_MAX_SIDE`` px, and the clip's frames are brought
to 8 bits with one factor (``decoding.to_uint8``). A frame's motion is the mean absolute grey
difference from the onset frame, over all pixels. The apex is the frame after the onset with
the largest motion; on a tie, the earliest. Lighting changes count as motion too: this is a
cheap estimate, not optical flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np

from microexpression_pipeline.pipelines.ingestion.decoding import (
    FrameFileError,
    decode_file,
    to_uint8,
)
from microexpression_pipeline.pipelines.ingestion.quarantine import Reason

# Longest side of the frames compared (SMIC-HS's 640x480 -> 128x96): enough for a face's
# movement, small enough to read a clip of 50 frames quickly.
MOTION_MAX_SIDE = 128


def _small_gray(path: Path) -> np.ndarray:
    """The frame in grayscale, longest side at most ``MOTION_MAX_SIDE`` px."""
    image, _, _ = decode_file(path, gray=True, max_side=MOTION_MAX_SIDE)
    height, width = image.shape[:2]
    factor = MOTION_MAX_SIDE / max(height, width)
    if factor < 1.0:
        size = (max(1, round(width * factor)), max(1, round(height * factor)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image


def motion_from_onset(folder: Path, frames: Mapping[int, str]) -> dict[int, float]:
    """Frame number -> mean absolute grey difference from the first (onset) frame.

    Raises ``FrameFileError`` naming a frame that cannot be read or decoded, or whose size
    differs from the onset frame's."""
    numbers = sorted(frames)
    images = [_small_gray(folder / frames[n]) for n in numbers]
    for number, image in zip(numbers, images, strict=True):
        if image.shape != images[0].shape:
            raise FrameFileError(
                Reason.CORRUPT_FRAME,
                f"{frames[number]} has another size than the onset frame {frames[numbers[0]]} "
                "(frames of different sizes)",
            )
    gray, _ = to_uint8(images)
    onset = gray[0].astype(np.int16)
    return {
        n: float(np.abs(image.astype(np.int16) - onset).mean())
        for n, image in zip(numbers, gray, strict=True)
    }


def max_motion_apex(folder: Path, frames: Mapping[int, str]) -> int:
    """The frame after the onset that differs most from it (the earliest on a tie); the
    onset itself for a one-frame clip. Raises ``FrameFileError`` as ``motion_from_onset``."""
    motion = motion_from_onset(folder, frames)
    onset, *after = sorted(motion)
    if not after:
        return onset
    return max(after, key=lambda n: (motion[n], -n))
