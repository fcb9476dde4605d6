"""``MlflowServedModelDataset``: logs a trained model as an MLflow pyfunc that runs the
``inference`` pipeline (face crop, frame selection, flow, model), registers it in the Model
Registry and tags the version with its card.

The pyfunc is logged as code (MLflow models-from-code: ``serving/served_model.py``), its
network as a ``.keras`` file and its card as JSON: nothing is pickled. Serving needs this
project installed (``mlflow models serve ... --env-manager local``).

Request (the model's signature): a table with one row per frame, in order, column
``image``: the frame's image file (PNG, JPEG, BMP, TIFF) base64-encoded; params ``onset``,
``apex``, ``offset``: 0-based frame positions, all three or none (-1: spot the apex).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from kedro_mlflow.io.models import MlflowModelTrackingDataset
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, ParamSchema, ParamSpec, Schema

REQUEST_COLUMN = "image"
KEY_FRAME_PARAMS = ("onset", "apex", "offset")
NOT_GIVEN = -1
KERAS_ARTIFACT = "keras_model"
CARD_ARTIFACT = "card"
SERVED_MODEL_CODE = "microexpression_pipeline.serving.served_model"


def served_signature() -> ModelSignature:
    """Frames in (base64 image files, one per row), key frames as optional params."""
    return ModelSignature(
        inputs=Schema([ColSpec("string", REQUEST_COLUMN)]),
        params=ParamSchema([ParamSpec(name, "long", NOT_GIVEN) for name in KEY_FRAME_PARAMS]),
    )


def _requirements() -> list[str]:
    """The served model's main requirements, as installed (TensorFlow may be installed as
    ``tensorflow`` or ``tensorflow-cpu``); pinned so MLflow does not load the model to infer
    them."""
    from importlib.metadata import PackageNotFoundError, version

    wanted = ("mlflow", "kedro", "keras", "tensorflow", "tensorflow-cpu", "pandas", "mtcnn",
              "opencv-contrib-python-headless")  # fmt: skip
    found = []
    for package in wanted:
        try:
            found.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return found


class MlflowServedModelDataset(MlflowModelTrackingDataset):
    """Saves ``{"model": keras.Model, "card": dict}`` as the served model ``name`` of the
    active run, registered as ``registered_name`` (default: the card's
    ``microexpression-<mode>-<architecture>``)."""

    def __init__(
        self,
        name: str,
        registered_name: str | None = None,
        save_args: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            flavor="mlflow.pyfunc",
            pyfunc_workflow="python_model",
            save_args={"name": name, **(save_args or {})},
            load_args=load_args,
            metadata=metadata,
        )
        self._registered_name = registered_name

    def _save(self, bundle: dict[str, Any]) -> None:
        from mlflow import MlflowClient

        from microexpression_pipeline.models.card import ModelCard

        if not self._logging_activated:  # MLflow tracking is off for this run
            return
        card = ModelCard.model_validate(bundle["card"])
        name = self._registered_name or card.registered_name
        card = card.model_copy(update={"served_as": name})
        spec = importlib.util.find_spec(SERVED_MODEL_CODE)
        if spec is None or spec.origin is None:
            raise ImportError(f"{SERVED_MODEL_CODE} is not installed")
        with tempfile.TemporaryDirectory(prefix="served-model-") as folder:
            keras_file, card_file = Path(folder) / "model.keras", Path(folder) / "card.json"
            bundle["model"].save(keras_file)
            card_file.write_text(card.model_dump_json(indent=2), encoding="utf-8")
            self._save_args.update(
                artifacts={KERAS_ARTIFACT: str(keras_file), CARD_ARTIFACT: str(card_file)},
                signature=served_signature(),
                registered_model_name=name,
                pip_requirements=_requirements(),
            )
            super()._save(spec.origin)
        version = getattr(self.model_info, "registered_model_version", None)
        if version is None:
            return
        client = MlflowClient()
        for key, value in card.tags().items():
            client.set_model_version_tag(name, str(version), key, value)
