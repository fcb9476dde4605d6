"""Pictures of flow and strain fields for plots and reports (RGB / grey uint8)."""

from __future__ import annotations

import cv2
import numpy as np


def _scale(values: np.ndarray, maximum: float | None) -> np.ndarray:
    """``values / maximum`` clipped to [0, 1]; ``maximum`` None: the values' own maximum."""
    if maximum is None:
        finite = values[np.isfinite(values)]
        maximum = float(finite.max()) if finite.size else 0.0
    if not maximum > 0:  # all-zero field (or a non-positive bound): everything black
        return np.zeros_like(values)
    return np.clip(np.nan_to_num(values / maximum), 0.0, 1.0)


def flow_to_rgb(flow: np.ndarray, max_magnitude: float | None = None) -> np.ndarray:
    """Colour-wheel picture of a (H, W, 2) flow: uint8 (H, W, 3) RGB.

    Hue is the direction (atan2(v, u), image axes: 0 degrees = right, 90 = down), value the
    magnitude divided by ``max_magnitude`` (None: the field's maximum) clipped to 1,
    saturation full. Zero motion is black.
    """
    flow = np.asarray(flow, dtype=np.float32)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2); got {flow.shape}.")
    magnitude, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1], angleInDegrees=True)
    hsv = np.empty((*flow.shape[:2], 3), dtype=np.uint8)
    hsv[..., 0] = np.rint(angle / 2).astype(np.uint8) % 180  # OpenCV hue: 0..179
    hsv[..., 1] = 255
    hsv[..., 2] = np.rint(_scale(magnitude, max_magnitude) * 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def strain_to_grey(strain: np.ndarray, max_value: float | None = None) -> np.ndarray:
    """Grey picture of a (H, W) strain map: uint8, ``strain / max_value`` clipped to [0, 255]."""
    strain = np.asarray(strain, dtype=np.float32)
    if strain.ndim != 2:
        raise ValueError(f"strain must be (H, W); got {strain.shape}.")
    return np.rint(_scale(strain, max_value) * 255).astype(np.uint8)
