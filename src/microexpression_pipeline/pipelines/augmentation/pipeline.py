"""The ``augmentation`` pipeline: ingested clips + ``mode`` -> a traceable training set."""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.pipelines.augmentation.nodes import (
    augment_clips,
    label_clips,
    plan_samples,
    render_preview,
    summarise_counts,
)


def create_pipeline(**kwargs: object) -> Pipeline:
    """Label the clips of ``mode``, plan and apply the copies, record counts and a preview.

    Nodes and outputs live in the ``augmentation`` namespace; the inputs are the
    ingestion pipeline's ``samm.clips`` and ``samm.clip_index``.
    """
    return Pipeline(
        [
            Node(
                label_clips,
                inputs=["samm.clips", "samm.clip_index", "params:mode", "params:label_mappings"],
                outputs="augmentation.labelled_clips",
                name="label_clips",
                namespace="augmentation",
            ),
            Node(
                plan_samples,
                inputs=[
                    "augmentation.labelled_clips",
                    "samm.clips",
                    "params:mode",
                    "params:label_mappings",
                    "params:augmentation",
                    "params:seed",
                ],
                outputs="augmentation.samples",
                name="plan_samples",
                namespace="augmentation",
            ),
            Node(
                augment_clips,
                inputs=[
                    "samm.clips",
                    "augmentation.samples",
                    "params:mode",
                    "params:label_mappings",
                ],
                outputs="augmentation.clips",
                name="augment_clips",
                namespace="augmentation",
            ),
            Node(
                summarise_counts,
                inputs=[
                    "augmentation.labelled_clips",
                    "augmentation.samples",
                    "params:mode",
                    "params:label_mappings",
                    "params:augmentation",
                    "params:seed",
                ],
                outputs=["augmentation.meta", "augmentation.count_metrics"],
                name="summarise_counts",
                namespace="augmentation",
            ),
            Node(
                render_preview,
                inputs=["augmentation.clips", "augmentation.samples", "params:augmentation"],
                outputs="augmentation.preview",
                name="render_preview",
                namespace="augmentation",
            ),
        ],
        tags="augmentation",
    )
