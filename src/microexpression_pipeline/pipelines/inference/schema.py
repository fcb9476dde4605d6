"""The ``inference`` parameter section (``conf/base/parameters_inference.yml``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from microexpression_pipeline.parameters import StrictSection


class InferenceParams(StrictSection):
    """What to predict, with which model, and how intervals are found."""

    section: ClassVar[str] = "inference"

    # A video file (.mp4, .avi, .mov, .mkv) or a folder of frame images.
    source: str | None = None
    # Frame positions (0-based, in the source's frame order); all three or none.
    onset: int | None = Field(default=None, ge=0)
    apex: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)
    # An MLflow model URI (models:/<name>/<version or alias>, runs:/<run id>/<architecture>),
    # or null: the latest model the train pipeline saved for `mode` and `model` in
    # `models_root`.
    model: str | None = None
    models_root: str = "data/06_models"
    # Longer sources are scanned with a sliding window of this many frames (spotting).
    max_clip_frames: int = Field(default=120, ge=3)
    # Smallest peak motion (mean absolute grey difference from the window's first frame, on
    # the aligned face crop, 0-255) that a window of a long source reports as an interval.
    spotting_threshold: float = Field(default=2.0, ge=0)
    # Side of the aligned face crops the motion is measured on.
    spotting_size: int = Field(default=64, ge=8, le=512)

    @model_validator(mode="after")
    def _all_or_no_key_frames(self) -> InferenceParams:
        given = [self.onset is not None, self.apex is not None, self.offset is not None]
        if any(given) and not all(given):
            raise ValueError(
                "give inference.onset, inference.apex and inference.offset together, or none "
                "of them (the apex is then spotted)"
            )
        if all(given) and not (self.onset <= self.apex <= self.offset):  # type: ignore[operator]
            raise ValueError(
                f"key frames out of order: onset {self.onset}, apex {self.apex}, offset "
                f"{self.offset}; they must satisfy onset <= apex <= offset"
            )
        return self

    @property
    def key_frames(self) -> tuple[int, int, int] | None:
        """(onset, apex, offset) when given."""
        if self.onset is None or self.apex is None or self.offset is None:
            return None
        return self.onset, self.apex, self.offset
