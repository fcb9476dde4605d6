"""Schemas of the ``training`` and ``evaluation`` parameter sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt

from microexpression_pipeline.parameter_validation import StrictSection


class ReduceLR(StrictSection):
    enabled: bool = True
    factor: float = Field(gt=0, lt=1)
    patience: NonNegativeInt
    min_lr: float = Field(ge=0)


class EarlyStopping(StrictSection):
    enabled: bool = False
    patience: NonNegativeInt = 5


class Overrides(StrictSection):
    epochs: NonNegativeInt | None = None
    batch_size: PositiveInt | None = None
    learning_rate: float | None = Field(default=None, gt=0)
    validation_fraction: float | None = Field(default=None, ge=0, lt=1)


class Conv3DSizes(StrictSection):
    filters: list[PositiveInt] = Field(min_length=1)
    kernel: list[PositiveInt] = Field(min_length=3, max_length=3)
    pool: list[PositiveInt] = Field(min_length=3, max_length=3)
    batch_norm: bool
    dense: list[PositiveInt]
    dropout: list[float]
    dense_batch_norm: bool


class CnnLstmSizes(StrictSection):
    filters: list[PositiveInt] = Field(min_length=1)
    kernel: PositiveInt
    pool: PositiveInt
    dropout_before_lstm: float = Field(ge=0, lt=1)
    lstm_units: PositiveInt
    lstm_dropout: float = Field(ge=0, lt=1)
    dense: list[PositiveInt]
    dropout: list[float]


class ConvLstmSizes(StrictSection):
    filters: PositiveInt
    kernel: PositiveInt
    pool: list[PositiveInt] = Field(min_length=3, max_length=3)
    dense: list[PositiveInt]
    dropout: list[float]


class Conv2DSizes(StrictSection):
    filters: list[PositiveInt] = Field(min_length=1)
    kernel: PositiveInt
    pool: PositiveInt
    dense: list[PositiveInt]
    dropout: list[float]
    dense_batch_norm: bool


def _variants(sizes: type[StrictSection]) -> type[StrictSection]:
    class Variants(StrictSection):
        overrides: Overrides = Overrides()
        binary: sizes  # type: ignore[valid-type]
        multiclass: sizes  # type: ignore[valid-type]

    Variants.__name__ = f"{sizes.__name__}Variants"
    return Variants


class Architectures(StrictSection):
    model_config = StrictSection.model_config | {"populate_by_name": True}

    conv3d: _variants(Conv3DSizes) = Field(alias="3dcnn")  # type: ignore[valid-type]
    cnn_lstm: _variants(CnnLstmSizes) = Field(alias="cnn+lstm")  # type: ignore[valid-type]
    convlstm2d: _variants(ConvLstmSizes)  # type: ignore[valid-type]
    conv2d: _variants(Conv2DSizes) = Field(alias="2dcnn")  # type: ignore[valid-type]


class TrainingParams(StrictSection):
    epochs: NonNegativeInt
    batch_size: PositiveInt
    learning_rate: float = Field(gt=0)
    validation_fraction: float = Field(ge=0, lt=1)
    reduce_lr: ReduceLR
    early_stopping: EarlyStopping
    intensity: Literal["rescale", "standardize", "temporal"]
    deterministic: bool
    keras_verbose: Literal[0, 1, 2]
    architectures: Architectures


class EvaluationParams(StrictSection):
    protocol: Literal["loso", "group_kfold", "stratified_kfold"]
    n_splits: int = Field(ge=2)
    n_repeats: PositiveInt
