"""Project datasets, for data no kedro-datasets class stores without pickle."""

from microexpression_pipeline.datasets.npz_dataset import NpzDataset
from microexpression_pipeline.datasets.optional_json_dataset import OptionalJSONDataset
from microexpression_pipeline.datasets.optional_partitioned_dataset import (
    OptionalPartitionedDataset,
)

__all__ = [
    "MlflowKerasModelDataset",
    "MlflowVersionedArtifactDataset",
    "NpzDataset",
    "OptionalJSONDataset",
    "OptionalPartitionedDataset",
]


def __getattr__(name: str):  # imported lazily: it pulls in Keras and MLflow
    if name == "MlflowKerasModelDataset":
        from microexpression_pipeline.datasets.mlflow_keras_model_dataset import (
            MlflowKerasModelDataset,
        )

        return MlflowKerasModelDataset
    if name == "MlflowVersionedArtifactDataset":
        from microexpression_pipeline.datasets.mlflow_versioned_artifact_dataset import (
            MlflowVersionedArtifactDataset,
        )

        return MlflowVersionedArtifactDataset
    raise AttributeError(name)
