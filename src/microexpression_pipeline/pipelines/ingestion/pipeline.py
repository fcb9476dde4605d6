"""The ``ingestion`` pipeline: one template, instantiated per source (``SOURCES``)."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from microexpression_pipeline.pipelines.ingestion.nodes import (
    build_clip_index,
    extract_clips,
    plot_crop_contact_sheet,
    plot_detection_sheet,
    prepare_raw_sources,
    summarise_ingestion,
)
from microexpression_pipeline.pipelines.ingestion.raw_sources import SOURCES

SHARED_PARAMETERS = {"params:ingestion", "params:label_mappings"}


def source_template() -> Pipeline:
    """The per-source steps; dataset names are relative to the source's namespace."""
    return Pipeline(
        [
            node(
                build_clip_index,
                ["raw_source", "params:ingestion", "params:label_mappings"],
                ["clip_candidates", "index_quarantine", "sheet_stats"],
                name="build_clip_index",
            ),
            node(
                extract_clips,
                ["clip_candidates", "raw_source", "sheet_stats", "params:ingestion"],
                ["clips", "clip_index", "extraction_quarantine", "extraction_timing"],
                name="extract_clips",
            ),
            node(
                summarise_ingestion,
                [
                    "sheet_stats",
                    "index_quarantine",
                    "extraction_quarantine",
                    "clip_index",
                    "extraction_timing",
                    "params:ingestion",
                ],
                ["quarantine", "ingestion_summary", "ingestion_metrics"],
                name="summarise_ingestion",
            ),
            node(
                plot_crop_contact_sheet,
                ["clips", "clip_index", "params:ingestion"],
                "contact_sheet_crops",
                name="plot_crop_contact_sheet",
            ),
            node(
                plot_detection_sheet,
                ["clip_index", "params:ingestion"],
                "contact_sheet_detections",
                name="plot_detection_sheet",
            ),
        ]
    )


def _raw_source(source: str) -> str:
    """The in-memory description of one source's raw data (shared by the namespaces)."""
    return f"ingestion_raw_source_{source}"


def create_pipeline(**kwargs: object) -> Pipeline:
    """Locate the raw data once, then ingest each source under its own namespace."""
    locate = Pipeline(
        [
            node(
                prepare_raw_sources,
                ["params:data_source", "params:ingestion", "params:synthetic", "params:seed"],
                [_raw_source(source) for source in SOURCES],
                name="prepare_raw_sources",
            )
        ]
    )
    template = source_template()
    per_source = [
        pipeline(
            template,
            namespace=source,
            inputs={"raw_source": _raw_source(source)},
            parameters=SHARED_PARAMETERS,
        )
        for source in SOURCES
    ]
    return sum(per_source, locate)
