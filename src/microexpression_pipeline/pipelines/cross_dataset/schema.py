"""Schema of the ``cross_dataset`` parameter section."""

from __future__ import annotations

from pydantic import Field, field_validator

from microexpression_pipeline.models import get
from microexpression_pipeline.parameters import ParameterError, StrictSection


class CrossDatasetParams(StrictSection):
    """``cross_dataset:`` in conf/base/parameters_cross_dataset.yml."""

    section = "cross_dataset"

    architectures: list[str] = Field(min_length=1)
    label_mappings: dict[str, dict[str, list[str]]]
    batch_size: int = Field(ge=1)

    @field_validator("architectures")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        """Architecture keys, whichever name was written (``cnn+lstm`` or ``cnn_lstm``)."""
        try:
            return [get(name).key for name in value]
        except ParameterError as exc:
            raise ValueError(str(exc).removeprefix("model: ")) from exc

    @field_validator("label_mappings")
    @classmethod
    def _disjoint(cls, value: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        for mode, mapping in value.items():
            if len(mapping) < 2:
                raise ValueError(f"{mode}: needs at least two classes")
            seen: dict[str, str] = {}
            for cls_name, labels in mapping.items():
                if not labels:
                    raise ValueError(f"{mode}: class {cls_name!r} has no emotion label")
                for label in labels:
                    key = label.strip().lower()
                    if key in seen and seen[key] != cls_name:
                        raise ValueError(
                            f"{mode}: {label!r} is mapped to {seen[key]!r} and {cls_name!r}"
                        )
                    seen[key] = cls_name
        return value
