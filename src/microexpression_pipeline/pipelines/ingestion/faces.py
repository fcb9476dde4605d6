"""Face detection (once per clip) and eye-based alignment applied to every frame of a clip."""

from __future__ import annotations

import logging
import math
import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# A square face box is this many inter-ocular distances wide (MTCNN boxes: ~2.1 wide,
# ~2.6 tall); the eye midpoint sits this many inter-ocular distances above the box centre.
FACE_SIZE_IN_EYE_DISTANCES = 2.4
EYES_ABOVE_CENTRE_IN_EYE_DISTANCES = 0.35


class FaceDetector(Protocol):
    """MTCNN's interface: ``detect_faces(rgb)`` -> faces; ``detect_faces([rgb, ...])`` ->
    faces per image."""

    def detect_faces(self, image: Any, **kwargs: Any) -> list[Any]: ...


_DETECTOR: FaceDetector | None = None
_DETECTOR_LOCK = threading.Lock()


def default_detector() -> FaceDetector:
    """The process-wide MTCNN detector (weights ship with the ``mtcnn`` package)."""
    global _DETECTOR
    with _DETECTOR_LOCK:
        if _DETECTOR is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            from mtcnn import MTCNN

            logger.info("Loading the MTCNN face detector")
            _DETECTOR = MTCNN()
        return _DETECTOR


@dataclass(frozen=True)
class Face:
    """A detected face in raw-frame pixels."""

    box: tuple[float, float, float, float]  # x, y, w, h
    left_eye: tuple[float, float]  # the eye on the image's left
    right_eye: tuple[float, float]
    confidence: float


