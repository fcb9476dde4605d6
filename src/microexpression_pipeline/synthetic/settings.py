"""The ``synthetic`` parameter section: its schema and the render settings it resolves to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator

from microexpression_pipeline.parameters import StrictSection

FramePair = Annotated[list[Annotated[int, Field(ge=1, le=1000)]], Field(min_length=2, max_length=2)]

# SAMM's, CASME II's and SMIC-HS's real recordings; ``full_size: true`` renders at these.
SAMM_FULL_SIZE = (2040, 1088)
CASME2_FULL_SIZE = (640, 480)
SMIC_FULL_SIZE = (640, 480)
FULL_SIZE_ONSET_TO_OFFSET = (30, 101)  # SAMM's Duration column spans 30..101 frames
FULL_SIZE_MARGIN = (25, 75)


class SyntheticSettings(StrictSection):
    """Schema of the ``synthetic`` parameter section (defaults as in parameters_synthetic.yml)."""

    section = "synthetic"

    output_dir: str = Field(default="data/01_raw/synthetic", min_length=1)
    size: float = Field(default=1.0, gt=0.0, le=1.0)
    full_size: bool = False
    width: int = Field(default=480, ge=96, le=4096)
    height: int = Field(default=256, ge=64, le=4096)
    casme2_width: int = Field(default=320, ge=96, le=4096)
    casme2_height: int = Field(default=240, ge=64, le=4096)
    smic_width: int = Field(default=240, ge=96, le=4096)
    smic_height: int = Field(default=180, ge=64, le=4096)
    onset_to_offset_frames: FramePair = Field(default_factory=lambda: [20, 40])
    margin_frames: FramePair = Field(default_factory=lambda: [5, 10])
    au_intensity: float = Field(default=3.0, gt=0.0, le=5.0)
    noise_sigma: float = Field(default=2.0, ge=0.0, le=50.0)
    jpeg_quality: int = Field(default=85, ge=50, le=100)

    @field_validator("onset_to_offset_frames", "margin_frames")
    @classmethod
    def _ordered_range(cls, value: list[int], info: ValidationInfo) -> list[int]:
        low, high = value
        if low > high:
            raise ValueError("needs [low, high] with low <= high")
        if info.field_name == "onset_to_offset_frames" and low < 6:
            raise ValueError("the shortest clip needs at least 6 frames from onset to offset")
        return value


@dataclass(frozen=True)
class RenderSettings:
    """Settings with ``full_size`` applied: what the generator actually renders."""

    size: float
    samm_size: tuple[int, int]
    casme2_size: tuple[int, int]
    smic_size: tuple[int, int]
    onset_to_offset: tuple[int, int]
    margin: tuple[int, int]
    au_intensity: float
    noise_sigma: float
    jpeg_quality: int


def validate_settings(settings: Mapping[str, Any]) -> SyntheticSettings:
    """Parse the section; raise ``ParameterError`` naming each bad setting and its range."""
    return SyntheticSettings.model_validate(dict(settings))


def resolve(settings: SyntheticSettings) -> RenderSettings:
    """Apply ``full_size`` (SAMM's 2040x1088, CASME II's and SMIC-HS's 640x480, realistic
    durations)."""
    full = settings.full_size
    return RenderSettings(
        size=settings.size,
        samm_size=SAMM_FULL_SIZE if full else (settings.width, settings.height),
        casme2_size=CASME2_FULL_SIZE if full else (settings.casme2_width, settings.casme2_height),
        smic_size=SMIC_FULL_SIZE if full else (settings.smic_width, settings.smic_height),
        onset_to_offset=FULL_SIZE_ONSET_TO_OFFSET
        if full
        else tuple(settings.onset_to_offset_frames),
        margin=FULL_SIZE_MARGIN if full else tuple(settings.margin_frames),
        au_intensity=settings.au_intensity,
        noise_sigma=settings.noise_sigma,
        jpeg_quality=settings.jpeg_quality,
    )
