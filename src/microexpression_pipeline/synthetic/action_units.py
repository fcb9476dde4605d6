"""Facial Action Units as smooth local displacement fields anchored on the face's landmarks.

Every anchor is written in face units: the inter-ocular distance ``D``, ``x`` pointing away
from the face's midline on the anchor's side and ``y`` pointing down the face. A field moves
the image content near an anchor by its vector, fading as a Gaussian of width ``sigma``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# Peak displacement of an AU at intensity 1, as a fraction of D (about 4-5 px at SAMM's
# 2040x1088, where D is about 160 px; about a pixel at the default 480x256).
AU_DISPLACEMENT = 0.03


@dataclass(frozen=True)
class Anchor:
    """Where (relative to a landmark) and how (vector, reach) one AU moves the face."""

    landmark: str  # "eye", "mouth" (corner), "nose" or "mouth_centre"
    offset: tuple[float, float]
    vector: tuple[float, float]
    sigma: float


_AU_ANCHORS: dict[int, tuple[Anchor, ...]] = {
    1: (Anchor("eye", (-0.2, -0.45), (0.0, -1.0), 0.18),),  # inner brow raiser
    2: (Anchor("eye", (0.28, -0.42), (0.0, -1.0), 0.18),),  # outer brow raiser
    4: (Anchor("eye", (-0.12, -0.38), (-0.5, 0.9), 0.2),),  # brow lowerer
    5: (Anchor("eye", (0.0, -0.12), (0.0, -0.8), 0.1),),  # upper lid raiser
    6: (Anchor("eye", (0.05, 0.32), (0.0, -0.8), 0.18),),  # cheek raiser
    7: (Anchor("eye", (0.0, 0.1), (0.0, -0.7), 0.1),),  # lid tightener
    9: (Anchor("nose", (0.14, -0.38), (0.0, -0.9), 0.12),),  # nose wrinkler
    10: (Anchor("mouth_centre", (0.16, -0.2), (0.0, -1.0), 0.14),),  # upper lip raiser
    12: (Anchor("mouth", (0.0, 0.0), (0.8, -0.8), 0.16),),  # lip corner puller
    14: (Anchor("mouth", (-0.04, 0.0), (0.9, -0.15), 0.12),),  # dimpler
    15: (Anchor("mouth", (0.0, 0.04), (0.1, 1.0), 0.15),),  # lip corner depressor
    17: (Anchor("mouth_centre", (0.0, 0.42), (0.0, -1.0), 0.2),),  # chin raiser
    20: (Anchor("mouth", (0.0, 0.02), (1.1, 0.15), 0.15),),  # lip stretcher
    24: (  # lip presser
        Anchor("mouth_centre", (0.0, -0.06), (0.0, 0.6), 0.1),
        Anchor("mouth_centre", (0.0, 0.1), (0.0, -0.6), 0.1),
    ),
    25: (Anchor("mouth_centre", (0.0, 0.1), (0.0, 0.8), 0.12),),  # lips part
    26: (Anchor("mouth_centre", (0.0, 0.35), (0.0, 1.0), 0.3),),  # jaw drop
}
SUPPORTED_AUS = tuple(sorted(_AU_ANCHORS))

_AU_TOKEN = re.compile(r"^\(?([LR]?)(\d+)[A-E]?\)?$")


def parse_action_units(code: str) -> list[tuple[int, str]]:
    """``"R6A+12"`` -> ``[(6, "R"), (12, "")]``; "R" and "L" are the subject's sides."""
    units = []
    for token in code.replace(" ", "").split("+"):
        match = _AU_TOKEN.match(token)
        if match is None or int(match.group(2)) not in _AU_ANCHORS:
            raise ValueError(f"unsupported Action Unit {token!r} in {code!r}")
        units.append((int(match.group(2)), match.group(1)))
    return units


def _landmark_points(landmarks: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Image-left then image-right point of each anchor landmark (centre ones repeated)."""
    left_eye, right_eye, nose, mouth_left, mouth_right = landmarks
    centre = (mouth_left + mouth_right) / 2.0
    return {
        "eye": [left_eye, right_eye],
        "mouth": [mouth_left, mouth_right],
        "nose": [nose, nose],
        "mouth_centre": [centre, centre],
    }


def displacement_field(
    landmarks: np.ndarray, action_units: str, shape: tuple[int, int], amplitude: float = 1.0
) -> np.ndarray:
    """The (height, width, 2) float32 displacement (pixels) of ``action_units`` at their apex.

    A subject's right side is the image's left (the camera faces the subject).
    """
    height, width = shape
    field = np.zeros((height, width, 2), np.float32)
    ex = landmarks[1] - landmarks[0]
    iod = float(np.linalg.norm(ex))
    ex = ex / iod
    ey = np.array([-ex[1], ex[0]])
    points = _landmark_points(landmarks)
    peak = AU_DISPLACEMENT * iod * amplitude
    for au, side in parse_action_units(action_units):
        sides = {"R": (0,), "L": (1,)}.get(side, (0, 1))
        for anchor in _AU_ANCHORS[au]:
            for index in sides:
                outward = -1.0 if index == 0 else 1.0
                ox, oy = anchor.offset
                centre = points[anchor.landmark][index] + iod * (outward * ox * ex + oy * ey)
                vx, vy = anchor.vector
                vector = peak * (outward * vx * ex + vy * ey)
                _add_gaussian(field, centre, vector, anchor.sigma * iod)
    return field


def _add_gaussian(field: np.ndarray, centre: np.ndarray, vector: np.ndarray, sigma: float) -> None:
    """Add ``vector * exp(-r^2 / 2 sigma^2)`` around ``centre``, within three sigma."""
    height, width = field.shape[:2]
    reach = 3.0 * sigma
    x0, x1 = max(int(centre[0] - reach), 0), min(int(centre[0] + reach) + 1, width)
    y0, y1 = max(int(centre[1] - reach), 0), min(int(centre[1] + reach) + 1, height)
    if x0 >= x1 or y0 >= y1:
        return
    gx = np.arange(x0, x1, dtype=np.float32) - np.float32(centre[0])
    gy = np.arange(y0, y1, dtype=np.float32) - np.float32(centre[1])
    weight = np.exp(-(gy[:, None] ** 2 + gx[None, :] ** 2) / np.float32(2.0 * sigma**2))
    field[y0:y1, x0:x1] += weight[..., None] * vector.astype(np.float32)


def blink_field(landmarks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Displacement of a full blink: the upper lids slide down over both eyes."""
    field = np.zeros((*shape, 2), np.float32)
    iod = float(np.linalg.norm(landmarks[1] - landmarks[0]))
    down = np.array([0.0, 0.14 * iod])
    for eye in landmarks[:2]:
        _add_gaussian(field, eye + np.array([0.0, -0.03 * iod]), down, 0.09 * iod)
    return field
