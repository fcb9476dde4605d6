"""Nodes of the ``megc2019`` pipeline: build the composite, then score every protocol's
predictions in MEGC 2019's layout."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.megc2019.composite import (
    build_composite,
    check_mode_agrees,
)
from microexpression_pipeline.pipelines.megc2019.report_text import benchmark_markdown
from microexpression_pipeline.pipelines.megc2019.schema import CompositeParams, ReferenceParams
from microexpression_pipeline.pipelines.megc2019.scores import (
    COMPOSITE,
    baselines,
    dataset_of_clips,
    datasets_of,
    megc_layout,
    part_scores,
    summarise_parts,
)

logger = logging.getLogger(__name__)

# The evaluations run on the composite (train pipeline namespaces megc2019.<key>).
PROTOCOLS = {
    "loso": "leave one subject out",
    "lodo": "leave one database out",
    "holdout": "hold-out database",
}


def compose(
    composite: CompositeParams,
    mode: str,
    label_mappings: Mapping[str, Any],
    data_source: str,
    **parts: Any,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, dict[str, Any]]:
    """The composite of the ingested datasets (``parts``: ``<dataset>/clips`` and
    ``<dataset>/clip_index``): clips, clip index (``dataset``, ``megc_class``) and summary."""
    check_mode_agrees(composite, mode, label_mappings)
    given = {
        name: (parts[f"{name}/clips"], parts[f"{name}/clip_index"])
        for name in composite.datasets
        if f"{name}/clips" in parts
    }
    clips, index, summary = build_composite(given, composite)
    summary["data_source"] = data_source
    summary["mode"] = mode
    return clips, index, summary


# The evaluation protocol each key must have been trained under.
EXPECTED_PROTOCOL = {"loso": "loso", "lodo": "leave_one_dataset_out", "holdout": "holdout"}


def _parts_of(
    protocol: str,
    predictions: pd.DataFrame,
    summary: Mapping[str, Any],
    dataset_of: Mapping[str, str],
) -> pd.Series:
    """Each prediction's part (its dataset; under hold-out its ``train->test`` pair, from the
    pairs the predictions were trained with). Raises ``ValueError`` saying why the
    predictions do not belong in this protocol's table: trained under another protocol, on
    another composite, or not testing every clip once (LOSO and leave one database out)."""
    made = set(predictions["protocol"].astype(str)) if "protocol" in predictions else set()
    if made != {EXPECTED_PROTOCOL[protocol]}:
        raise ValueError(
            f"trained under protocol {sorted(made)}, not {EXPECTED_PROTOCOL[protocol]} "
            f"(megc2019.evaluation.{protocol}.protocol)"
        )
    datasets = datasets_of(predictions, dataset_of)
    if protocol in ("loso", "lodo"):
        keys = [k for k in ("seed", "repeat") if k in predictions]
        runs = [g for _, g in predictions.groupby(keys)] if keys else [predictions]
        if any(sorted(g["clip_id"].astype(str)) != sorted(dataset_of) for g in runs):
            raise ValueError("its runs do not test every clip of this composite once")
        return datasets
    pairs = (summary.get("evaluation") or {}).get("holdout_pairs") or []
    labels = {i: f"{train}->{test}" for i, (train, test) in enumerate(pairs)}
    folds = predictions["fold"].astype(int)
    if not set(folds) <= set(labels) or any(
        datasets[folds == i].ne(labels[i].split("->")[1]).any() for i in set(folds)
    ):
        raise ValueError("its folds do not match the hold-out pairs it was trained with")
    return folds.map(labels)


def _scored(
    protocol: str,
    predictions: pd.DataFrame,
    summary: Mapping[str, Any],
    dataset_of: Mapping[str, str],
    classes: list[str],
) -> dict[str, dict[str, float]]:
    """Part -> mean/std scores of one architecture's predictions under ``protocol``."""
    parts = _parts_of(protocol, predictions, summary, dataset_of)
    whole = COMPOSITE if protocol == "loso" else None
    scored = summarise_parts(part_scores(predictions, parts, classes, whole=whole))
    if protocol == "lodo":  # in the composite's dataset order
        order = list(dict.fromkeys(dataset_of.values()))
        return {part: scored[part] for part in sorted(scored, key=order.index)}
    return scored


