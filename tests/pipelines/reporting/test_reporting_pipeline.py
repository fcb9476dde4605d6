"""The reporting pipeline run the Kedro way, on hand-made training outputs: the current mode's
from the catalog, other modes' as ``reporting.other_runs`` (MLflow) hands them over."""

from __future__ import annotations

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.reporting.pipeline import create_pipeline
from microexpression_pipeline.pipelines.reporting.schema import ReportingParams

OLD, NEW = "2026-01-01T00.00.00.000Z", "2026-01-02T03.04.05.678Z"
RUN_INFO = {
    "mlflow_run_id": "reporting-run",
    "kedro_session_id": "2026-01-03T00.00.00.000Z",
    "data_source": "synthetic",
    "mode": "megc3",
    "model": "all",
    "protocol": "group_kfold",
    "input_versions": {"train_3dcnn_summary": NEW},
}
META = {
    "classes": ["negative", "positive", "surprise"],
    "counts_before": {"negative": 40, "positive": 10, "surprise": 8},
    "counts_after": {"negative": 40, "positive": 40, "surprise": 40},
}


def _run(
    current=None,
    other=None,
    cross=None,
    meta=META,
    ingestion=None,
    flow=(None, None),
    benchmark=None,
) -> DataCatalog:
    """Run the pipeline. ``current``: architecture key -> (summary, predictions, histories) of
    the run's data source and mode (megc3); ``other``: ``reporting.other_runs`` entries;
    ``ingestion``: source -> ingestion summary; ``flow``: SAMM's flow contact sheet (base64
    PNG) and flow meta; ``benchmark``: the MEGC 2019 pipeline's results."""
    data = {
        "reporting.other_runs": {"training": other or [], "augmentation": [], "cross_dataset": []},
        "augmentation.clip.meta": meta,
        "cross_dataset.summary": cross,
        "samm.ingestion_summary": (ingestion or {}).get("samm"),
        "casme2.ingestion_summary": (ingestion or {}).get("casme2"),
        "samm.flow_contact_sheet": flow[0],
        "samm.flow_meta": flow[1],
        "megc2019.results": benchmark,
        "run_info": RUN_INFO,
        "params:reporting": ReportingParams.model_validate(
            {"title": "Test report", "embedded_dpi": 50}
        ),
    }
    for key in ARCHITECTURES:
        outputs = (current or {}).get(key, (None, None, None))
        for name, value in zip(("summary", "predictions", "histories"), outputs, strict=True):
            data[f"train_{key}_{name}"] = value
    catalog = DataCatalog(
        {name: MemoryDataset(value, copy_mode="assign") for name, value in data.items()}
    )
    catalog["reporting.figures"] = MemoryDataset(copy_mode="assign")
    # Saved as in the project (a CSV file), so it can be read back after the run.
    catalog["reporting.leaderboard"] = CSVDataset(
        filepath=str(Path(tempfile.mkdtemp()) / "leaderboard.csv"), save_args={"index": False}
    )
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog


def _other(mode: str, key: str, summary: dict, predictions: pd.DataFrame, source="synthetic"):
    return {"data_source": source, "mode": mode, "architecture": key, "run_id": f"mlflow-{key}",
            "summary": summary, "predictions": predictions, "histories": None}  # fmt: skip


@pytest.fixture(scope="module")
def outputs(make_predictions, make_histories, make_summary):
    good = make_predictions()
    stale = good.assign(predicted_label="negative")
    binary = make_predictions(classes=["negative", "positive", "surprise"])
    catalog = _run(
        current={
            "3dcnn": (make_summary("3dcnn"), good, make_histories()),
            "2dcnn": (make_summary("2dcnn"), good.assign(predicted_label=good["true_label"]), None),
        },
        other=[
            # An older MLflow run of the current data source and mode: the catalog's wins.
            _other("megc3", "3dcnn", make_summary("3dcnn"), stale),
            # Another mode, found only in MLflow.
            _other(
                "other3", "convlstm2d", {**make_summary("convlstm2d"), "mode": "other3"}, binary
            ),
        ],
    )
    yield {
        name: catalog[name].load()
        for name in (
            "reporting.leaderboard",
            "reporting.html",
            "reporting.markdown",
            "reporting.figures",
            "reporting.metrics",
        )
    }
    plt.close("all")