def detection_image(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """An RGB copy whose longest side is at most ``max_side``, and its scale to the raw frame."""
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        scale = size[0] / width
    return np.ascontiguousarray(rgb), scale


def detect_batch(detector: FaceDetector, images: list[np.ndarray]) -> list[list[dict[str, Any]]]:
    """Faces of each image, in one detector call (images of one size, for exact results)."""
    if not images:
        return []
    if len(images) == 1:
        return [list(detector.detect_faces(images[0]))]
    return [list(found) for found in detector.detect_faces(images)]


def best_face(found: list[dict[str, Any]], scale: float, min_confidence: float) -> Face | None:
    """The most confident detection (ties: the larger box), mapped back to raw pixels."""
    found = [f for f in found if float(f.get("confidence", 0)) >= min_confidence]
    if not found:
        return None
    best = max(found, key=lambda f: (float(f["confidence"]), f["box"][2] * f["box"][3]))
    eyes = sorted(
        (tuple(float(v) / scale for v in best["keypoints"][k]) for k in ("left_eye", "right_eye")),
    )
    x, y, w, h = (float(v) / scale for v in best["box"])
    return Face((x, y, w, h), eyes[0], eyes[1], float(best["confidence"]))


def detect_face(
    detector: FaceDetector, image: np.ndarray, *, max_side: int, min_confidence: float
) -> Face | None:
    """The most confident face of one image (gray or RGB), detected on a downscaled copy."""
    small, scale = detection_image(image, max_side)
    return best_face(detect_batch(detector, [small])[0], scale, min_confidence)


@dataclass(frozen=True)
class CropTransform:
    """A square crop: centre and side in raw pixels, rotation in degrees (eyes level)."""

    centre: tuple[float, float]
    side: float
    angle: float

    def matrix(self, out_size: int, pre_scale: float = 1.0) -> np.ndarray:
        """2x3 affine map from (pre-scaled) raw pixels to the ``out_size`` crop."""
        cx, cy = self.centre[0] * pre_scale, self.centre[1] * pre_scale
        scale = out_size / (self.side * pre_scale)
        matrix = cv2.getRotationMatrix2D((cx, cy), self.angle, scale)
        matrix[0, 2] += out_size / 2 - cx
        matrix[1, 2] += out_size / 2 - cy
        return matrix


def aligned_crop(face: Face, margin: float) -> CropTransform:
    """Rotate so the eyes are level, scale so the inter-ocular distance is fixed.

    The crop side is ``FACE_SIZE_IN_EYE_DISTANCES * (1 + 2 * margin)`` inter-ocular
    distances, centred below the eye midpoint along the face's vertical axis.
    """
    (lx, ly), (rx, ry) = face.left_eye, face.right_eye
    dx, dy = rx - lx, ry - ly
    distance = math.hypot(dx, dy)
    if distance < 1.0:
        raise ValueError("eye landmarks coincide; cannot align")
    angle = math.degrees(math.atan2(dy, dx))
    down = (-dy / distance, dx / distance)  # the face's downward axis in image coordinates
    offset = EYES_ABOVE_CENTRE_IN_EYE_DISTANCES * distance
    centre = ((lx + rx) / 2 + down[0] * offset, (ly + ry) / 2 + down[1] * offset)
    side = FACE_SIZE_IN_EYE_DISTANCES * (1 + 2 * margin) * distance
    return CropTransform(centre, side, angle)


def centre_crop(height: int, width: int) -> CropTransform:
    """The largest centred square, unrotated (used when no face is found, if allowed)."""
    return CropTransform((width / 2, height / 2), float(min(height, width)), 0.0)


def apply_crop(
    gray: np.ndarray, crop: CropTransform, out_size: int, source_scale: float = 1.0
) -> np.ndarray:
    """Warp one grayscale frame (at ``source_scale`` of the raw frame) into the crop (uint8).

    Large reductions first shrink the crop's neighbourhood (not the whole frame) with area
    averaging, so the crop is not aliased.
    """
    target = min(1.0, 2.0 * out_size / crop.side)
    scale = source_scale
    matrix = crop.matrix(out_size, scale)
    if target < scale:
        x0, y0, x1, y1 = _crop_bounds(crop, scale, gray.shape, pad=2 + math.ceil(scale / target))
        factor = target / scale
        size = (max(1, round((x1 - x0) * factor)), max(1, round((y1 - y0) * factor)))
        gray = cv2.resize(gray[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
        # shrunk pixel p came from (p / shrink + origin) of the frame at ``scale``
        shrink = np.array([size[0] / (x1 - x0), size[1] / (y1 - y0)])
        matrix[:, 2] += matrix[:, :2] @ np.array([x0, y0], dtype=float)
        matrix[:, :2] /= shrink
    return cv2.warpAffine(
        gray,
        matrix,
        (out_size, out_size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def _crop_bounds(
    crop: CropTransform, scale: float, shape: tuple[int, ...], pad: int
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the pixels of a frame at ``scale`` that the (rotated) crop square
    covers, plus ``pad`` pixels for the interpolation, clipped to the frame."""
    height, width = shape[:2]
    radians = math.radians(crop.angle)
    half = crop.side * scale * (abs(math.cos(radians)) + abs(math.sin(radians))) / 2
    cx, cy = crop.centre[0] * scale, crop.centre[1] * scale
    x0 = min(max(0, math.floor(cx - half) - pad), width - 1)
    y0 = min(max(0, math.floor(cy - half) - pad), height - 1)
    x1 = max(min(width, math.ceil(cx + half) + pad), x0 + 1)
    y1 = max(min(height, math.ceil(cy + half) + pad), y0 + 1)
    return x0, y0, x1, y1


def raw_to_crop(point: tuple[float, float], crop: CropTransform, out_size: int) -> np.ndarray:
    """Where a raw-pixel point lands in the crop (for checks and drawings)."""
    matrix = crop.matrix(out_size)
    return matrix @ np.array([point[0], point[1], 1.0])


FACE_COLUMNS = (
    "face_found",
    "detection_frame",
    "face_confidence",
    "face_x",
    "face_y",
    "face_w",
    "face_h",
    "left_eye_x",
    "left_eye_y",
    "right_eye_x",
    "right_eye_y",
    "crop_centre_x",
    "crop_centre_y",
    "crop_side",
    "crop_angle",
    "frame_height",
    "frame_width",
)


def face_fields(
    face: Face | None, used: str, crop: CropTransform, height: int, width: int
) -> dict[str, Any]:
    """The ``FACE_COLUMNS`` of one clip (NaN where no face was found)."""
    nan = float("nan")
    x, y, w, h = face.box if face is not None else (nan,) * 4
    (lx, ly), (rx, ry) = (face.left_eye, face.right_eye) if face is not None else ((nan,) * 2,) * 2
    return {
        "face_found": face is not None,
        "detection_frame": used,
        "face_confidence": face.confidence if face is not None else nan,
        "face_x": x,
        "face_y": y,
        "face_w": w,
        "face_h": h,
        "left_eye_x": lx,
        "left_eye_y": ly,
        "right_eye_x": rx,
        "right_eye_y": ry,
        "crop_centre_x": crop.centre[0],
        "crop_centre_y": crop.centre[1],
        "crop_side": crop.side,
        "crop_angle": crop.angle,
        "frame_height": height,
        "frame_width": width,
    }
