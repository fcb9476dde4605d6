"""``OptionalPartitionedDataset``: a folder of files that loads as ``{}`` when it holds none.

Reporting lists every saved version of every training output (all modes, all
architectures) through it and picks the latest per mode and architecture; before anything
was trained the folder is empty or missing, which is a result to report, not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro_datasets.partitions import PartitionedDataset

from microexpression_pipeline.datasets.atomic_save import is_partial


class OptionalPartitionedDataset(PartitionedDataset):
    """``partitions.PartitionedDataset`` whose load returns ``{}`` instead of failing when
    no partition (or not even the folder) exists. Partition ids keep version folders, e.g.
    ``binary/3dcnn/predictions.parquet/<version>/predictions``. Unfinished (partial) saves
    are not partitions."""

    def _list_partitions(self) -> list[str]:
        return [path for path in super()._list_partitions() if not is_partial(path)]

    def load(self) -> dict[str, Callable[[], Any]]:
        self._invalidate_caches()
        if not self._list_partitions():
            return {}
        return super().load()
