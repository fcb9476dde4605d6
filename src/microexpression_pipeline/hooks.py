"""Project hooks: parameter validation before anything runs, readable and traceable runs,
runs that read their own outputs, and a manifest of every run."""

from __future__ import annotations

import json
import logging

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; concurrent first runs are not serialised
    fcntl = None
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.io import MemoryDataset
from kedro.io.core import AbstractVersionedDataset, DatasetError
from kedro.pipeline import Pipeline

from microexpression_pipeline.manifest import (
    MANIFEST_DATASET,
    SCHEMA_VERSION,
    dataset_record,
    environment,
    expected_digests,
    git_state,
)
from microexpression_pipeline.parameter_validation import validate_parameters
from microexpression_pipeline.run_versions import inner_dataset, pin_own_outputs

logger = logging.getLogger(__name__)

RUN_INFO = "run_info"
# The options of `kedro run` a manifest records.
COMMAND_KEYS = ("pipeline_names", "tags", "node_names", "from_nodes", "to_nodes", "from_inputs",
                "to_outputs", "namespaces", "load_versions", "runtime_params")  # fmt: skip


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


class ParameterValidationHook:
    """Stops a run whose parameters are invalid, before any node (or MLflow run) starts."""

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        validate_parameters(context.params)


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

    def __init__(self) -> None:
        self._params: dict[str, Any] = {}

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._params = dict(context.params)

    @hook_impl(trylast=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        params = self._params
        names = run_params.get("pipeline_names") or ["__default__"]
        pipeline_label = "+".join("default" if n == "__default__" else n for n in names)
        evaluation = params.get("evaluation") or {}
        info: dict[str, Any] = {
            "pipeline": pipeline_label,
            "kedro_session_id": run_params.get("run_id"),
            "data_source": params.get("data_source"),
            "mode": params.get("mode"),
            "model": params.get("model"),
            "protocol": evaluation.get("protocol"),
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


class OwnOutputsHook:
    """Makes a run's nodes read the versions that this run wrote (``pin_own_outputs``)."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        if run_params.get("only_missing_outputs"):
            return  # skipped nodes write nothing: their outputs load at the latest version
        user_pins = run_params.get("load_versions") or {}
        pin_own_outputs(pipeline, catalog, run_params["run_id"], user_pins)


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
        self._params = dict(context.params)
        self._env = context.env

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        self._reset()
        self._catalog, self._run_params = catalog, run_params

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
        self._write("failed", f"{type(error).__name__}: {error}")

    def _write(self, status: str, error: str | None) -> None:
        if self._catalog is None:
            return
        run_params = self._run_params
        active = mlflow.active_run()
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "kedro_session_id": run_params.get("run_id"),
            "status": status,
            "error": error,
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
