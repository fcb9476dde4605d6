"""The trained model an inference run uses: an MLflow model URI, or the latest model the
train pipeline saved for the run's ``mode`` and ``model``.

A served model (``models:/microexpression-<mode>-<architecture>/<version>``,
``runs:/<run id>/<architecture>``) carries its Keras network (``.keras``, loaded in safe mode)
and its card (JSON) as MLflow artifacts; a local model is the versioned ``model.keras`` beside its
``card.json`` under ``<models_root>/<data_source>/<mode>/<architecture>/``, both of one train
run (the card names the model's version). ``models_root`` is a local folder: with a remote
``data_root`` (S3), give ``inference.model`` an MLflow URI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from microexpression_pipeline.datasets.mlflow_served_model_dataset import (
    CARD_ARTIFACT,
    KERAS_ARTIFACT,
)
from microexpression_pipeline.errors import InputError
from microexpression_pipeline.models import selected
from microexpression_pipeline.models.card import ModelCard

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class TrainedModel:
    """A Keras network with its card, and where it was loaded from."""

    network: keras.Model
    card: ModelCard
    uri: str


def load_files(model_file: Path, card_file: Path, uri: str) -> TrainedModel:
    """The model of a ``.keras`` file (safe mode) and a card file."""
    import keras  # TensorFlow: imported when a model is loaded

    card = ModelCard.model_validate(json.loads(card_file.read_text(encoding="utf-8")))
    network = keras.saving.load_model(model_file, compile=False, safe_mode=True)
    return TrainedModel(network, card, uri)


def _versions(folder: Path) -> list[str]:
    """The saved versions of a versioned file ``folder`` (``<name>/<version>/<name>``),
    oldest first; a version folder without its file (an interrupted save) is not one."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / folder.name).is_file())


def latest_local(models_root: str, data_source: str, mode: str, model: str) -> TrainedModel:
    """The newest model the train pipeline saved (with its card) for ``mode`` and ``model``
    (one architecture)."""
    chosen = selected(model)
    if len(chosen) != 1:
        raise InputError(
            f"model: {model!r} selects {len(chosen)} architectures; inference uses one: give "
            "--params model:<architecture> (e.g. model:3dcnn) or inference.model:<MLflow URI>"
        )
    folder = Path(models_root) / data_source / mode / chosen[0].key
    cards = _versions(folder / "card.json")
    if not cards:
        raise InputError(
            f"no trained {chosen[0].name} model for mode {mode!r} and data source "
            f"{data_source!r} in {folder}; train one with: kedro run --pipeline=train "
            f"--params mode:{mode},model:{chosen[0].name} (or give inference.model:<MLflow URI>)"
        )
    version = cards[-1]
    model_file = folder / "model.keras" / version / "model.keras"
    if not model_file.is_file():
        raise InputError(
            f"{folder / 'card.json' / version} has no model of the same run ({model_file} is "
            "missing); re-run training or pin inference.model to an MLflow URI"
        )
    return load_files(model_file, folder / "card.json" / version / "card.json", str(model_file))


def _pyfunc_artifacts(local: Path) -> dict[str, Path]:
    """Artifact name -> local path, from a downloaded MLflow model's ``MLmodel`` file."""
    from mlflow.models import Model

    flavor: dict[str, Any] = Model.load(str(local)).flavors.get("python_function", {})
    return {name: local / entry["path"] for name, entry in flavor.get("artifacts", {}).items()}


def from_mlflow(uri: str) -> TrainedModel:
    """A served model of this project from its MLflow model URI."""
    import mlflow

    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri))
    except Exception as exc:  # MlflowException, OSError: the URI names nothing usable
        raise InputError(
            f"inference.model: {uri!r} cannot be loaded ({str(exc).splitlines()[0]}); give "
            "models:/<name>/<version or alias> or runs:/<run id>/<architecture> of a model this "
            "project trained (the registered models are listed on the Models page of `mlflow ui "
            "--backend-store-uri sqlite:///mlflow.db`)"
        ) from exc
    artifacts = _pyfunc_artifacts(local) if (local / "MLmodel").is_file() else {}
    if KERAS_ARTIFACT not in artifacts or CARD_ARTIFACT not in artifacts:
        raise InputError(
            f"inference.model: {uri!r} is not a served model of this project (no "
            f"{KERAS_ARTIFACT!r} and {CARD_ARTIFACT!r} artifacts); train one with kedro run "
            "--pipeline=train"
        )
    return load_files(artifacts[KERAS_ARTIFACT], artifacts[CARD_ARTIFACT], uri)
