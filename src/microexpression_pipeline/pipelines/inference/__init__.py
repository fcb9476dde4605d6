"""The ``inference`` pipeline: a trained model on a new clip or video."""

from microexpression_pipeline.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
