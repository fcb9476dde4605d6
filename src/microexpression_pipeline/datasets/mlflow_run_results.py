"""``MlflowRunResults``: the latest results that earlier MLflow runs of the experiment logged.

Training logs ``train/<architecture>/{summary.json,predictions.parquet,histories.csv}``,
augmentation ``augmentation/clip/meta.json`` and the CASME II test ``cross_dataset/summary.json``
as artifacts of its MLflow run, tagged with ``data_source`` and ``mode``. Loading this dataset
finds, among the finished runs of the active run's experiment (newest first), the latest of
each per data source and mode (and architecture), and reads them: JSON, Parquet and CSV only,
nothing unpickled. Without an active MLflow run it loads as empty. Read-only. Catalog entry::

    reporting.other_runs:
      type: microexpression_pipeline.datasets.MlflowRunResults
      max_runs: 500
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from mlflow.tracking import MlflowClient

KINDS = ("training", "augmentation", "cross_dataset")


class MlflowRunResults(AbstractDataset[Any, dict[str, list[dict[str, Any]]]]):
    """Results per data source and mode from the experiment's finished MLflow runs."""

    def __init__(self, max_runs: int = 500, metadata: dict[str, Any] | None = None) -> None:
        self._max_runs = max_runs
        self.metadata = metadata

    def load(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
        active = mlflow.active_run()
        if active is None:
            return found
        client = MlflowClient()
        runs = client.search_runs(
            [active.info.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=self._max_runs,
        )
        seen: set[tuple[str, ...]] = set()
        with tempfile.TemporaryDirectory(prefix="mlflow-results-") as tmp:
            for run in runs:
                source, mode = run.data.tags.get("data_source"), run.data.tags.get("mode")
                if source and mode:
                    self._read_run(client, run.info.run_id, source, mode, Path(tmp), seen, found)
        return found

    @staticmethod
    def _read_run(
        client: MlflowClient,
        run_id: str,
        source: str,
        mode: str,
        tmp: Path,
        seen: set[tuple[str, ...]],
        found: dict[str, list[dict[str, Any]]],
    ) -> None:
        def fetch(path: str) -> Path:
            return Path(client.download_artifacts(run_id, path, str(tmp / run_id)))

        base = {"data_source": source, "mode": mode, "run_id": run_id}
        top = {Path(a.path).name for a in client.list_artifacts(run_id)}
        if "train" in top:
            for folder in client.list_artifacts(run_id, "train"):
                key = Path(folder.path).name
                files = {Path(a.path).name for a in client.list_artifacts(run_id, folder.path)}
                if ("training", source, mode, key) in seen or not {
                    "summary.json",
                    "predictions.parquet",
                } <= files:
                    continue
                seen.add(("training", source, mode, key))
                local = fetch(folder.path)
                histories = local / "histories.csv"
                found["training"].append(
                    base
                    | {
                        "architecture": key,
                        "summary": json.loads((local / "summary.json").read_text()),
                        "predictions": pd.read_parquet(local / "predictions.parquet"),
                        "histories": pd.read_csv(histories) if histories.exists() else None,
                    }
                )
        # the augmentation meta of the clip models' set (augmentation/<set>/meta.json; runs
        # from before sets were stored apart logged augmentation/meta.json)
        for kind, folder, path in (
            ("augmentation", "augmentation/clip", "meta.json"),
            ("augmentation", "augmentation", "meta.json"),
            ("cross_dataset", "cross_dataset", "summary.json"),
        ):
            if kind in top and (kind, source, mode) not in seen:
                files = {Path(a.path).name for a in client.list_artifacts(run_id, folder)}
                if path in files:
                    seen.add((kind, source, mode))
                    content = json.loads(fetch(f"{folder}/{path}").read_text())
                    found[kind].append(base | {"content": content})

    def save(self, data: Any) -> None:
        raise DatasetError("MlflowRunResults is read-only: results are logged by the runs.")

    def _describe(self) -> dict[str, Any]:
        return {"max_runs": self._max_runs}
