"""The architectures: one registry (``registry``, without TensorFlow), one module per family
of builders, and ``building`` (compiled models and their predictions)."""

from microexpression_pipeline.models.registry import (
    ALL,
    ARCHITECTURES,
    FLOW_SETS,
    GROUPS,
    TRANSFORM_SETS,
    Architecture,
    get,
    model_choices,
    selected,
    task_variant,
)

__all__ = [
    "ALL",
    "ARCHITECTURES",
    "FLOW_SETS",
    "GROUPS",
    "TRANSFORM_SETS",
    "Architecture",
    "get",
    "model_choices",
    "selected",
    "task_variant",
]
