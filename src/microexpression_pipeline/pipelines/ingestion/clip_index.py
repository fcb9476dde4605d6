"""The clip index of one source: its metadata sheet validated (SMIC: its folder tree read),
each clip's frame files picked.

Every sheet row (SMIC: clip folder) ends up either as a candidate clip or in the quarantine
records.
"""

from __future__ import annotations

import bisect
import logging
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.coverage import check_coverage
from microexpression_pipeline.pipelines.ingestion.frames import (
    list_frames,
    requested_frames,
    select_frames,
)
from microexpression_pipeline.pipelines.ingestion.metadata import (
    ROW_COLUMNS,
    emotion_key,
    normalise_sheet,
    sheet_emotions,
)
from microexpression_pipeline.pipelines.ingestion.quarantine import (
    Reason,
    quarantine_record,
    quarantine_table,
)
from microexpression_pipeline.pipelines.ingestion.schema import Correction
from microexpression_pipeline.pipelines.ingestion.sheet_files import read_metadata_sheet
from microexpression_pipeline.pipelines.ingestion.smic_tree import (
    describe_tree,
    read_smic_tree,
    walk_place,
)

logger = logging.getLogger(__name__)

CANDIDATE_COLUMNS = (*ROW_COLUMNS, "frame_files", "frame_numbers", "substitutions")
# With ``event_frames`` (magnification on): every frame file from the first to the last
# selected frame, one per frame number (a missing number repeats its nearest frame).
EVENT_COLUMN = "event_frame_files"


def index_clips(
    raw_source: Mapping[str, Any],
    *,
    known_emotions: set[str],
    corrections: Sequence[Correction],
    between: int,
    tolerance: int,
    apex_on_key_frame: str = "keep",
    missing_apex: str = "middle",
    min_kept_fraction: float = 0.0,
    event_frames: bool = False,
    smic_apex: str = "middle",
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Candidate clips (with ``frame_files``, ``frame_numbers``, ``substitutions``, and with
    ``event_frames`` the ``EVENT_COLUMN``), the quarantine records so far and the sheet
    statistics of one source (for SMIC, of its folder tree: ``smic_tree``).

    Raises ``RawDataError`` if no row, or fewer than ``min_kept_fraction`` of them, has
    its frames (``coverage.check_coverage``)."""
    stats = {"dataset": raw_source["name"], "enabled": bool(raw_source["enabled"])}
    if not raw_source["enabled"]:
        logger.info("Source %s is disabled for this data_source", raw_source["name"])
        return _empty_candidates(event_frames), quarantine_table([]), {**stats, "rows_read": 0}
    from_tree = raw_source["format"] == "smic"  # no sheet: the clips are the folders
    if from_tree:
        tree = read_smic_tree(
            raw_source["root"],
            dataset=raw_source["name"],
            apex_method=smic_apex,
            apex_on_key_frame=apex_on_key_frame,
        )
        candidates, records, place = tree.candidates, tree.records, walk_place
        stats.update(
            rows_read=tree.folders_read,  # clip folders (and folders not entered) read
            metadata=None,
            root=raw_source["root"],
            layout="folders",
            sheet={},
            apex_method=smic_apex,
            emotions_read=tree.emotions_read,
            emotion_of_clip=tree.emotion_of_clip,
        )
    else:
        sheet = read_metadata_sheet(raw_source["metadata"], raw_source["format"])
        stats.update(rows_read=len(sheet), metadata=raw_source["metadata"])
        stats.update(root=raw_source["root"], layout="sheet")
        stats["sheet"] = {key: value for key, value in sheet.attrs.items() if value is not None}
        # per emotion label: rows read, and the label of each row by clip id (for the summary)
        stats["emotions_read"] = dict(Counter(emotion_key(e) for e in sheet["emotion"]))
        stats["emotion_of_clip"] = sheet_emotions(sheet, raw_source["format"])
        candidates, records = normalise_sheet(
            sheet,
            dataset=raw_source["name"],
            sheet_format=raw_source["format"],
            root=raw_source["root"],
            known_emotions=known_emotions,
            corrections=corrections,
            apex_on_key_frame=apex_on_key_frame,
            missing_apex=missing_apex,
        )
        place = _sheet_place
    kept = []
    root = Path(raw_source["root"]).resolve()
    rows = candidates.to_dict("records")
    for row in rows:
        clip = _with_frames(row, records, root, between, tolerance, event_frames, place)
        if clip is not None:
            kept.append(clip)
    check_coverage(
        "indexing",
        raw_source,
        rows_read=stats["rows_read"],
        kept=len(kept),
        rejections=records,
        min_fraction=min_kept_fraction,
        expected=[] if from_tree else _expected_folders(rows),
        layout=describe_tree(root) if from_tree else "",
    )
    frame = pd.DataFrame(kept, columns=_columns(event_frames))
    return frame, quarantine_table(records), stats


def _sheet_place(number: int) -> str:
    """How a candidate's ``sheet_row`` is shown: ``sheet row 15``."""
    return f"sheet row {number}"


def _expected_folders(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["subject"], Path(r["source_folder"]).name) for r in rows]


