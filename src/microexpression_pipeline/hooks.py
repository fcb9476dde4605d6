"""Project hooks: parameter validation before anything runs, readable MLflow runs."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Pipeline

from microexpression_pipeline.parameter_validation import validate_parameters

logger = logging.getLogger(__name__)


class ParameterValidationHook:
    """Stops a run whose parameters are invalid, before any node (or MLflow run) starts."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        validate_parameters(context.params)


class RunLabelHook:
    """Names the MLflow run after what it does and tags it with mode, model and data source."""

    def __init__(self) -> None:
        self._params: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._params = dict(context.params)

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        if mlflow.active_run() is None:
            return
        names = run_params.get("pipeline_names") or ["__default__"]
        pipeline_label = "+".join("default" if n == "__default__" else n for n in names)
        tags = {
            "mode": str(self._params.get("mode")),
            "model": str(self._params.get("model")),
            "data_source": str(self._params.get("data_source")),
            "pipeline": pipeline_label,
        }
        mlflow.set_tags(tags)
        run_name = (
            f"{pipeline_label} | mode={tags['mode']} model={tags['model']} "
            f"| {tags['data_source']}"
        )
        mlflow.set_tag("mlflow.runName", run_name)
        logger.info("MLflow run %r tagged with %s", run_name, tags)
