"""The ``train`` pipeline: one parallel branch per registered architecture.

``kedro run --pipeline=train --params model:3dcnn`` runs only the ``train_3dcnn`` node: the
project's ``run`` command turns ``model`` into the node names to run (``cli.py``), using the
tag of each node (``Architecture.tag``).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.train.nodes import package, trainer

SETTINGS = [
    "params:training",
    "params:evaluation",
    "params:seed",
    "params:mode",
    "params:label_mappings",
    "run_info",
    "params:ingestion",
    "params:compute",
]

OUTPUTS = ("predictions", "histories", "model", "metrics", "summary", "card")


def create_pipeline(**kwargs) -> Pipeline:
    """One training node per architecture, fed by the current mode's augmented set of the
    architecture's transform set (``Architecture.transform_set``), writing the final model
    and its card, and one packaging node per architecture: the served MLflow model (the
    model with the ``inference`` pipeline's preprocessing)."""
    nodes = []
    for key, architecture in ARCHITECTURES.items():
        nodes.append(
            Node(
                func=trainer(architecture),
                inputs=[
                    f"augmentation.{architecture.transform_set}.{name}"
                    for name in ("clips", "samples", "meta")
                ]
                + SETTINGS,
                outputs=[f"train_{key}_{output}" for output in OUTPUTS],
                name=f"train_{key}",
                tags=[architecture.tag],
            )
        )
        nodes.append(
            Node(
                func=package,
                inputs=[f"train_{key}_model", f"train_{key}_card"],
                outputs=f"train_{key}_mlflow_model",
                name=f"package_{key}",
                tags=[architecture.tag],
            )
        )
    return Pipeline(nodes, tags="train")
