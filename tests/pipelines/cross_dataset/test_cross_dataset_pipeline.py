"""The cross-dataset pipeline, run the Kedro way on a hand-made CASME II sample.

The trained model is replaced by a stand-in whose prediction depends on clip brightness, so
the test trains nothing; the real prediction path is the training pipeline's.
"""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, recall_score

from microexpression_pipeline.models import ARCHITECTURES, building
from microexpression_pipeline.pipelines.cross_dataset.evaluation import json_ready, map_labels
from microexpression_pipeline.pipelines.cross_dataset.pipeline import create_pipeline
from microexpression_pipeline.pipelines.cross_dataset.schema import CrossDatasetParams

VERSION = "2026-01-02T03.04.05.678Z"
CLASSES = ["negative", "positive"]
MAPPING = {"negative": ["disgust", "repression", "fear", "sadness"], "positive": ["happiness"]}
EMOTIONS = [
    "happiness",
    "disgust",
    "Repression",
    "others",
    "surprise",
    "fear",
    "sadness",
    "happiness",
]
BRIGHT = [1, 0, 1, 0, 0, 0, 0, 0]  # bright clips are predicted "positive"
# The training summary's record of the final model's fitting and validation sets.
FINAL_MODEL = {
    "fit_subjects": ["samm/006", "samm/007"],
    "validation_subjects": ["samm/009"],
    "n_fit_originals": 6,
    "n_fit_copies": 18,
    "n_validation_originals": 2,
}


class BrightnessModel:
    """Stands in for a Keras model: P(positive) = mean clip intensity / 255."""

    def __init__(self, shape: tuple[int, ...]):
        self.input_shape = (None, *shape)

    def probabilities(self, clips: np.ndarray) -> np.ndarray:
        positive = clips.reshape(len(clips), -1).mean(axis=1) / 255
        return np.stack([1 - positive, positive], axis=1)


def _fake_predict(model, clips, batch_size):
    return model.probabilities(clips)


def _run(mode: str, trained: dict, flow: str = "made") -> dict:
    """Run the pipeline on the CASME II sample with the given training outputs of ``mode``
    (``train_<key>_<output>``; every other one never trained). ``flow``: ``made`` for these
    clips, ``stale`` (made for clips ingested before) or ``never`` made."""
    clips = np.stack([np.full((5, 8, 8), 230 if b else 20, np.uint8) for b in BRIGHT])
    clip_ids = np.array([f"sub01_EP{i:02d}" for i in range(len(EMOTIONS))])
    index = pd.DataFrame(
        {"subject": ["sub01"] * 4 + ["sub02"] * 4, "clip_id": clip_ids, "emotion": EMOTIONS}
    )
    # The flow the flow models see, as bright or dark as the clip (the stand-in reads it).
    fields = np.stack([np.full((4, 4, 3), 230 if b else 20, np.float16) for b in BRIGHT])
    flow_ids = clip_ids if flow == "made" else clip_ids[::-1]
    data = {
        "casme2.clips": {"clips": clips, "clip_ids": clip_ids},
        "casme2.clip_index": index,
        "casme2.flow": None if flow == "never" else {"flow": fields, "clip_ids": flow_ids},
        "casme2.flow_meta": {"method": "tvl1", "fingerprint": "tvl1-28"},
        "params:cross_dataset": CrossDatasetParams.model_validate(
            {
                "architectures": [
                    "3dcnn",
                    "cnn+lstm",
                    "convlstm2d",
                    "2dcnn",
                    "ststnet",
                    "offapexnet",
                ],
                "label_mappings": {"binary": MAPPING},
                "batch_size": 4,
            }
        ),
        "params:data_source": "synthetic",
        "params:mode": mode,
        "run_info": {"mlflow_run_id": "cross-run", "input_versions": {"casme2.clips": VERSION}},
    }
    for key in ARCHITECTURES:
        for output in ("model", "summary", "predictions"):
            data[f"train_{key}_{output}"] = trained.get(f"train_{key}_{output}")
    catalog = DataCatalog(
        {name: MemoryDataset(value, copy_mode="assign") for name, value in data.items()}
    )
    catalog["cross_dataset.figures"] = MemoryDataset(copy_mode="assign")
    SequentialRunner().run(create_pipeline(), catalog)
    return {
        name: catalog[name].load()
        for name in (
            "cross_dataset.predictions",
            "cross_dataset.summary",
            "cross_dataset.metrics",
            "cross_dataset.figures",
        )
    }


def _trained() -> dict:
    """A 3D CNN, a ConvLSTM2D whose input does not fit, and two flow models of binary."""
    summary = {
        "architecture": "3dcnn",
        "classes": CLASSES,
        "protocol": "loso",
        "final_model": FINAL_MODEL,
        "run": {
            "data_source": "synthetic",
            "mlflow_run_id": "train-run",
            "kedro_session_id": VERSION,
        },
    }
    training_predictions = pd.DataFrame(
        {"true_label": ["negative"] * 5 + ["positive"] * 2, "repeat": 0}
    )
    return {
        "train_3dcnn_model": BrightnessModel((5, 8, 8)),
        "train_3dcnn_summary": summary,
        "train_3dcnn_predictions": training_predictions,
        # A model whose input does not fit the CASME II clips.
        "train_convlstm2d_model": BrightnessModel((9, 8, 8)),
        "train_convlstm2d_summary": summary,
        # Flow models: one trained on flow made as casme2.flow was, one on other flow.
        "train_ststnet_model": BrightnessModel((4, 4, 3)),
        "train_ststnet_summary": {**summary, "features": {"fingerprint": "tvl1-28"}},
        "train_ststnet_predictions": training_predictions,
        "train_offapexnet_model": BrightnessModel((4, 4, 3)),
        "train_offapexnet_summary": {**summary, "features": {"fingerprint": "dis-28"}},
    }


