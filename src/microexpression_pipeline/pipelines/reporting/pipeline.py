"""The ``reporting`` pipeline: leaderboard, figures and report from the training results.

Its inputs are every architecture's training outputs of the current data source and mode
(this run's, or the latest saved, or none), the augmented set's metadata and the CASME II
test's summary, the SAMM and CASME II ingestion summaries (for the test sets' accounting
against the sheets), plus the results of other modes and data sources from MLflow
(``reporting.other_runs``). It runs after a full ``model:all`` training, after a single
architecture, or with nothing trained at all.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.reporting.accounting import account_test_sets
from microexpression_pipeline.pipelines.reporting.nodes import (
    collect_training_results,
    evaluate_results,
    report_figures,
)
from microexpression_pipeline.pipelines.reporting.results import OUTPUTS, input_name


def create_pipeline(**kwargs: object) -> Pipeline:
    """Collect -> evaluate -> draw and write."""
    trained = {
        input_name(key, output): f"train_{key}_{output}"
        for key in ARCHITECTURES
        for output in OUTPUTS
    }
    return Pipeline(
        [
            Node(
                collect_training_results,
                {
                    "other_runs": "reporting.other_runs",
                    "run_info": "run_info",
                    "augmentation_meta": "augmentation.clip.meta",
                    "cross_dataset_summary": "cross_dataset.summary",
                    **trained,
                },
                ["reporting.results", "reporting.augmentation_metas", "reporting.cross_dataset"],
                name="collect_training_results",
            ),
            Node(
                evaluate_results,
                "reporting.results",
                ["reporting.evaluations", "reporting.leaderboard", "reporting.metrics"],
                name="evaluate_results",
            ),
            Node(
                account_test_sets,
                [
                    "reporting.results",
                    "reporting.augmentation_metas",
                    "reporting.cross_dataset",
                    "samm.ingestion_summary",
                    "casme2.ingestion_summary",
                    "run_info",
                ],
                "reporting.test_set_accounting",
                name="account_test_sets",
            ),
            Node(
                report_figures,
                [
                    "reporting.evaluations",
                    "reporting.leaderboard",
                    "reporting.augmentation_metas",
                    "reporting.cross_dataset",
                    "run_info",
                    "params:reporting",
                    "reporting.test_set_accounting",
                    "samm.flow_contact_sheet",
                    "samm.flow_meta",
                    "megc2019.results",
                ],
                ["reporting.figures", "reporting.html", "reporting.markdown"],
                name="write_report",
            ),
        ],
        tags="reporting",
    )
