"""Project datasets, for data no kedro-datasets class stores without pickle, optional inputs
(``datasets.optional``), atomic saves (``datasets.atomic``) and MLflow."""

from microexpression_pipeline.datasets.npz_dataset import NpzDataset

__all__ = [
    "MlflowRunResults",
    "MlflowServedModelDataset",
    "MlflowVersionedArtifactDataset",
    "NpzDataset",
]


def __getattr__(name: str):  # imported lazily: it pulls in Keras and MLflow
    if name == "MlflowRunResults":
        from microexpression_pipeline.datasets.mlflow_run_results import MlflowRunResults

        return MlflowRunResults
    if name == "MlflowServedModelDataset":
        from microexpression_pipeline.datasets.mlflow_served_model_dataset import (
            MlflowServedModelDataset,
        )

        return MlflowServedModelDataset
    if name == "MlflowVersionedArtifactDataset":
        from microexpression_pipeline.datasets.mlflow_versioned_artifact_dataset import (
            MlflowVersionedArtifactDataset,
        )

        return MlflowVersionedArtifactDataset
    raise AttributeError(name)
