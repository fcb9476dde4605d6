"""The served model's code (MLflow models-from-code; logged by ``MlflowServedModelDataset``).

``load_context`` loads the network (``.keras``, safe mode) and its card from the model's
artifacts; ``predict`` decodes a request's frames (one base64 image file per row, column
``image``) and runs the ``inference`` pipeline's ``core`` nodes on them with Kedro's
``SequentialRunner``: the interval (the params ``onset``, ``apex``, ``offset``, or spotted),
the face crop and frame selection of ingestion, the flow of features, the model. A bad
request raises ``MlflowException(INVALID_PARAMETER_VALUE)``: the server answers 400 with the
message in a JSON body.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from pydantic import ValidationError

from microexpression_pipeline.datasets.mlflow_served_model_dataset import (
    CARD_ARTIFACT,
    KERAS_ARTIFACT,
    KEY_FRAME_PARAMS,
    NOT_GIVEN,
    REQUEST_COLUMN,
)
from microexpression_pipeline.errors import InputError
from microexpression_pipeline.pipelines.inference.clip_reader import ClipFrames
from microexpression_pipeline.pipelines.inference.model_source import TrainedModel, load_files
from microexpression_pipeline.pipelines.inference.pipeline import (
    FRAMES,
    MODEL,
    PREDICTIONS,
    core,
)
from microexpression_pipeline.pipelines.inference.schema import InferenceParams

SOURCE = "request"


def request_frames(request: pd.DataFrame) -> ClipFrames:
    """The frames of a request: column ``image`` holds one base64-encoded image file per
    frame, in order."""
    if REQUEST_COLUMN not in request.columns:
        raise InputError(
            f"{SOURCE}: no column {REQUEST_COLUMN!r} (got {list(request.columns)}); send one "
            "base64-encoded image file per frame in that column"
        )
    files = []
    for row, text in enumerate(request[REQUEST_COLUMN]):
        try:
            files.append(base64.b64decode(str(text), validate=True))
        except (binascii.Error, ValueError):
            raise InputError(
                f"{SOURCE}: row {row} of {REQUEST_COLUMN!r} is not base64 text; encode each "
                "frame's image file with base64"
            ) from None
    return ClipFrames.from_image_files(SOURCE, files)


def request_settings(params: dict[str, Any] | None) -> InferenceParams:
    """The inference settings of a request: its key frames (-1 or absent: spotted)."""
    given = {k: (params or {}).get(k, NOT_GIVEN) for k in KEY_FRAME_PARAMS}
    try:
        return InferenceParams(
            **{k: None if v in (None, NOT_GIVEN) else int(v) for k, v in given.items()}
        )
    except ValidationError as exc:
        problems = "; ".join(f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
        raise InputError(f"{SOURCE}: {problems}") from None
    except ValueError as exc:
        raise InputError(f"{SOURCE}: onset, apex and offset must be integers ({exc})") from None


def run_core(trained: TrainedModel, frames: ClipFrames, settings: InferenceParams) -> pd.DataFrame:
    """The inference pipeline's ``core`` on ``frames``: its predictions table."""
    catalog = DataCatalog(
        {
            FRAMES: MemoryDataset(frames, copy_mode="assign"),
            MODEL: MemoryDataset(trained, copy_mode="assign"),
            "params:inference": MemoryDataset(settings, copy_mode="assign"),
        }
    )
    outputs = SequentialRunner().run(core(), catalog)
    predictions = outputs[PREDICTIONS]
    table = predictions.load() if hasattr(predictions, "load") else predictions
    # JSON has no NaN (a peak motion where the key frames were given): null instead
    return table.astype(object).where(table.notna(), None)


class ServedModel(mlflow.pyfunc.PythonModel):
    """A trained model with the inference pipeline's preprocessing."""

    def load_context(self, context: Any) -> None:
        card = Path(context.artifacts[CARD_ARTIFACT])
        trained = load_files(Path(context.artifacts[KERAS_ARTIFACT]), card, "")
        name = trained.card.served_as or trained.card.registered_name
        self.trained = replace(trained, uri=f"models:/{name}")

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        try:
            return run_core(self.trained, request_frames(model_input), request_settings(params))
        except InputError as exc:
            raise MlflowException(str(exc), error_code=INVALID_PARAMETER_VALUE) from None


mlflow.models.set_model(ServedModel())
