"""Nodes of the ``synthetic`` pipeline."""

from __future__ import annotations

from typing import Any

from microexpression_pipeline.synthetic import ensure_synthetic_sample
from microexpression_pipeline.synthetic.baseline import run_baseline
from microexpression_pipeline.synthetic.settings import SyntheticSettings


def generate_synthetic_sample(settings: SyntheticSettings, seed: int) -> dict[str, Any]:
    """Generate the sample (or reuse an identical one); return its paths, counts, bytes, seconds."""
    return ensure_synthetic_sample(settings.model_dump(), seed)


def evaluate_frame_difference_baseline(
    sample: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Leave-one-subject-out scores of the frame-difference baseline, as a report and metrics."""
    report = run_baseline(sample["output_dir"], sample["ground_truth_csv"])
    metrics = {
        f"{task}.{name}": {"value": float(value), "step": 0}
        for task, scores in report.items()
        for name, value in scores.items()
        if name in ("accuracy", "uar", "chance_accuracy", "chance_uar")
    }
    return report, metrics