@pytest.fixture
def outputs(monkeypatch):
    monkeypatch.setattr(building, "predict", _fake_predict)
    yield _run("binary", _trained())
    plt.close("all")


def test_mapping_is_case_insensitive_and_leaves_unlisted_emotions_out():
    mapped = map_labels(pd.Series(EMOTIONS), MAPPING)
    assert mapped.tolist()[:3] == ["positive", "negative", "negative"]
    assert mapped.isna().tolist() == [False, False, False, True, True, False, False, False]


def test_scores_match_sklearn(outputs):
    summary = outputs["cross_dataset.summary"]
    model = summary["models"]["3dcnn"]
    assert model["status"] == "evaluated"
    predictions = outputs["cross_dataset.predictions"]
    predictions = predictions[predictions["architecture"] == "3dcnn"]
    assert len(predictions) == 6 and set(predictions["emotion"].str.lower()) == {
        "happiness",
        "disgust",
        "repression",
        "fear",
        "sadness",
    }
    y_true = (predictions["true_label"] == "positive").astype(int)
    y_pred = (predictions["predicted_label"] == "positive").astype(int)
    assert model["metrics"]["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert model["metrics"]["uf1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert model["metrics"]["uar"] == pytest.approx(recall_score(y_true, y_pred, average="macro"))
    assert model["confusion"] == confusion_matrix(y_true, y_pred).tolist()
    assert model["majority_class"] == "negative"
    assert model["majority"]["accuracy"] == pytest.approx(4 / 6)
    assert outputs["cross_dataset.metrics"]["3dcnn.uf1"]["value"] == pytest.approx(
        model["metrics"]["uf1"]
    )
    assert "confusion_3dcnn.png" in outputs["cross_dataset.figures"]


def test_flow_models_get_casme2_flow_made_as_their_training_flow(outputs):
    models = outputs["cross_dataset.summary"]["models"]
    assert models["ststnet"]["status"] == "evaluated"
    # The same predictions as the 3D CNN's stand-in: it read the flow, not the frames.
    predictions = outputs["cross_dataset.predictions"]
    by_model = predictions.set_index(["architecture", "clip_id"])["predicted_label"]
    assert by_model["ststnet"].tolist() == by_model["3dcnn"].tolist()
    assert models["offapexnet"]["status"] == "skipped"
    assert "casme2.flow was made with tvl1-28" in models["offapexnet"]["reason"]
    assert "--pipeline=features" in models["offapexnet"]["reason"]


@pytest.mark.parametrize(
    ("flow", "reason"),
    [("never", "no casme2.flow saved yet"), ("stale", "casme2.flow is not row-aligned")],
)
def test_flow_never_made_or_stale_skips_only_the_flow_models(monkeypatch, flow, reason):
    monkeypatch.setattr(building, "predict", _fake_predict)
    models = _run("binary", _trained(), flow=flow)["cross_dataset.summary"]["models"]
    assert models["3dcnn"]["status"] == "evaluated"
    for slug in ("ststnet", "offapexnet"):
        assert models[slug]["status"] == "skipped"
        assert models[slug]["reason"].startswith(reason)
        assert "kedro run --pipeline=features" in models[slug]["reason"]
    plt.close("all")


def test_summary_records_mapping_counts_and_provenance(outputs):
    summary = outputs["cross_dataset.summary"]
    assert summary["label_mapping"] == MAPPING and summary["classes"] == CLASSES
    assert summary["n_clips"] == 6 and summary["class_counts"] == {"negative": 4, "positive": 2}
    assert summary["left_out_emotions"] == {"others": 1, "surprise": 1}
    assert summary["casme2_version"] == VERSION and summary["mlflow_run_id"] == "cross-run"
    assert summary["data_source"] == "synthetic"
    assert summary["models"]["3dcnn"]["training_mlflow_run_id"] == "train-run"
    assert summary["models"]["3dcnn"]["final_model"] == FINAL_MODEL


def test_absent_or_unfit_models_are_reported_not_scored(outputs):
    models = outputs["cross_dataset.summary"]["models"]
    assert models["cnn_lstm"]["status"] == "not trained"
    assert models["2dcnn"]["status"] == "not trained"
    assert models["convlstm2d"]["status"] == "skipped"
    assert "does not match" in models["convlstm2d"]["reason"]
    assert set(outputs["cross_dataset.predictions"]["architecture"]) == {"3dcnn", "ststnet"}


def test_summary_is_strict_json_with_undefined_scores_as_null(outputs):
    json.dumps(outputs["cross_dataset.summary"], allow_nan=False)
    cleaned = json_ready({"precision": [float("nan"), 0.5], "uf1": np.float64("nan"), "n": 3})
    assert cleaned == {"precision": [None, 0.5], "uf1": None, "n": 3}


def test_a_mode_without_a_casme2_mapping_is_not_tested(monkeypatch):
    monkeypatch.setattr(building, "predict", _fake_predict)
    out = _run("multiclass", {"train_3dcnn_model": BrightnessModel((5, 8, 8))})
    summary = out["cross_dataset.summary"]
    assert summary["models"] == {}
    assert "Mode multiclass has no CASME II label mapping" in summary["message"]
    assert out["cross_dataset.predictions"].empty
    plt.close("all")
