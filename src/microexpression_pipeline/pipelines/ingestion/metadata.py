"""Metadata sheets: normalisation and validation (reading them is in ``sheet_files``).

Both SAMM and CASME II sheets are normalised to one candidate clip table. Rows that cannot
be used are never dropped silently: they go to the quarantine with a reason, and rows that
were patched (a configured correction, an apex fallback) are kept and recorded too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.quarantine import Reason, quarantine_record
from microexpression_pipeline.pipelines.ingestion.schema import Correction
from microexpression_pipeline.pipelines.ingestion.sheet_files import is_blank as _is_blank

MISSING_APEX_MARKERS = frozenset({"", "/", "-", "nan", "none", "n/a", "na"})
# How a clip's apex was obtained (clip index column ``apex_source``): the sheet's value, an
# ``ingestion.corrections`` entry, the middle frame (an apex the sheet leaves uncoded, or any
# SMIC clip with ``ingestion.smic_apex: middle``), or the frame that moved most from the onset
# (SMIC with ``smic_apex: max_motion``, ``apex_motion.max_motion_apex``).
APEX_SOURCES = ("sheet", "correction", "middle", "max_motion")


def parse_frame_number(value: Any) -> int | None:
    """A frame number (>= 0) from a cell (int, integral float or digit string), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float):
        usable = math.isfinite(value) and value.is_integer() and value >= 0
        return int(value) if usable else None
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return int(float(text))
    return None


def _cell_text(value: Any) -> str:
    if _is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _is_safe_component(text: str) -> bool:
    if text in {"", ".", ".."} or "\x00" in text:
        return False
    if "/" in text or "\\" in text or ":" in text:
        return False
    return not (PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute())


def _subject_name(raw: Any, sheet_format: str) -> str | None:
    """SAMM subject 6 -> '006'; CASME II 1 -> 'sub01' ('sub01' is kept)."""
    number = parse_frame_number(raw)
    if sheet_format == "samm":
        return f"{number:03d}" if number is not None else None
    if number is not None:
        return f"sub{number:02d}"
    text = _cell_text(raw)
    return text if re.fullmatch(r"sub\d+", text, flags=re.IGNORECASE) else None


def clip_id_for(sheet_format: str, subject: str, filename: str) -> str:
    """SAMM file names are unique ('006_1_2'); CASME II's are per subject ('sub01_EP02_01f')."""
    return filename if sheet_format == "samm" else f"{subject}_{filename}"


def emotion_key(value: Any) -> str:
    """An emotion label as the summary counts it: stripped, lower-cased ('' when blank)."""
    return _cell_text(value).lower()


def sheet_emotions(sheet: pd.DataFrame, sheet_format: str) -> dict[str, str]:
    """Each sheet row's emotion (``emotion_key``) under every id a quarantine record may give
    the row: its clip id, its Filename, and ``Subject/Filename``."""
    lookup: dict[str, str] = {}
    for row in sheet.to_dict("records"):
        raw_subject, filename = _cell_text(row["subject"]), _cell_text(row["filename"])
        emotion = emotion_key(row["emotion"])
        subject = _subject_name(row["subject"], sheet_format)
        keys = [filename, f"{raw_subject}/{filename}"]
        if subject is not None:
            keys.append(clip_id_for(sheet_format, subject, filename))
        lookup.update(dict.fromkeys(keys, emotion))
    return lookup


def known_emotion_labels(
    extra_labels: Iterable[str], label_mappings: Mapping[str, Mapping[str, Sequence[str]]]
) -> set[str]:
    """Lower-cased labels accepted in the sheets: the configured list plus every mapped one."""
    known = {str(label).strip().lower() for label in extra_labels}
    for classes in label_mappings.values():
        for labels in classes.values():
            known |= {str(label).strip().lower() for label in labels}
    return known


def _guard_holds(cell: Any, original: int | str) -> bool:
    """Whether a sheet cell holds a correction's ``original`` (a frame number or a marker
    such as '/')."""
    if isinstance(original, str):
        return _cell_text(cell).lower() == original.lower()
    return parse_frame_number(cell) == original


def _correction_lookup(
    corrections: Sequence[Correction], dataset: str
) -> dict[str, list[Correction]]:
    lookup: dict[str, list[Correction]] = {}
    for item in corrections:
        if item.dataset == dataset:
            lookup.setdefault(str(item.clip_id), []).append(item)
    return lookup


