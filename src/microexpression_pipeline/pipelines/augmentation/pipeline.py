"""The ``augmentation`` pipeline: ingested clips + ``mode`` -> one traceable training set per
transform set that an architecture trains on (``models.TRANSFORM_SETS``)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.models import ARCHITECTURES, FLOW_SETS, TRANSFORM_SETS
from microexpression_pipeline.pipelines.augmentation.flow_inputs import flow_inputs
from microexpression_pipeline.pipelines.augmentation.nodes import (
    augment_clips,
    label_clips,
    plan_samples,
    render_preview,
    summarise_counts,
)

SETTINGS = ["params:mode", "params:label_mappings", "params:augmentation", "params:seed"]


def _for_set(func: Callable, name: str) -> Callable:
    """``func`` with ``set_name=name`` bound, as a function whose signature and type hints
    Kedro can read (it validates the typed ``params:`` inputs by them)."""

    @functools.wraps(func)
    def bound(*args: object) -> object:
        return func(*args, set_name=name)

    signature = inspect.signature(func)
    kept = [p for p in signature.parameters.values() if p.name != "set_name"]
    bound.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    bound.__name__ = bound.__qualname__ = f"{func.__name__}_{name}"
    return bound


def _transform_set_branch(name: str) -> list[Node]:
    """Plan, apply, summarise and preview the copies of transform set ``name``; its nodes are
    tagged with the architectures that train on it (``model:`` runs only what it needs).

    A flow set's augmented frames (``<prefix>.frames``) become its training set
    (``<prefix>.clips``) by their flow, computed with ``params:features``."""
    prefix = f"augmentation.{name}"
    tags = [a.tag for a in ARCHITECTURES.values() if a.transform_set == name]
    frames = f"{prefix}.frames" if name in FLOW_SETS else f"{prefix}.clips"
    flow: list[Node] = []
    if name in FLOW_SETS:
        flow.append(
            Node(
                flow_inputs,
                inputs=[frames, "params:features"],
                outputs=f"{prefix}.clips",
                name="flow_inputs",
                namespace=prefix,
                tags=tags,
            )
        )
    return [
        Node(
            _for_set(plan_samples, name),
            inputs=["augmentation.labelled_clips", "samm.clips", *SETTINGS],
            outputs=f"{prefix}.samples",
            name="plan_samples",
            namespace=prefix,
            tags=tags,
        ),
        Node(
            augment_clips,
            inputs=["samm.clips", f"{prefix}.samples", "params:mode", "params:label_mappings"],
            outputs=frames,
            name="augment_clips",
            namespace=prefix,
            tags=tags,
        ),
        Node(
            _for_set(summarise_counts, name),
            inputs=["augmentation.labelled_clips", f"{prefix}.samples", *SETTINGS],
            outputs=[f"{prefix}.meta", f"{prefix}.count_metrics"],
            name="summarise_counts",
            namespace=prefix,
            tags=tags,
        ),
        Node(
            render_preview,
            inputs=[frames, f"{prefix}.samples", "params:augmentation"],
            outputs=f"{prefix}.preview",
            name="render_preview",
            namespace=prefix,
            tags=tags,
        ),
        *flow,
    ]


def create_pipeline(**kwargs: object) -> Pipeline:
    """Label the clips of ``mode``; then, per transform set, plan and apply the copies and
    record counts and a preview.

    Outputs live in the ``augmentation.<set>`` namespaces; the inputs are the ingestion
    pipeline's ``samm.clips`` and ``samm.clip_index``.
    """
    label = Node(
        label_clips,
        inputs=["samm.clips", "samm.clip_index", "params:mode", "params:label_mappings"],
        outputs="augmentation.labelled_clips",
        name="label_clips",
        namespace="augmentation",
    )
    branches = [node for name in TRANSFORM_SETS for node in _transform_set_branch(name)]
    return Pipeline([label, *branches], tags="augmentation")
