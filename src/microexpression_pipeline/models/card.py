"""A trained model's card: what using it on a new clip needs, and where it came from.

The train pipeline writes one beside every final model (``train_<arch>_card``) and inside its
served MLflow model; the ``inference`` pipeline reads it, so a clip is prepared exactly as
the model's training clips were: the same face crop, frame selection and flow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.motion.flow_settings import FlowSettings
from microexpression_pipeline.parameters import StrictSection

CARD_FORMAT = 1
SYNTHETIC_WARNING = "trained on synthetic data: not a micro-expression model"


class Preprocessing(StrictSection):
    """The ingestion settings the training clips were made with."""

    image_size: int = Field(ge=8)
    frames_between_key_frames: int = Field(ge=0)
    missing_frame_tolerance: int = Field(ge=0)
    face_margin: float = Field(ge=0)
    detection_max_side: int = Field(ge=32)
    min_face_confidence: float = Field(ge=0, le=1)
    no_face: Literal["quarantine", "centre_crop"]
    # Linear magnification of the training clips (ingestion.magnification.enabled).
    magnification: bool = False


class ModelCard(StrictSection):
    """One trained model: its architecture, classes, preprocessing and provenance."""

    format: int = CARD_FORMAT
    architecture: str
    architecture_name: str
    sees: Literal["clips", "frames", "flow"]
    mode: str
    classes: list[str] = Field(min_length=2)
    preprocessing: Preprocessing
    flow: FlowSettings | None = None
    data_source: str
    protocol: str
    metrics: dict[str, float] = Field(default_factory=dict)
    training_data_versions: dict[str, str | None] = Field(default_factory=dict)
    model_version: str | None = None
    mlflow_run_id: str | None = None
    # The Model Registry name it was served under (set when it is logged).
    served_as: str | None = None

    @property
    def synthetic(self) -> bool:
        return self.data_source != "real"

    @property
    def registered_name(self) -> str:
        """The MLflow Model Registry name: ``microexpression-<mode>-<architecture>``."""
        return f"microexpression-{self.mode}-{self.architecture}"

    def tags(self) -> dict[str, str]:
        """Registry tags: data source, protocol, pooled UF1 / UAR, training data versions."""
        tags = {"data_source": self.data_source, "protocol": self.protocol}
        tags |= {name: f"{value:.4f}" for name, value in self.metrics.items()}
        tags["training_data_versions"] = json.dumps(self.training_data_versions, sort_keys=True)
        if self.synthetic:
            tags["warning"] = SYNTHETIC_WARNING
        return tags


def flow_settings_of(record: Mapping[str, Any] | None) -> FlowSettings | None:
    """The flow settings a training set's flow record (``features`` of a train summary)
    was computed with (its ``fingerprint``); None for frame clips."""
    if not record:
        return None
    keys = json.loads(record["fingerprint"])
    return FlowSettings(
        method=keys["method"],
        size=keys["size"],
        compute_size=keys["compute_size"],
        methods={keys["method"]: keys["settings"]},
    )


def make_card(
    summary: Mapping[str, Any],
    architecture_key: str,
    sees: str,
    ingestion: Mapping[str, Any],
) -> ModelCard:
    """The card of the final model of a train node's ``summary`` (``ingestion``: the run's
    ingestion parameters as a plain mapping)."""
    run = summary.get("run") or {}
    metrics = summary.get("metrics") or {}
    _check_clip_shape(summary, sees, ingestion)
    return ModelCard(
        architecture=architecture_key,
        architecture_name=str(summary["architecture"]),
        sees=sees,
        mode=str(summary["mode"]),
        classes=[str(c) for c in summary["classes"]],
        preprocessing=Preprocessing(
            **{k: ingestion[k] for k in Preprocessing.model_fields if k != "magnification"},
            magnification=bool((ingestion.get("magnification") or {}).get("enabled", False)),
        ),
        flow=flow_settings_of(summary.get("features")),
        data_source=str(run.get("data_source") or "unknown"),
        protocol=str(summary["protocol"]),
        metrics={k: float(metrics[k]) for k in ("uf1", "uar") if k in metrics},
        training_data_versions={  # the inputs this run did not write itself
            name: version
            for name, version in (run.get("input_versions") or {}).items()
            if version != run.get("kedro_session_id")
        },
        model_version=run.get("kedro_session_id"),
        mlflow_run_id=run.get("mlflow_run_id"),
    )


def _check_clip_shape(summary: Mapping[str, Any], sees: str, ingestion: Mapping[str, Any]) -> None:
    """Refuse a card whose ingestion settings are not those of the clips the model was
    trained on (a training set made before the settings changed)."""
    shape = list(summary.get("clip_shape") or [])
    size, between = int(ingestion["image_size"]), int(ingestion["frames_between_key_frames"])
    if sees == "flow":
        record = summary.get("features") or {}
        crop = record.get("computed_at_px")
        if record and json.loads(record["fingerprint"]).get("compute_size") is None:
            problem, made = crop != size, f"the flow of {crop} px crops"
        else:
            problem, made = False, ""
    else:
        problem = bool(shape) and shape != [2 * between + 3, size, size]
        made = f"clips of shape {shape}"
    if problem:
        raise InputError(
            f"the model was trained on {made}, but ingestion.image_size is {size} and "
            f"ingestion.frames_between_key_frames {between}: train with the settings the "
            "training set was made with (or re-run ingestion and augmentation)"
        )
