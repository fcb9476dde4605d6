"""The datasets reporting reads and writes through: result folders and versioned artifacts."""

from __future__ import annotations

from kedro.io import AbstractDataset
from kedro.io.core import Version
from kedro_datasets.json import JSONDataset
from kedro_datasets.pandas import ParquetDataset

from microexpression_pipeline.datasets import OptionalPartitionedDataset
from microexpression_pipeline.pipelines.reporting.results import collect_results

OLD, NEW = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"


def _folder(path, ext, dataset):
    return OptionalPartitionedDataset(path=str(path), dataset=dataset, filename_suffix=ext)


def test_missing_folder_loads_as_no_partition(tmp_path):
    assert _folder(tmp_path / "absent", ".parquet", "pandas.ParquetDataset").load() == {}


def test_latest_saved_version_per_mode_and_architecture_is_found(
    tmp_path, make_predictions, make_summary
):
    for version in (OLD, NEW):
        for mode in ("binary", "megc3"):
            base = tmp_path / "synthetic" / mode / "3dcnn"
            table = make_predictions().assign(version=version)
            ParquetDataset(
                filepath=str(base / "predictions.parquet"), version=Version(None, version)
            ).save(table)
            JSONDataset(filepath=str(base / "summary.json"), version=Version(None, version)).save(
                make_summary("3dcnn")
            )
    results = collect_results(
        _folder(tmp_path, ".parquet", "pandas.ParquetDataset").load(),
        _folder(tmp_path, ".csv", "pandas.CSVDataset").load(),
        _folder(tmp_path, ".json", "json.JSONDataset").load(),
    )
    assert [(r.data_source, r.mode, r.slug, r.version) for r in results] == [
        ("synthetic", "binary", "3dcnn", NEW),
        ("synthetic", "megc3", "3dcnn", NEW),
    ]
    assert set(results[0].predictions["version"]) == {NEW}
    assert results[0].histories is None


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
