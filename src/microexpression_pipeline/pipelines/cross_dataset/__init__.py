"""The ``cross_dataset`` pipeline: SAMM-trained binary models tested on CASME II."""

from microexpression_pipeline.pipelines.cross_dataset.pipeline import create_pipeline

__all__ = ["create_pipeline"]
