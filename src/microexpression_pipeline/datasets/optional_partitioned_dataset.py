"""``OptionalPartitionedDataset``: a folder of files that loads as ``{}`` when it holds none.

Reporting lists every saved version of every training output (all modes, all
architectures) through it and picks the latest per mode and architecture; before anything
was trained the folder is empty or missing, which is a result to report, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro_datasets.partitions import PartitionedDataset


class OptionalPartitionedDataset(PartitionedDataset):
    """``partitions.PartitionedDataset`` whose load returns ``{}`` instead of failing when
    no partition (or not even the folder) exists. Partition ids keep version folders, e.g.
    ``binary/3dcnn/predictions.parquet/<version>/predictions``."""

    def load(self) -> dict[str, Callable[[], Any]]:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        return super().load()
