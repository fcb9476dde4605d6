"""The project's datasets: optional inputs, results of earlier MLflow runs, versioned
artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import Version

from microexpression_pipeline.datasets import MlflowRunResults, optional

OLD, NEW = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"


def test_an_optional_input_loads_as_none_until_saved_then_as_the_latest(tmp_path: Path):
    def summary() -> AbstractDataset:
        return optional.JSONDataset(filepath=str(tmp_path / "s.json"), version=Version(None, None))

    assert summary().load() is None
    for version in (OLD, NEW):
        optional.JSONDataset(
            filepath=str(tmp_path / "s.json"), version=Version(None, version)
        ).save({"version": version})
    assert summary().load() == {"version": NEW}
    pinned = optional.JSONDataset(filepath=str(tmp_path / "s.json"), version=Version(OLD, None))
    assert pinned.load() == {"version": OLD}


def _log_run(tmp: Path, tags: dict[str, str], files: dict[str, object]) -> str:
    """A finished MLflow run with ``tags`` and artifacts ``files`` (artifact path -> content)."""
    with mlflow.start_run() as run:
        mlflow.set_tags(tags)
        for artifact, content in files.items():
            local = tmp / run.info.run_id / artifact
            local.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, pd.DataFrame):
                content.to_parquet(local) if local.suffix == ".parquet" else content.to_csv(
                    local, index=False
                )
            else:
                local.write_text(json.dumps(content))
            mlflow.log_artifact(str(local), str(Path(artifact).parent))
    return run.info.run_id


@pytest.fixture
def tracking(tmp_path: Path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("results")
    yield tmp_path
    mlflow.set_tracking_uri(None)


def test_the_newest_finished_run_per_source_mode_and_architecture_is_found(tracking):
    predictions = pd.DataFrame({"true_label": ["a"], "predicted_label": ["a"]})

    def training(key: str, version: str) -> dict[str, object]:
        return {
            f"train/{key}/summary.json": {
                "architecture": key,
                "run": {"kedro_session_id": version},
            },
            f"train/{key}/predictions.parquet": predictions,
        }

    binary = {"data_source": "synthetic", "mode": "binary"}
    old = _log_run(
        tracking, binary, training("3dcnn", OLD) | {"augmentation/clip/meta.json": {"n": 1}}
    )
    new = _log_run(tracking, binary, training("3dcnn", NEW))
    other = _log_run(
        tracking, {"data_source": "synthetic", "mode": "megc3"}, training("2dcnn", NEW)
    )
    _log_run(tracking, {}, training("convlstm2d", NEW))  # untagged: not a result of a source
    with mlflow.start_run():  # the reporting run itself, still running
        found = MlflowRunResults().load()
    trained = {(r["mode"], r["architecture"]): r for r in found["training"]}
    assert set(trained) == {("binary", "3dcnn"), ("megc3", "2dcnn")}
    assert trained["binary", "3dcnn"]["run_id"] == new
    assert trained["binary", "3dcnn"]["summary"]["run"]["kedro_session_id"] == NEW
    pd.testing.assert_frame_equal(trained["binary", "3dcnn"]["predictions"], predictions)
    assert trained["megc3", "2dcnn"]["run_id"] == other
    # The newest run without an augmentation meta does not hide the one before it.
    assert [(m["run_id"], m["content"]) for m in found["augmentation"]] == [(old, {"n": 1})]
    assert found["cross_dataset"] == []


def test_without_an_active_run_nothing_is_found_and_saving_is_refused(tracking):
    assert MlflowRunResults().load() == {"training": [], "augmentation": [], "cross_dataset": []}
    with pytest.raises(DatasetError, match="read-only"):
        MlflowRunResults().save({})


def test_versioned_artifact_saves_under_the_catalog_version(tmp_path):
    dataset = AbstractDataset.from_config(
        "report",
        {
            "type": "microexpression_pipeline.datasets.MlflowVersionedArtifactDataset",
            "versioned": True,
            "artifact_path": "reporting",
            "dataset": {"type": "text.TextDataset", "filepath": str(tmp_path / "report.md")},
        },
        save_version=NEW,
    )
    dataset._logging_activated = False  # no MLflow run in this test
    dataset.save("# report")
    assert (tmp_path / "report.md" / NEW / "report.md").read_text() == "# report"
    assert dataset.load() == "# report"
