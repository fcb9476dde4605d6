"""kedro-datasets classes with atomic saves (``AtomicSaveMixin``), for the catalog.

Same arguments and behaviour as the kedro-datasets class of the same name; only the save
is atomic. Catalog example::

    augmentation.samples:
      type: microexpression_pipeline.datasets.atomic.ParquetDataset
      filepath: ${globals:data_root}/05_model_input/.../samples.parquet
      versioned: true

The TensorFlow and Matplotlib variants are built on first use, so that reading this module
does not import TensorFlow.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from kedro_datasets.json import JSONDataset as _JSONDataset
from kedro_datasets.pandas import CSVDataset as _CSVDataset
from kedro_datasets.pandas import ParquetDataset as _ParquetDataset
from kedro_datasets.text import TextDataset as _TextDataset

from microexpression_pipeline.handoffs.atomic_save import AtomicSaveMixin

# Also ``MatplotlibDataset`` and ``TensorFlowModelDataset``, built by ``__getattr__``.
__all__ = ["CSVDataset", "JSONDataset", "ParquetDataset", "TextDataset"]


class CSVDataset(AtomicSaveMixin, _CSVDataset):
    """``pandas.CSVDataset`` with atomic saves."""


class JSONDataset(AtomicSaveMixin, _JSONDataset):
    """``json.JSONDataset`` with atomic saves."""


class ParquetDataset(AtomicSaveMixin, _ParquetDataset):
    """``pandas.ParquetDataset`` with atomic saves."""


class TextDataset(AtomicSaveMixin, _TextDataset):
    """``text.TextDataset`` with atomic saves."""


@cache
def _heavy(name: str) -> type:
    if name == "TensorFlowModelDataset":
        from kedro_datasets.tensorflow import TensorFlowModelDataset as Base
    else:
        from kedro_datasets.matplotlib import MatplotlibDataset as Base
    doc = f"``{Base.__module__.split('.')[1]}.{name}`` with atomic saves."
    return type(name, (AtomicSaveMixin, Base), {"__doc__": doc, "__module__": __name__})


def __getattr__(name: str) -> Any:
    if name in ("TensorFlowModelDataset", "MatplotlibDataset"):
        return _heavy(name)
    raise AttributeError(name)
