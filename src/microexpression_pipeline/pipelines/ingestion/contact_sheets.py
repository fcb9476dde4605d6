"""Contact sheets of one source's ingestion: the crops, and the detections they came from."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle

from microexpression_pipeline.pipelines.ingestion.faces import CropTransform


def crop_contact_sheet(
    clips: Mapping[str, np.ndarray], clip_index: pd.DataFrame, clips_per_class: int
) -> Figure:
    """The cropped frames of up to ``clips_per_class`` clips per emotion (a row per clip)."""
    chosen = (
        clip_index.reset_index(drop=True)
        .assign(position=lambda d: d.index)
        .groupby(clip_index["emotion"].str.lower().to_numpy(), sort=True)
        .head(clips_per_class)
        .sort_values(["emotion", "clip_id"])
    )
    array = clips["clips"]
    n_frames = array.shape[1]
    rows = max(1, len(chosen))
    figure = Figure(figsize=(1.2 * n_frames, 1.3 * rows + 0.4), layout="constrained")
    axes = figure.subplots(rows, n_frames, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    if chosen.empty:
        axes[0, 0].text(0, 0.5, "no clips kept", fontsize=12)
    for r, item in enumerate(chosen.itertuples()):
        for c in range(n_frames):
            axes[r, c].imshow(array[item.position, c], cmap="gray", vmin=0, vmax=255)
            if c == 0:
                axes[r, c].set_title(f"{item.clip_id} {item.emotion}", fontsize=7, loc="left")
    figure.suptitle(f"{clip_index['dataset'].iloc[0] if len(clip_index) else ''} crops")
    return figure


def detection_contact_sheet(clip_index: pd.DataFrame, count: int, apex_position: int) -> Figure:
    """Up to ``count`` raw detection frames (one subject each first) with the detected box,
    the eye landmarks and the crop square; ``apex_position`` is the apex's frame index."""
    found = clip_index[clip_index["face_found"].astype(bool)] if len(clip_index) else clip_index
    first_per_subject = found.drop_duplicates("subject")
    chosen = pd.concat([first_per_subject, found.drop(first_per_subject.index)]).head(count)
    columns = max(1, min(4, len(chosen)))
    rows = max(1, -(-len(chosen) // columns))
    figure = Figure(figsize=(4 * columns, 3 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    if chosen.empty:
        axes[0, 0].text(0, 0.5, "no detected faces", fontsize=12)
    for ax, item in zip(axes.flat, chosen.itertuples(), strict=False):
        index = 0 if item.detection_frame == "onset" else apex_position
        image = cv2.imread(
            str(Path(item.source_folder) / item.frame_files[index]), cv2.IMREAD_GRAYSCALE
        )
        if image is not None:
            ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.add_patch(
            Rectangle(
                (item.face_x, item.face_y), item.face_w, item.face_h, fill=False, color="lime"
            )
        )
        ax.plot(
            [item.left_eye_x, item.right_eye_x], [item.left_eye_y, item.right_eye_y], "r+", ms=8
        )
        crop = CropTransform(
            (item.crop_centre_x, item.crop_centre_y), item.crop_side, item.crop_angle
        )
        ax.add_patch(Polygon(_crop_corners(crop), closed=True, fill=False, color="orange"))
        ax.set_title(f"{item.clip_id} ({item.detection_frame})", fontsize=8)
    return figure


def _crop_corners(crop: CropTransform) -> np.ndarray:
    """The crop square's corners in raw pixels."""
    matrix = np.vstack([crop.matrix(1), [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(matrix)
    corners = np.array([[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float)
    return (inverse @ corners.T).T[:, :2]
