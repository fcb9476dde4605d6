"""Nodes of the ``ingestion`` pipeline: raw folder + metadata sheet -> aligned uint8 clips."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.pipelines.ingestion.clip_index import index_clips
from microexpression_pipeline.pipelines.ingestion.contact_sheets import (
    crop_contact_sheet,
    detection_contact_sheet,
)
from microexpression_pipeline.pipelines.ingestion.coverage import check_coverage
from microexpression_pipeline.pipelines.ingestion.extraction import extract_all
from microexpression_pipeline.pipelines.ingestion.faces import FaceDetector
from microexpression_pipeline.pipelines.ingestion.frames import apex_position, frames_per_clip
from microexpression_pipeline.pipelines.ingestion.metadata import known_emotion_labels
from microexpression_pipeline.pipelines.ingestion.raw_sources import (
    existing_paths,
    point_at_sample,
    source_specs,
)
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams
from microexpression_pipeline.pipelines.ingestion.summary import (
    combined_quarantine,
    ingestion_summary,
    summary_metrics,
)
from microexpression_pipeline.synthetic import ensure_synthetic_sample
from microexpression_pipeline.synthetic.settings import SyntheticSettings

LabelMappings = Mapping[str, Mapping[str, Sequence[str]]]


def prepare_raw_sources(
    data_source: str, ingestion: IngestionParams, synthetic: SyntheticSettings, seed: int
) -> tuple[dict[str, Any], ...]:
    """The raw folder and sheet of each source, generating the synthetic sample if used."""
    specs = source_specs(data_source, ingestion.sources)
    if data_source == "synthetic":
        specs = point_at_sample(specs, ensure_synthetic_sample(synthetic.model_dump(), seed))
    return existing_paths(data_source, specs)


def build_clip_index(
    raw_source: Mapping[str, Any], ingestion: IngestionParams, label_mappings: LabelMappings
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Validate the source's metadata sheet (SMIC: read its folders) and pick each clip's
    frame files."""
    return index_clips(
        raw_source,
        known_emotions=known_emotion_labels(ingestion.known_emotions, label_mappings),
        corrections=ingestion.corrections,
        between=ingestion.frames_between_key_frames,
        tolerance=ingestion.missing_frame_tolerance,
        apex_on_key_frame=ingestion.apex_on_key_frame,
        missing_apex=ingestion.missing_apex,
        min_kept_fraction=ingestion.min_kept_fraction,
        event_frames=ingestion.magnification.enabled,
        smic_apex=ingestion.smic_apex,
    )


def extract_clips(
    candidates: pd.DataFrame,
    raw_source: Mapping[str, Any],
    sheet_stats: Mapping[str, Any],
    ingestion: IngestionParams,
    detector: FaceDetector | None = None,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Find each clip's face once, then align and crop all its frames; fails (saving
    nothing) if fewer than ``ingestion.min_kept_fraction`` of the sheet's rows are kept."""
    payload, index, quarantine, timing = extract_all(candidates, ingestion, detector)
    check_coverage(
        "extraction",
        raw_source,
        rows_read=int(sheet_stats["rows_read"]),
        kept=len(index),
        rejections=quarantine.to_dict("records"),
        min_fraction=ingestion.min_kept_fraction,
    )
    return payload, index, quarantine, timing


def summarise_ingestion(
    sheet_stats: Mapping[str, Any],
    index_quarantine: pd.DataFrame,
    extraction_quarantine: pd.DataFrame,
    clip_index: pd.DataFrame,
    timing: Mapping[str, float],
    ingestion: IngestionParams,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, dict[str, float]]]:
    """The full quarantine, the ingestion summary and its numbers for MLflow."""
    quarantine = combined_quarantine(index_quarantine, extraction_quarantine)
    summary = ingestion_summary(
        sheet_stats,
        quarantine,
        clip_index,
        timing,
        frames_per_clip=frames_per_clip(ingestion.frames_between_key_frames),
        image_size=ingestion.image_size,
        missing_apex=ingestion.missing_apex,
        magnification=ingestion.magnification.record(
            str(sheet_stats["dataset"]), ingestion.image_size
        ),
    )
    return quarantine, summary, summary_metrics(summary)


def plot_crop_contact_sheet(
    clips: Mapping[str, np.ndarray], clip_index: pd.DataFrame, ingestion: IngestionParams
) -> Figure:
    """The cropped frames of a few clips per emotion."""
    return crop_contact_sheet(clips, clip_index, ingestion.contact_sheet.clips_per_class)


def plot_detection_sheet(clip_index: pd.DataFrame, ingestion: IngestionParams) -> Figure:
    """A few detection frames with their face box, eyes and crop square."""
    return detection_contact_sheet(
        clip_index,
        ingestion.contact_sheet.detection_clips,
        apex_position=apex_position(ingestion.frames_between_key_frames),
    )
