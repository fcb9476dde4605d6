"""The ``reporting`` pipeline: field metrics, baselines, leaderboard, figures and report."""

from microexpression_pipeline.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
