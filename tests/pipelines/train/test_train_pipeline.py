"""The ``train`` pipeline through Kedro's runner: outputs, refusal of a wrong set, determinism."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from microexpression_pipeline.compute import ComputeParams
from microexpression_pipeline.metrics import accuracy
from microexpression_pipeline.models import get
from microexpression_pipeline.motion.flow_settings import FlowSettings
from microexpression_pipeline.pipelines.train import create_pipeline
from microexpression_pipeline.pipelines.train.fitting import make_dataset
from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams

MAPPINGS = {"binary": {"negative": ["anger"], "positive": ["happiness"]}}
INGESTION = {"image_size": 16, "frames_between_key_frames": 3, "missing_frame_tolerance": 2,
             "face_margin": 0.15,
             "detection_max_side": 320, "min_face_confidence": 0.9, "no_face": "quarantine",
             "magnification": {"enabled": False}}  # fmt: skip


def _catalog(augmented, samples, training, meta=None, n_splits=3, seeds=None) -> DataCatalog:
    meta = meta or {"mode": "binary", "classes": ["negative", "positive"],
                    "label_mapping": MAPPINGS["binary"]}  # fmt: skip
    sets = {
        f"augmentation.{name}.{key}": value
        for name in ("clip", "frame2d", "flow")
        for key, value in (("clips", augmented), ("samples", samples), ("meta", meta))
    }
    data = {
        **sets,
        "params:training": TrainingParams.model_validate(training),
        "params:evaluation": EvaluationParams.model_validate(
            {"protocol": "group_kfold", "n_splits": n_splits, "n_repeats": 1, "seeds": seeds}
        ),
        "params:seed": 3,
        "params:mode": "binary",
        "params:label_mappings": MAPPINGS,
        "params:ingestion": INGESTION,
        "params:compute": ComputeParams(),
        "run_info": {"mlflow_run_id": "abc123", "data_source": "synthetic"},
    }
    return DataCatalog({name: MemoryDataset(value) for name, value in data.items()})


def _run(catalog: DataCatalog, architecture: str) -> dict:
    """The architecture's training node, then its packaging node, through Kedro's runner
    (two runs: a run releases the in-memory datasets its later nodes consumed)."""
    slug = get(architecture).key
    pipeline = create_pipeline().only_nodes_with_tags(get(architecture).tag)
    SequentialRunner().run(pipeline.only_nodes(f"train_{slug}"), catalog)
    out = {key: catalog[f"train_{slug}_{key}"].load() for key in
           ("predictions", "histories", "model", "metrics", "summary", "card")}  # fmt: skip
    SequentialRunner().run(pipeline.only_nodes(f"package_{slug}"), catalog)
    return out | {"mlflow_model": catalog[f"train_{slug}_mlflow_model"].load()}


@pytest.fixture(scope="module")
def toy(augmented_set):
    return augmented_set(n_subjects=6, clips_per_subject=4, copies=1)


def test_pipeline_has_one_node_per_architecture() -> None:
    pipeline = create_pipeline()
    keys = ["2dcnn", "3dcnn", "cnn_lstm", "convlstm2d", "offapexnet", "rcn_a", "ststnet"]
    assert sorted(n.name for n in pipeline.nodes) == sorted(
        [f"train_{k}" for k in keys] + [f"package_{k}" for k in keys]
    )
    # Each final model is packaged with its card: what inference needs to prepare a clip.
    packaging = {n.name: n for n in pipeline.nodes}["package_3dcnn"]
    assert packaging.inputs == ["train_3dcnn_model", "train_3dcnn_card"]
    assert packaging.outputs == ["train_3dcnn_mlflow_model"]
    # Parallel branches, each tagged with its architecture and fed by the augmented set of its
    # transform set: the 2D CNN's own per-frame set, the flow set for the flow models, the
    # clip set for the others.
    inputs = {n.name: n.inputs for n in pipeline.nodes}
    assert "augmentation.frame2d.clips" in inputs["train_2dcnn"]
    assert all("augmentation.clip.clips" in inputs[f"train_{k}"]
               for k in ("3dcnn", "cnn_lstm", "convlstm2d"))  # fmt: skip
    assert all("augmentation.flow.clips" in inputs[f"train_{k}"]
               for k in ("ststnet", "offapexnet", "rcn_a"))  # fmt: skip
    assert sorted(n.name for n in pipeline.only_nodes_with_tags(get("cnn+lstm").tag).nodes) == [
        "package_cnn_lstm",
        "train_cnn_lstm",
    ]


@pytest.mark.parametrize("architecture", ["3dcnn", "2dcnn"])
def test_tiny_end_to_end_train(toy, tiny_training, architecture: str) -> None:
    augmented, samples = toy
    out = _run(_catalog(augmented, samples, tiny_training), architecture)
    predictions = out["predictions"]
    originals = samples.loc[~samples["is_augmented"], "sample_id"]
    # Every original clip tested once, under 3 subject-independent folds; no copy tested.
    assert sorted(predictions["sample_id"]) == sorted(originals)
    assert predictions["fold"].nunique() == 3
    assert predictions["subject_independent"].all()
    probs = predictions[["prob_negative", "prob_positive"]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-4)
    history = out["histories"]
    assert set(history["fold"]) == {-1, 0, 1, 2}
    assert (history.groupby("fold")["epoch"].max() == 2).all()
    assert {"loss", "accuracy", "val_loss"} <= set(history.columns)
    # The saved model takes clips (the 2D CNN's vote included) and gives clip probabilities.
    assert out["model"].input_shape == (None, *augmented["clips"].shape[1:])
    assert out["model"].output_shape == (None, 2)
    summary = out["summary"]
    expected = accuracy(predictions["true_label"], predictions["predicted_label"])
    assert summary["metrics"]["accuracy"] == pytest.approx(expected)
    slug = get(architecture).key
    assert out["metrics"][f"{slug}.accuracy"]["value"] == pytest.approx(expected)
    assert len(out["metrics"][f"{slug}.fold_accuracy"]) == 3
    assert summary["run"]["mlflow_run_id"] == "abc123"
    assert summary["protocol"] == "group_kfold"
    # The card: the classes, the crop the clips were made with, the protocol and its scores.
    card = out["card"]
    assert (card["architecture"], card["mode"], card["classes"]) == (
        slug,
        "binary",
        ["negative", "positive"],
    )
    assert card["preprocessing"]["image_size"] == 16 and card["flow"] is None
    assert card["metrics"]["uf1"] == pytest.approx(summary["metrics"]["uf1"])
    assert (card["protocol"], card["data_source"]) == ("group_kfold", "synthetic")
    assert out["mlflow_model"]["card"] == card
    assert out["mlflow_model"]["model"].output_shape == (None, 2)
    # Every fold says who was fitted, validated and tested, and how many clips each had.
    for record in summary["folds"]:
        fit, validation = set(record["fit_subjects"]), set(record["validation_subjects"])
        test = set(record["test_subjects"])
        assert fit and validation and test and not (fit & validation or fit & test)
        assert not validation & test
        tested = predictions.loc[predictions["fold"] == record["fold"], "subject"]
        assert {s.split("/")[-1] for s in test} == set(tested)
        assert record["n_test_originals"] == len(tested)
        assert record["n_fit_originals"] > 0 and record["n_fit_copies"] > 0
    assert set(summary["final_model"]["validation_subjects"]) and not set(
        summary["final_model"]["validation_subjects"]
    ) & set(summary["final_model"]["fit_subjects"])


def _flow_set(n_subjects: int = 6, clips_per_subject: int = 4) -> tuple[dict, pd.DataFrame]:
    """A flow training set (float16 28 x 28 x [u, v, strain]): negative clips move the brows
    down, positive ones the mouth corners outwards, plus noise."""
    rng = np.random.default_rng(0)
    rows, fields = [], []
    for s in range(n_subjects):
        for c in range(clips_per_subject):
            label = ("negative", "positive")[(s + c) % 2]
            field = rng.normal(0, 0.05, (28, 28, 3)).astype(np.float32)
            if label == "negative":
                field[5:10, 6:22, 1] += 0.6
            else:
                field[18:23, 4:10, 0] -= 0.6
                field[18:23, 18:24, 0] += 0.6
            fields.append(field.astype(np.float16))
            rows.append({"sample_id": f"{s:03d}_{c}", "source_clip_id": f"{s:03d}_{c}",
                         "subject": f"{s:03d}", "label": label, "is_augmented": False,
                         "copy_index": 0})  # fmt: skip
    samples = pd.DataFrame(rows)
    settings = FlowSettings(method="tvl1", size=28)
    record = settings.record(16) | {"fingerprint": settings.fingerprint()}
    arrays = {"clips": np.stack(fields), "sample_ids": samples["sample_id"].to_numpy("U"),
              "flow_settings": np.array(json.dumps(record))}  # fmt: skip
    return arrays, samples


@pytest.mark.parametrize("architecture", ["ststnet"])
def test_a_flow_model_trains_on_the_flow_set(tiny_training, architecture: str) -> None:
    flow, samples = _flow_set()
    meta = {"mode": "binary", "classes": ["negative", "positive"],
            "label_mapping": MAPPINGS["binary"], "transform_set": "flow"}  # fmt: skip
    key = get(architecture).key
    block = tiny_training["architectures"][key]
    training = {**tiny_training, "architectures": {**tiny_training["architectures"], key: {
        **block, "overrides": {**block["overrides"], "epochs": 8}}}}  # fmt: skip
    out = _run(_catalog(flow, samples, training, meta), architecture)
    predictions, summary = out["predictions"], out["summary"]
    assert sorted(predictions["sample_id"]) == sorted(samples["sample_id"])
    assert predictions["subject_independent"].all()
    # It saw the flow: its model takes 28 x 28 x 3 float fields, and the summary says how the
    # flow was made.
    assert out["model"].input_shape == (None, 28, 28, 3)
    assert out["model"].inputs[0].dtype == "float32"
    assert summary["features"]["method"] == "tvl1" and summary["transform_set"] == "flow"
    assert summary["metrics"]["accuracy"] > 0.5


def test_several_seeds_give_mean_and_std_over_seeds(toy, tiny_training) -> None:
    augmented, samples = toy
    training = {**tiny_training, "epochs": 1}
    out = _run(_catalog(augmented, samples, training, n_splits=2, seeds=[5, 6]), "3dcnn")
    predictions, summary = out["predictions"], out["summary"]
    assert summary["seeds"] == [5, 6] and summary["n_runs"] == 2
    originals = samples.loc[~samples["is_augmented"], "sample_id"]
    for seed in (5, 6):  # every original tested once per seed
        assert sorted(predictions.loc[predictions["seed"] == seed, "sample_id"]) == sorted(
            originals
        )
    per_seed = [accuracy(g["true_label"], g["predicted_label"]) for _, g in
                predictions.groupby("seed")]  # fmt: skip
    assert summary["metrics"]["accuracy"] == pytest.approx(np.mean(per_seed))
    assert summary["metrics_std"]["accuracy"] == pytest.approx(np.std(per_seed))
    assert out["metrics"]["3dcnn.seed_6.accuracy"]["value"] == pytest.approx(per_seed[1])
    assert {(r["seed"], r["fold"]) for r in summary["folds"]} == {(5, 0), (5, 1), (6, 0), (6, 1)}


def test_refuses_a_set_made_for_another_mode(toy, tiny_training) -> None:
    augmented, samples = toy
    meta = {"mode": "multiclass", "classes": ["Happiness", "Anger"]}
    with pytest.raises(Exception, match=r"kedro run --pipeline=augmentation --params mode:binary"):
        _run(_catalog(augmented, samples, tiny_training, meta), "3dcnn")


def test_refuses_a_set_made_with_another_transform_set(toy, tiny_training) -> None:
    augmented, samples = toy
    meta = {"mode": "binary", "classes": ["negative", "positive"], "transform_set": "frame2d"}
    with pytest.raises(Exception, match=r"transform set 'frame2d'.* trains on 'clip'"):
        _run(_catalog(augmented, samples, tiny_training, meta), "3dcnn")


def test_the_last_partial_batch_is_left_out_unless_it_is_the_only_one() -> None:
    clips = np.zeros((10, 9, 4, 4), np.uint8)
    onehot = np.eye(2, dtype="float32")[np.arange(10) % 2]

    def sizes(n: int, drop: bool) -> list[int]:
        data = make_dataset(clips, onehot, 4, 0, False, np.arange(n), drop)
        return [len(y) for _, y in data]

    assert sizes(10, True) == [4, 4]  # the study: steps_per_epoch = len // batch_size
    assert sizes(10, False) == [4, 4, 2]
    assert sizes(3, True) == [3]  # fewer clips than one batch: that batch is kept


def test_a_balancing_pool_is_drawn_per_fold_to_balance_the_fitted_classes(
    augmented_set, tiny_training
) -> None:
    augmented, samples = augmented_set(n_subjects=6, clips_per_subject=4, copies=3)
    # 1 positive and 3 negative clips per subject; every clip has a pool of 3 copies
    positive = samples["source_clip_id"].str.endswith("_0")
    samples = samples.assign(label=np.where(positive, "positive", "negative"))
    meta = {"mode": "binary", "classes": ["negative", "positive"], "balance": True}
    training = {**tiny_training, "epochs": 1}
    summary = _run(_catalog(augmented, samples, training, meta, n_splits=2), "3dcnn")["summary"]
    for record in [*summary["folds"], summary["final_model"]]:
        counts = record["fit_class_counts"]
        assert counts["negative"] == counts["positive"] > 0
        assert record["balance_shortfall"] == 0
        n_subjects = len(record["fit_subjects"])
        assert record["n_fit_copies"] == 2 * n_subjects  # 2 of the 3 copies of each positive


def test_rerun_with_the_same_seed_gives_the_same_predictions(toy, tiny_training) -> None:
    augmented, samples = toy
    training = {**tiny_training, "epochs": 1}
    first = _run(_catalog(augmented, samples, training, n_splits=2), "3dcnn")["predictions"]
    second = _run(_catalog(augmented, samples, training, n_splits=2), "3dcnn")["predictions"]
    pd.testing.assert_frame_equal(first, second)


def test_learns_a_learnable_signal(augmented_set, tiny_training) -> None:
    """On a toy set whose classes differ visibly, subject-independent folds score high:
    labels, folds and predictions are wired together correctly."""
    augmented, samples = augmented_set(n_subjects=6, clips_per_subject=6, copies=1)
    # A still difference: `temporal` intensity would take it out, so the study's settings.
    training = {**tiny_training, "epochs": 6, "intensity": "rescale", "learning_rate": 0.003}
    summary = _run(_catalog(augmented, samples, training), "3dcnn")["summary"]
    assert summary["metrics"]["accuracy"] >= 0.9
    assert summary["metrics"]["uar"] >= 0.9


def test_shipped_settings_learn_a_movement(augmented_set, tiny_training) -> None:
    """With the shipped `temporal` intensity a clip model learns classes that differ by what
    moves (a quadrant brightening on the middle frames), not by how a still frame looks."""
    assert tiny_training["intensity"] == "temporal"
    augmented, samples = augmented_set(n_subjects=6, clips_per_subject=6, copies=1, moving=True)
    training = {**tiny_training, "epochs": 6}
    summary = _run(_catalog(augmented, samples, training), "3dcnn")["summary"]
    assert summary["metrics"]["uar"] >= 0.9


def test_flow_models_keep_the_last_batch_and_one_schedule_sets_the_rate(shipped_params) -> None:
    from microexpression_pipeline.pipelines.train.nodes import _spec

    training = TrainingParams.model_validate(shipped_params["training"])
    classes = ("negative", "positive")
    assert _spec(get("ststnet"), (28, 28, 3), classes, training).drop_remainder is False
    assert _spec(get("3dcnn"), (9, 32, 32), classes, training).drop_remainder is True
    both = dict(shipped_params["training"])
    block = dict(both["architectures"]["rcn_a"])
    block["overrides"] = {**block["overrides"], "step_decay": {"every_epochs": 10, "factor": 0.5},
                          "reduce_lr": {**both["reduce_lr"], "enabled": True}}  # fmt: skip
    both["architectures"] = {**both["architectures"], "rcn_a": block}
    with pytest.raises(ValueError, match=r"training\.architectures\.rcn_a: step_decay and red"):
        _spec(get("rcn-a"), (28, 28, 3), classes, TrainingParams.model_validate(both))
    block["overrides"]["reduce_lr"] = {**both["reduce_lr"], "enabled": False}
    spec = _spec(get("rcn-a"), (28, 28, 3), classes, TrainingParams.model_validate(both))
    assert spec.step_decay == {"every_epochs": 10, "factor": 0.5}