def degenerate_key_frames(onset: int, apex: int, offset: int) -> str:
    """What is degenerate about the key frames (a zero-length event, an apex on the onset or
    offset frame), or ''."""
    if onset == offset:
        return f"onset = apex = offset = {onset}: a zero-length event shows no movement"
    if apex in (onset, offset):
        which, interval = ("onset", "onset-apex") if apex == onset else ("offset", "apex-offset")
        return f"apex {apex} is the {which} frame: the {interval} frames are one frame repeated"
    return ""


# A checked sheet row: the first columns of the clip index.
ROW_COLUMNS = ("dataset", "subject", "clip_id", "onset", "apex", "offset", "apex_source",
               "emotion", "action_units", "source_folder", "sheet_row", "notes")  # fmt: skip


def normalise_sheet(
    sheet: pd.DataFrame,
    *,
    dataset: str,
    sheet_format: str,
    root: str | Path,
    known_emotions: set[str],
    corrections: Sequence[Correction],
    apex_on_key_frame: str = "keep",
    missing_apex: str = "middle",
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Normalise a sheet to candidate clips; return them and the quarantine records.

    A zero-length event (onset = offset) is rejected; an apex on the onset or offset frame
    is rejected or kept with a note, as ``apex_on_key_frame`` (``quarantine`` | ``keep``) says.
    An apex the sheet leaves uncoded ('/') and no correction fills becomes the middle frame
    (recorded as ``apex_fallback``) or is rejected, as ``missing_apex`` (``middle`` |
    ``quarantine``) says.

    Candidate columns: dataset, subject, clip_id, onset, apex, offset, apex_source (one of
    ``APEX_SOURCES``), emotion, action_units, source_folder, sheet_row, notes (list of str).
    """
    if missing_apex not in ("middle", "quarantine"):
        raise ValueError(
            f"ingestion.missing_apex: {missing_apex!r} is not valid; valid choices: "
            "middle, quarantine (conf/base/parameters_ingestion.yml)"
        )
    root_path = Path(root).resolve()
    lookup = _correction_lookup(corrections, dataset)
    records: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []

    def reject(clip_id: str, subject: str, reason: Reason, detail: str) -> None:
        records.append(quarantine_record(dataset, clip_id, subject, reason, detail, "rejected"))

    for row in sheet.to_dict("records"):
        where = f"sheet row {row['sheet_row']}"
        raw_subject, filename = _cell_text(row["subject"]), _cell_text(row["filename"])
        label = f"{raw_subject}/{filename}"
        if not raw_subject or not filename:
            empty = "Subject" if not raw_subject else "Filename"
            reject(
                filename or label,
                raw_subject,
                Reason.INVALID_SUBJECT if not raw_subject else Reason.MISSING_CLIP_FOLDER,
                f"{where}: {empty} is empty (merged cells? every row needs its own value)",
            )
            continue
        if not _is_safe_component(raw_subject) or not _is_safe_component(filename):
            reject(
                filename or label,
                raw_subject,
                Reason.UNSAFE_PATH,
                f"{where}: Subject {raw_subject!r} / Filename {filename!r} would resolve "
                "outside the dataset root (path separators, '..' or absolute path)",
            )
            continue
        subject = _subject_name(row["subject"], sheet_format)
        if subject is None:
            reject(
                filename,
                raw_subject,
                Reason.INVALID_SUBJECT,
                f"{where}: Subject {raw_subject!r} is not a subject number",
            )
            continue
        clip_id = clip_id_for(sheet_format, subject, filename)
        folder = (root_path / subject / filename).resolve()
        if not folder.is_relative_to(root_path):
            reject(
                clip_id,
                subject,
                Reason.UNSAFE_PATH,
                f"{where}: {subject}/{filename} resolves to {folder}, outside {root_path}",
            )
            continue

        values = {key: row[key] for key in ("onset", "apex", "offset")}
        notes: list[str] = []
        patches: list[str] = []
        guard_failed = ""
        apex_source = "sheet"
        for correction in lookup.get(clip_id, []):
            field = correction.field
            before = parse_frame_number(values[field])
            expected = correction.original
            if before == correction.value:
                notes.append(f"{field} {before}: already as ingestion.corrections has it")
                continue
            if expected is not None and not _guard_holds(values[field], expected):
                guard_failed = (
                    f"{where}: ingestion.corrections changes {field} {expected} to "
                    f"{correction.value}, but the sheet has {_cell_text(values[field])!r}; "
                    "check the row and update or remove the correction"
                )
                break
            shown = before if before is not None else repr(_cell_text(values[field]))
            values[field] = correction.value
            apex_source = "correction" if field == "apex" else apex_source
            text = f"{field} {shown} -> {correction.value} (correction: {correction.note})"
            patches.append(text)
            records.append(
                quarantine_record(dataset, clip_id, subject, Reason.CORRECTED, text, "patched")
            )

        if guard_failed:
            reject(clip_id, subject, Reason.CORRECTION_GUARD_FAILED, guard_failed)
            continue
        onset, offset = parse_frame_number(values["onset"]), parse_frame_number(values["offset"])
        apex = parse_frame_number(values["apex"])
        if onset is None or offset is None:
            reject(
                clip_id,
                subject,
                Reason.INVALID_KEY_FRAME,
                f"{where}: onset {_cell_text(values['onset'])!r} / offset "
                f"{_cell_text(values['offset'])!r} must be "
                "frame numbers (whole numbers, 0 or more)",
            )
            continue
        if offset < onset:
            reject(
                clip_id,
                subject,
                Reason.INVALID_KEY_FRAME,
                f"{where}: offset {offset} is before onset {onset}",
            )
            continue
        if apex is None:
            apex_text = _cell_text(values["apex"])
            if apex_text.lower() not in MISSING_APEX_MARKERS:
                reject(
                    clip_id,
                    subject,
                    Reason.INVALID_KEY_FRAME,
                    f"{where}: apex {apex_text!r} is not a frame number "
                    "(a whole number, 0 or more)",
                )
                continue
            if missing_apex == "quarantine":
                reject(
                    clip_id,
                    subject,
                    Reason.MISSING_APEX,
                    f"{where}: apex {apex_text!r} is not coded and ingestion.missing_apex is "
                    "quarantine; set it to middle, or add the apex to ingestion.corrections",
                )
                continue
            apex, apex_source = (onset + offset) // 2, "middle"
            text = (
                f"apex {apex_text!r} missing: middle frame {apex} used "
                "(ingestion.missing_apex: middle)"
            )
            patches.append(text)
            records.append(
                quarantine_record(dataset, clip_id, subject, Reason.APEX_FALLBACK, text, "patched")
            )
        if not onset <= apex <= offset:
            reject(
                clip_id,
                subject,
                Reason.APEX_OUTSIDE_RANGE,
                f"{where}: apex {apex} outside [onset {onset}, offset {offset}]; "
                "add a row to ingestion.corrections if the true apex is known",
            )
            continue
        problem = degenerate_key_frames(onset, apex, offset)
        if problem and (onset == offset or apex_on_key_frame == "quarantine"):
            fix = "" if onset == offset else "; set ingestion.apex_on_key_frame: keep to keep it"
            reject(clip_id, subject, Reason.DEGENERATE_KEY_FRAMES, f"{where}: {problem}{fix}")
            continue
        if problem:
            text = f"{problem} (kept: ingestion.apex_on_key_frame is keep)"
            notes.append(text)
            records.append(
                quarantine_record(
                    dataset, clip_id, subject, Reason.APEX_ON_KEY_FRAME, text, "noted"
                )
            )

        emotion = _cell_text(row["emotion"])
        if emotion.lower() not in known_emotions:
            reject(
                clip_id,
                subject,
                Reason.UNKNOWN_EMOTION,
                f"{where}: emotion {emotion!r} is not a known label; add it to "
                "ingestion.known_emotions or label_mappings",
            )
            continue
        candidates.append(
            {
                "dataset": dataset,
                "subject": subject,
                "clip_id": clip_id,
                "onset": onset,
                "apex": apex,
                "offset": offset,
                "apex_source": apex_source,
                "emotion": emotion,
                "action_units": _cell_text(row["action_units"]),
                "source_folder": str(folder),
                "sheet_row": int(row["sheet_row"]),
                "notes": notes + patches,
            }
        )

    frame = pd.DataFrame(candidates, columns=list(ROW_COLUMNS))
    duplicated = frame["clip_id"].duplicated(keep=False)
    if duplicated.any():
        for clip_id, group in frame[duplicated].groupby("clip_id", sort=True):
            rows = ", ".join(str(r) for r in group["sheet_row"])
            for subject in group["subject"]:
                reject(
                    str(clip_id),
                    subject,
                    Reason.DUPLICATE_CLIP_ID,
                    f"clip id {clip_id!r} appears on sheet rows {rows}; keep exactly one row",
                )
        frame = frame[~duplicated]
    return frame.reset_index(drop=True), records
