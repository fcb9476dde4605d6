"""The ``cross_dataset`` pipeline: do the models trained on SAMM generalise to CASME II?

CASME II is ingested by the ``ingestion`` pipeline (namespace ``casme2``) exactly like SAMM;
this pipeline maps its emotions to the current mode's classes and tests every architecture's
trained model of that mode (this run's, or the latest saved).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.cross_dataset.nodes import evaluate_on_casme2


def create_pipeline(**kwargs: object) -> Pipeline:
    """One node: predict, score and plot (flow models on ``casme2.flow``)."""
    trained = {
        f"{key}/{output}": f"train_{key}_{output}"
        for key in ARCHITECTURES
        for output in ("model", "summary", "predictions")
    }
    return Pipeline(
        [
            Node(
                evaluate_on_casme2,
                {
                    "clips": "casme2.clips",
                    "clip_index": "casme2.clip_index",
                    "flow": "casme2.flow",
                    "flow_meta": "casme2.flow_meta",
                    "params": "params:cross_dataset",
                    "data_source": "params:data_source",
                    "mode": "params:mode",
                    "run_info": "run_info",
                    **trained,
                },
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
