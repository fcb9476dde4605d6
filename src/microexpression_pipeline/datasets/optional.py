"""Optional datasets: versioned files (atomic saves) that load as ``None`` until first saved.

Reporting and the cross-dataset test take every architecture's training outputs as inputs:
in a run that trains them, that orders the consumer after training and hands it this run's
version; in a run that does not, the latest version; for an architecture never trained,
``None``, which is a result to report, not an error. Catalog example::

    "train_{arch}_summary":
      type: microexpression_pipeline.datasets.optional.JSONDataset
      filepath: ${globals:data_root}/07_model_output/.../{arch}/summary.json
      versioned: true
"""

from __future__ import annotations

from functools import cache
from typing import Any

from microexpression_pipeline.datasets import atomic, npz_dataset

# Also ``TensorFlowModelDataset``, built by ``__getattr__`` (it imports TensorFlow),
# and ``FigureDataset`` (matplotlib).
__all__ = ["CSVDataset", "JSONDataset", "NpzDataset", "ParquetDataset"]


@cache
def _optional(name: str) -> type:
    base = getattr(npz_dataset if name == "NpzDataset" else atomic, name)

    def load(self: Any) -> Any:
        return base.load(self) if self._exists() else None

    doc = f"``{base.__name__}`` whose load returns ``None`` while no version exists."
    return type(name, (base,), {"load": load, "__doc__": doc, "__module__": __name__})


CSVDataset = _optional("CSVDataset")
JSONDataset = _optional("JSONDataset")
NpzDataset = _optional("NpzDataset")
ParquetDataset = _optional("ParquetDataset")


@cache
def _figure_dataset() -> type:
    def load(self: Any) -> str | None:
        return str(self.preview()) if self._exists() else None

    doc = (
        "``atomic.MatplotlibDataset`` (a figure saved as an image) that loads the latest saved "
        "image as base64 text, ready to embed in a report, or ``None`` while none is saved."
    )
    base = atomic.MatplotlibDataset
    return type("FigureDataset", (base,), {"load": load, "__doc__": doc, "__module__": __name__})


def __getattr__(name: str) -> Any:
    if name == "TensorFlowModelDataset":
        return _optional(name)
    if name == "FigureDataset":
        return _figure_dataset()
    raise AttributeError(name)
