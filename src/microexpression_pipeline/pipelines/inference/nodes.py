"""Nodes of the ``inference`` pipeline: a source's intervals, their model inputs, the
model's predictions and a contact sheet of what it saw."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.models.card import SYNTHETIC_WARNING
from microexpression_pipeline.motion.flow_images import flow_to_rgb
from microexpression_pipeline.pipelines.inference.clip_reader import ClipFrames, read_clip_source
from microexpression_pipeline.pipelines.inference.model_source import (
    TrainedModel,
    from_mlflow,
    latest_local,
)
from microexpression_pipeline.pipelines.inference.preprocess import (
    crop_frames,
    face_crop,
    model_input,
    selected_positions,
)
from microexpression_pipeline.pipelines.inference.schema import InferenceParams
from microexpression_pipeline.pipelines.inference.spotting import spot_intervals
from microexpression_pipeline.pipelines.ingestion.faces import default_detector

logger = logging.getLogger(__name__)

INTERVAL_COLUMNS = ("interval", "onset", "apex", "offset", "spotted", "peak_motion")


def load_model(inference: InferenceParams, mode: str, model: str, data_source: str) -> TrainedModel:
    """``inference.model`` (an MLflow model URI), or the latest local model for ``mode`` and
    ``model`` trained on ``data_source``."""
    if inference.model:
        trained = from_mlflow(inference.model)
    else:
        trained = latest_local(inference.models_root, data_source, mode, model)
    card = trained.card
    if card.preprocessing.magnification:
        raise InputError(
            f"{trained.uri} was trained on magnified clips (ingestion.magnification), which "
            "inference does not reproduce; use a model trained without magnification"
        )
    logger.info(
        "Model %s: %s, mode %s, classes %s, trained on %s data",
        trained.uri, card.architecture_name, card.mode, card.classes, card.data_source,
    )  # fmt: skip
    if card.synthetic:
        logger.warning("%s: %s", trained.uri, SYNTHETIC_WARNING)
    return trained


def read_source(inference: InferenceParams) -> ClipFrames:
    """The frames of ``inference.source`` (a video file or a folder of frames)."""
    if not inference.source:
        raise InputError(
            "inference.source is not set: give --params inference.source:<video file or "
            "folder of frames>"
        )
    return read_clip_source(inference.source)


def find_intervals(
    frames: ClipFrames, trained: TrainedModel, inference: InferenceParams
) -> pd.DataFrame:
    """The intervals to predict: the given key frames, or those spotted on the aligned face
    (``spotting``: the motion from the first frame of each window)."""
    if (given := inference.key_frames) is not None:
        onset, apex, offset = given
        selected_positions(frames, onset, apex, offset, 0, len(frames))  # checked against it
        rows = [(0, onset, apex, offset, False, float("nan"))]
        return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS))
    pre = trained.card.preprocessing
    crop, _ = face_crop(frames, 0, len(frames) // 2, pre, default_detector())
    every = list(range(len(frames)))
    crops = crop_frames(frames, every, crop, inference.spotting_size, check_blank=False)
    found = spot_intervals(
        crops, max_clip_frames=inference.max_clip_frames, threshold=inference.spotting_threshold
    )
    rows = [(i, s.onset, s.apex, s.offset, True, s.peak) for i, s in enumerate(found)]
    logger.info("%s: %d interval(s) spotted in %d frames", frames.source, len(rows), len(frames))
    return pd.DataFrame(rows, columns=list(INTERVAL_COLUMNS)).astype({"spotted": bool})


def prepare_inputs(
    frames: ClipFrames, intervals: pd.DataFrame, trained: TrainedModel
) -> dict[str, np.ndarray]:
    """Per interval: its selected frames cropped as ingestion crops (``clips``), the model's
    input (``inputs``), the frames' positions and the frame the face was found on."""
    card, detector = trained.card, default_detector()
    pre = card.preprocessing
    clips, inputs, positions, found_on = [], [], [], []
    for row in intervals.itertuples(index=False):
        chosen = selected_positions(
            frames, int(row.onset), int(row.apex), int(row.offset),
            pre.frames_between_key_frames, pre.missing_frame_tolerance,
        )  # fmt: skip
        crop, used = face_crop(frames, int(row.onset), int(row.apex), pre, detector)
        clip = crop_frames(frames, chosen, crop, pre.image_size)
        clips.append(clip)
        inputs.append(model_input(clip, card))
        positions.append(chosen)
        found_on.append(used)
    frames_per = 2 * pre.frames_between_key_frames + 3
    size = pre.image_size
    return {
        "clips": np.stack(clips) if clips else np.zeros((0, frames_per, size, size), np.uint8),
        "inputs": np.stack(inputs) if inputs else np.zeros((0,), np.float32),
        "positions": np.asarray(positions, dtype=np.int64).reshape(-1, frames_per),
        "face_found_on": np.asarray(found_on, dtype="<U6"),
    }


