"""Project datasets, for data no kedro-datasets class stores without pickle."""

from microexpression_pipeline.datasets.npz_dataset import NpzDataset

__all__ = ["NpzDataset"]
