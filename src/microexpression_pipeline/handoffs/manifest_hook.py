"""``RunManifestHook``: writes every run's manifest (``manifest.py``) and refuses input
files that differ from what the run that saved them recorded."""

from __future__ import annotations

import json
import logging
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io.core import DatasetError

from microexpression_pipeline.handoffs.manifest import (
    MANIFEST_DATASET,
    SCHEMA_VERSION,
    dataset_record,
    environment,
    expected_digests,
    git_state,
)
from microexpression_pipeline.handoffs.run_info import RUN_INFO, run_parameters
from microexpression_pipeline.handoffs.run_versions import inner_dataset

logger = logging.getLogger(__name__)

# The options of `kedro run` a manifest records.
COMMAND_KEYS = ("pipeline_names", "tags", "node_names", "from_nodes", "to_nodes", "from_inputs",
                "to_outputs", "namespaces", "load_versions", "runtime_params")  # fmt: skip


def _manifest_files(catalog: Any) -> list[tuple[Any, str]]:
    """Every saved run manifest: (filesystem, path)."""
    dataset = inner_dataset(catalog.get(MANIFEST_DATASET))
    pattern = str(dataset._get_versioned_path("*"))
    return [(dataset._fs, path) for path in sorted(dataset._fs.glob(pattern))]


class RunManifestHook:
    """Writes the run manifest (``manifest``) and refuses input files that differ from what
    the run that saved them recorded.

    Every file-backed dataset the run loads or saves is hashed. A loaded file that an
    earlier run's manifest lists with another SHA-256 stops the run before any node uses
    it. At the end (also of a failed run) the manifest is saved as the versioned dataset
    ``run_manifest`` and logged to the MLflow run as ``run_manifest.json``.
    """

    def __init__(self) -> None:
        self._project_path = Path.cwd()
        self._params: dict[str, Any] = {}
        self._env: str | None = None
        self._reset()

    def _reset(self) -> None:
        self._catalog: Any = None
        self._run_params: dict[str, Any] = {}
        self._records: dict[str, dict[str, Any]] = {}
        self._other: set[str] = set()
        self._expected: dict[str, tuple[str, str]] | None = None
        self._started = datetime.now(UTC)

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._project_path = Path(context.project_path)
        self._env = context.env

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self._reset()
        self._catalog, self._run_params = catalog, run_params
        self._params = run_parameters(catalog)

    def _tracked(self, name: str) -> bool:
        return not (
            name == "parameters"
            or name.startswith("params:")
            or name in (RUN_INFO, MANIFEST_DATASET)
            or self._catalog is None
        )

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        if not self._tracked(dataset_name) or dataset_name in self._other:
            return
        if dataset_name in self._records:
            roles = self._records[dataset_name]["roles"]
            roles.extend([] if "loaded" in roles else ["loaded"])
            return
        record = dataset_record(self._catalog.get(dataset_name), "loaded", self._project_path)
        if record is None:
            self._other.add(dataset_name)
            return
        self._check_integrity(dataset_name, record)
        self._records[dataset_name] = {**record, "roles": ["loaded"]}

    @hook_impl
    def after_dataset_saved(self, dataset_name: str) -> None:
        if not self._tracked(dataset_name):
            return
        record = dataset_record(self._catalog.get(dataset_name), "saved", self._project_path)
        if record is None:
            self._other.add(dataset_name)
            return
        roles = self._records.get(dataset_name, {}).get("roles", [])
        self._records[dataset_name] = {**record, "roles": ["saved", *roles]}

    def _check_integrity(self, name: str, record: dict[str, Any]) -> None:
        if self._expected is None:
            manifests = []
            for fs, path in _manifest_files(self._catalog):
                try:
                    with fs.open(path, "r") as handle:
                        manifests.append(json.load(handle))
                except (OSError, ValueError) as exc:
                    logger.warning("Run manifest %s is unreadable (%s); ignored.", path, exc)
            self._expected = expected_digests(manifests)
        run_id = self._run_params.get("run_id", "this run")
        expected = dict(self._expected) | expected_digests(
            [{"kedro_session_id": run_id, "datasets": self._records}]
        )
        unvouched = []
        for entry in record["files"]:
            digest = expected.get(entry["path"])
            if digest is None:
                unvouched.append(entry["path"])
            elif digest[0] != entry["sha256"]:
                raise DatasetError(
                    f"{entry['path']} ({name}, version {record['version']}) is not the file "
                    f"run {digest[1]} saved: its SHA-256 differs, so it was altered or "
                    "truncated after it was written. Restore an intact copy (`kedro manifest "
                    "verify` lists every affected file) or load another version with "
                    f"`--load-versions={name}:<version>`."
                )
        if unvouched:
            logger.warning(
                "No run manifest lists %d of the %d file(s) of %s (e.g. %s): their integrity "
                "cannot be checked.",
                len(unvouched),
                len(record["files"]),
                name,
                unvouched[0],
            )

    @hook_impl(tryfirst=True)
    def after_pipeline_run(self) -> None:
        self._write("completed", None)

    @hook_impl(tryfirst=True)
    def on_pipeline_error(self, error: Exception) -> None:
        # The traceback is kept here: the terminal shows only a user error's message.
        trace = "".join(traceback.format_exception(error))
        self._write("failed", f"{type(error).__name__}: {error}", trace)

    def _write(self, status: str, error: str | None, trace: str | None = None) -> None:
        if self._catalog is None:
            return
        run_params = self._run_params
        active = mlflow.active_run()
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "kedro_session_id": run_params.get("run_id"),
            "status": status,
            "error": error,
            "traceback": trace,
            "started_at": self._started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "env": self._env,
            "command": {key: run_params.get(key) for key in COMMAND_KEYS},
            "git": git_state(self._project_path),
            **environment(self._project_path),
            "mlflow": {
                "run_id": active.info.run_id if active else None,
                "experiment_id": active.info.experiment_id if active else None,
                "tracking_uri": mlflow.get_tracking_uri() if active else None,
            },
            "parameters": self._params,
            "datasets": dict(sorted(self._records.items())),
            "not_file_backed": sorted(self._other),
        }
        manifest = json.loads(json.dumps(manifest, default=str))
        self._catalog.save(MANIFEST_DATASET, manifest)
        saved = dataset_record(self._catalog.get(MANIFEST_DATASET), "saved", self._project_path)
        where = saved["files"][0]["path"] if saved and saved["files"] else MANIFEST_DATASET
        if active is not None:
            mlflow.log_dict(manifest, "run_manifest.json")
            mlflow.set_tag("run_manifest", where)
        n_files = sum(len(record["files"]) for record in self._records.values())
        logger.info(
            "Run manifest (%d datasets, %d files): %s; check it with `kedro manifest verify`.",
            len(self._records),
            n_files,
            where,
        )
        self._reset()
