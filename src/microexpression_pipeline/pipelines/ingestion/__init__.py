"""``ingestion``: a raw dataset folder and its metadata sheet -> aligned uint8 clips."""

from microexpression_pipeline.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
