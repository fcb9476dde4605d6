"""The ingestion summary of one source: what was kept, patched and rejected, and how fast."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.metadata import emotion_key
from microexpression_pipeline.pipelines.ingestion.quarantine import Reason, quarantine_table
from microexpression_pipeline.pipelines.ingestion.schema import MAGNIFIED_NOTE

logger = logging.getLogger(__name__)


def combined_quarantine(*stages: pd.DataFrame) -> pd.DataFrame:
    """The quarantine records of every stage in one table."""
    quarantine = pd.concat(stages, ignore_index=True)
    return quarantine_table(quarantine.to_dict("records"))


def ingestion_summary(
    sheet_stats: Mapping[str, Any],
    quarantine: pd.DataFrame,
    clip_index: pd.DataFrame,
    timing: Mapping[str, float],
    *,
    frames_per_clip: int,
    image_size: int,
    missing_apex: str = "middle",
    magnification: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary (also logged); raises if a sheet row (SMIC: clip folder) is neither kept
    nor rejected.

    ``magnification``: the settings the clips were magnified with (``Magnification.record``);
    the summary adds how many kept clips were magnified (their notes say so)."""
    rejected = quarantine[quarantine["action"] == "rejected"]
    patched = quarantine[quarantine["action"] == "patched"]
    noted = quarantine[quarantine["action"] == "noted"]
    kept = len(clip_index)
    rows_read = int(sheet_stats["rows_read"])
    unit = "clip folders" if sheet_stats.get("layout") == "folders" else "sheet rows"
    if kept + len(rejected) != rows_read:
        raise RuntimeError(
            f"{sheet_stats['dataset']}: {rows_read} {unit} but {kept} kept + "
            f"{len(rejected)} rejected; every one must be kept or quarantined"
        )
    kept_ids = set(clip_index["clip_id"].astype(str))
    face_found = int(clip_index["face_found"].sum()) if kept else 0
    sources = clip_index.get("apex_source", pd.Series([], dtype=str))
    attempted = kept + int((rejected["reason"] == Reason.NO_FACE).sum())
    summary = {
        "dataset": sheet_stats["dataset"],
        "enabled": bool(sheet_stats.get("enabled", True)),
        # the metadata sheet; None for a source read from its folders (SMIC)
        "metadata": sheet_stats.get("metadata", ""),
        "root": sheet_stats.get("root", ""),
        # where the clips come from: "sheet" rows, or the "folders" under root (SMIC)
        "layout": sheet_stats.get("layout", "sheet"),
        # how the sheet was read: file_format, worksheet, encoding, delimiter
        "sheet": dict(sheet_stats.get("sheet") or {}),
        "rows_read": rows_read,
        "kept": kept,
        "rejected": len(rejected),
        "patched_kept_clips": len(set(patched["clip_id"]) & kept_ids),
        "rejected_by_reason": dict(sorted(Counter(rejected["reason"]).items())),
        "patched_by_reason": dict(sorted(Counter(patched["reason"]).items())),
        "noted_by_reason": dict(sorted(Counter(noted["reason"]).items())),
        # kept clips by how their apex was obtained: sheet | correction | middle | max_motion
        "apex_by_source": dict(sorted(Counter(str(v) for v in sources).items())),
        "missing_apex": missing_apex,
        # how SMIC's uncoded apexes were chosen (ingestion.smic_apex); absent for the others
        **({"apex_method": sheet_stats["apex_method"]} if "apex_method" in sheet_stats else {}),
        "by_emotion": emotion_accounting(sheet_stats, rejected, clip_index),
        "face_found": face_found,
        "face_found_rate": face_found / attempted if attempted else 0.0,
        "frames_per_clip": frames_per_clip,
        "image_size": image_size,
        "magnification": _magnification(magnification, clip_index),
        **{key: timing[key] for key in sorted(timing)},
    }
    logger.info(
        "Ingestion of %s: %d rows read, %d kept, %d patched, %d rejected %s; "
        "faces found %d/%d; %.2f clips/s, %.1f frames/s",
        summary["dataset"],
        rows_read,
        kept,
        summary["patched_kept_clips"],
        len(rejected),
        summary["rejected_by_reason"],
        face_found,
        attempted,
        timing["clips_per_second"],
        timing["frames_per_second"],
    )
    return summary


def _magnification(settings: Mapping[str, Any] | None, clip_index: pd.DataFrame) -> dict[str, Any]:
    """The magnification settings and the number of kept clips magnified with them."""
    if not settings or not settings.get("enabled"):
        return {"enabled": False}
    notes = clip_index.get("notes", pd.Series([], dtype=object))
    done = sum(any(str(n).startswith(MAGNIFIED_NOTE) for n in clip_notes) for clip_notes in notes)
    return {**settings, "clips_magnified": int(done)}


def emotion_accounting(
    sheet_stats: Mapping[str, Any], rejected: pd.DataFrame, clip_index: pd.DataFrame
) -> dict[str, dict[str, Any]]:
    """Per emotion label of the sheet (lower-cased): rows read, clips kept and rows rejected
    by reason; empty when the sheet statistics do not carry the labels."""
    read = sheet_stats.get("emotions_read") or {}
    if not read:
        return {}
    label_of = sheet_stats.get("emotion_of_clip") or {}
    kept = Counter(emotion_key(e) for e in clip_index.get("emotion", []))
    reasons: dict[str, Counter[str]] = {}
    for clip_id, reason in zip(rejected["clip_id"], rejected["reason"], strict=True):
        reasons.setdefault(label_of.get(str(clip_id), "?"), Counter())[str(reason)] += 1
    labels = sorted(set(read) | set(kept) | set(reasons))
    return {
        label: {
            "read": int(read.get(label, 0)),
            "kept": int(kept.get(label, 0)),
            "rejected_by_reason": dict(sorted(reasons.get(label, Counter()).items())),
        }
        for label in labels
    }


def summary_metrics(summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """The summary's numbers, and its counts per reason, as MLflow metrics at step 0."""
    numbers: dict[str, float] = {
        key: float(value)
        for key, value in summary.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    numbers |= {f"rejected.{k}": float(v) for k, v in summary["rejected_by_reason"].items()}
    numbers |= {f"patched.{k}": float(v) for k, v in summary["patched_by_reason"].items()}
    numbers |= {f"noted.{k}": float(v) for k, v in summary.get("noted_by_reason", {}).items()}
    numbers |= {f"apex.{k}": float(v) for k, v in summary.get("apex_by_source", {}).items()}
    return {key: {"value": value, "step": 0} for key, value in sorted(numbers.items())}
