"""The ``inference`` pipeline: a trained model on a video file or a folder of frames.

``kedro run --pipeline=inference --params inference.source:<path>,model:<architecture>``
(the latest local model for ``mode``) or ``...,inference.model:models:/<name>/<version>``.
The served MLflow model runs the same ``core`` nodes on the frames of a request
(``serving``). Standalone: not part of the default run.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from microexpression_pipeline.pipelines.inference.nodes import (
    find_intervals,
    load_model,
    plot_contact_sheet,
    predict_intervals,
    prepare_inputs,
    read_source,
)

MODEL = "inference.trained_model"
FRAMES = "inference.frames"
PREDICTIONS = "inference.predictions"


def core() -> Pipeline:
    """Frames and a trained model in, predictions out: intervals (given or spotted), the
    inputs made as ingestion and features make them, the model's predictions."""
    return Pipeline(
        [
            Node(
                find_intervals,
                [FRAMES, MODEL, "params:inference"],
                "inference.intervals",
                name="find_intervals",
            ),
            Node(
                prepare_inputs,
                [FRAMES, "inference.intervals", MODEL],
                "inference.model_inputs",
                name="prepare_inputs",
            ),
            Node(
                predict_intervals,
                [MODEL, "inference.model_inputs", "inference.intervals", FRAMES],
                PREDICTIONS,
                name="predict_intervals",
            ),
        ]
    )


def create_pipeline(**kwargs: object) -> Pipeline:
    """Model and source loaded, ``core``, and a contact sheet of what the model saw."""
    load = Pipeline(
        [
            Node(
                load_model,
                ["params:inference", "params:mode", "params:model", "params:data_source"],
                MODEL,
                name="load_model",
            ),
            Node(read_source, "params:inference", FRAMES, name="read_source"),
        ]
    )
    sheet = Node(plot_contact_sheet, ["inference.model_inputs", PREDICTIONS],
                 "inference.contact_sheet", name="plot_contact_sheet")  # fmt: skip
    return (load + core() + Pipeline([sheet])).tag("inference")
