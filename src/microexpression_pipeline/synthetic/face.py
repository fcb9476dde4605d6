"""The base face (``skimage.data.astronaut()``, public domain) and per-subject variants of it
(grayscale, or tinted to a skin colour for colour cameras)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from skimage import data

# Found once with ``mtcnn.MTCNN().detect_faces(skimage.data.astronaut())`` (mtcnn 1.0, RGB
# 512x512 input): confidence 0.9991, box [x, y, w, h] = [182, 64, 83, 107], keypoints
# left_eye (204, 100), right_eye (245, 102), nose (224, 126), mouth_left (202, 139),
# mouth_right (244, 140). "left"/"right" are image sides (left = smaller x).
ASTRONAUT_FACE_BOX = (182, 64, 83, 107)
ASTRONAUT_LANDMARKS = {
    "left_eye": (204.0, 100.0),
    "right_eye": (245.0, 102.0),
    "nose": (224.0, 126.0),
    "mouth_left": (202.0, 139.0),
    "mouth_right": (244.0, 140.0),
}
LANDMARK_NAMES = tuple(ASTRONAUT_LANDMARKS)

# The head (hair to chin) inside the astronaut image, as a crop and an ellipse within it.
_CROP = (140, 8, 172, 196)  # x, y, w, h
_HEAD_CENTRE = (87.0, 96.0)  # in crop coordinates
_HEAD_AXES = (80.0, 94.0)
# BT.601 luma weights in OpenCV's B, G, R order: a tint of luma 1 keeps the gray level.
_LUMA_BGR = np.array([0.114, 0.587, 0.299], np.float32)


@dataclass(frozen=True)
class BaseFace:
    """The grayscale head crop (float32, 0..255), its soft head mask and its landmarks."""

    image: np.ndarray
    mask: np.ndarray
    landmarks: np.ndarray  # (5, 2) x, y in LANDMARK_NAMES order
    box: np.ndarray  # (4, 2) corners of the detector's face box


@dataclass(frozen=True)
class Subject:
    """One synthetic person as seen by the camera: a still frame and where the face is in it."""

    image: np.ndarray  # float32 (height, width), or (height, width, 3) in BGR; 0..255
    landmarks: np.ndarray  # (5, 2) in LANDMARK_NAMES order, image-left eye first
    face_box: tuple[int, int, int, int]  # x, y, w, h in frame pixels
    mirrored: bool

    @property
    def inter_ocular(self) -> float:
        """Distance between the eye centres, in pixels: the unit of every facial motion."""
        return float(np.linalg.norm(self.landmarks[1] - self.landmarks[0]))


@functools.cache
def base_face() -> BaseFace:
    """The astronaut's head, cropped, in grayscale, with a feathered elliptical mask."""
    x, y, w, h = _CROP
    gray = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)[y : y + h, x : x + w]
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (_HEAD_CENTRE, (2 * _HEAD_AXES[0], 2 * _HEAD_AXES[1]), 0.0), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 7.0)
    offset = np.array([x, y], np.float32)
    landmarks = np.array(list(ASTRONAUT_LANDMARKS.values()), np.float32) - offset
    bx, by, bw, bh = ASTRONAUT_FACE_BOX
    box = np.array([[bx, by], [bx + bw, by], [bx + bw, by + bh], [bx, by + bh]], np.float32)
    return BaseFace(gray.astype(np.float32), mask, landmarks, box - offset)


def _affine(
    rng: np.random.Generator, face: BaseFace, width: int, height: int, face_fraction: float
) -> np.ndarray:
    """Template-to-frame affine: scale, aspect, shear, rotation, then a place in the frame."""
    box_h = float(face.box[2, 1] - face.box[0, 1])
    scale = face_fraction * height / box_h * rng.uniform(0.9, 1.1)
    aspect = rng.uniform(0.92, 1.08)
    shear = rng.uniform(-0.06, 0.06)
    angle = np.deg2rad(rng.uniform(-6.0, 6.0))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    linear = rot @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([scale * aspect, scale / aspect])
    centre = face.box.mean(axis=0)
    target = np.array(
        [width * (0.5 + rng.uniform(-0.12, 0.12)), height * (0.5 + rng.uniform(-0.05, 0.05))]
    )
    return np.hstack([linear, (target - linear @ centre)[:, None]]).astype(np.float32)


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A smooth, slightly textured backdrop."""
    coarse = rng.normal(0.0, 12.0, (4, 6)).astype(np.float32)
    texture = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.float32(rng.uniform(70.0, 190.0)) + texture


def _tints(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """B, G, R gains of luma 1: a skin tone (per subject) and a faint cast for the backdrop."""
    skin = np.array([rng.uniform(0.5, 0.68), rng.uniform(0.68, 0.8), 1.0], np.float32)
    backdrop = (1.0 + rng.uniform(-0.06, 0.06, 3)).astype(np.float32)
    return skin / (_LUMA_BGR @ skin), backdrop / (_LUMA_BGR @ backdrop)


def make_subject(
    rng: np.random.Generator,
    width: int,
    height: int,
    face_fraction: float,
    *,
    colour: bool = False,
) -> Subject:
    """Draw one subject: the base face warped, mirrored, tone-mapped, lit and placed.

    ``face_fraction`` is the face box height as a fraction of the frame height. ``colour``
    tints the face to a skin tone and the backdrop slightly (BGR image); the gray subject
    drawn from the same ``rng`` is the same either way.
    """
    face = base_face()
    image, mask, landmarks, box = face.image, face.mask, face.landmarks.copy(), face.box.copy()
    mirrored = bool(rng.random() < 0.5)
    if mirrored:
        image, mask = image[:, ::-1], mask[:, ::-1]
        flip = image.shape[1] - 1.0
        landmarks[:, 0] = flip - landmarks[:, 0]
        box[:, 0] = flip - box[:, 0]
        landmarks = landmarks[[1, 0, 2, 4, 3]]  # image-left first again
    gamma = rng.uniform(0.75, 1.35)
    contrast = rng.uniform(0.75, 1.15)
    toned = 255.0 * (image / 255.0) ** gamma
    toned = (toned - 128.0) * contrast + 128.0 + rng.uniform(-20.0, 20.0)

    matrix = _affine(rng, face, width, height, face_fraction)
    size = (width, height)
    warped = cv2.warpAffine(
        np.ascontiguousarray(toned, np.float32),
        matrix,
        size,
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REPLICATE,
    )
    alpha = cv2.warpAffine(np.ascontiguousarray(mask), matrix, size, flags=cv2.INTER_LINEAR)
    frame = alpha * warped + (1.0 - alpha) * _background(rng, width, height)

    gx = np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :]
    gy = np.linspace(-0.5, 0.5, height, dtype=np.float32)[:, None]
    slope = rng.uniform(-0.35, 0.35, 2).astype(np.float32)
    frame = frame * (1.0 + slope[0] * gx + slope[1] * gy)
    if colour:
        skin, backdrop = _tints(rng)
        frame = frame[..., None] * (alpha[..., None] * skin + (1.0 - alpha[..., None]) * backdrop)
    frame = np.clip(frame, 0.0, 255.0)

    def to_frame(points: np.ndarray) -> np.ndarray:
        return points @ matrix[:, :2].T + matrix[:, 2]

    corners = to_frame(box)
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), width), min(int(y1), height)
    return Subject(
        image=frame.astype(np.float32),
        landmarks=to_frame(landmarks).astype(np.float32),
        face_box=(x0, y0, x1 - x0, y1 - y0),
        mirrored=mirrored,
    )
