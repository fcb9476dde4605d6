"""The ``features`` pipeline: per source (``samm``, ``casme2``, ``smic``), the onset -> apex
optical flow and strain of the ingested clips (``<source>.flow``) and a contact sheet of it.

Augmentation computes the flow of its augmented copies with the same settings
(``params:features``); cross-dataset tests read ``casme2.flow``.
"""

from __future__ import annotations

from kedro.pipeline import Pipeline, node, pipeline

from microexpression_pipeline.dataset_sources import SOURCES
from microexpression_pipeline.pipelines.features.nodes import compute_flow, plot_flow_contact_sheet


def create_pipeline(**kwargs: object) -> Pipeline:
    """The same two steps under each source's namespace."""
    template = Pipeline(
        [
            node(
                compute_flow,
                ["clips", "clip_index", "params:features"],
                ["flow", "flow_meta"],
                name="compute_flow",
            ),
            node(
                plot_flow_contact_sheet,
                ["clips", "flow", "clip_index", "params:features"],
                "flow_contact_sheet",
                name="plot_flow_contact_sheet",
            ),
        ]
    )
    return sum(
        (
            pipeline(template, namespace=source, parameters={"params:features"})
            for source in SOURCES
        ),
        Pipeline([]),
    ).tag("features")
