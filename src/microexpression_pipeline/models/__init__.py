"""The architectures: one registry (``registry``), one module per family of builders."""

from microexpression_pipeline import log_filters

log_filters.import_tensorflow()

from microexpression_pipeline.models.registry import (  # noqa: E402
    ALL,
    ARCHITECTURES,
    FLOW_SETS,
    GROUPS,
    TRANSFORM_SETS,
    Architecture,
    build_model,
    clip_model,
    get,
    model_choices,
    predict,
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
    "build_model",
    "clip_model",
    "get",
    "model_choices",
    "predict",
    "selected",
    "task_variant",
]
