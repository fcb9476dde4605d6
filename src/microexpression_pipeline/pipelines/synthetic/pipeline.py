"""The ``synthetic`` pipeline definition."""

from __future__ import annotations

from kedro.pipeline import Pipeline, node

from microexpression_pipeline.pipelines.synthetic.nodes import (
    evaluate_frame_difference_baseline,
    generate_synthetic_sample,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Generate or reuse the synthetic sample, then score the frame-difference baseline on it."""
    return Pipeline(
        [
            node(
                generate_synthetic_sample,
                inputs=["params:synthetic", "params:seed"],
                outputs="synthetic_sample_summary",
                name="generate_synthetic_sample",
            ),
            node(
                evaluate_frame_difference_baseline,
                inputs="synthetic_sample_summary",
                outputs=["synthetic_baseline_report", "synthetic_baseline_metrics"],
                name="evaluate_synthetic_baseline",
            ),
        ]
    )
