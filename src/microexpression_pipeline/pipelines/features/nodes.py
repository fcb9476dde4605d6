"""Nodes of the ``features`` pipeline: flow of each source's clips, and its contact sheet."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.motion.flow_images import flow_to_rgb, strain_to_grey
from microexpression_pipeline.motion.flow_settings import FeaturesParams, flow_of_clips

logger = logging.getLogger(__name__)


def compute_flow(
    clips: Mapping[str, np.ndarray], clip_index: pd.DataFrame, features: FeaturesParams
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The flow payload (``flow`` float16 N x S x S x [u, v, strain], ``clip_ids``, and with
    ``sequence`` ``flow_sequence`` N x F x S x S x 3), row-aligned with the clip index, and
    what it was made with."""
    ids = [str(i) for i in clips["clip_ids"]]
    if ids != clip_index["clip_id"].astype(str).tolist():
        raise ValueError(
            "clips and clip_index are not row-aligned (clip_ids differ); re-run "
            "kedro run --pipeline=ingestion"
        )
    frames = clips["clips"]
    settings = features.flow
    started = time.perf_counter()
    flow = flow_of_clips(frames, settings)
    payload = {"flow": flow, "clip_ids": np.asarray(clips["clip_ids"])}
    if settings.sequence:
        payload["flow_sequence"] = flow_of_clips(frames, settings, sequence=True)
    seconds = time.perf_counter() - started
    magnitude = np.hypot(flow[..., 0].astype(np.float32), flow[..., 1].astype(np.float32))
    meta = settings.record(int(frames.shape[-1])) | {
        "fingerprint": settings.fingerprint(),
        "sequence": settings.sequence,
        "n_clips": len(ids),
        "clip_shape": list(frames.shape[1:]),
        "seconds": round(seconds, 3),
        "clips_per_second": round(len(ids) / seconds, 2) if seconds > 0 else None,
        "magnitude_px": {
            "mean": float(magnitude.mean()) if magnitude.size else 0.0,
            "p99": float(np.percentile(magnitude, 99)) if magnitude.size else 0.0,
        },
    }
    logger.info(
        "Flow (%s) of %d clips at %d px -> %d px in %.2f s",
        settings.method, len(ids), meta["computed_at_px"], settings.size, seconds,
    )  # fmt: skip
    return payload, meta


def plot_flow_contact_sheet(
    clips: Mapping[str, np.ndarray],
    flow: Mapping[str, np.ndarray],
    clip_index: pd.DataFrame,
    features: FeaturesParams,
) -> Figure:
    """A few clips per emotion: onset, apex, flow as colour (hue: direction, brightness:
    magnitude, one scale for the whole sheet) and strain."""
    per_class = features.contact_sheet.clips_per_class
    chosen = (
        clip_index.reset_index(drop=True)
        .assign(position=lambda d: d.index)
        .groupby(clip_index["emotion"].astype(str).str.lower().to_numpy(), sort=True)
        .head(per_class)
        .sort_values(["emotion", "clip_id"])
    )
    fields = np.asarray(flow["flow"], dtype=np.float32)
    frames = clips["clips"]
    apex = frames.shape[1] // 2 if frames.ndim == 4 else 0
    picked = fields[chosen["position"].to_numpy()] if len(chosen) else fields[:0]
    scale = float(np.percentile(np.hypot(picked[..., 0], picked[..., 1]), 99)) if len(picked) else 1
    strain_scale = float(np.percentile(picked[..., 2], 99)) if len(picked) else 1
    columns = ("onset", "apex", "flow", "strain")
    rows = max(1, len(chosen))
    figure = Figure(figsize=(1.5 * len(columns), 1.5 * rows + 0.6), layout="constrained")
    axes = figure.subplots(rows, len(columns), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    if chosen.empty:
        axes[0, 0].text(0, 0.5, "no clips kept", fontsize=12)
    for r, item in enumerate(chosen.itertuples()):
        images = (
            frames[item.position, 0],
            frames[item.position, apex],
            flow_to_rgb(fields[item.position, ..., :2], max_magnitude=max(scale, 1e-6)),
            strain_to_grey(fields[item.position, ..., 2], max_value=max(strain_scale, 1e-6)),
        )
        for c, image in enumerate(images):
            axes[r, c].imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
        axes[r, 0].set_title(f"{item.clip_id} {item.emotion}", fontsize=7, loc="left")
    dataset = clip_index["dataset"].iloc[0] if len(clip_index) else ""
    figure.suptitle(
        f"{dataset}: {', '.join(columns)} ({features.flow.method}); flow at full brightness "
        f"= {scale:.2f} px, strain white = {strain_scale:.2f}",
        fontsize=8,
    )
    return figure
