"""SMIC-HS, which ships without a metadata sheet: its candidate clips read from the folders.

Layout (``LAYOUT``): ``<root>/<subject>/micro/<emotion>/<clip>/<frame images>``, as the
MEGC toolkit (tvaranka/meb, ``Smic``) reads it. Per clip folder:

- ``subject``: the subject folder's name as it is (``s1``); ``clip_id``: the clip folder's
  name (``s1_ne_01``); ``action_units``: empty (SMIC codes none);
- ``emotion``: the emotion folder's name, one of ``SMIC_EMOTIONS`` compared
  case-insensitively (``Negative`` -> ``negative``); any other name, also one with
  surrounding spaces, rejects the folder's clips as ``unknown_emotion``;
- ``onset``/``offset``: the first and last frame number in the folder (parsed from the
  names, ``frames.list_frames``); ``apex``: ``ingestion.smic_apex``, ``middle``
  (onset + (offset - onset) // 2, the toolkit's convention) or ``max_motion``
  (``apex_motion.max_motion_apex``), recorded as the clip's ``apex_source``;
- ``sheet_row``: there is no sheet, so the folder's position in the walk (1-based; every
  level in name order), shown as "folder N of the walk".

Every clip folder is kept or rejected, so kept + rejected = clip folders read. A subject,
``micro`` or emotion folder that is a link out of the root, or cannot be listed, is not
entered and counts as one folder read, rejected. What the layout does not expect is noted
(``unexpected_entry``) and skipped: files beside the subject, emotion or clip folders, a
subject folder without ``micro/``, an emotion folder without clip folders, non-image files
in a clip folder (the clip is kept). Hidden files are ignored, and so are folders beside
``micro/`` in a subject folder (material other than micro-expression clips).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.apex_motion import max_motion_apex
from microexpression_pipeline.pipelines.ingestion.decoding import FrameFileError
from microexpression_pipeline.pipelines.ingestion.frames import frame_number_from_name, list_frames
from microexpression_pipeline.pipelines.ingestion.metadata import (
    ROW_COLUMNS,
    degenerate_key_frames,
    emotion_key,
)
from microexpression_pipeline.pipelines.ingestion.quarantine import Reason, quarantine_record
from microexpression_pipeline.pipelines.ingestion.raw_sources import RawDataError

SMIC_EMOTIONS = ("negative", "positive", "surprise")
MICRO = "micro"
LAYOUT = (
    "<root>/<subject>/micro/<emotion>/<clip>/<frame images>, e.g. "
    "s1/micro/negative/s1_ne_01/image046176.bmp"
)
APEX_METHODS = ("middle", "max_motion")
_SHOWN = 6  # entries named in a message


@dataclass
class SmicTree:
    """The candidate clips of a walk, its quarantine records and what it read."""

    candidates: pd.DataFrame
    records: list[dict[str, Any]]
    folders_read: int
    emotions_read: dict[str, int]
    emotion_of_clip: dict[str, str]


def walk_place(number: int) -> str:
    """How a clip folder's ``sheet_row`` is shown: ``folder 3 of the walk``."""
    return f"folder {number} of the walk"


def read_smic_tree(
    root: str | Path,
    *,
    dataset: str,
    apex_method: str = "middle",
    apex_on_key_frame: str = "keep",
) -> SmicTree:
    """The candidate clips (``metadata.ROW_COLUMNS``) of the tree under ``root``.

    Raises ``RawDataError`` naming the root and the expected layout if it holds no clip
    folder at all."""
    if apex_method not in APEX_METHODS:
        raise ValueError(
            f"ingestion.smic_apex: {apex_method!r} is not valid; valid choices: "
            f"{', '.join(APEX_METHODS)} (conf/base/parameters_ingestion.yml)"
        )
    walk = _Walk(Path(root).resolve(), dataset, apex_method, apex_on_key_frame)
    walk.run()
    if walk.read == 0:
        raise RawDataError(
            f"ingestion.sources.<data_source>.{dataset}.root: {walk.root} holds no SMIC clip "
            f"folder; expected {LAYOUT}. {describe_tree(walk.root)} Point root at the folder "
            "holding the subject folders (SMIC/SMIC_all_raw/HS)."
        )
    frame = pd.DataFrame(walk.candidates, columns=list(ROW_COLUMNS))
    frame = _without_duplicates(frame, walk)
    return SmicTree(frame, walk.records, walk.read, dict(walk.emotions), walk.emotion_of_clip)