def predict_intervals(
    trained: TrainedModel,
    inputs: dict[str, np.ndarray],
    intervals: pd.DataFrame,
    frames: ClipFrames,
) -> pd.DataFrame:
    """One row per interval: the key frames used and whether spotted, the label, the class
    probabilities, the model and the data it was trained on."""
    from microexpression_pipeline.models.building import predict  # TensorFlow

    card, source = trained.card, frames.source
    n = len(intervals)
    probabilities = (
        predict(trained.network, inputs["inputs"], 16) if n else np.zeros((0, len(card.classes)))
    )
    table = intervals.reset_index(drop=True).assign(source=source)
    table["face_found_on"] = inputs["face_found_on"]
    table["label"] = np.asarray(card.classes)[probabilities.argmax(axis=1)] if n else []
    for i, name in enumerate(card.classes):
        table[f"prob_{name}"] = probabilities[:, i].astype(float)
    table["model_uri"] = trained.uri
    table["architecture"] = card.architecture_name
    table["mode"] = card.mode
    table["trained_on"] = card.data_source
    table["note"] = SYNTHETIC_WARNING if card.synthetic else ""
    for row in table.itertuples(index=False):
        logger.info(
            "%s interval %d (frames %d-%d, apex %d%s): %s",
            source, row.interval, row.onset, row.offset, row.apex,
            " spotted" if row.spotted else "", row.label,
        )  # fmt: skip
    first = ["source", "interval", "onset", "apex", "offset", "spotted", "label"]
    return table[first + [c for c in table.columns if c not in first]]


def plot_contact_sheet(inputs: dict[str, np.ndarray], predictions: pd.DataFrame) -> Figure:
    """One row per interval: the frames the model saw (and the flow, for a flow model),
    titled with the predicted label."""
    clips, fields = inputs["clips"], inputs["inputs"]
    flow = fields.ndim == 4 and fields.shape[-1] == 3 and len(fields) == len(clips)
    rows, columns = max(1, len(clips)), (clips.shape[1] if len(clips) else 1) + int(flow)
    figure = Figure(figsize=(1.2 * columns, 1.3 * rows + 0.5), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for r, row in enumerate(predictions.itertuples(index=False)):
        for c, frame in enumerate(clips[r]):
            axes[r, c].imshow(frame, cmap="gray", vmin=0, vmax=255)
            axes[r, c].set_title(str(inputs["positions"][r][c]), fontsize=6)
        if flow:
            uv = fields[r, ..., :2].astype(np.float32)
            scale = max(float(np.percentile(np.hypot(uv[..., 0], uv[..., 1]), 99)), 1e-6)
            axes[r, -1].imshow(flow_to_rgb(uv, max_magnitude=scale))
            axes[r, -1].set_title("flow", fontsize=6)
        axes[r, 0].text(0, -0.35, f"{row.label} ({row.onset}-{row.offset}, apex {row.apex})",
                        transform=axes[r, 0].transAxes, fontsize=7)  # fmt: skip
    if not len(predictions):
        axes[0, 0].text(0, 0.5, "no interval", fontsize=10)
    note = predictions["note"].iloc[0] if len(predictions) else ""
    figure.suptitle(f"{predictions['source'].iloc[0] if len(predictions) else ''} {note}",
                    fontsize=8)  # fmt: skip
    return figure
