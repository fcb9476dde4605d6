"""``MlflowVersionedArtifactDataset``: a versioned file (local or remote) that is also an
MLflow artifact.

kedro-mlflow's ``MlflowArtifactDataset`` builds the wrapped dataset itself, so a wrapped
``versioned: true`` dataset gets a save version of its own instead of the run's, which the
catalog refuses. Here ``versioned: true`` sits on the wrapper: the catalog hands it the
run's version and the wrapped dataset saves (and is logged) under that version.

kedro-mlflow also hands the wrapped dataset's path straight to ``mlflow.log_artifact``,
which only reads local files, and takes that path before the save has finished. Here the
artifact is logged once the save has completed, from its final path: directly when it is
local, from a temporary download when it lives on a remote filesystem (``s3://`` ...), so
the catalog's ``data_root`` may be any fsspec URL.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io.core import DatasetError, Version, generate_timestamp, get_filepath_str
from kedro_mlflow.io.artifacts import MlflowArtifactDataset
from mlflow.tracking import MlflowClient

LOCAL_PROTOCOLS = frozenset({"file", "local"})


def saved_path(dataset: Any) -> str:
    """The path (without protocol) that ``dataset``'s last save wrote to."""
    if getattr(dataset, "_version", None) is not None:
        path = dataset._get_versioned_path(dataset.resolve_save_version())
    elif hasattr(dataset, "_filepath"):
        path = dataset._filepath
    else:
        path = dataset._path
    return get_filepath_str(PurePosixPath(path), getattr(dataset, "_protocol", "file"))


def log_artifact(
    fs: Any, path: str, protocol: str, artifact_path: str | None, run_id: str | None
) -> None:
    """Log the file or folder ``path`` of ``fs`` to MLflow (the active run, or ``run_id``)."""

    def _log(local_path: str) -> None:
        if run_id:
            MlflowClient().log_artifact(run_id, local_path, artifact_path)
        else:
            mlflow.log_artifact(local_path, artifact_path)

    if protocol in LOCAL_PROTOCOLS:
        _log(path)
        return
    fs.invalidate_cache(path)
    with tempfile.TemporaryDirectory(prefix="mlflow-artifact-") as tmp:
        local = Path(tmp) / PurePosixPath(path).name
        if fs.isdir(path):
            local.mkdir()
            fs.get(f"{path.rstrip('/')}/", f"{local}/", recursive=True)
        else:
            fs.get(path, str(local))
        _log(str(local))


def _logging_after_save(base: type) -> type:
    """A subclass of kedro-mlflow's wrapper class ``base`` that logs after the save."""

    class LoggingAfterSave(base):
        pass

    def load(self: Any) -> Any:
        protocol = getattr(self, "_protocol", "file")
        if self.run_id and protocol not in LOCAL_PROTOCOLS:
            raise DatasetError(
                f"MlflowVersionedArtifactDataset cannot copy the artifact of MLflow run "
                f"{self.run_id} to the remote path {protocol}://{self._filepath}: remove "
                "`run_id` from the catalog entry, or give the wrapped dataset a local filepath."
            )
        return base.load(self)

    def save(self: Any, data: Any) -> None:
        logging_activated = self._logging_activated
        version = getattr(self, "_version", None)
        if version is not None and version.save is None:
            # Pin the save version, so that the path logged below is the one saved to.
            self._version = Version(version.load, generate_timestamp())
        self._logging_activated = False  # kedro-mlflow's own logging, before the save ends
        try:
            base.save(self, data)
            if logging_activated:
                log_artifact(
                    self._fs,
                    saved_path(self),
                    getattr(self, "_protocol", "file"),
                    self.artifact_path,
                    self.run_id,
                )
        finally:
            self._logging_activated = logging_activated
            if version is not None:
                self._version = version

    # Set after the class exists, so that Kedro does not wrap them a second time.
    LoggingAfterSave.load = load
    LoggingAfterSave.save = save
    # kedro-mlflow switches logging on and off for classes named "Mlflow...".
    LoggingAfterSave.__name__ = base.__name__
    LoggingAfterSave.__qualname__ = base.__qualname__
    return LoggingAfterSave


class MlflowVersionedArtifactDataset(MlflowArtifactDataset):
    """``MlflowArtifactDataset`` whose wrapped dataset is versioned with the catalog's version
    and may live on any fsspec filesystem.

    Example catalog entry::

        reporting.html:
          type: microexpression_pipeline.datasets.MlflowVersionedArtifactDataset
          versioned: true
          artifact_path: reporting
          dataset:
            type: text.TextDataset
            filepath: ${globals:data_root}/08_reporting/reporting/report.html
    """

    def __new__(
        cls,
        dataset: str | dict[str, Any],
        run_id: str | None = None,
        artifact_path: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        version: Version | None = None,
    ) -> Any:
        config = dict(dataset) if isinstance(dataset, dict) else {"type": dataset}
        if version is not None:
            config["versioned"] = True
        wrapper = MlflowArtifactDataset.__new__(
            MlflowArtifactDataset,
            dataset=config,
            run_id=run_id,
            artifact_path=artifact_path,
            credentials=credentials,
            metadata=metadata,
        )
        wrapper.__class__ = _logging_after_save(type(wrapper))
        if version is not None:
            wrapper._version = version
        return wrapper
