"""The ``megc2019`` pipeline: ingest SMIC-HS, CASME II and SAMM, merge them into the MEGC
2019 composite, and evaluate the selected architectures on it under leave-one-subject-out
(the benchmark) and the cross-database protocols (leave one database out; hold-out
database both ways).

It composes the other pipelines rather than copying them: the ingestion pipeline as it is,
then the augmentation pipeline on the composite and the train pipeline once per protocol,
each under its own namespace (``megc2019.augmentation.*``, ``megc2019.<protocol>.*``)
with ``params:megc2019.mode`` as mode and ``params:megc2019.evaluation.<protocol>`` as
evaluation. ``model:`` selects the architectures as for ``train`` (default here:
``megc2019.model``, the flow models).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline, pipeline

from microexpression_pipeline.dataset_sources import SOURCES
from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.augmentation.pipeline import (
    create_pipeline as augmentation_pipeline,
)
from microexpression_pipeline.pipelines.ingestion.pipeline import (
    create_pipeline as ingestion_pipeline,
)
from microexpression_pipeline.pipelines.megc2019.nodes import PROTOCOLS, compose, score_benchmark
from microexpression_pipeline.pipelines.train.pipeline import create_pipeline as train_pipeline

NAMESPACE = "megc2019"


def _composite_nodes() -> list[Node]:
    parts = {
        f"{source}/{kind}": f"{source}.{kind}"
        for source in SOURCES
        for kind in ("clips", "clip_index")
    }
    return [
        Node(
            compose,
            {
                "composite": "params:megc2019.composite",
                "mode": "params:megc2019.mode",
                "label_mappings": "params:label_mappings",
                "data_source": "params:data_source",
                **parts,
            },
            ["megc2019.clips", "megc2019.clip_index", "megc2019.composite_summary"],
            name="build_composite",
            namespace=NAMESPACE,
        )
    ]


def _augmentation() -> Pipeline:
    """Augmentation of the composite: its sets as ``megc2019.augmentation.<set>.*``."""
    base = augmentation_pipeline()
    used = {p for node in base.nodes for p in node.inputs if p.startswith("params:")}
    return pipeline(
        base,
        namespace=NAMESPACE,
        inputs={"samm.clips": "megc2019.clips", "samm.clip_index": "megc2019.clip_index"},
        parameters={p: p for p in used if p != "params:mode"}
        | {"params:mode": "params:megc2019.mode"},
    )


def _training(protocol: str) -> Pipeline:
    """The train pipeline on the composite's sets, evaluated under ``protocol``."""
    base = train_pipeline()
    sets = {name for node in base.nodes for name in node.inputs if name.startswith("augmentation.")}
    used = {p for node in base.nodes for p in node.inputs if p.startswith("params:")}
    mapped = {p: p for p in used} | {
        "params:mode": "params:megc2019.mode",
        "params:evaluation": f"params:megc2019.evaluation.{protocol}",
    }
    return pipeline(
        base,
        namespace=f"{NAMESPACE}.{protocol}",
        inputs={name: f"{NAMESPACE}.{name}" for name in sets} | {"run_info": "run_info"},
        parameters=mapped,
    )


def _scoring() -> Node:
    trained = {
        f"{protocol}/{key}/{output}": f"{NAMESPACE}.{protocol}.train_{key}_{output}"
        for protocol in PROTOCOLS
        for key in ARCHITECTURES
        for output in ("predictions", "summary")
    }
    return Node(
        score_benchmark,
        {
            "composite_index": "megc2019.clip_index",
            "composite_summary": "megc2019.composite_summary",
            "references": "params:megc2019.references",
            "data_source": "params:data_source",
            "run_info": "run_info",
            **trained,
        },
        ["megc2019.results", "megc2019.table", "megc2019.metrics", "megc2019.report"],
        name="score_benchmark",
        namespace=NAMESPACE,
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    """Ingestion -> composite -> augmentation -> training per protocol -> MEGC tables."""
    trainings = sum((_training(protocol) for protocol in PROTOCOLS), Pipeline([]))
    return (
        ingestion_pipeline()
        + Pipeline(_composite_nodes())
        + _augmentation()
        + trainings
        + Pipeline([_scoring()])
    ).tag("megc2019")
