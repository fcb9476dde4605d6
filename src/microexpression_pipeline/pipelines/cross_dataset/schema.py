"""Schema of the ``cross_dataset`` parameter section."""

from __future__ import annotations

from pydantic import Field, field_validator

from microexpression_pipeline.parameter_validation import ARCHITECTURES, StrictSection


class CrossDatasetParams(StrictSection):
    """``cross_dataset:`` in conf/base/parameters_cross_dataset.yml."""

    source_mode: str = Field(min_length=1)
    architectures: list[str] = Field(min_length=1)
    label_mapping: dict[str, list[str]] = Field(min_length=2)
    batch_size: int = Field(ge=1)

    @field_validator("architectures")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [a for a in value if a not in ARCHITECTURES]
        if unknown:
            raise ValueError(f"unknown {unknown}; valid choices: {', '.join(ARCHITECTURES)}")
        return value

    @field_validator("label_mapping")
    @classmethod
    def _disjoint(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for cls_name, labels in value.items():
            if not labels:
                raise ValueError(f"class {cls_name!r} has no emotion label")
            for label in labels:
                key = label.strip().lower()
                if key in seen and seen[key] != cls_name:
                    raise ValueError(f"{label!r} is mapped to {seen[key]!r} and {cls_name!r}")
                seen[key] = cls_name
        return value