def score_benchmark(
    composite_index: pd.DataFrame,
    composite_summary: Mapping[str, Any],
    references: ReferenceParams,
    data_source: str,
    run_info: Mapping[str, Any],
    **trained: Any,
) -> tuple[dict[str, Any], pd.DataFrame, dict[str, Any], str]:
    """Every architecture's results per protocol and part (``trained``:
    ``<protocol>/<arch>/predictions`` and ``.../summary``: this run's, or the latest saved,
    named with its run; None when never trained).

    Returns the results (JSON), the MEGC table (LOSO, MEGC layout), MLflow metrics and the
    benchmark's Markdown report. Published references appear only for ``data_source: real``.
    """
    classes = list(composite_summary["classes"])
    dataset_of = dataset_of_clips(composite_index)
    datasets = list(composite_summary["datasets"])
    results: dict[str, Any] = {
        "data_source": data_source,
        "classes": classes,
        "datasets": datasets,
        "composite": dict(composite_summary),
        "protocols": {},
        "mlflow_run_id": run_info.get("mlflow_run_id"),
    }
    metrics: dict[str, Any] = {}
    for protocol, title in PROTOCOLS.items():
        rows, skipped = [], {}
        for key, architecture in ARCHITECTURES.items():
            predictions = trained.get(f"{protocol}/{key}/predictions")
            summary = trained.get(f"{protocol}/{key}/summary") or {}
            if predictions is None or not len(predictions):
                continue
            try:
                parts = _scored(protocol, predictions, summary, dataset_of, classes)
            except ValueError as exc:
                skipped[architecture.name] = f"{exc}; re-run kedro run --pipeline=megc2019"
                continue
            run = summary.get("run") or {}
            session = run.get("kedro_session_id")
            this_run = session == run_info.get("kedro_session_id")
            rows.append(
                {
                    "method": architecture.name + ("" if this_run else f" (run {session})"),
                    "key": key,
                    "parts": parts,
                    "this_run": this_run,
                    "kedro_session_id": session,
                    "mlflow_run_id": run.get("mlflow_run_id"),
                    "seeds": summary.get("seeds"),
                }
            )
            if not this_run:  # an earlier run's results: shown and named, logged there
                continue
            for part, entry in parts.items():
                for name in ("uf1", "uar"):
                    tag = f"{protocol}.{key}.{part.replace('->', '_to_')}.{name}"
                    metrics[tag] = {"value": entry[name], "step": 0}
        results["protocols"][protocol] = {"title": title, "rows": rows, "skipped": skipped}
    parts = [COMPOSITE, *datasets]
    majority, base = baselines(composite_index, classes, parts)
    results["baselines"] = {"majority_class": majority, **base}
    shown = list(references.entries) if data_source == "real" else []
    results["references"] = [r.model_dump() for r in shown]
    results["references_note"] = (
        "Published figures on the real datasets, from their sources."
        if data_source == "real"
        else f"Published references are shown only for data_source real; this is "
        f"{data_source} data, whose scores say nothing about SMIC, CASME II or SAMM."
    )
    table = megc_layout(_table_rows(results), parts)
    for line in table.to_string(index=False).splitlines():
        logger.info("MEGC 2019 (%s): %s", data_source, line)
    return results, table, metrics, benchmark_markdown(results, table)


def _table_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The LOSO rows of the MEGC table: models, baselines, then published references."""
    rows = [
        {"method": r["method"], "parts": r["parts"]} for r in results["protocols"]["loso"]["rows"]
    ]
    base = results["baselines"]
    rows.append(
        {"method": f"Majority baseline ({base['majority_class']})", "parts": base["majority"]}
    )
    rows.append({"method": "Chance (uniform guessing)", "parts": base["chance"]})
    for ref in results["references"]:
        if ref["protocol"] == "loso":
            rows.append(
                {"method": f"{ref['method']} (published: {ref['source']})", "parts": ref["values"]}
            )
    return rows
