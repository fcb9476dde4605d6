"""The clip index of one source: its metadata sheet validated, each clip's frame files picked.

Every sheet row ends up either as a candidate clip or in the quarantine records.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.frames import list_frames, select_frames
from microexpression_pipeline.pipelines.ingestion.metadata import (
    ROW_COLUMNS,
    normalise_sheet,
    read_metadata_sheet,
)
from microexpression_pipeline.pipelines.ingestion.quarantine import (
    Reason,
    quarantine_record,
    quarantine_table,
)
from microexpression_pipeline.pipelines.ingestion.schema import Correction

logger = logging.getLogger(__name__)

CANDIDATE_COLUMNS = (*ROW_COLUMNS, "frame_files", "frame_numbers", "substitutions")


def index_clips(
    raw_source: Mapping[str, Any],
    *,
    known_emotions: set[str],
    corrections: Sequence[Correction],
    between: int,
    tolerance: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Candidate clips (with ``frame_files``, ``frame_numbers``, ``substitutions``), the
    quarantine records so far and the sheet statistics of one source."""
    stats = {"dataset": raw_source["name"], "enabled": bool(raw_source["enabled"])}
    if not raw_source["enabled"]:
        logger.info("Source %s is disabled for this data_source", raw_source["name"])
        return _empty_candidates(), quarantine_table([]), {**stats, "rows_read": 0}
    sheet = read_metadata_sheet(raw_source["metadata"], raw_source["format"])
    stats.update(rows_read=len(sheet), metadata=raw_source["metadata"], root=raw_source["root"])
    candidates, records = normalise_sheet(
        sheet,
        dataset=raw_source["name"],
        sheet_format=raw_source["format"],
        root=raw_source["root"],
        known_emotions=known_emotions,
        corrections=corrections,
    )
    kept = []
    for row in candidates.to_dict("records"):
        clip = _with_frames(row, records, between, tolerance)
        if clip is not None:
            kept.append(clip)
    frame = pd.DataFrame(kept, columns=list(CANDIDATE_COLUMNS))
    return frame, quarantine_table(records), stats


def _with_frames(
    row: dict[str, Any], records: list[dict[str, Any]], between: int, tolerance: int
) -> dict[str, Any] | None:
    """The row with its selected frame files, or None once its rejection is recorded."""

    def record(reason: Reason, detail: str, action: str) -> None:
        records.append(
            quarantine_record(
                row["dataset"], row["clip_id"], row["subject"], reason, detail, action
            )
        )

    folder = Path(row["source_folder"])
    if not folder.is_dir():
        record(
            Reason.MISSING_CLIP_FOLDER,
            f"sheet row {row['sheet_row']}: folder {folder} does not exist",
            "rejected",
        )
        return None
    available, ambiguity = list_frames(folder)
    selection = select_frames(
        available, row["onset"], row["apex"], row["offset"], between=between, tolerance=tolerance
    )
    if selection.missing:
        span = f"{min(available)}-{max(available)}" if available else "none"
        record(
            Reason.MISSING_FRAME,
            f"no frame within {tolerance} of: "
            f"{'; '.join(selection.missing)} (frames present: {span})",
            "rejected",
        )
        return None
    for text in selection.substitutions:
        record(Reason.FRAME_SUBSTITUTED, text, "patched")
    return {
        **row,
        "notes": list(row["notes"]) + ambiguity,
        "frame_files": selection.files,
        "frame_numbers": selection.numbers,
        "substitutions": selection.substitutions,
    }


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
