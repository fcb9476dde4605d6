"""Finding the training results on disk: the latest saved version per mode x architecture.

Partitions come from ``OptionalPartitionedDataset`` folders over the training outputs, with
ids such as ``synthetic/binary/3dcnn/predictions.parquet/<version>/predictions`` (data
source / mode / architecture; version = the Kedro session id of the run that saved it;
versions sort in time order).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")
Loader = Callable[[], Any] | Any


@dataclass(frozen=True)
class ModelResult:
    """One architecture's evaluation in one mode, as saved by its latest training run."""

    data_source: str
    mode: str
    slug: str
    version: str
    summary: dict[str, Any]
    predictions: pd.DataFrame
    histories: pd.DataFrame | None

    @property
    def key(self) -> str:
        return f"{self.data_source}/{self.mode}/{self.slug}"

    @property
    def architecture(self) -> str:
        return str(self.summary.get("architecture", self.slug))

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.summary["classes"]]

    @property
    def run(self) -> dict[str, Any]:
        return dict(self.summary.get("run") or {})


def parse_partition(partition_id: str) -> tuple[tuple[str, ...], str, str] | None:
    """(folders before the file, file name, version) of a versioned file's partition id."""
    parts = partition_id.strip("/").split("/")
    for i, part in enumerate(parts):
        if i >= 1 and VERSION.match(part):
            return tuple(parts[: i - 1]), parts[i - 1], part
    return None


def latest_versions(
    partitions: Mapping[str, Loader], file_name: str, depths: Collection[int] = (3,)
) -> dict[tuple[str, ...], dict[str, Loader]]:
    """Per folder prefix (of one of ``depths`` parts), every version of ``file_name``
    (newest last)."""
    found: dict[tuple[str, ...], dict[str, Loader]] = {}
    for partition_id, loader in partitions.items():
        parsed = parse_partition(partition_id)
        if parsed is None:
            continue
        prefix, name, version = parsed
        if name == file_name and len(prefix) in depths:
            found.setdefault(prefix, {})[version] = loader
    return {prefix: dict(sorted(versions.items())) for prefix, versions in found.items()}


def _load(loader: Loader) -> Any:
    return loader() if callable(loader) else loader


def collect_results(
    predictions: Mapping[str, Loader],
    histories: Mapping[str, Loader],
    summaries: Mapping[str, Loader],
) -> list[ModelResult]:
    """The latest summary per mode x architecture, with the predictions and histories saved
    by the same run (summaries without predictions are left out: nothing to evaluate)."""
    all_summaries = latest_versions(summaries, "summary.json")
    all_predictions = latest_versions(predictions, "predictions.parquet")
    all_histories = latest_versions(histories, "histories.csv")
    results = []
    for prefix in sorted(all_summaries):
        version, summary_loader = list(all_summaries[prefix].items())[-1]
        preds = all_predictions.get(prefix, {})
        if version not in preds:
            continue
        summary = _load(summary_loader)
        if not summary:
            continue
        hist_loader = all_histories.get(prefix, {}).get(version)
        results.append(
            ModelResult(
                data_source=prefix[0],
                mode=prefix[1],
                slug=prefix[2],
                version=version,
                summary=dict(summary),
                predictions=_load(preds[version]),
                histories=None if hist_loader is None else _load(hist_loader),
            )
        )
    return results


def latest_augmentation_meta(metas: Mapping[str, Loader]) -> dict[str, dict[str, Any]]:
    """The latest ``augmentation.meta`` per data source and mode, keyed ``<source>/<mode>``
    (files ``<source>/augmented/<mode>/meta.json/<version>/meta.json``)."""
    return {
        f"{prefix[0]}/{prefix[2]}": _load(list(versions.values())[-1])
        for prefix, versions in sorted(latest_versions(metas, "meta.json").items())
        if prefix[1] == "augmented"
    }
