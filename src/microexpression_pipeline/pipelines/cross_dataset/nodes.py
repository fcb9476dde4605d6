"""Cross-dataset node: every SAMM-trained model of the source mode, tested on CASME II.

The CASME II clips come out of the same ingestion as SAMM's (same crop, size and frames),
and the model does its own input normalisation, so the clips are fed exactly as in training.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.pipelines.cross_dataset.evaluation import (
    json_ready,
    map_labels,
    score,
    training_majority,
)
from microexpression_pipeline.pipelines.reporting import figures as fig
from microexpression_pipeline.pipelines.reporting.results import latest_versions

logger = logging.getLogger(__name__)


def _slug(architecture: str) -> str:
    return architecture.replace("+", "_")


def _load(loader: Any) -> Any:
    return loader() if callable(loader) else loader


def predict(model: Any, clips: np.ndarray, architecture: str, classes: list[str], batch_size: int):
    """(predicted class index, probabilities) per clip, as the training pipeline predicts."""
    from microexpression_pipeline.pipelines.train.fitting import (
        TrainingSpec,
        clip_predictions,
        predict_clips,
    )

    spec = TrainingSpec(
        architecture=architecture,
        shape=tuple(clips.shape[1:]),
        classes=tuple(classes),
        arch_params={},
        epochs=0,
        batch_size=batch_size,
        learning_rate=0.0,
        validation_fraction=0.0,
    )
    return clip_predictions(predict_clips(model, clips, spec), spec)


def _expected_shape(model: Any, architecture: str, clip_shape: tuple[int, ...]) -> str | None:
    """Why the clips do not fit the model's input (None when they do)."""
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return None
    wanted = tuple(shape[1:])
    given = tuple(clip_shape[1:]) if architecture == "2dcnn" else tuple(clip_shape)
    if wanted != given:
        return f"model input {wanted} does not match the CASME II clips {given}"
    return None


def evaluate_on_casme2(
    clips: Mapping[str, np.ndarray],
    clip_index: pd.DataFrame,
    models: Mapping[str, Any],
    summaries: Mapping[str, Any],
    predictions: Mapping[str, Any],
    summary_3dcnn: Mapping[str, Any] | None,
    summary_cnn_lstm: Mapping[str, Any] | None,
    summary_convlstm2d: Mapping[str, Any] | None,
    summary_2dcnn: Mapping[str, Any] | None,
    params: Mapping[str, Any],
    data_source: str,
    run_info: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, dict[str, float]], dict[str, Figure]]:
    """Test the latest SAMM-trained model of each architecture (this data source, the source
    mode) on the mapped CASME II clips.

    The four current-mode training summaries only order this node after training.
    Returns the predictions, a summary (metrics, confusion, provenance), MLflow metrics and
    the confusion-matrix figures.
    """
    del summary_3dcnn, summary_cnn_lstm, summary_convlstm2d, summary_2dcnn
    mode = str(params["source_mode"])
    mapping = {cls: list(labels) for cls, labels in params["label_mapping"].items()}
    classes = list(mapping)
    if [str(c) for c in clips["clip_ids"]] != clip_index["clip_id"].astype(str).tolist():
        raise ValueError("casme2.clips and casme2.clip_index are not row-aligned; re-run ingestion")
    labels = map_labels(clip_index["emotion"], mapping)
    kept = labels.notna().to_numpy()
    table = clip_index.loc[kept, ["subject", "clip_id", "emotion"]].reset_index(drop=True)
    table["true_label"] = labels[kept].to_numpy()
    data = clips["clips"][kept]
    left_out = clip_index.loc[~kept, "emotion"].astype(str).str.lower().value_counts()

    found_models = latest_versions(models, "model.keras")
    found_summaries = latest_versions(summaries, "summary.json")
    found_predictions = latest_versions(predictions, "predictions.parquet")
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
    for architecture in params["architectures"]:
        slug = _slug(architecture)
        entry: dict[str, Any] = {"architecture": architecture, "status": "not trained"}
        summary["models"][slug] = entry
        where = (data_source, mode, slug)
        versions = found_models.get(where)
        if not versions:
            entry["reason"] = f"no model saved in data/06_models/{'/'.join(where)}/"
            continue
        version, loader = list(versions.items())[-1]
        entry["model_version"] = version
        trained = _load(found_summaries.get(where, {}).get(version)) or {}
        model_classes = [str(c) for c in trained.get("classes", classes)]
        if model_classes != classes:
            entry |= {"status": "skipped", "reason": f"model classes {model_classes} != {classes}"}
            continue
        if not len(data):
            entry |= {"status": "skipped", "reason": "no CASME II clip maps to a class"}
            continue
        model = _load(loader)
        mismatch = _expected_shape(model, architecture, data.shape[1:])
        if mismatch:
            entry |= {"status": "skipped", "reason": mismatch}
            continue
        predicted, probabilities = predict(
            model, data, architecture, classes, int(params["batch_size"])
        )
        frame = table.assign(
            architecture=architecture,
            model_version=version,
            predicted_label=np.asarray(classes)[predicted],
        )
        for i, name in enumerate(classes):
            frame[f"prob_{name}"] = np.asarray(probabilities)[:, i].astype(float)
        train_predictions = found_predictions.get(where, {}).get(version)
        scores = score(
            frame["true_label"],
            frame["predicted_label"],
            classes,
            training_majority(_load(train_predictions) if train_predictions else None, classes),
        )
        run = trained.get("run") or {}
        entry |= scores | {
            "status": "evaluated",
            "training_protocol": trained.get("protocol"),
            "training_data_source": run.get("data_source"),
            "training_mlflow_run_id": run.get("mlflow_run_id"),
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
        figures[f"confusion_{slug}.png"] = fig.cross_dataset_confusion_figure(summary, slug)
    if not frames:
        summary["message"] = (
            f"No {mode} model could be evaluated on CASME II; train one with "
            f"`kedro run --pipeline=train --params mode:{mode},model:3dcnn`."
        )
        figures["no_model.png"] = fig.message_figure(summary["message"])
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
