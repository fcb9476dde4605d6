"""Project settings (see https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from __future__ import annotations

from pathlib import Path

from kedro.utils import find_kedro_project
from omegaconf.resolvers import oc

from microexpression_pipeline.compute import ComputeHook
from microexpression_pipeline.handoffs.manifest_hook import RunManifestHook
from microexpression_pipeline.handoffs.mlflow_setup import MlflowParamsHook, MlflowSetupLock
from microexpression_pipeline.handoffs.run_info import RunInfoHook
from microexpression_pipeline.handoffs.run_versions import OwnOutputsHook, ProjectSession
from microexpression_pipeline.parameters import RunParametersHook


def _model_choices() -> tuple[str, ...]:
    from microexpression_pipeline.models import model_choices

    return model_choices()


def _project_root() -> str:
    """Absolute path of the project, so that relative settings do not depend on the cwd."""
    return str(find_kedro_project(Path.cwd()) or Path.cwd())


HOOKS = (
    *MlflowSetupLock().hooks,
    RunParametersHook(_model_choices),
    RunInfoHook(),
    OwnOutputsHook(),
    RunManifestHook(),
    MlflowParamsHook(),
    ComputeHook(),
)
# kedro-mlflow's own hook instance is replaced by MlflowParamsHook above.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow",)

# Every run reserves a version (its session id) of its own (handoffs/run_versions.py).
SESSION_CLASS = ProjectSession

CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {
        # Kedro only enables `oc.env` in credentials; the MLflow settings read it too.
        "oc.env": oc.env,
        "project_root": _project_root,
    },
    # conf/local/mlflow.yml may override a single key (e.g. the tracking URI).
    "merge_strategy": {"mlflow": "soft", "parameters": "soft"},
}
