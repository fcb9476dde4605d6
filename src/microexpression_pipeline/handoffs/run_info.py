"""Readable and traceable runs: the MLflow run's name and tags, and the ``run_info`` input
that tells nodes which run, data and input versions they work with."""

from __future__ import annotations

import logging
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro.io.core import AbstractVersionedDataset
from kedro.pipeline import Pipeline

from microexpression_pipeline.parameters import plain

logger = logging.getLogger(__name__)

RUN_INFO = "run_info"


def run_parameters(catalog: Any) -> dict[str, Any]:
    """The run's parameters (as Kedro validated them) as plain dicts and values."""
    return plain(catalog.load("parameters")) if "parameters" in catalog else {}


def input_versions(pipeline: Pipeline, catalog: Any) -> dict[str, str | None]:
    """The version each versioned dataset a node of ``pipeline`` loads will be loaded at
    (for a dataset the run itself writes, the run's version: ``OwnOutputsHook``)."""
    versions: dict[str, str | None] = {}
    for name in sorted(pipeline.all_inputs()):
        if name.startswith("params:") or name in ("parameters", RUN_INFO):
            continue
        try:
            dataset = catalog.get(name)
        except Exception:
            continue
        if isinstance(dataset, AbstractVersionedDataset):
            try:
                versions[name] = dataset.resolve_load_version()
            except Exception:
                versions[name] = None
    return versions


class RunInfoHook:
    """Names and tags the MLflow run, and gives nodes a ``run_info`` input.

    ``run_info`` holds the MLflow run id, the Kedro session id (the save version of every
    dataset this run writes), the data source, mode, model and protocol, and the version
    each versioned input is loaded at, so outputs can say exactly where they came from.
    """

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        params = run_parameters(catalog)
        names = run_params.get("pipeline_names") or ["__default__"]
        pipeline_label = "+".join("default" if n == "__default__" else n for n in names)
        evaluation = params.get("evaluation") or {}
        mode, protocol = params.get("mode"), evaluation.get("protocol")
        if names == ["megc2019"]:  # the benchmark has its own mode and protocols
            benchmark = params.get("megc2019") or {}
            mode = benchmark.get("mode", mode)
            protocol = "+".join(
                str(e.get("protocol")) for e in (benchmark.get("evaluation") or {}).values()
            )
        info: dict[str, Any] = {
            "pipeline": pipeline_label,
            "kedro_session_id": run_params.get("run_id"),
            "data_source": params.get("data_source"),
            "mode": mode,
            "model": params.get("model"),
            "protocol": protocol,
            "input_versions": input_versions(pipeline, catalog),
            "mlflow_run_id": None,
            "mlflow_tracking_uri": None,
        }
        run = mlflow.active_run()
        if run is not None:
            info["mlflow_run_id"] = run.info.run_id
            info["mlflow_tracking_uri"] = mlflow.get_tracking_uri()
            tags = {key: str(info[key]) for key in ("mode", "model", "data_source", "protocol")}
            tags["pipeline"] = pipeline_label
            tags |= {
                f"input_version.{name}": str(version)
                for name, version in info["input_versions"].items()
            }
            mlflow.set_tags(tags)
            run_name = (
                f"{pipeline_label} | mode={info['mode']} model={info['model']} "
                f"| {info['data_source']}"
            )
            mlflow.set_tag("mlflow.runName", run_name)
            logger.info("MLflow run %r (%s)", run_name, run.info.run_id)
        catalog[RUN_INFO] = MemoryDataset(info, copy_mode="deepcopy")
