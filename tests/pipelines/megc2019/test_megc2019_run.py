"""``kedro run --pipeline=megc2019`` through the real CLI on a tiny sample: the composite
against the sample's ground truth, the MEGC table, per-dataset metrics against
scikit-learn, the cross-database tables, the report and the MLflow run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

PARAMS = (
    "model:ststnet,seed:3,synthetic.size:0.05,synthetic.width:128,synthetic.height:96,"
    "synthetic.casme2_width:128,synthetic.casme2_height:96,synthetic.smic_width:128,"
    "synthetic.smic_height:96,synthetic.onset_to_offset_frames:[6,8],"
    "synthetic.margin_frames:[1,2],training.architectures.ststnet.overrides.epochs:1"
)
CLASSES = ["negative", "positive", "surprise"]


def _latest(folder: Path) -> Path:
    """The file of the latest version of a versioned dataset folder."""
    versions = sorted(p for p in folder.iterdir() if p.is_dir())
    return versions[-1] / folder.name


@pytest.fixture(scope="module")
def run(tmp_path_factory, copy_project, run_kedro) -> Path:
    project = copy_project(tmp_path_factory.mktemp("megc") / "project")
    result = run_kedro(project, "run", "--pipeline=megc2019", "--params", PARAMS)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return project


def _outputs(project: Path) -> Path:
    return project / "data" / "08_reporting" / "synthetic" / "megc2019"


def test_composite_matches_the_sample_ground_truth(run: Path) -> None:
    summary = json.loads(_latest(_outputs(run) / "composite_summary.json").read_text())
    truth = pd.read_csv(run / "data" / "01_raw" / "synthetic" / "ground_truth.csv")
    truth = truth[truth["megc_class"].notna() & (truth["megc_class"] != "")]
    for dataset, part in summary["datasets"].items():
        rows = truth[truth["dataset"].str.lower() == dataset]
        expected = {c: int((rows["megc_class"] == c).sum()) for c in CLASSES}
        assert part["class_counts"] == expected, dataset
        assert part["subjects"] == rows["subject"].nunique(), dataset
    assert summary["clips"] == len(truth)
    index = pd.read_parquet(_latest(run / "data/03_primary/synthetic/megc2019/clip_index.parquet"))
    assert set(index["dataset"]) == {"smic", "casme2", "samm"}


def test_megc_table_and_per_dataset_metrics_equal_scikit_learn(run: Path) -> None:
    table = pd.read_csv(_latest(_outputs(run) / "megc_table.csv"))
    assert list(table.columns) == ["method"] + [
        f"{part} {metric}"
        for part in ("Composite", "SMIC", "CASME II", "SAMM")
        for metric in ("UF1", "UAR")
    ]
    assert table["method"].tolist()[0] == "ststnet"
    assert table["method"].str.startswith("Majority baseline").any()
    assert not table["method"].str.contains("published").any()  # synthetic: no references

    results = json.loads(_latest(_outputs(run) / "results.json").read_text())
    (row,) = results["protocols"]["loso"]["rows"]
    predictions = pd.read_parquet(
        _latest(run / "data/07_model_output/synthetic/megc2019/loso/ststnet/predictions.parquet")
    )
    index = pd.read_parquet(_latest(run / "data/03_primary/synthetic/megc2019/clip_index.parquet"))
    dataset_of = dict(zip(index["clip_id"], index["dataset"], strict=True))
    assert sorted(predictions["clip_id"]) == sorted(index["clip_id"])  # every clip tested once
    for part, entry in row["parts"].items():
        rows = predictions
        if part != "composite":
            rows = predictions[predictions["clip_id"].map(dataset_of) == part]
        present = sorted(set(rows["true_label"]) | set(rows["predicted_label"]))
        uf1 = f1_score(rows["true_label"], rows["predicted_label"], labels=present, average="macro")
        uar = balanced_accuracy_score(rows["true_label"], rows["predicted_label"])
        assert entry["uf1"] == pytest.approx(uf1), part
        assert entry["uar"] == pytest.approx(uar), part
        assert entry["n"] == len(rows)


def test_cross_database_protocols(run: Path) -> None:
    results = json.loads(_latest(_outputs(run) / "results.json").read_text())
    (lodo,) = results["protocols"]["lodo"]["rows"]
    assert list(lodo["parts"]) == ["smic", "casme2", "samm"]
    (holdout,) = results["protocols"]["holdout"]["rows"]
    assert list(holdout["parts"]) == ["samm->casme2", "casme2->samm"]
    summary = json.loads(
        _latest(
            run / "data/07_model_output/synthetic/megc2019/holdout/ststnet/summary.json"
        ).read_text()
    )
    assert [f["name"] for f in summary["folds"]] == [
        "train samm -> test casme2", "train casme2 -> test samm",
    ]  # fmt: skip
    for fold in summary["folds"]:
        train, test = fold["name"].removeprefix("train ").split(" -> test ")
        assert {s.split("/")[0] for s in fold["fit_subjects"]} == {train}
        assert {s.split("/")[0] for s in fold["test_subjects"]} == {test}
    report = _latest(_outputs(run) / "report.md").read_text()
    for heading in ("### Leave one subject out (MEGC 2019 layout)",
                    "### Leave one database out", "### Hold-out database"):  # fmt: skip
        assert heading in report
    assert "| SAMM → CASME II UF1 |" in report


def test_mlflow_run_has_every_protocol(run: Path) -> None:
    with sqlite3.connect(run / "mlflow.db") as db:
        ((run_id, name),) = db.execute("select run_uuid, name from runs").fetchall()
        keys = {row[0] for row in db.execute("select key from metrics where run_uuid=?", (run_id,))}
        tags = dict(db.execute("select key, value from tags where run_uuid=?", (run_id,)))
    assert name == "megc2019 | mode=megc2019 model=ststnet | synthetic"
    assert tags["protocol"] == "loso+leave_one_dataset_out+holdout"
    for key in ("megc2019.loso.ststnet.composite.uf1", "megc2019.loso.ststnet.samm.uar",
                "megc2019.lodo.ststnet.smic.uf1", "megc2019.holdout.ststnet.samm_to_casme2.uar",
                "megc2019.loso.ststnet.uf1", "megc2019.holdout.ststnet.uar"):  # fmt: skip
        assert key in keys
