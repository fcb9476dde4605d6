"""Frame files decoded strictly: a damaged JPEG, a non-image or a blank frame is an error.

JPEGs are decoded by libjpeg-turbo in strict mode (``simplejpeg``), so scan data that is
missing, zeroed or cut short raises instead of decoding as grey; they are reduced by 2, 4
or 8 while decoding. Other formats (PNG, BMP, TIFF) keep their bit depth: 16-bit frames are
scaled to 8 bits by the bit depth their data uses (12-bit data in a 16-bit file is common
for machine-vision cameras), the same for every frame of a clip.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import simplejpeg
from PIL import Image

from microexpression_pipeline.pipelines.ingestion.quarantine import Reason

# A frame whose pixels all lie within this many grey levels is blank (a dropped,
# covered or overexposed camera frame), not a face.
BLANK_RANGE = 8

# libjpeg warnings that leave the pixels intact; every other warning means damaged data.
_HARMLESS_JPEG_WARNINGS = ("Warning:", "Unknown Adobe color transform", "bad ICC marker")


class FrameError(ValueError):
    """A frame file that cannot be used; the message (after the file name) says why."""


def frame_size(data: bytes) -> tuple[int, int] | None:
    """(height, width) from an image file's header, or None if it is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return height, width


def decode_frame(
    data: bytes, *, gray: bool, min_scale: float = 1.0
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """Decode an image file's bytes, reduced by 2, 4 or 8 while the scale stays >= min_scale.

    Returns the image (grayscale uint8 or uint16, or RGB uint8), its scale relative to the
    raw frame and the raw (height, width). Raises ``FrameError`` saying what is wrong.
    """
    size = frame_size(data)
    if size is None:
        raise FrameError("is not an image file (its header cannot be read)")
    height, width = size
    factor = reduction_factor(min_scale)
    if data[:2] == b"\xff\xd8":
        image = _decode_jpeg(data, gray, factor, (height, width))
    else:
        image = _decode_other(data, gray, factor)
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise FrameError("decodes to an empty image")
    return image, image.shape[1] / width, (height, width)


def _decode_jpeg(data: bytes, gray: bool, factor: int, size: tuple[int, int]) -> np.ndarray:
    """libjpeg-turbo, strict: any warning but a harmless one is a damaged file."""
    least = {"min_height": math.ceil(size[0] / factor), "min_width": math.ceil(size[1] / factor)}
    try:
        image = simplejpeg.decode_jpeg(
            data, colorspace="GRAY" if gray else "RGB", strict=True, **least
        )
    except ValueError as exc:
        text = str(exc)
        harmless = any(mark in text for mark in _HARMLESS_JPEG_WARNINGS)
        if not harmless and "color" not in text.lower():  # e.g. CMYK: OpenCV converts it
            damaged = "Corrupt" in text or "Premature" in text
            what = "a damaged JPEG" if damaged else "a JPEG that cannot be decoded"
            raise FrameError(f"is {what} (decoder: {text})") from exc
        return _decode_cv2_jpeg(data, gray, factor)
    return image[..., 0] if gray else image


_REDUCED = {
    True: {1: cv2.IMREAD_GRAYSCALE, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2,
           4: cv2.IMREAD_REDUCED_GRAYSCALE_4, 8: cv2.IMREAD_REDUCED_GRAYSCALE_8},
    False: {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2,
            4: cv2.IMREAD_REDUCED_COLOR_4, 8: cv2.IMREAD_REDUCED_COLOR_8},
}  # fmt: skip


def _decode_cv2_jpeg(data: bytes, gray: bool, factor: int) -> np.ndarray:
    """OpenCV's JPEG decoder, for what the strict one declines (it ignores EXIF rotation
    too, so frames keep the size their header gives)."""
    flags = _REDUCED[gray][factor] | cv2.IMREAD_IGNORE_ORIENTATION
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:
        raise FrameError("is a JPEG that cannot be decoded")
    return image if gray else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# OpenCV's conversions of its BGR(A) images by channel count (also for video frames).
TO_GRAY = {3: cv2.COLOR_BGR2GRAY, 4: cv2.COLOR_BGRA2GRAY}
TO_RGB = {1: cv2.COLOR_GRAY2RGB, 3: cv2.COLOR_BGR2RGB, 4: cv2.COLOR_BGRA2RGB}


def reduction_factor(min_scale: float) -> int:
    """The largest of 1, 2, 4, 8 by which a frame may be reduced while its scale stays
    >= ``min_scale``."""
    return max(r for r in (1, 2, 4, 8) if r == 1 or 1.0 / r >= min_scale)


def reduce_image(image: np.ndarray, factor: int) -> np.ndarray:
    """A decoded (non-JPEG) frame reduced by ``factor`` with area averaging, as its decoding
    reduces it (also for frames decoded from a video)."""
    if factor <= 1:
        return image
    height, width = image.shape[:2]
    size = (math.ceil(width / factor), math.ceil(height / factor))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _decode_other(data: bytes, gray: bool, factor: int) -> np.ndarray:
    """PNG, BMP, TIFF at their own bit depth (uint8 or uint16), reduced by ``factor``."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FrameError("is damaged or in a format that cannot be decoded")
    if image.dtype not in (np.uint8, np.uint16):
        raise FrameError(f"holds {image.dtype} pixels; frames must be 8- or 16-bit integers")
    channels = 1 if image.ndim == 2 else image.shape[2]
    if channels not in TO_RGB:
        raise FrameError(f"has {channels} channels; frames must be gray, BGR or BGRA images")
    if gray and channels != 1:
        image = cv2.cvtColor(image, TO_GRAY[channels])
    elif not gray:
        image = cv2.cvtColor(image, TO_RGB[channels])
    image = reduce_image(image, factor)
    if not gray:
        image = to_uint8([image])[0][0]
    return image


def significant_bits(frames: Sequence[np.ndarray]) -> int:
    """Bits the frames' data uses: 8 for uint8, else that of their largest value (>= 8)."""
    if all(frame.dtype == np.uint8 for frame in frames):
        return 8
    peak = max(int(frame.max()) for frame in frames)
    return max(8, peak.bit_length())


def to_uint8(frames: Sequence[np.ndarray]) -> tuple[list[np.ndarray], str]:
    """The frames as uint8, all scaled by one factor from their common bit depth, and a note
    saying how (empty for 8-bit frames)."""
    bits = significant_bits(frames)
    if bits == 8:
        return [frame.astype(np.uint8, copy=False) for frame in frames], ""
    scale = 255.0 / (2**bits - 1)
    scaled = [np.rint(frame.astype(np.float32) * scale).astype(np.uint8) for frame in frames]
    return scaled, f"16-bit frames with {bits}-bit data: scaled by 255/{2**bits - 1}"


def blank_problem(frame: np.ndarray) -> str:
    """Why an 8-bit frame is blank (every pixel within ``BLANK_RANGE`` levels), or ''."""
    low, high = int(frame.min()), int(frame.max())
    if high - low < BLANK_RANGE:
        return f"is blank (every pixel between {low} and {high}): a dropped or covered frame?"
    return ""


class FrameFileError(Exception):
    """A frame file cannot be used: the quarantine reason and its detail (naming the file)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def read_frame_file(path: Path, *, content: bool = True) -> bytes:
    """The frame file's bytes (with ``content=False`` the file is only opened, to check it
    can be read); raises ``FrameFileError`` if it is missing or unreadable.

    Whether they are an intact image is found by decoding them (by content: a PNG named
    ``.jpg`` is read as the PNG it is)."""
    try:
        if not content:
            with path.open("rb"):
                return b""
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise FrameFileError(Reason.CORRUPT_FRAME, f"{path.name} is missing") from exc
    except OSError as exc:
        raise FrameFileError(
            Reason.UNREADABLE_FILE,
            f"{path.name} cannot be read ({exc.strerror or exc}); check its permissions",
        ) from exc
    return data


def decode_file(
    path: Path, *, gray: bool, max_side: int = 0, min_scale: float = 1.0
) -> tuple[np.ndarray, float, tuple[int, int]]:
    """``decode_frame`` of the file (reduced so its longest side stays >= ``max_side``, if
    given); raises ``FrameFileError`` naming the file."""
    data = read_frame_file(path)
    if max_side and (size := frame_size(data)) is not None:
        min_scale = min(1.0, max_side / max(size))
    try:
        return decode_frame(data, gray=gray, min_scale=min_scale)
    except FrameError as exc:
        raise FrameFileError(Reason.CORRUPT_FRAME, f"{path.name} {exc}") from exc
