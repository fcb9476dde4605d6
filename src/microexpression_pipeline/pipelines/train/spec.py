"""What decides how a model is built and fitted (``nodes._spec`` makes it from parameters)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from microexpression_pipeline.models import Architecture
from microexpression_pipeline.models.precision import Precision


@dataclass(frozen=True)
class TrainingSpec:
    """Everything that decides how a model is built and fitted."""

    architecture: Architecture
    shape: tuple[int, int, int]
    classes: tuple[str, ...]
    arch_params: Any  # the architecture's block of training.architectures (its size variants)
    epochs: int
    batch_size: int
    learning_rate: float
    validation_fraction: float
    validation_split: str = "subject"
    min_validation_subjects: int = 3
    balance_pool: bool = False
    drop_remainder: bool = True
    optimizer: str = "adam"
    momentum: float = 0.0
    step_decay: Mapping[str, Any] | None = None
    reduce_lr: Mapping[str, Any] = field(default_factory=dict)
    early_stopping: Mapping[str, Any] = field(default_factory=dict)
    intensity: str = "rescale"
    verbose: int = 0
    deterministic: bool = True  # TensorFlow's op determinism, in the process that fits
    precision: Precision = "float32"  # models.precision
    fused_batch_norm: bool = True  # models.batch_norm

    @property
    def frame_level(self) -> bool:
        return self.architecture.frame_level
