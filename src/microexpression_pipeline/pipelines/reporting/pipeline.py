"""The ``reporting`` pipeline: leaderboard, figures and report from saved training results.

It reads whatever results exist (every mode x architecture, latest version each), so it
runs after a full ``model:all`` training, after a single architecture, or with none at all.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.pipelines.reporting.nodes import (
    collect_training_results,
    evaluate_results,
    report_figures,
)

SLUGS = ("3dcnn", "cnn_lstm", "convlstm2d", "2dcnn")


def create_pipeline(**kwargs: object) -> Pipeline:
    """Collect -> evaluate -> draw and write."""
    return Pipeline(
        [
            Node(
                collect_training_results,
                [
                    *(f"train_{slug}_summary" for slug in SLUGS),
                    "reporting.training_predictions",
                    "reporting.training_histories",
                    "reporting.training_summaries",
                ],
                "reporting.results",
                name="collect_training_results",
            ),
            Node(
                evaluate_results,
                "reporting.results",
                ["reporting.evaluations", "reporting.leaderboard", "reporting.metrics"],
                name="evaluate_results",
            ),
            Node(
                report_figures,
                [
                    "reporting.evaluations",
                    "reporting.leaderboard",
                    "reporting.augmentation_metas",
                    "cross_dataset.summary",
                    "run_info",
                    "params:reporting",
                ],
                ["reporting.figures", "reporting.html", "reporting.markdown"],
                name="write_report",
            ),
        ],
        tags="reporting",
    )
