"""Test-set sizes against the metadata sheet, per class: rows read, quarantined (by reason),
left out by the mode, kept for the mode, tested (distinct clips per architecture).

Sources: the ingestion summary's ``by_emotion`` (rows read, kept and rejected per sheet label),
the augmentation meta (SAMM clips of each class, left-out clips) or the CASME II test summary
(clips per class, left-out labels), and the test predictions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.reporting import report as rep
from microexpression_pipeline.pipelines.reporting.results import ModelResult
from microexpression_pipeline.pipelines.reporting.tables import NA

LEFT_OUT_ROW = "(not in the mode)"


def _key(label: Any) -> str:
    return str(label).strip().lower()


def _reasons(counter: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counter.items())) or "-"


def clips_tested_per_class(
    predictions: pd.DataFrame | None, classes: Sequence[str]
) -> dict[str, int]:
    """Distinct clips tested per true class (a clip tested in several seeds or repeats
    counts once)."""
    if predictions is None or predictions.empty:
        return dict.fromkeys(classes, 0)
    clips = predictions.drop_duplicates("clip_id")
    return {c: int((clips["true_label"].astype(str) == c).sum()) for c in classes}


def class_accounting(
    mapping: Mapping[str, Sequence[str]],
    by_emotion: Mapping[str, Mapping[str, Any]] | None,
    kept_for_mode: Mapping[str, int],
    left_out: Mapping[str, int],
    tested: Mapping[str, Mapping[str, int]],
) -> pd.DataFrame:
    """One row per class of ``mapping`` (class -> sheet labels), one for the labels the mode
    does not use, and a total.

    ``by_emotion``: the ingestion summary's per-label counts (None: not known, shown n/a);
    ``kept_for_mode``: clips of each class the mode keeps; ``left_out``: kept clips per label
    the mode leaves out; ``tested``: column name -> distinct clips tested per class.
    """
    known = by_emotion is not None and len(by_emotion) > 0
    stats = {_key(label): value for label, value in (by_emotion or {}).items()}
    mapped = {_key(label) for labels in mapping.values() for label in labels}
    unmapped = sorted(({*stats} | {_key(e) for e in left_out}) - mapped)
    groups = {cls: [_key(label) for label in labels] for cls, labels in mapping.items()}
    groups[LEFT_OUT_ROW] = unmapped
    left = {_key(e): int(n) for e, n in left_out.items()}
    rows = []
    for name, labels in groups.items():
        reasons: Counter[str] = Counter()
        for label in labels:
            reasons.update(stats.get(label, {}).get("rejected_by_reason", {}))
        is_class = name != LEFT_OUT_ROW
        row: dict[str, Any] = {
            "class": name,
            "sheet labels": ", ".join(labels) or "-",
            "read from sheet": sum(int(stats.get(x, {}).get("read", 0)) for x in labels)
            if known
            else NA,
            "quarantined": sum(reasons.values()) if known else NA,
            "quarantine reasons": _reasons(reasons) if known else NA,
            "left out by the mode": 0 if is_class else sum(left.get(x, 0) for x in labels),
            "kept for the mode": int(kept_for_mode.get(name, 0)) if is_class else 0,
        }
        for column, counts in tested.items():
            row[column] = int(counts.get(name, 0)) if is_class else 0
        rows.append(row)
    frame = pd.DataFrame(rows)
    total: dict[str, Any] = {"class": "total", "sheet labels": "", "quarantine reasons": ""}
    for column in frame.columns.drop(["class", "sheet labels", "quarantine reasons"]):
        values = frame[column].tolist()
        total[column] = NA if NA in values else int(sum(values))
    if known:
        overall: Counter[str] = Counter()
        for value in stats.values():
            overall.update(value.get("rejected_by_reason", {}))
        total["quarantine reasons"] = _reasons(overall)
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


def _by_emotion(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(summary["by_emotion"]) if summary and summary.get("by_emotion") else None


def account_test_sets(
    results: list[ModelResult],
    augmentation_metas: Mapping[str, Mapping[str, Any]],
    cross_dataset: Mapping[str, Mapping[str, Any]],
    samm_ingestion: Mapping[str, Any] | None,
    casme2_ingestion: Mapping[str, Any] | None,
    run_info: Mapping[str, Any],
) -> dict[str, dict[str, pd.DataFrame]]:
    """The accounting tables, ``{"samm": {<source>/<mode>: table}, "casme2": {...}}``.

    The ingestion summaries are this data source's (``run_info``); other data sources'
    tables show their sheet counts as n/a."""
    current = str(run_info.get("data_source"))
    samm, casme2 = {}, {}
    for key, meta in augmentation_metas.items():
        mapping = meta.get("label_mapping") or {c: [] for c in meta.get("classes", [])}
        models = [r for r in results if f"{r.data_source}/{r.mode}" == key]
        samm[key] = class_accounting(
            mapping,
            _by_emotion(samm_ingestion) if key.split("/")[0] == current else None,
            meta.get("counts_before", {}),
            Counter(_key(item.get("emotion", "")) for item in meta.get("left_out", [])),
            {
                f"tested: {r.architecture}": clips_tested_per_class(r.predictions, list(mapping))
                for r in models
            },
        )
    for key, summary in cross_dataset.items():
        evaluated = {
            f"tested: {m.get('architecture', slug)}": summary.get("class_counts", {})
            for slug, m in (summary.get("models") or {}).items()
            if m.get("status") == "evaluated"
        }
        casme2[key] = class_accounting(
            summary.get("label_mapping", {}),
            _by_emotion(casme2_ingestion) if key.split("/")[0] == current else None,
            summary.get("class_counts", {}),
            summary.get("left_out_emotions", {}),
            evaluated,
        )
    return {"samm": samm, "casme2": casme2}


def accounting_blocks(
    tables: Mapping[str, pd.DataFrame], dataset: str, level: int = 2
) -> list[rep.Block]:
    """The report's blocks for one dataset's tables (none when there is no table)."""
    if not tables:
        return []
    blocks = [
        rep.heading(f"{dataset} test set against its sheet", level),
        rep.paragraph(
            "Per class of the mode: sheet rows read, quarantined by ingestion (by reason), "
            "left out because the mode's mapping does not use their label, kept for the mode, "
            "and distinct clips tested per architecture (each clip once, whatever the number "
            "of seeds, repeats or folds); n/a: the ingestion summary of this data source is "
            "not available."
        ),
    ]
    for key, frame in tables.items():
        blocks += [rep.paragraph(f"{key}:"), rep.table(frame)]
    return blocks
