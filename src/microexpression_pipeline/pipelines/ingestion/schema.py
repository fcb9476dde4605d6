"""Schema of the ``ingestion`` parameter section (conf/base/parameters_ingestion.yml)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from microexpression_pipeline.dataset_sources import SOURCES
from microexpression_pipeline.motion.magnification import check_arguments
from microexpression_pipeline.parameters import StrictSection

# Formats read from a metadata sheet; the others (SMIC) from their folder tree alone.
SHEET_FORMATS = ("samm", "casme2")


class SourceSpec(StrictSection):
    """Where one dataset's frames and metadata sheet are (SMIC: frames only, no sheet)."""

    format: Literal["samm", "casme2", "smic"]
    root: str = Field(min_length=1)
    metadata: str | None = Field(default=None, min_length=1)
    enabled: bool = True


class Correction(StrictSection):
    """A fix of one key frame of one sheet row."""

    dataset: str = Field(min_length=1)
    clip_id: str = Field(min_length=1)
    field: Literal["onset", "apex", "offset"]
    value: int = Field(ge=0)
    # The sheet's value the correction expects: a frame number, or "/" for an apex the
    # sheet leaves uncoded (CASME II); None: no guard.
    original: int | Literal["/"] | None = None
    note: str = Field(min_length=1)


class ContactSheet(StrictSection):
    """How much the contact-sheet PNGs show."""

    clips_per_class: int = Field(default=2, ge=1, le=20)
    detection_clips: int = Field(default=4, ge=1, le=32)


# How the note of a magnified clip starts (the summary counts them).
MAGNIFIED_NOTE = "magnified:"


class Magnification(StrictSection):
    """Optional linear Eulerian magnification of each clip, before its frames are selected
    (``motion.magnification.magnify``)."""

    enabled: bool = False
    # total motion factor: magnified motion = amplification x true motion (1 + alpha)
    amplification: float = Field(default=5.0, ge=1.0, le=100.0)
    low_hz: float = Field(default=0.5, ge=0.0)
    high_hz: float = Field(default=12.0, gt=0.0)
    levels: int = Field(default=4, ge=1, le=8)
    # Wu et al.'s lambda_c as a fraction of the crop side (image_size)
    cutoff_wavelength_fraction: float = Field(default=0.125, gt=0.0, le=1.0)
    # frames per second of each source's recordings (every one of SOURCES)
    fps: dict[str, float] = Field(
        default_factory=lambda: {"samm": 200.0, "casme2": 200.0, "smic": 100.0}
    )

    @model_validator(mode="after")
    def _valid_band(self) -> Magnification:
        missing = sorted(set(SOURCES) - set(self.fps))
        unknown = sorted(set(self.fps) - set(SOURCES))
        if missing or unknown:
            raise ValueError(
                f"fps: give the frame rate of every source ({', '.join(SOURCES)}); "
                f"missing {missing}, not a source {unknown}"
            )
        for source, rate in self.fps.items():
            try:
                check_arguments(rate, self.amplification, self.low_hz, self.high_hz,
                                self.levels, 1.0, where="")  # fmt: skip
            except ValueError as exc:
                raise ValueError(f"{exc} (fps.{source} = {rate:g})") from None
        return self

    def record(self, source: str, image_size: int) -> dict[str, Any]:
        """What the clips of ``source`` were magnified with (``{"enabled": False}`` if off)."""
        if not self.enabled:
            return {"enabled": False}
        return {
            "enabled": True,
            "amplification": self.amplification,
            "low_hz": self.low_hz,
            "high_hz": self.high_hz,
            "levels": self.levels,
            "cutoff_wavelength_px": self.cutoff_wavelength_fraction * image_size,
            "fps": self.fps[source],
        }


class IngestionParams(StrictSection):
    """The ``ingestion`` section."""

    section = "ingestion"

    sources: dict[str, dict[Literal["samm", "casme2", "smic"], SourceSpec]]
    frames_between_key_frames: int = Field(ge=0, le=50)
    missing_frame_tolerance: int = Field(ge=0)
    image_size: int = Field(ge=16, le=1024)
    face_margin: float = Field(ge=0.0, le=1.0)
    detection_max_side: int = Field(ge=64)
    detection_batch_size: int = Field(ge=1, le=256)
    min_face_confidence: float = Field(ge=0.0, le=1.0)
    no_face: Literal["quarantine", "centre_crop"]
    apex_on_key_frame: Literal["keep", "quarantine"]
    missing_apex: Literal["middle", "quarantine"] = "middle"
    # SMIC codes no apex: the middle frame, or the frame that moved most from the onset
    smic_apex: Literal["middle", "max_motion"] = "middle"
    min_kept_fraction: float = Field(ge=0.0, le=1.0)
    workers: int = Field(ge=1, le=64)
    known_emotions: list[str]
    corrections: list[Correction]
    contact_sheet: ContactSheet
    magnification: Magnification = Field(default_factory=Magnification)

    @model_validator(mode="after")
    def _metadata_as_format_needs(self) -> IngestionParams:
        problems = []
        for data_source, specs in self.sources.items():
            for name, spec in specs.items():
                key = f"ingestion.sources.{data_source}.{name}.metadata"
                if spec.format in SHEET_FORMATS and spec.metadata is None:
                    problems.append(
                        f"{key} is missing: format {spec.format} reads its clips from a "
                        "metadata sheet; give the sheet's path"
                    )
                elif spec.format not in SHEET_FORMATS and spec.metadata is not None:
                    problems.append(
                        f"{key}: format {spec.format} has no metadata sheet (its clips are "
                        "read from the folder tree); remove the key"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _unique_corrections(self) -> IngestionParams:
        seen = set()
        for item in self.corrections:
            key = (item.dataset, item.clip_id, item.field)
            if key in seen:
                raise ValueError(f"corrections: {key} is corrected twice")
            seen.add(key)
        return self
