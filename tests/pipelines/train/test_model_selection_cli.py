"""``kedro run --pipeline=train --params mode:binary,model:3dcnn`` runs exactly one training
node, through the real CLI, and records it in MLflow."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from microexpression_pipeline.settings import CONFIG_LOADER_ARGS


def _write_augmented_set(project: Path, augmented_set, monkeypatch) -> None:
    """Save a toy binary augmented set through the project's own catalog entries."""
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(str(project / "conf"), default_run_env="local", **args)
    catalog = DataCatalog.from_config(loader["catalog"])
    # Written here, outside a run: no MLflow run to log the metadata artifact to.
    catalog.get("augmentation.clip.meta")._logging_activated = False
    arrays, samples = augmented_set(n_subjects=4, clips_per_subject=3, copies=1, shape=(9, 16, 16))
    mapping = loader["parameters"]["label_mappings"]["binary"]
    monkeypatch.chdir(project)
    catalog.save("augmentation.clip.clips", arrays)
    catalog.save("augmentation.clip.samples", samples)
    catalog.save(
        "augmentation.clip.meta",
        {"mode": "binary", "classes": list(mapping), "label_mapping": dict(mapping)},
    )


@pytest.mark.slow
def test_model_parameter_runs_exactly_one_training_node(
    project_copy: Path, run_kedro, augmented_set, monkeypatch
) -> None:
    _write_augmented_set(project_copy, augmented_set, monkeypatch)
    params = (
        "mode:binary,model:3dcnn,training.epochs:1,training.keras_verbose:0,ingestion.image_size:16,"
        "evaluation.protocol:group_kfold,evaluation.n_splits:2"
    )
    result = run_kedro(project_copy, "run", "--pipeline=train", "--params", params)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "Running node: train_3dcnn" in log
    for other in ("train_2dcnn", "train_cnn_lstm", "train_convlstm2d"):
        assert f"Running node: {other}" not in log
    outputs = project_copy / "data" / "07_model_output" / "synthetic" / "binary"
    assert sorted(p.name for p in outputs.iterdir()) == ["3dcnn"]
    (summary_file,) = (outputs / "3dcnn" / "summary.json").glob("*/summary.json")
    summary = json.loads(summary_file.read_text())
    assert summary["protocol"] == "group_kfold"
    assert summary["n_folds"] == 2
    model_dir = project_copy / "data" / "06_models" / "synthetic" / "binary" / "3dcnn"
    models = list(model_dir.glob("model.keras/*/model.keras"))
    assert len(models) == 1

    with sqlite3.connect(project_copy / "mlflow.db") as db:
        ((run_id, name),) = db.execute("select run_uuid, name from runs").fetchall()
        tags = dict(db.execute("select key, value from tags where run_uuid=?", (run_id,)))
        metrics = {k for (k,) in db.execute("select key from metrics where run_uuid=?", (run_id,))}
    assert name == "train | mode=binary model=3dcnn | synthetic"
    assert tags["model"] == "3dcnn"
    assert tags["protocol"] == "group_kfold"
    assert summary["run"]["mlflow_run_id"] == run_id
    assert {"3dcnn.accuracy", "3dcnn.uf1", "3dcnn.uar"} <= metrics
    assert "input_version.augmentation.clip.clips" in tags


FLOW = {"train_ststnet", "train_offapexnet", "train_rcn_a"}
STUDY = {"train_3dcnn", "train_cnn_lstm", "train_convlstm2d", "train_2dcnn"}


@pytest.mark.parametrize(
    ("model", "trained"),
    [("ststnet", {"train_ststnet"}), ("rcn-a", {"train_rcn_a"}), ("offapexnet",
     {"train_offapexnet"}), ("flow", FLOW), ("study", STUDY), ("3dcnn", {"train_3dcnn"})],
)  # fmt: skip
def test_model_runs_its_training_nodes_and_only_the_sets_they_need(model: str, trained: set):
    """`--params model:<name>` of the default run: each flow model by its name, or the groups;
    the flow set is augmented only for flow models, the flow features always."""
    from kedro.framework.project import configure_project

    from microexpression_pipeline.cli import selected_nodes

    configure_project("microexpression_pipeline")
    nodes = set(selected_nodes(model, []))
    assert {n for n in nodes if n.startswith("train_")} == trained
    assert any(n.startswith("augmentation.flow.") for n in nodes) == bool(trained & FLOW)
    assert any(n.startswith("augmentation.clip.") for n in nodes) == bool(
        trained & (STUDY - {"train_2dcnn"})
    )
    assert {"samm.compute_flow", "casme2.compute_flow", "evaluate_on_casme2"} <= nodes
