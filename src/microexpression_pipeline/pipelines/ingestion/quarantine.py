"""Quarantine records: every rejected, patched or noted clip, with its reason."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import pandas as pd

QUARANTINE_COLUMNS = ("dataset", "subject", "clip_id", "reason", "detail", "action")
# rejected: not kept; patched: kept with a change; noted: kept as given, with a remark.
ACTIONS = ("rejected", "patched", "noted")


class Reason(StrEnum):
    """Why a clip was rejected (``action=rejected``), changed (``action=patched``) or kept
    as given but remarked on (``action=noted``)."""

    UNSAFE_PATH = "unsafe_path"
    INVALID_SUBJECT = "invalid_subject"
    INVALID_KEY_FRAME = "invalid_key_frame"
    DEGENERATE_KEY_FRAMES = "degenerate_key_frames"
    APEX_OUTSIDE_RANGE = "apex_outside_range"
    UNKNOWN_EMOTION = "unknown_emotion"
    DUPLICATE_CLIP_ID = "duplicate_clip_id"
    CORRECTION_GUARD_FAILED = "correction_guard_failed"
    MISSING_APEX = "missing_apex"
    MISSING_CLIP_FOLDER = "missing_clip_folder"
    MISSING_FRAME = "missing_frame"
    CORRUPT_FRAME = "corrupt_frame"
    UNREADABLE_FILE = "unreadable_file"
    BLANK_FRAME = "blank_frame"
    NO_FACE = "no_face"
    # patches
    CORRECTED = "corrected"
    APEX_FALLBACK = "apex_fallback"
    FRAME_SUBSTITUTED = "frame_substituted"
    CENTRE_CROP = "centre_crop"
    # notes
    APEX_ON_KEY_FRAME = "apex_on_key_frame"
    REPEATED_FRAMES = "repeated_frames"
    # a file or folder where a folder-tree layout (SMIC) expects none: skipped, kept as a note
    UNEXPECTED_ENTRY = "unexpected_entry"


def quarantine_record(
    dataset: str, clip_id: str, subject: str, reason: Reason, detail: str, action: str
) -> dict[str, Any]:
    """One quarantine row; ``action`` is one of ``ACTIONS``."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    return {
        "dataset": dataset,
        "subject": str(subject),
        "clip_id": str(clip_id),
        "reason": str(reason),
        "detail": detail,
        "action": action,
    }


def quarantine_table(records: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The quarantine as a table with fixed columns (also when empty)."""
    return pd.DataFrame(list(records), columns=list(QUARANTINE_COLUMNS)).astype(str)
