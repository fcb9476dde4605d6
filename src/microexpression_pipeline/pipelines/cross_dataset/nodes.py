"""Cross-dataset node: each architecture's SAMM-trained model of the current mode, tested on
CASME II.

The CASME II clips come out of the same ingestion as SAMM's (same crop, size and frames),
and the model does its own input normalisation, so the clips are fed exactly as in training.
Flow models get CASME II's flow from the ``features`` pipeline, made with the settings their
training set's flow was made with (checked by fingerprint).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.cross_dataset.evaluation import (
    json_ready,
    map_labels,
    score,
    training_majority,
)
from microexpression_pipeline.pipelines.cross_dataset.schema import CrossDatasetParams
from microexpression_pipeline.plots import cross_dataset_confusion_figure, message_figure

logger = logging.getLogger(__name__)


def _expected_shape(model: Any, clip_shape: tuple[int, ...]) -> str | None:
    """Why the clips do not fit the model's input (None when they do)."""
    wanted = tuple(model.input_shape[1:])
    if wanted != tuple(clip_shape):
        return f"model input {wanted} does not match the CASME II clips {tuple(clip_shape)}"
    return None


def _flow_mismatch(
    training: Mapping[str, Any],
    flow: Mapping[str, np.ndarray] | None,
    flow_meta: Mapping[str, Any] | None,
    clip_ids: list[str],
) -> str | None:
    """Why the CASME II flow cannot be given to a flow model (None when it can): never
    computed, computed for other clips, or with other settings than the model's training."""
    if flow is None:
        return "no casme2.flow saved yet; run kedro run --pipeline=features"
    if [str(c) for c in flow["clip_ids"]] != clip_ids:
        return (
            "casme2.flow is not row-aligned with casme2.clip_index (CASME II was ingested "
            "again since); run kedro run --pipeline=features"
        )
    trained_on = (training.get("features") or {}).get("fingerprint")
    made_with = (flow_meta or {}).get("fingerprint")
    if trained_on is None or made_with != trained_on:
        return (
            f"the model was trained on flow {trained_on} but casme2.flow was made with "
            f"{made_with}; re-run kedro run --pipeline=features with the training's settings"
        )
    return None


