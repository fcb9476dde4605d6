"""Schema of the ``augmentation`` parameter section."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from microexpression_pipeline.models import TRANSFORM_SETS
from microexpression_pipeline.parameters import StrictSection


def _check_range(value: list[float], low: float | None = None) -> list[float]:
    if len(value) != 2 or value[0] > value[1]:
        raise ValueError(f"must be [low, high] with low <= high (got {value})")
    if low is not None and value[0] < low:
        raise ValueError(f"must not go below {low} (got {value})")
    return value


class _Transform(StrictSection):
    enabled: bool
    probability: float = Field(gt=0, le=1)


class Translate(_Transform):
    """Horizontal shift in px at ``reference_size``; the band wraps from the opposite edge."""

    shift_px: list[int]

    @field_validator("shift_px")
    @classmethod
    def _range(cls, value: list[int]) -> list[int]:
        return _check_range(value, low=0)  # type: ignore[return-value]


class Rotate(_Transform):
    """Rotation by an angle in degrees, either way."""

    angle_deg: list[float]

    @field_validator("angle_deg")
    @classmethod
    def _range(cls, value: list[float]) -> list[float]:
        return _check_range(value, low=0)


class Noise(_Transform):
    """Additive Gaussian noise on the 0-255 scale."""

    mean: list[float]
    sigma: list[float]

    @field_validator("mean")
    @classmethod
    def _mean(cls, value: list[float]) -> list[float]:
        return _check_range(value)

    @field_validator("sigma")
    @classmethod
    def _sigma(cls, value: list[float]) -> list[float]:
        return _check_range(value, low=0)


class BrightnessContrast(_Transform):
    """``(x - 127.5) * contrast + 127.5 + brightness``."""

    brightness: list[float]
    contrast: list[float]

    @field_validator("brightness")
    @classmethod
    def _brightness(cls, value: list[float]) -> list[float]:
        return _check_range(value)

    @field_validator("contrast")
    @classmethod
    def _contrast(cls, value: list[float]) -> list[float]:
        return _check_range(value, low=0)


class Scale(_Transform):
    """Zoom about the centre by a factor."""

    factor: list[float]

    @field_validator("factor")
    @classmethod
    def _range(cls, value: list[float]) -> list[float]:
        return _check_range(value, low=0.01)


class TransformSet(StrictSection):
    """A set of transforms and how they are drawn."""

    per_frame: bool
    reference_size: int = Field(gt=0)
    min_transforms: int = Field(ge=0)
    corner_patch_px: int = Field(gt=0)
    translate: Translate
    rotate: Rotate
    noise: Noise
    brightness_contrast: BrightnessContrast
    scale: Scale
    # Copies per original of this set, per mode and class; null: `augmentation.copies`.
    copies: dict[str, dict[str, int]] | None = None

    @model_validator(mode="after")
    def _something_enabled(self) -> TransformSet:
        names = ("translate", "rotate", "noise", "brightness_contrast", "scale")
        enabled = [n for n in names if getattr(self, n).enabled]
        if self.min_transforms > 0 and not enabled:
            raise ValueError("enables no transform; set `enabled: true` on at least one")
        return self


class Preview(StrictSection):
    n_copies: int = Field(ge=0)


class AugmentationParams(StrictSection):
    """The ``augmentation`` section of ``conf/base/parameters_augmentation.yml``."""

    section = "augmentation"

    transform_sets: dict[str, TransformSet]
    balance: bool
    balance_pool_copies: int = Field(ge=1)
    copies: dict[str, dict[str, int]]
    preview: Preview

    @field_validator("copies")
    @classmethod
    def _non_negative(cls, value: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        bad = [f"{m}.{c}={n}" for m, cs in value.items() for c, n in cs.items() if n < 0]
        if bad:
            raise ValueError(f"copies must be >= 0 (got {', '.join(bad)})")
        return value

    @model_validator(mode="after")
    def _every_set(self) -> AugmentationParams:
        missing = [name for name in TRANSFORM_SETS if name not in self.transform_sets]
        if missing:
            raise ValueError(
                f"transform_sets has no {', '.join(missing)}: the architecture registry trains "
                f"on the sets {', '.join(TRANSFORM_SETS)}; add them"
            )
        return self
