"""The ``train`` pipeline: four parallel branches, one node per architecture.

``kedro run --pipeline=train --params model:3dcnn`` runs only the ``train_3dcnn`` node
(the project session drops the other architectures' nodes, see ``session.py``).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.pipelines.train.nodes import TRAINERS, metric_slug
from microexpression_pipeline.session import ARCHITECTURE_TAG

INPUTS = [
    "augmentation.clips",
    "augmentation.samples",
    "augmentation.meta",
    "params:training",
    "params:evaluation",
    "params:seed",
    "params:mode",
    "params:label_mappings",
    "run_info",
]


def create_pipeline(**kwargs) -> Pipeline:
    """One training node per architecture, fed by the augmented set of the current mode."""
    nodes = []
    for architecture, trainer in TRAINERS.items():
        slug = metric_slug(architecture)
        nodes.append(
            Node(
                func=trainer,
                inputs=INPUTS,
                outputs=[
                    f"train_{slug}_predictions",
                    f"train_{slug}_histories",
                    f"train_{slug}_model",
                    f"train_{slug}_mlflow_model",
                    f"train_{slug}_metrics",
                    f"train_{slug}_summary",
                ],
                name=f"train_{slug}",
                tags=[f"{ARCHITECTURE_TAG}{slug}"],
            )
        )
    return Pipeline(nodes, tags="train")
