"""Augmentation of the ingested clips into a class-balanced, provenance-tracked training set."""

from microexpression_pipeline.pipelines.augmentation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
