"""``MlflowKerasModelDataset``: logs a Keras 3 model to the active MLflow run with its
input/output signature taken from the model itself."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from kedro_mlflow.io.models import MlflowModelTrackingDataset
from mlflow.models import ModelSignature
from mlflow.types import Schema, TensorSpec


def keras_signature(model: keras.Model) -> ModelSignature:
    """Tensor signature (dtype and shape, batch axis free) of a single-input Keras model."""
    (inputs,) = model.inputs
    (outputs,) = model.outputs
    return ModelSignature(
        inputs=Schema([TensorSpec(np.dtype(inputs.dtype), (-1, *inputs.shape[1:]))]),
        outputs=Schema([TensorSpec(np.dtype(outputs.dtype), (-1, *outputs.shape[1:]))]),
    )


class MlflowKerasModelDataset(MlflowModelTrackingDataset):
    """Logs the model with ``mlflow.keras`` under ``name``; load returns it in safe mode."""

    def __init__(
        self,
        name: str,
        save_args: dict[str, Any] | None = None,
        load_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            flavor="mlflow.keras",
            save_args={"name": name, **(save_args or {})},
            load_args=load_args,
            metadata=metadata,
        )

    def _save(self, model: keras.Model) -> None:
        import tensorflow as tf

        self._save_args.setdefault("signature", keras_signature(model))
        # Pinning the requirements avoids MLflow re-loading the model to infer them.
        self._save_args.setdefault(
            "pip_requirements",
            [f"keras=={keras.__version__}", f"tensorflow=={tf.__version__}"],
        )
        super()._save(model)
