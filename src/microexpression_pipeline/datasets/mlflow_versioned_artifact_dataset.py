"""``MlflowVersionedArtifactDataset``: a versioned local file that is also an MLflow artifact.

kedro-mlflow's ``MlflowArtifactDataset`` builds the wrapped dataset itself, so a wrapped
``versioned: true`` dataset gets a save version of its own instead of the run's, which the
catalog refuses. Here ``versioned: true`` sits on the wrapper: the catalog hands it the
run's version and the wrapped dataset saves (and is logged) under that version.
"""

from __future__ import annotations

from typing import Any

from kedro.io.core import Version
from kedro_mlflow.io.artifacts import MlflowArtifactDataset


class MlflowVersionedArtifactDataset(MlflowArtifactDataset):
    """``MlflowArtifactDataset`` whose wrapped dataset is versioned with the catalog's version.

    Example catalog entry::

        reporting.html:
          type: microexpression_pipeline.datasets.MlflowVersionedArtifactDataset
          versioned: true
          artifact_path: reporting
          dataset:
            type: text.TextDataset
            filepath: data/08_reporting/reporting/report.html
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
        instance = MlflowArtifactDataset.__new__(
            MlflowArtifactDataset,
            dataset=config,
            run_id=run_id,
            artifact_path=artifact_path,
            credentials=credentials,
            metadata=metadata,
        )
        if version is not None:
            instance._version = version
        return instance
