"""The ``cross_dataset`` pipeline: does the SAMM-trained binary model generalise to CASME II?

CASME II is ingested by the ``ingestion`` pipeline (namespace ``casme2``) exactly like SAMM;
this pipeline maps its emotions to the binary classes and tests every saved binary model.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.pipelines.cross_dataset.nodes import evaluate_on_casme2

SLUGS = ("3dcnn", "cnn_lstm", "convlstm2d", "2dcnn")


def create_pipeline(**kwargs: object) -> Pipeline:
    """One node: predict, score and plot."""
    return Pipeline(
        [
            Node(
                evaluate_on_casme2,
                [
                    "casme2.clips",
                    "casme2.clip_index",
                    "cross_dataset.models",
                    "cross_dataset.training_summaries",
                    "cross_dataset.training_predictions",
                    *(f"train_{slug}_summary" for slug in SLUGS),
                    "params:cross_dataset",
                    "params:data_source",
                    "run_info",
                ],
                [
                    "cross_dataset.predictions",
                    "cross_dataset.summary",
                    "cross_dataset.metrics",
                    "cross_dataset.figures",
                ],
                name="evaluate_on_casme2",
            )
        ],
        tags="cross_dataset",
    )
