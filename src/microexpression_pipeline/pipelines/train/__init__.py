"""Training pipeline: four architectures, subject-independent evaluation."""

from microexpression_pipeline.pipelines.train.pipeline import create_pipeline

__all__ = ["create_pipeline"]
