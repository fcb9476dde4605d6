"""Dense optical flow and optical strain between face frames (OpenCV, NumPy only).

Flow follows OpenCV's convention: ``flow[y, x] = (u, v)`` in pixels with
``first[y, x] ~ second[y + v, x + u]`` (u along x/columns, v along y/rows, y pointing down).
The onset -> apex flow plus its optical strain is the input of STSTNet and OFF-ApexNet.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

FLOW_METHODS = ("tvl1", "farneback", "dis")

# OpenCV parameter names, snake_cased from the setters (``setInnerIterations`` ->
# ``inner_iterations``; ``setLambda`` -> ``lambda``).
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    # Dual TV-L1 (Zach et al. 2007): OpenCV's own defaults, i.e. what STSTNet, OFF-ApexNet
    # and MEB use (they call ``cv2.optflow.DualTVL1OpticalFlow_create()`` without arguments).
    "tvl1": {
        "tau": 0.25,
        "lambda": 0.15,
        "theta": 0.3,
        "nscales": 5,
        "warps": 5,
        "epsilon": 0.01,
        "inner_iterations": 30,
        "outer_iterations": 10,
        "scale_step": 0.8,
        "gamma": 0.0,
        "median_filtering": 5,
    },
    # Farneback: the values of OpenCV's optical-flow tutorial (0.5, 3, 15, 3, 5, 1.2, 0), the
    # usual choice wherever Farneback appears in the micro-expression literature.
    "farneback": {
        "pyr_scale": 0.5,
        "levels": 3,
        "winsize": 15,
        "iterations": 3,
        "poly_n": 5,
        "poly_sigma": 1.2,
        "gaussian_window": False,
    },
    # DIS (Kroeger et al. 2016): a preset, then the non-None entries override its values. No
    # field default exists; "medium" with finest_scale 0 (patches matched at full resolution,
    # the presets stop at 1/2 or 1/4) because face crops are small: on a 128 px face it halves
    # the end-point error of a uniform shift and quarters it on a local lip-corner pull.
    "dis": {
        "preset": "medium",
        "finest_scale": 0,
        "coarsest_scale": None,
        "patch_size": None,
        "patch_stride": None,
        "gradient_descent_iterations": None,
        "variational_refinement_iterations": None,
        "variational_refinement_alpha": None,
        "variational_refinement_delta": None,
        "variational_refinement_gamma": None,
        "use_mean_normalization": None,
        "use_spatial_propagation": None,
    },
}

_DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
_DIS_SETTERS = {  # settings key -> (DISOpticalFlow setter, value type)
    "finest_scale": ("setFinestScale", int),
    "coarsest_scale": ("setCoarsestScale", int),
    "patch_size": ("setPatchSize", int),
    "patch_stride": ("setPatchStride", int),
    "gradient_descent_iterations": ("setGradientDescentIterations", int),
    "variational_refinement_iterations": ("setVariationalRefinementIterations", int),
    "variational_refinement_alpha": ("setVariationalRefinementAlpha", float),
    "variational_refinement_delta": ("setVariationalRefinementDelta", float),
    "variational_refinement_gamma": ("setVariationalRefinementGamma", float),
    "use_mean_normalization": ("setUseMeanNormalization", bool),
    "use_spatial_propagation": ("setUseSpatialPropagation", bool),
}


def check_settings(method: str, settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return ``method``'s defaults updated with ``settings``; ValueError on unknown names."""
    if method not in DEFAULT_SETTINGS:
        raise ValueError(
            f"features.flow.methods.{method}: unknown optical-flow method {method!r}; "
            f"use one of {', '.join(FLOW_METHODS)}."
        )
    defaults = DEFAULT_SETTINGS[method]
    given = dict(settings or {})
    for key in given:
        if key not in defaults:
            raise ValueError(
                f"features.flow.methods.{method}.{key}: unknown setting for {method!r}; "
                f"remove it or use one of {', '.join(defaults)}."
            )
    if method == "dis" and given.get("preset", "medium") not in _DIS_PRESETS:
        raise ValueError(
            f"features.flow.methods.dis.preset: unknown preset {given['preset']!r}; "
            f"use one of {', '.join(_DIS_PRESETS)}."
        )
    return {**defaults, **given}


class _Farneback:
    """``calcOpticalFlowFarneback`` behind the ``calc(first, second, None)`` interface."""

    def __init__(self, s: dict[str, Any]) -> None:
        self._args = (
            float(s["pyr_scale"]),
            int(s["levels"]),
            int(s["winsize"]),
            int(s["iterations"]),
            int(s["poly_n"]),
            float(s["poly_sigma"]),
            cv2.OPTFLOW_FARNEBACK_GAUSSIAN if s["gaussian_window"] else 0,
        )

    def calc(self, first: np.ndarray, second: np.ndarray, flow: None) -> np.ndarray:
        return cv2.calcOpticalFlowFarneback(first, second, flow, *self._args)


def _make_flow(method: str, settings: dict[str, Any] | None) -> Any:
    """An OpenCV-style object with ``calc(first, second, None) -> (H, W, 2) float32``."""
    s = check_settings(method, settings)
    if method == "tvl1":
        return cv2.optflow.DualTVL1OpticalFlow_create(
            tau=float(s["tau"]),
            lambda_=float(s["lambda"]),
            theta=float(s["theta"]),
            nscales=int(s["nscales"]),
            warps=int(s["warps"]),
            epsilon=float(s["epsilon"]),
            innnerIterations=int(s["inner_iterations"]),  # sic: OpenCV's spelling
            outerIterations=int(s["outer_iterations"]),
            scaleStep=float(s["scale_step"]),
            gamma=float(s["gamma"]),
            medianFiltering=int(s["median_filtering"]),
        )
    if method == "farneback":
        return _Farneback(s)
    dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[s["preset"]])
    for key, (setter, kind) in _DIS_SETTERS.items():
        if s[key] is not None:
            getattr(dis, setter)(kind(s[key]))
    return dis


