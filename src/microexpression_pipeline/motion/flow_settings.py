"""The ``features`` parameter section, and the flow of a clip array under it.

One schema for every step that computes flow (the ``features`` pipeline on the ingested clips,
the ``augmentation`` pipeline on augmented copies), so that both compute the same thing and
record it the same way.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field, model_validator

from microexpression_pipeline.motion.optical_flow import FLOW_METHODS, check_settings, clip_flows
from microexpression_pipeline.parameters import StrictSection

CHANNELS = ("u", "v", "strain")


class FlowSettings(StrictSection):
    """How flow is computed and stored (``conf/base/parameters_features.yml``)."""

    method: Literal["tvl1", "farneback", "dis"]
    size: int = Field(ge=4, le=512)
    compute_size: int | None = Field(default=None, ge=8, le=1024)
    sequence: bool = False
    methods: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_settings(self) -> FlowSettings:
        for method, settings in self.methods.items():
            if method not in FLOW_METHODS:
                raise ValueError(
                    f"methods.{method} is not a flow method; valid choices: "
                    f"{', '.join(FLOW_METHODS)}"
                )
            check_settings(method, settings)
        return self

    def opencv_settings(self) -> dict[str, Any]:
        """The chosen method's OpenCV parameters: its defaults, updated by ``methods``."""
        return check_settings(self.method, self.methods.get(self.method, {}))

    def record(self, frame_size: int) -> dict[str, Any]:
        """What a stored flow array was made with (``frame_size``: the clips' crop side)."""
        return {
            "method": self.method,
            "settings": self.opencv_settings(),
            "computed_at_px": self.compute_size or frame_size,
            "stored_size": self.size,
            "channels": list(CHANNELS),
            "units": "u, v: displacement from onset to apex in pixels of the stored grid; "
            "strain: dimensionless",
            "from_frames": "onset (first) -> apex (middle) of each clip",
            "normalisation": "none (the models normalise at input)",
        }

    def fingerprint(self) -> str:
        """The settings that decide the values, as canonical JSON (compared across steps)."""
        keys = {"method": self.method, "settings": self.opencv_settings(), "size": self.size}
        return json.dumps(keys | {"compute_size": self.compute_size}, sort_keys=True)


class FlowContactSheet(StrictSection):
    clips_per_class: int = Field(ge=1, le=20)


class FeaturesParams(StrictSection):
    """The ``features`` section of ``conf/base/parameters_features.yml``."""

    section: ClassVar[str] = "features"

    flow: FlowSettings
    contact_sheet: FlowContactSheet


def flow_of_clips(clips: np.ndarray, settings: FlowSettings, sequence: bool = False) -> np.ndarray:
    """float16 (N, size, size, 3) onset -> apex [u, v, strain] of uint8 clips (N, F, H, W);
    with ``sequence``, (N, F, size, size, 3) onset -> every frame."""
    side = int(clips.shape[-1])
    if settings.compute_size is not None and settings.compute_size < side:
        raise ValueError(
            f"features.flow.compute_size: {settings.compute_size} px is below the clips' crop "
            f"size ({side} px); set it to null (the crop size) or at least {side}"
        )
    return clip_flows(
        clips,
        settings.method,
        settings.opencv_settings(),
        settings.size,
        compute_size=settings.compute_size,
        sequence=sequence,
    )
