"""Schemas of the ``training`` and ``evaluation`` parameter sections.

``training.architectures`` has one block per entry of the architecture registry, each with the
sizes of its ``binary`` and ``multiclass`` variants (the registry's size schema) and optional
``overrides`` of the shared settings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, create_model, field_validator

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.models.precision import Precision
from microexpression_pipeline.parameters import StrictSection


class ReduceLR(StrictSection):
    enabled: bool = True
    factor: float = Field(gt=0, lt=1)
    patience: NonNegativeInt
    min_lr: float = Field(ge=0)


class EarlyStopping(StrictSection):
    enabled: bool = False
    patience: NonNegativeInt = 5


class StepDecay(StrictSection):
    """Multiply the learning rate by ``factor`` every ``every_epochs`` epochs (PyTorch's
    StepLR, as RCN's reference training uses)."""

    every_epochs: PositiveInt
    factor: float = Field(gt=0, le=1)


class Overrides(StrictSection):
    epochs: NonNegativeInt | None = None
    batch_size: PositiveInt | None = None
    learning_rate: float | None = Field(default=None, gt=0)
    validation_fraction: float | None = Field(default=None, ge=0, lt=1)
    optimizer: Literal["adam", "sgd"] | None = None
    momentum: float | None = Field(default=None, ge=0, lt=1)
    reduce_lr: ReduceLR | None = None
    step_decay: StepDecay | None = None
    drop_last_batch: bool | None = None


class ArchitectureTable(StrictSection):
    """Base of the table of architecture blocks: ``table[key]`` is one block."""

    def __getitem__(self, key: str) -> Any:
        return getattr(self, f"arch_{key}")


def _variants(key: str, sizes: type[StrictSection]) -> type[StrictSection]:
    return create_model(
        f"{sizes.__name__}Variants",
        __base__=StrictSection,
        overrides=(Overrides, Overrides()),
        binary=(sizes, ...),
        multiclass=(sizes, ...),
    )


Architectures = create_model(
    "Architectures",
    __base__=ArchitectureTable,
    **{
        f"arch_{key}": (_variants(key, a.sizes), Field(alias=key))
        for key, a in ARCHITECTURES.items()
    },
)


class TrainingParams(StrictSection):
    section = "training"

    epochs: NonNegativeInt
    batch_size: PositiveInt
    learning_rate: float = Field(gt=0)
    # adam | sgd (with `momentum`); `step_decay`: null or {every_epochs, factor}.
    optimizer: Literal["adam", "sgd"] = "adam"
    momentum: float = Field(default=0.0, ge=0, lt=1)
    step_decay: StepDecay | None = None
    validation_fraction: float = Field(ge=0, lt=1)
    validation_split: Literal["subject", "clip"]
    min_validation_subjects: int = Field(ge=2)
    drop_last_batch: bool
    reduce_lr: ReduceLR
    early_stopping: EarlyStopping
    intensity: Literal["rescale", "standardize", "temporal"]
    deterministic: bool
    precision: Precision = "float32"
    fused_batch_norm: bool = True
    keras_verbose: Literal[0, 1, 2]
    architectures: Architectures  # type: ignore[valid-type]


class EvaluationParams(StrictSection):
    section = "evaluation"

    protocol: Literal["loso", "group_kfold", "stratified_kfold", "leave_one_dataset_out", "holdout"]
    n_splits: int = Field(ge=2)
    n_repeats: PositiveInt
    # protocol holdout: [train dataset, test dataset] pairs of a composite's datasets
    holdout_pairs: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list
    )
    seeds: list[NonNegativeInt] | None = Field(default=None, min_length=1)

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"seeds must be distinct (got {value})")
        return value