def test_leaderboard_has_this_modes_models_and_other_modes_from_mlflow(outputs):
    board = outputs["reporting.leaderboard"]
    current = board[board["mode"] == "megc3"]
    # the registry's order (3dcnn before 2dcnn), not ranked by test score (2dcnn scores higher)
    assert list(current["architecture"]) == ["3dcnn", "2dcnn"]
    assert current["uf1"].iloc[1] > current["uf1"].iloc[0]
    assert list(board.loc[board["mode"] == "other3", "architecture"]) == ["convlstm2d"]
    row = current.set_index("architecture").loc["3dcnn"]
    assert row["version"] == NEW
    assert row["accuracy"] == pytest.approx(9 / 13)  # the catalog's, not the stale MLflow run
    assert row["protocol"] == "group_kfold" and row["data_source"] == "synthetic"
    assert row["mlflow_run_id"] == "run-3dcnn"
    assert row["majority_accuracy"] == pytest.approx(8 / 13)  # always "negative"
    assert row["chance_accuracy"] == pytest.approx(1 / 3)


def test_report_names_data_source_protocol_versions_and_runs(outputs):
    for text in (outputs["reporting.html"], outputs["reporting.markdown"]):
        assert "Data source: synthetic" in text
        assert "Protocol: group_kfold (subject-independent)" in text
        assert "run-3dcnn" in text and "reporting-run" in text
        assert "augmentation.clip.clips = 2026-01-01T00.00.00.000Z" in text
        assert "majority-class baseline" in text and "chance (uniform guessing)" in text
        assert "data:image/png;base64," in text
    assert outputs["reporting.html"].startswith("<!DOCTYPE html>")
    assert "<img" in outputs["reporting.html"]


def test_undefined_metric_is_reported_as_na_not_zero(outputs):
    # "surprise" is never predicted by 2dcnn's perfect run... but it is true twice, so its
    # precision is defined; the per-class precision of a never-predicted class is n/a.
    markdown = outputs["reporting.markdown"]
    assert "n/a" in markdown


def test_figures_and_mlflow_metrics(outputs):
    figures = outputs["reporting.figures"]
    for name in (
        "leaderboard.png",
        "class_counts_synthetic_megc3.png",
        "confusion_synthetic_megc3_3dcnn.png",
        "learning_curves_synthetic_megc3_3dcnn.png",
        "per_subject_synthetic_megc3_3dcnn.png",
        "confusion_synthetic_megc3_2dcnn.png",
    ):
        assert name in figures
    metrics = outputs["reporting.metrics"]
    assert metrics["synthetic.megc3.3dcnn.accuracy"]["value"] == pytest.approx(9 / 13)
    assert "synthetic.megc3.2dcnn.majority_uf1" in metrics


def test_no_results_says_so():
    catalog = _run()
    board = catalog["reporting.leaderboard"].load()
    assert board.empty
    markdown = catalog["reporting.markdown"].load()
    assert "No trained model results were found" in markdown
    assert "Data source: synthetic" in markdown and "Protocol: group_kfold" in markdown
    assert "Not evaluated yet" in markdown
    assert sorted(catalog["reporting.figures"].load()) == [
        "class_counts_synthetic_megc3.png",
        "leaderboard.png",
    ]
    plt.close("all")


def test_flow_examples_are_in_the_report_when_the_features_step_ran():
    assert "Flow features" not in _run()["reporting.markdown"].load()
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9aw"
    meta = {"method": "tvl1", "computed_at_px": 32, "stored_size": 28, "n_clips": 159,
            "magnitude_px": {"mean": 0.071, "p99": 0.4}}  # fmt: skip
    catalog = _run(flow=(png, meta))
    for text in (catalog["reporting.markdown"].load(), catalog["reporting.html"].load()):
        assert "Flow features" in text and "(tvl1, computed at 32 px, stored at 28 px" in text
        assert png in text  # the contact sheet, embedded
    plt.close("all")


