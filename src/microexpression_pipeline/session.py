"""The project's Kedro session: the ``model`` parameter selects the training nodes to run,
and every run gets a version of its own (``run_versions``).

The ``train`` pipeline has one node per architecture, tagged ``architecture_<name>`` (with
``cnn+lstm`` written ``cnn_lstm``, as tags allow).
With ``model: all`` every node runs; with ``model: 3dcnn`` the other architectures' nodes are
left out of the run (whatever other filters were given), so exactly one training node runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.pipeline import Pipeline

from microexpression_pipeline.parameter_validation import (
    selected_architectures,
    validate_parameters,
)
from microexpression_pipeline.run_versions import reserve_version

ARCHITECTURE_TAG = "architecture_"


def unselected_nodes(pipeline: Pipeline, model: str) -> set[str]:
    """Names of the nodes that belong to an architecture ``model`` does not select."""
    keep = {f"{ARCHITECTURE_TAG}{name.replace('+', '_')}" for name in selected_architectures(model)}
    return {
        node.name
        for node in pipeline.nodes
        if any(tag.startswith(ARCHITECTURE_TAG) and tag not in keep for tag in node.tags)
    }


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def data_root(config_loader: Any, project_path: Path) -> str:
    """The ``data_root`` global as a URL or an absolute local path."""
    root = str((config_loader["globals"] or {}).get("data_root", "data"))
    if "://" in root or Path(root).is_absolute():
        return root
    return (project_path / root).as_posix()


class ProjectSession(KedroSession):
    """A ``KedroSession`` whose runs honour the ``model`` parameter and whose session id (the
    save version of everything the run writes) no concurrent run on the same data shares."""

    @classmethod
    def create(cls, *args: Any, **kwargs: Any) -> ProjectSession:  # type: ignore[override]
        session = super().create(*args, **kwargs)
        root = data_root(session._get_config_loader(), session._project_path)
        version = reserve_version(root, session.session_id)
        if version != session.session_id:
            session.session_id = version
            session._store["session_id"] = version
        return session

    def run(  # type: ignore[override]
        self,
        pipeline_name: str | None = None,
        pipeline_names: list[str] | None = None,
        node_names: Iterable[str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        names = pipeline_names or ([pipeline_name] if pipeline_name else None)
        params = _merged(
            dict(self._get_config_loader()["parameters"]),
            dict(self.store.get("runtime_params") or {}),
        )
        validate_parameters(params)
        pipelines.set_requested(names)
        combined = sum(
            (pipelines[name] for name in names or ["__default__"] if name in pipelines),
            Pipeline([]),
        )
        excluded = unselected_nodes(combined, str(params.get("model", "all")))
        if excluded:
            requested = list(node_names) if node_names else [n.name for n in combined.nodes]
            node_names = [name for name in requested if name not in excluded]
            if not node_names:
                raise ValueError(
                    f"model={params.get('model')!r} leaves none of the requested nodes to run "
                    f"({', '.join(requested)}); use --params model:all or name other nodes."
                )
        return super().run(pipeline_names=names, node_names=node_names, **kwargs)
