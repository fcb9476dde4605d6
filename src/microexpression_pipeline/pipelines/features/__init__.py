"""The ``features`` pipeline: onset -> apex optical flow and strain of every ingested clip."""

from microexpression_pipeline.pipelines.features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