@dataclass
class _Walk:
    root: Path
    dataset: str
    apex_method: str
    apex_on_key_frame: str
    read: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    emotions: Counter[str] = field(default_factory=Counter)
    emotion_of_clip: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, subject: str, reason: Reason, detail: str, action: str) -> None:
        self.records.append(quarantine_record(self.dataset, name, subject, reason, detail, action))

    def note(self, name: str, subject: str, detail: str) -> None:
        self.record(name, subject, Reason.UNEXPECTED_ENTRY, detail, "noted")

    def count(self, name: str, emotion: str) -> int:
        """Count one folder read (a clip folder, or a folder not entered) under ``emotion``."""
        self.read += 1
        self.emotions[emotion] += 1
        self.emotion_of_clip[name] = emotion
        return self.read

    def enterable(self, folder: Path, subject: str, emotion: str) -> list[Path] | None:
        """The folder's entries, or None once a link out of the root or a folder that cannot
        be listed is counted and rejected."""
        target = folder.resolve()
        reason, detail = None, ""
        if not target.is_relative_to(self.root):
            reason = Reason.UNSAFE_PATH
            detail = f"folder {folder} is a link to {target}, outside the dataset root {self.root}"
        else:
            try:
                return _entries(folder)
            except OSError as exc:
                reason = Reason.UNREADABLE_FILE
                detail = (
                    f"folder {folder} cannot be listed ({exc.strerror or exc}); "
                    "check its permissions"
                )
        number = self.count(folder.name, emotion)
        self.record(folder.name, subject, reason, f"{walk_place(number)}: {detail}", "rejected")
        return None

    def run(self) -> None:
        try:
            subjects = _entries(self.root)
        except OSError as exc:
            raise RawDataError(
                f"ingestion.sources.<data_source>.{self.dataset}.root: {self.root} cannot be "
                f"listed ({exc.strerror or exc}); check its permissions"
            ) from exc
        for folder in subjects:
            if not folder.is_dir():
                self.note(folder.name, "", f"{folder} is not a folder; expected {LAYOUT}: skipped")
                continue
            entries = self.enterable(folder, folder.name, "")
            if entries is None:
                continue
            if not any(e.name == MICRO and e.is_dir() for e in entries):
                self.note(
                    folder.name,
                    folder.name,
                    f"subject folder {folder} has no {MICRO}/ folder (holds: {_names(folder)}): "
                    f"none of its clips is read; expected {LAYOUT}",
                )
                continue
            self.subject(folder.name, folder / MICRO)

    def subject(self, subject: str, micro: Path) -> None:
        for entry in self.enterable(micro, subject, "") or []:
            if not entry.is_dir():
                self.note(entry.name, subject, f"{entry} is not an emotion folder: skipped")
                continue
            clips = self.enterable(entry, subject, emotion_key(entry.name))
            if clips is None:
                continue
            folders = [c for c in clips if c.is_dir()]
            for stray in (c for c in clips if not c.is_dir()):
                self.note(stray.name, subject, f"{stray} is not a clip folder: skipped")
            if not folders:
                self.note(entry.name, subject, f"emotion folder {entry} holds no clip folder")
            for clip in folders:
                self.clip(subject, entry.name, clip)

    def clip(self, subject: str, emotion_folder: str, folder: Path) -> None:
        clip_id = folder.name
        number = self.count(clip_id, emotion_key(emotion_folder))
        where = f"{walk_place(number)}: {folder}"

        def reject(reason: Reason, detail: str) -> None:
            self.record(clip_id, subject, reason, f"{where} {detail}", "rejected")

        target = folder.resolve()
        if not target.is_relative_to(self.root):
            return reject(Reason.UNSAFE_PATH, f"is a link to {target}, outside {self.root}")
        emotion = _smic_emotion(emotion_folder)
        if emotion is None:
            return reject(Reason.UNKNOWN_EMOTION, _emotion_problem(emotion_folder))
        try:
            frames, _ = list_frames(folder)
            others = [
                p.name + ("/" if p.is_dir() else "")
                for p in _entries(folder)
                if p.is_dir() or frame_number_from_name(p.name) is None
            ]
        except OSError as exc:
            problem = f"cannot be listed ({exc.strerror or exc}); check its permissions"
            return reject(Reason.UNREADABLE_FILE, problem)
        if not frames:
            return reject(
                Reason.MISSING_FRAME,
                f"holds no frame image (image<number>.bmp, .jpg, .png...; it holds: "
                f"{_shown(others) or 'nothing'}); restore its frames or remove the folder",
            )
        for name in frames.values():
            if not (link := (folder / name).resolve()).is_relative_to(self.root):
                return reject(
                    Reason.UNSAFE_PATH, f"frame {name} is a link to {link}, outside {self.root}"
                )
        notes = []
        if others:
            notes.append(f"not frame images, ignored: {_shown(others)}")
            self.note(clip_id, subject, f"{where}: {notes[-1]}")
        onset, offset = min(frames), max(frames)
        if onset == offset:
            return reject(Reason.DEGENERATE_KEY_FRAMES, "holds one frame: no movement to show")
        try:
            apex = self.apex(folder, frames)
        except FrameFileError as problem:
            return reject(problem.reason, f"(ingestion.smic_apex: max_motion): {problem.detail}")
        if problem := degenerate_key_frames(onset, apex, offset):
            if self.apex_on_key_frame == "quarantine":
                fix = "; set ingestion.apex_on_key_frame: keep to keep it"
                return reject(
                    Reason.DEGENERATE_KEY_FRAMES, f"({self.apex_method} apex): {problem}{fix}"
                )
            notes.append(f"{problem} (kept: ingestion.apex_on_key_frame is keep)")
            detail = f"{where} ({self.apex_method} apex): {notes[-1]}"
            self.record(clip_id, subject, Reason.APEX_ON_KEY_FRAME, detail, "noted")
        self.candidates.append(
            {
                "dataset": self.dataset,
                "subject": subject,
                "clip_id": clip_id,
                "onset": onset,
                "apex": apex,
                "offset": offset,
                "apex_source": self.apex_method,
                "emotion": emotion,
                "action_units": "",
                "source_folder": str(target),
                "sheet_row": number,
                "notes": notes,
            }
        )
        return None

    def apex(self, folder: Path, frames: dict[int, str]) -> int:
        onset, offset = min(frames), max(frames)
        if self.apex_method == "middle":
            return onset + (offset - onset) // 2
        return max_motion_apex(folder, frames)