def _with_frames(
    row: dict[str, Any],
    records: list[dict[str, Any]],
    root: Path,
    between: int,
    tolerance: int,
    event_frames: bool = False,
    place: Callable[[int], str] = _sheet_place,
) -> dict[str, Any] | None:
    """The row with its selected frame files (and with ``event_frames`` all the event's),
    or None once its rejection is recorded; ``place`` names the row (``sheet row 15``).

    Key frames outside the folder's frame numbers are invalid; a selected (or event) frame
    file that resolves outside ``root`` (a link out of the dataset) is unsafe.
    """

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
            f"{place(row['sheet_row'])}: folder {folder} "
            + ("is a file, not a folder" if folder.exists() else "does not exist")
            + near_miss_hint(folder),
            "rejected",
        )
        return None
    try:
        available, ambiguity = list_frames(folder)
    except OSError as exc:
        record(
            Reason.UNREADABLE_FILE,
            f"folder {folder} cannot be listed ({exc.strerror or exc}); check its permissions",
            "rejected",
        )
        return None
    if problem := _outside_frames(row, available):
        record(Reason.INVALID_KEY_FRAME, f"{place(row['sheet_row'])}: {problem}", "rejected")
        return None
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
    event, gaps = _event_files(available, selection.numbers) if event_frames else ([], [])
    for name in dict.fromkeys([*selection.files, *event]):
        target = (folder / name).resolve()
        if not target.is_relative_to(root):
            record(
                Reason.UNSAFE_PATH,
                f"frame {name} is a link to {target}, outside the dataset root {root}",
                "rejected",
            )
            return None
    on_key_frame = row["apex"] in (row["onset"], row["offset"])  # noted already
    wanted = [f for _, f in requested_frames(row["onset"], row["apex"], row["offset"], between)]
    if len(set(wanted)) < len(wanted) and not on_key_frame:
        record(
            Reason.REPEATED_FRAMES,
            f"onset {row['onset']}, apex {row['apex']}, offset {row['offset']} leave too few "
            f"frames between them: the {len(selection.numbers)} selected are "
            f"{selection.numbers}, some repeated",
            "noted",
        )
    for text in selection.substitutions:
        record(Reason.FRAME_SUBSTITUTED, text, "patched")
    clip = {
        **row,
        "notes": list(row["notes"]) + ambiguity,
        "frame_files": selection.files,
        "frame_numbers": selection.numbers,
        "substitutions": selection.substitutions,
    }
    if event_frames:
        clip[EVENT_COLUMN] = event
        if gaps:
            clip["notes"].append(
                f"magnification: frames {_spans(gaps)} missing between the first and last "
                "selected frames: each replaced by its nearest frame"
            )
    return clip


def _event_files(available: dict[int, str], selected: Sequence[int]) -> tuple[list[str], list[int]]:
    """One frame file per frame number from the first to the last selected frame (a missing
    number gets its nearest frame, the earlier on a tie), and the missing numbers."""
    numbers = sorted(available)
    files, gaps = [], []
    for wanted in range(min(selected), max(selected) + 1):
        chosen = wanted
        if wanted not in available:
            gaps.append(wanted)
            position = bisect.bisect_left(numbers, wanted)
            near = [numbers[i] for i in (position - 1, position) if 0 <= i < len(numbers)]
            chosen = min(near, key=lambda n, w=wanted: (abs(n - w), n))
        files.append(available[chosen])
    return files, gaps


def _spans(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``'3-5, 9'``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)


def near_miss_hint(folder: Path) -> str:
    """A hint naming folders that differ from ``folder`` only in case, Unicode form or
    surrounding spaces (as copies between Windows, macOS and Linux leave them), or ''."""

    def key(name: str) -> str:
        return unicodedata.normalize("NFC", name).strip().casefold()

    for level in (folder.parent, folder):  # the subject folder, then the clip folder
        if level.parent.is_dir() and not level.is_dir():
            try:
                alike = [p.name for p in level.parent.iterdir() if key(p.name) == key(level.name)]
            except OSError:
                return ""
            if alike:
                return f"; {level.parent / alike[0]} differs only in case or spelling: rename it"
            return ""
    return ""


def _outside_frames(row: dict[str, Any], available: dict[int, str]) -> str:
    """Which key frame lies outside the folder's frame numbers (if it has any), or ''."""
    if not available:
        return ""
    first, last = min(available), max(available)
    for role in ("onset", "apex", "offset"):
        if not first <= row[role] <= last:
            return (
                f"{role} frame {row[role]} is outside the folder's frames {first}-{last}; "
                "check the sheet's frame numbers"
            )
    return ""


def _columns(event_frames: bool) -> list[str]:
    return [*CANDIDATE_COLUMNS, EVENT_COLUMN] if event_frames else list(CANDIDATE_COLUMNS)


def _empty_candidates(event_frames: bool = False) -> pd.DataFrame:
    return pd.DataFrame(columns=_columns(event_frames))
