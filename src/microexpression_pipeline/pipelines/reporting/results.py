"""The results a report covers: this run's data source and mode from the catalog, every other
data source and mode from the latest MLflow runs that logged them.

Training outputs of the current data source and mode arrive as the reporting pipeline's
inputs (this run's version where this run trained, else the latest or the ``--load-versions``
pin; ``None`` for an architecture never trained). Results of other modes and data sources
come from ``reporting.other_runs`` (``datasets.MlflowRunResults``): the artifacts of the
newest finished MLflow run per data source, mode and architecture.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from microexpression_pipeline.models import ARCHITECTURES

OUTPUTS = ("summary", "predictions", "histories")


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


def input_name(key: str, output: str) -> str:
    """The keyword under which the reporting node receives a training output."""
    return f"{key}/{output}"


def _result(
    data_source: str, mode: str, key: str, summary: Any, predictions: Any, histories: Any
) -> ModelResult | None:
    if not summary or predictions is None:
        return None  # never trained (or saved no predictions): nothing to evaluate
    version = str((summary.get("run") or {}).get("kedro_session_id") or "n/a")
    return ModelResult(data_source, mode, key, version, dict(summary), predictions, histories)


def gather(
    trained: Mapping[str, Any],
    other_runs: Mapping[str, list[dict[str, Any]]] | None,
    data_source: str,
    mode: str,
) -> tuple[list[ModelResult], dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Model results, augmentation metas and CASME II summaries, keyed ``<source>/<mode>``.

    ``trained`` maps ``input_name(key, output)`` to the current mode's training outputs, plus
    ``augmentation_meta`` and ``cross_dataset_summary``; ``other_runs`` holds the other data
    sources' and modes' (the current one from MLflow is left out: the catalog's wins).
    """
    current = f"{data_source}/{mode}"
    results = [
        _result(data_source, mode, key, *(trained.get(input_name(key, o)) for o in OUTPUTS))
        for key in ARCHITECTURES
    ]
    metas = {current: trained["augmentation_meta"]} if trained.get("augmentation_meta") else {}
    cross = trained.get("cross_dataset_summary")
    cross_summaries = {current: cross} if cross else {}
    for item in (other_runs or {}).get("training", []):
        if f"{item['data_source']}/{item['mode']}" != current:
            results.append(
                _result(
                    item["data_source"], item["mode"], item["architecture"],
                    item["summary"], item["predictions"], item.get("histories"),
                )
            )  # fmt: skip
    for kind, found in (("augmentation", metas), ("cross_dataset", cross_summaries)):
        for item in (other_runs or {}).get(kind, []):
            key = f"{item['data_source']}/{item['mode']}"
            if key != current and item.get("content"):
                found.setdefault(key, item["content"])
    kept = sorted((r for r in results if r is not None), key=lambda r: r.key)
    return kept, dict(sorted(metas.items())), dict(sorted(cross_summaries.items()))