def test_cross_dataset_summary_is_reported(make_predictions, make_summary):
    cross = {
        "source_mode": "binary",
        "data_source": "synthetic",
        "label_mapping": {"negative": ["disgust"], "positive": ["happiness"]},
        "classes": ["negative", "positive"],
        "n_clips": 5,
        "class_counts": {"negative": 3, "positive": 2},
        "n_left_out": 1,
        "left_out_emotions": {"others": 1},
        "models": {
            "3dcnn": {
                "architecture": "3dcnn",
                "status": "evaluated",
                "metrics": {"accuracy": 0.6, "uf1": 0.5833, "uar": 0.5833},
                "majority": {"accuracy": 0.6, "uf1": 0.375, "uar": 0.5},
                "confusion": [[2, 1], [1, 1]],
                "model_version": NEW,
                "final_model": {
                    "fit_subjects": ["samm/006", "samm/007"],
                    "validation_subjects": ["samm/009"],
                    "n_fit_originals": 8,
                    "n_fit_copies": 24,
                    "n_validation_originals": 3,
                },
            },
            "2dcnn": {"architecture": "2dcnn", "status": "not trained", "reason": "no model"},
        },
    }
    casme2 = {
        "by_emotion": {
            "disgust": {"read": 4, "kept": 3, "rejected_by_reason": {"no_face": 1}},
            "happiness": {"read": 2, "kept": 2, "rejected_by_reason": {}},
            "others": {"read": 1, "kept": 1, "rejected_by_reason": {}},
        }
    }
    catalog = _run(cross=cross, ingestion={"casme2": casme2})
    markdown = catalog["reporting.markdown"].load()
    html = catalog["reporting.html"].load()
    assert "Hold-out database: the study's CASME II test" in markdown
    assert "final model of its training run on the SAMM clips of mode binary" in markdown
    assert "3dcnn: fitted on 2 subjects (8 originals + 24 augmented copies); validation " \
        "subjects (1, 3 original clips, never fitted): samm/009" in markdown  # fmt: skip
    assert "negative = disgust; positive = happiness; left out, not in the mapping: others " \
        "(1 clip)" in markdown  # fmt: skip
    assert "CASME II test set against its sheet" in markdown and "against its sheet" in html
    assert "| negative | disgust | 4 | 1 | no_face 1 | 0 | 3 | 3 |" in markdown
    assert "| total |  | 7 | 1 | no_face 1 | 1 | 5 | 5 |" in markdown
    assert "| 3dcnn | evaluated | 0.583 | 0.583 | 0.600 |" in markdown
    assert "not trained" in markdown
    assert (
        "cross_dataset_confusion_synthetic_megc3_3dcnn.png" in catalog["reporting.figures"].load()
    )
    plt.close("all")


def test_leaderboard_keeps_nan_for_uncomputable_metrics(make_predictions, make_summary):
    one_fold = make_predictions().assign(fold=0)
    catalog = _run(current={"3dcnn": (make_summary("3dcnn"), one_fold, None)})
    board = catalog["reporting.leaderboard"].load()
    assert pd.isna(board.loc[0, "majority_accuracy"])
    assert "n/a / n/a / n/a" in catalog["reporting.markdown"].load()
    plt.close("all")


def test_samm_test_set_is_accounted_against_the_sheet(make_predictions, make_summary):
    predictions = make_predictions()
    meta = {
        **META,
        "label_mapping": {"negative": ["disgust"], "positive": ["happiness"],
                          "surprise": ["surprise"]},
        "counts_before": {"negative": 8, "positive": 3, "surprise": 2},
        "left_out": [{"clip_id": "x", "emotion": "Other"}],
    }  # fmt: skip
    samm = {
        "by_emotion": {
            "disgust": {"read": 9, "kept": 8, "rejected_by_reason": {"no_face": 1}},
            "happiness": {"read": 3, "kept": 3, "rejected_by_reason": {}},
            "surprise": {"read": 2, "kept": 2, "rejected_by_reason": {}},
            "other": {"read": 1, "kept": 1, "rejected_by_reason": {}},
        }
    }
    catalog = _run(
        current={"3dcnn": (make_summary("3dcnn"), predictions, None)},
        meta=meta,
        ingestion={"samm": samm},
    )
    markdown = catalog["reporting.markdown"].load()
    assert "SAMM test set against its sheet" in markdown
    assert "| negative | disgust | 9 | 1 | no_face 1 | 0 | 8 | 8 |" in markdown
    assert "| (not in the mode) | other | 1 | 0 | - | 1 | 0 | 0 |" in markdown
    assert "| total |  | 15 | 1 | no_face 1 | 1 | 13 | 13 |" in markdown
    plt.close("all")


def test_benchmark_section_is_rendered_or_says_how_to_run_it():
    markdown = _run().load("reporting.markdown")
    assert "## MEGC 2019 composite benchmark" in markdown
    assert "Not run yet for this data source: `kedro run --pipeline=megc2019`" in markdown
    blocks = [
        {"kind": "heading", "level": 2, "text": "MEGC 2019 composite benchmark"},
        {"kind": "paragraph", "text": "Data source: synthetic."},
        {"kind": "table", "table": {"columns": ["method", "Composite UF1"],
                                    "rows": [["STSTNet", "0.612 ± 0.010"]]}},
        {"kind": "list", "items": ["casme2 sub04_EP12_01f: excluded"]},
    ]  # fmt: skip
    catalog = _run(benchmark={"report": blocks})
    markdown, html = catalog.load("reporting.markdown"), catalog.load("reporting.html")
    assert "| STSTNet | 0.612 ± 0.010 |" in markdown
    assert "- casme2 sub04_EP12_01f: excluded" in markdown
    assert "Not run yet" not in markdown
    assert "<td>0.612 ± 0.010</td>" in html
