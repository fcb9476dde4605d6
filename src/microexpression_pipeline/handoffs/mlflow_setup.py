"""MLflow set-up: kedro-mlflow's tracking set-up serialised between concurrent runs, and
typed parameter sections logged as flat keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first runs are not serialised
    fcntl = None

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro_mlflow.framework.hooks import MlflowHook

from microexpression_pipeline.parameters import plain


class MlflowSetupLock:
    """Serialises kedro-mlflow's set-up (creating the SQLite tracking database and the
    experiment) between runs started at the same moment in one project, which otherwise
    race on the database's first migration. Its two hooks bracket kedro-mlflow's own
    ``after_context_created``; the lock is ``<project>/.mlflow_setup.lock``."""

    def __init__(self) -> None:
        self._handle: Any = None
        lock = self

        class Acquire:
            @hook_impl(tryfirst=True)
            def after_context_created(self, context: KedroContext) -> None:
                lock.acquire(Path(context.project_path))

        class Release:
            @hook_impl(trylast=True)
            def after_context_created(self) -> None:
                lock.release()

        self.hooks = (Acquire(), Release())

    def acquire(self, project_path: Path) -> None:
        if fcntl is None or self._handle is not None:
            return
        self._handle = (project_path / ".mlflow_setup.lock").open("a")
        fcntl.flock(self._handle, fcntl.LOCK_EX)

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class MlflowParamsHook(MlflowHook):
    """kedro-mlflow's hook (registered here instead of as a plugin: ``settings.py``), logging a
    typed parameter section, which Kedro's validation hands to nodes as a pydantic model, as
    the flattened keys of its dict (``training.epochs``), as kedro-mlflow logs a dict."""

    @hook_impl
    def before_node_run(
        self, node: Any, catalog: Any, inputs: dict[str, Any], is_async: bool
    ) -> None:
        inputs = {k: plain(v) if k.startswith("params:") else v for k, v in inputs.items()}
        super().before_node_run(node, catalog, inputs, is_async)