def evaluate_on_casme2(
    clips: Mapping[str, np.ndarray],
    clip_index: pd.DataFrame,
    flow: Mapping[str, np.ndarray] | None,
    flow_meta: Mapping[str, Any] | None,
    params: CrossDatasetParams,
    data_source: str,
    mode: str,
    run_info: Mapping[str, Any],
    **trained: Any,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, dict[str, float]], dict[str, Figure]]:
    """Test each architecture's SAMM-trained model of this data source and mode on the CASME II
    clips mapped to its classes (``trained``: ``<key>/model``, ``<key>/summary`` and
    ``<key>/predictions``, None when never trained).

    Returns the predictions, a summary (metrics, confusion, provenance), MLflow metrics and
    the confusion-matrix figures.
    """
    mapping = {cls: list(labels) for cls, labels in params.label_mappings.get(mode, {}).items()}
    classes = list(mapping)
    ids = clip_index["clip_id"].astype(str).tolist()
    if [str(c) for c in clips["clip_ids"]] != ids:
        raise ValueError("casme2.clips and casme2.clip_index are not row-aligned; re-run ingestion")
    labels = map_labels(clip_index["emotion"], mapping)
    kept = labels.notna().to_numpy()
    table = clip_index.loc[kept, ["subject", "clip_id", "emotion"]].reset_index(drop=True)
    table["true_label"] = labels[kept].to_numpy()
    casme2_clips = clips["clips"][kept]
    left_out = clip_index.loc[~kept, "emotion"].astype(str).str.lower().value_counts()

    summary: dict[str, Any] = {
        "source": "samm",
        "target": "casme2",
        "source_mode": mode,
        "data_source": data_source,
        "label_mapping": mapping,
        "classes": classes,
        "n_clips": int(kept.sum()),
        "class_counts": {c: int((table["true_label"] == c).sum()) for c in classes},
        "n_left_out": int((~kept).sum()),
        "left_out_emotions": {str(k): int(v) for k, v in left_out.items()},
        "casme2_version": (run_info.get("input_versions") or {}).get("casme2.clips"),
        "mlflow_run_id": run_info.get("mlflow_run_id"),
        "kedro_session_id": run_info.get("kedro_session_id"),
        "models": {},
    }
    frames, metrics, figures = [], {}, {}
    for slug in params.architectures if mapping else ():
        architecture = ARCHITECTURES[slug].name
        entry: dict[str, Any] = {"architecture": architecture, "status": "not trained"}
        summary["models"][slug] = entry
        model, training = trained.get(f"{slug}/model"), trained.get(f"{slug}/summary") or {}
        if model is None:
            entry["reason"] = f"no model saved in data/06_models/{data_source}/{mode}/{slug}/"
            continue
        version = str((training.get("run") or {}).get("kedro_session_id") or "n/a")
        entry["model_version"] = version
        model_classes = [str(c) for c in training.get("classes", classes)]
        if model_classes != classes:
            entry |= {"status": "skipped", "reason": f"model classes {model_classes} != {classes}"}
            continue
        if not len(casme2_clips):
            entry |= {"status": "skipped", "reason": "no CASME II clip maps to a class"}
            continue
        sees_flow = ARCHITECTURES[slug].sees == "flow"
        mismatch = _flow_mismatch(training, flow, flow_meta, ids) if sees_flow else None
        data = flow["flow"][kept] if sees_flow and mismatch is None else casme2_clips
        mismatch = mismatch or _expected_shape(model, data.shape[1:])
        if mismatch:
            entry |= {"status": "skipped", "reason": mismatch}
            continue
        from microexpression_pipeline.models.building import predict  # TensorFlow

        probabilities = predict(model, data, params.batch_size)
        predicted = probabilities.argmax(axis=1)
        frame = table.assign(
            architecture=architecture,
            model_version=version,
            predicted_label=np.asarray(classes)[predicted],
        )
        for i, name in enumerate(classes):
            frame[f"prob_{name}"] = np.asarray(probabilities)[:, i].astype(float)
        scores = score(
            frame["true_label"],
            frame["predicted_label"],
            classes,
            training_majority(trained.get(f"{slug}/predictions"), classes),
        )
        run = training.get("run") or {}
        entry |= scores | {
            "status": "evaluated",
            "training_protocol": training.get("protocol"),
            "training_data_source": run.get("data_source"),
            "training_mlflow_run_id": run.get("mlflow_run_id"),
            # who fitted and who validated the final model (None in older summaries)
            "final_model": training.get("final_model"),
        }
        frames.append(frame)
        for name, value in scores["metrics"].items():
            if not np.isnan(value):
                metrics[f"{slug}.{name}"] = {"value": float(value), "step": 0}
        logger.info(
            "%s (SAMM %s) on CASME II: accuracy %.3f, UF1 %.3f, UAR %.3f (%d clips)",
            architecture,
            mode,
            *(scores["metrics"][m] for m in ("accuracy", "uf1", "uar")),
            len(frame),
        )
        figures[f"confusion_{slug}.png"] = cross_dataset_confusion_figure(summary, slug)
    if not mapping:
        summary["message"] = (
            f"Mode {mode} has no CASME II label mapping (cross_dataset.label_mappings), so its "
            "models are not tested on CASME II; modes with one: "
            f"{', '.join(params.label_mappings)}."
        )
        figures["no_model.png"] = message_figure(summary["message"])
    elif not frames:
        summary["message"] = (
            f"No {mode} model could be evaluated on CASME II; train one with "
            f"`kedro run --pipeline=train --params mode:{mode},model:3dcnn`."
        )
        figures["no_model.png"] = message_figure(summary["message"])
    columns = [
        "subject",
        "clip_id",
        "emotion",
        "true_label",
        "architecture",
        "model_version",
        "predicted_label",
        *(f"prob_{c}" for c in classes),
    ]
    output = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    return output, json_ready(summary), metrics, figures
