"""Project settings (see https://docs.kedro.org/en/stable/configure/configuration_basics/)."""

from __future__ import annotations

from pathlib import Path

from kedro.utils import find_kedro_project
from omegaconf.resolvers import oc

from microexpression_pipeline.hooks import (
    MlflowSetupLock,
    OwnOutputsHook,
    ParameterValidationHook,
    RunInfoHook,
    RunManifestHook,
)
from microexpression_pipeline.session import ProjectSession


def _project_root() -> str:
    """Absolute path of the project, so that relative settings do not depend on the cwd."""
    return str(find_kedro_project(Path.cwd()) or Path.cwd())


HOOKS = (
    *MlflowSetupLock().hooks,
    ParameterValidationHook(),
    RunInfoHook(),
    OwnOutputsHook(),
    RunManifestHook(),
)

# Honours the `model` parameter: only the selected architectures' training nodes run.
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
