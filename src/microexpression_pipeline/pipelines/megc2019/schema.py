"""Schema of the ``megc2019`` parameter section's composite and reference parts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from microexpression_pipeline.dataset_sources import SOURCES
from microexpression_pipeline.parameters import StrictSection


class Exclusion(StrictSection):
    """A clip the benchmark leaves out, with the reason."""

    dataset: str
    clip_id: str = Field(min_length=1)
    note: str = Field(min_length=1)


class CompositeParams(StrictSection):
    """``megc2019.composite``: which datasets, how their labels map, what is left out."""

    section = "megc2019.composite"

    datasets: list[str] = Field(min_length=2)
    # dataset -> class -> that dataset's emotion labels (case-insensitive)
    mapping: dict[str, dict[str, list[str]]]
    exclusions: list[Exclusion] = Field(default_factory=list)
    # MEGC 2019's counts on the real data: dataset -> class -> clips, and dataset -> subjects
    expected_counts: dict[str, dict[str, int]]
    expected_subjects: dict[str, int]

    @field_validator("datasets")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(SOURCES))
        if unknown or len(set(value)) != len(value):
            raise ValueError(
                f"{value} must name distinct ingested datasets (valid: {', '.join(SOURCES)})"
            )
        return value

    @field_validator("mapping")
    @classmethod
    def _same_classes(
        cls, value: dict[str, dict[str, list[str]]]
    ) -> dict[str, dict[str, list[str]]]:
        orders = {tuple(classes) for classes in value.values()}
        if len(orders) != 1:
            raise ValueError("every dataset must map to the same classes, in the same order")
        for dataset, classes in value.items():
            seen: dict[str, str] = {}
            for name, labels in classes.items():
                for label in labels:
                    key = label.strip().lower()
                    if seen.setdefault(key, name) != name:
                        raise ValueError(f"{dataset}: {label!r} is mapped to two classes")
        return value

    @model_validator(mode="after")
    def _datasets_named(self) -> CompositeParams:
        """Every dataset the mapping, exclusions and counts name is one of ``datasets`` (a
        misspelt one would be silently ignored), and each of those has a mapping."""
        named = {
            "mapping": set(self.mapping),
            "exclusions": {e.dataset for e in self.exclusions},
            "expected_counts": set(self.expected_counts),
            "expected_subjects": set(self.expected_subjects),
        }
        for key, names in named.items():
            if unknown := sorted(names - set(self.datasets)):
                raise ValueError(f"{key} names {unknown}, not in datasets {self.datasets}")
        if missing := sorted(set(self.datasets) - set(self.mapping)):
            raise ValueError(f"mapping has no entry for {missing}")
        return self


class Reference(StrictSection):
    """One published figure: method, metric values per part and where it was published."""

    method: str
    source: str
    protocol: str = "loso"
    # part (composite, smic, casme2, samm, or "samm->casme2" for a hold-out pair) -> metrics
    values: dict[str, dict[Literal["uf1", "uar"], float]]
    note: str = ""


class ReferenceParams(StrictSection):
    """``megc2019.references``: published leak-free figures on the real data."""

    section = "megc2019.references"

    entries: list[Reference] = Field(default_factory=list)
