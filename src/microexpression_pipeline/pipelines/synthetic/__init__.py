"""The ``synthetic`` pipeline: generate (or reuse) the synthetic sample and score a baseline."""

from microexpression_pipeline.pipelines.synthetic.pipeline import create_pipeline

__all__ = ["create_pipeline"]
