"""The project's datasets on S3 (moto's server): MLflow artifacts of remote files, folders of
results listed as locally, and the endpoint variables the README documents."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError, Version

from microexpression_pipeline.datasets import optional

VERSION = "2026-01-02T00.00.00.000Z"
# The catalog's atomically saving variants of the kedro-datasets classes.
ATOMIC = "microexpression_pipeline.datasets.atomic"


def _artifact(dataset: dict[str, Any], **extra: Any) -> Any:
    """A catalog-built ``MlflowVersionedArtifactDataset`` saving under ``VERSION``."""
    config = {
        "type": "microexpression_pipeline.datasets.MlflowVersionedArtifactDataset",
        "versioned": True,
        "artifact_path": "reporting",
        "dataset": dataset,
        **extra,
    }
    return AbstractDataset.from_config("artifact", config, save_version=VERSION)


@pytest.fixture(scope="module")
def mlflow_experiment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An MLflow experiment in a temporary SQLite database, artifacts in a temporary folder."""
    import mlflow

    folder = tmp_path_factory.mktemp("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{folder / 'mlflow.db'}")
    try:
        yield mlflow.create_experiment("s3", artifact_location=(folder / "artifacts").as_uri())
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture
def mlflow_run(mlflow_experiment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An active MLflow run; the cwd is an empty folder, so that a file written to a
    relative path instead of the bucket shows up there."""
    import mlflow

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    with mlflow.start_run(experiment_id=mlflow_experiment) as run:
        yield run


def _artifacts(run_id: str, path: str | None = None) -> list[str]:
    from mlflow import MlflowClient

    found = []
    for info in MlflowClient().list_artifacts(run_id, path):
        found += _artifacts(run_id, info.path) if info.is_dir else [info.path]
    return sorted(found)


def _download(run_id: str, path: str, target: Path) -> Path:
    from mlflow.artifacts import download_artifacts

    return Path(download_artifacts(run_id=run_id, artifact_path=path, dst_path=str(target)))


@pytest.mark.parametrize("kind", ["text.TextDataset", f"{ATOMIC}.TextDataset"])
def test_a_remote_file_is_saved_to_the_bucket_and_logged_to_mlflow(
    s3_env, mlflow_run, tmp_path, kind
):
    bucket = s3_env.new_bucket()
    dataset = _artifact({"type": kind, "filepath": f"s3://{bucket}/r/report.md"})
    dataset.save("# report")

    fs = s3_env.filesystem()
    assert fs.find(bucket) == [f"{bucket}/r/report.md/{VERSION}/report.md"]
    assert dataset.load() == "# report"
    run_id = mlflow_run.info.run_id
    assert _artifacts(run_id) == ["reporting/report.md"]
    assert _download(run_id, "reporting/report.md", tmp_path / "got").read_text() == "# report"
    assert list(Path.cwd().iterdir()) == []


@pytest.mark.parametrize("kind", ["matplotlib.MatplotlibDataset", f"{ATOMIC}.MatplotlibDataset"])
def test_a_remote_folder_of_figures_is_logged_as_a_folder(s3_env, mlflow_run, tmp_path, kind):
    bucket = s3_env.new_bucket()
    figures = {}
    for name in ("a.png", "b.png"):
        figures[name] = plt.figure()
        plt.plot([1, 2])
    dataset = _artifact(
        {
            "type": kind,
            "filepath": f"s3://{bucket}/r/figures",
            "save_args": {"format": "png"},
        }
    )
    dataset.save(figures)
    plt.close("all")

    saved = f"{bucket}/r/figures/{VERSION}/figures"
    assert s3_env.filesystem().find(bucket) == [f"{saved}/a.png", f"{saved}/b.png"]
    assert _artifacts(mlflow_run.info.run_id) == [
        "reporting/figures/a.png",
        "reporting/figures/b.png",
    ]
    png = _download(mlflow_run.info.run_id, "reporting/figures/a.png", tmp_path / "got")
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert list(Path.cwd().iterdir()) == []


@pytest.mark.parametrize("kind", ["text.TextDataset", f"{ATOMIC}.TextDataset"])
def test_a_local_file_is_logged_from_its_final_path(mlflow_run, tmp_path, kind):
    dataset = _artifact({"type": kind, "filepath": str(tmp_path / "report.md")})
    dataset.save("local")
    assert (tmp_path / "report.md" / VERSION / "report.md").read_text() == "local"
    assert _artifacts(mlflow_run.info.run_id) == ["reporting/report.md"]


def test_logging_switched_off_by_kedro_mlflow_logs_nothing(s3_env, mlflow_run):
    bucket = s3_env.new_bucket()
    dataset = _artifact({"type": "text.TextDataset", "filepath": f"s3://{bucket}/report.md"})
    assert type(dataset).__name__.startswith("Mlflow")  # how kedro-mlflow finds it
    dataset._logging_activated = False
    dataset.save("quiet")
    assert dataset._logging_activated is False
    assert _artifacts(mlflow_run.info.run_id) == []
    assert dataset.load() == "quiet"


def test_loading_another_runs_artifact_into_a_bucket_is_refused(s3_env):
    bucket = s3_env.new_bucket()
    dataset = _artifact(
        {"type": "text.TextDataset", "filepath": f"s3://{bucket}/report.md"}, run_id="abc123"
    )
    with pytest.raises(DatasetError, match="remove `run_id`"):
        dataset.load()


def test_an_optional_result_on_s3_loads_as_none_then_as_the_latest_version(s3_env):
    bucket = s3_env.new_bucket()
    path = f"s3://{bucket}/07_model_output/synthetic/binary/3dcnn/predictions.parquet"

    def dataset() -> Any:
        return optional.ParquetDataset(filepath=path, version=Version(None, None))

    assert dataset().load() is None
    for version, value in (("2026-01-01T00.00.00.000Z", 1), (VERSION, 2)):
        optional.ParquetDataset(filepath=path, version=Version(None, version)).save(
            pd.DataFrame({"a": [value]})
        )
    assert dataset().load()["a"].tolist() == [2]


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL", "FSSPEC_S3_ENDPOINT_URL"])
def test_the_documented_endpoint_variables_reach_s3fs(s3_server, variable):
    bucket = s3_server.new_bucket()
    s3_server.filesystem().pipe(f"{bucket}/probe.txt", b"found")
    env = s3_server.env()
    endpoint = env.pop("AWS_ENDPOINT_URL")
    code = f"import fsspec; print(fsspec.filesystem('s3').cat_file('{bucket}/probe.txt').decode())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env | {variable: endpoint},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "found"