def _check_frame(name: str, frame: np.ndarray) -> None:
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 2:
        got = (
            f"{frame.dtype} {frame.shape}"
            if isinstance(frame, np.ndarray)
            else type(frame).__name__
        )
        raise ValueError(f"{name} must be a uint8 (H, W) grey image; got {got}.")


def _flow(flow_object: Any, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    _check_frame("first", first)
    _check_frame("second", second)
    if first.shape != second.shape:
        raise ValueError(f"first {first.shape} and second {second.shape} differ in shape.")
    flow = flow_object.calc(np.ascontiguousarray(first), np.ascontiguousarray(second), None)
    return np.asarray(flow, dtype=np.float32)


def dense_flow(
    first: np.ndarray,
    second: np.ndarray,
    method: str = "tvl1",
    settings: dict[str, Any] | None = None,
) -> np.ndarray:
    """Flow from ``first`` to ``second`` (uint8 (H, W)): float32 (H, W, 2) = (u, v) pixels."""
    return _flow(_make_flow(method, settings), first, second)


def optical_strain(flow: np.ndarray) -> np.ndarray:
    """Optical strain magnitude sqrt(u_x² + v_y² + (u_y + v_x)² / 2), float32 (H, W).

    The Frobenius norm of the strain tensor [[u_x, e], [e, v_y]] with the shear
    e = (u_y + v_x) / 2 counted on both off-diagonals (2 e² = (u_y + v_x)² / 2): the form of
    the field's strain code (``computeStrain`` of the STSTNet line of work), and invariant
    under rotation. Derivatives by central differences (``np.gradient``; one-sided on the
    border), in pixels per pixel: the strain is dimensionless and does not change with
    resizing.
    """
    flow = np.asarray(flow, dtype=np.float64)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"flow must be (H, W, 2); got {flow.shape}.")
    u_y, u_x = np.gradient(flow[..., 0])
    v_y, v_x = np.gradient(flow[..., 1])
    return np.sqrt(u_x**2 + v_y**2 + (u_y + v_x) ** 2 / 2).astype(np.float32)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Square resize: cubic when enlarging, area averaging when shrinking."""
    if image.shape[:2] == (size, size):
        return image
    enlarging = size > min(image.shape[:2])
    interpolation = cv2.INTER_CUBIC if enlarging else cv2.INTER_AREA
    return cv2.resize(image, (size, size), interpolation=interpolation)


def _features(
    flow_object: Any,
    first: np.ndarray,
    second: np.ndarray,
    size: int,
    compute_size: int | None,
) -> np.ndarray:
    if compute_size is not None:
        first, second = _resize(first, compute_size), _resize(second, compute_size)
    flow = _flow(flow_object, first, second)
    height, width = flow.shape[:2]
    stack = np.dstack([flow, optical_strain(flow)])
    out = cv2.resize(stack, (size, size), interpolation=cv2.INTER_AREA)
    out[..., 0] *= size / width
    out[..., 1] *= size / height
    return out.astype(np.float32)


def flow_features(
    first: np.ndarray,
    second: np.ndarray,
    method: str = "tvl1",
    settings: dict[str, Any] | None = None,
    size: int = 28,
    compute_size: int | None = None,
) -> np.ndarray:
    """Float32 (size, size, 3) channels [u, v, strain] of the flow from ``first`` to ``second``.

    The frames are resized to ``compute_size`` (if given; else used as they are), flow and
    strain computed there, then area-resized to ``size``. u and v are rescaled to pixels of
    the ``size`` grid; the strain is dimensionless and not rescaled.
    """
    return _features(_make_flow(method, settings), first, second, size, compute_size)


def clip_flows(
    clips: np.ndarray,
    method: str = "tvl1",
    settings: dict[str, Any] | None = None,
    size: int = 28,
    compute_size: int | None = None,
    sequence: bool = False,
) -> np.ndarray:
    """Flow features of uint8 (N, F, H, W) clips, float16.

    ``sequence=False``: onset (frame 0) -> apex (frame F // 2), (N, size, size, 3).
    ``sequence=True``: onset -> every frame, (N, F, size, size, 3); frame 0 is all zeros.
    """
    clips = np.asarray(clips)
    if clips.dtype != np.uint8 or clips.ndim != 4 or clips.shape[1] < 2:
        raise ValueError(
            f"clips must be uint8 (N, F, H, W) with F >= 2; got {clips.dtype} {clips.shape}."
        )
    flow_object = _make_flow(method, settings)  # created once: TV-L1 creation is not free
    count, frames = clips.shape[:2]
    targets = range(1, frames) if sequence else [frames // 2]
    shape = (count, frames, size, size, 3) if sequence else (count, size, size, 3)
    out = np.zeros(shape, dtype=np.float16)
    for i, clip in enumerate(clips):
        for f in targets:
            features = _features(flow_object, clip[0], clip[f], size, compute_size)
            if sequence:
                out[i, f] = features
            else:
                out[i] = features
    return out