def _entries(folder: Path) -> list[Path]:
    """The folder's entries in name order, hidden ones (``.DS_Store``) left out."""
    return sorted((p for p in folder.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)


def _names(folder: Path) -> str:
    try:
        entries = _entries(folder)
    except OSError as exc:
        return f"cannot be listed: {exc.strerror or exc}"
    return _shown([p.name + ("/" if p.is_dir() else "") for p in entries]) or "nothing"


def _shown(names: list[str]) -> str:
    extra = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + extra


def _smic_emotion(name: str) -> str | None:
    """The SMIC emotion an emotion folder names (case-insensitively), or None."""
    return name.lower() if name.lower() in SMIC_EMOTIONS else None


def _emotion_problem(name: str) -> str:
    hint = ""
    if name.strip().lower() in SMIC_EMOTIONS:
        hint = f" (it differs from {name.strip().lower()!r} in surrounding spaces)"
    return (
        f"is in emotion folder {name!r}{hint}, not one of {', '.join(SMIC_EMOTIONS)} "
        "(compared case-insensitively); rename the folder"
    )


def _without_duplicates(frame: pd.DataFrame, walk: _Walk) -> pd.DataFrame:
    """The candidates less every clip whose folder name two clip folders share (rejected)."""
    duplicated = frame["clip_id"].duplicated(keep=False)
    for clip_id, group in frame[duplicated].groupby("clip_id", sort=True):
        folders = ", ".join(group["source_folder"])
        for subject in group["subject"]:
            detail = f"clip folders {folders} share the name {clip_id!r}; keep exactly one"
            walk.record(str(clip_id), subject, Reason.DUPLICATE_CLIP_ID, detail, "rejected")
    return frame[~duplicated].reset_index(drop=True)


def _holds_micro(folder: Path) -> bool:
    return (folder / MICRO).is_dir()


def describe_tree(root: Path) -> str:
    """What ``root`` holds, with the likely fix when it is not the folder of subject folders."""
    found = f"Found in {root}: {_names(root)}."
    if _holds_micro(root):
        return f"{found} It is a subject folder: set root to {root.parent}."
    if root.name == MICRO or any((root / e).is_dir() for e in SMIC_EMOTIONS):
        return f"{found} It is a {MICRO}/ folder: set root to {root.parent.parent}."
    try:
        children = [p for p in _entries(root) if p.is_dir()]
        deeper = next(
            (c for c in children if any(_holds_micro(g) for g in c.iterdir() if g.is_dir())), None
        )
    except OSError:
        deeper = None
    if deeper is not None:
        return f"{found} The subject folders are one level down: set root to {deeper}."
    return found
