"""Frame files of a clip folder: numbers parsed from names, key-frame selection, substitution."""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
_TRAILING_NUMBER = re.compile(r"(\d+)$")


def frame_number_from_name(name: str) -> int | None:
    """The frame number of a file name: its last digit run before the extension.

    ``006_05562.jpg`` -> 5562, ``017_1395.jpg`` -> 1395, ``img46.jpg`` -> 46; any padding.
    """
    path = Path(name)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    match = _TRAILING_NUMBER.search(path.stem)
    return int(match.group(1)) if match else None


def list_frames(folder: str | Path) -> tuple[dict[int, str], list[str]]:
    """Frame number -> file name for the images of ``folder``, plus notes on ambiguities.

    Hidden files (``.name``, such as the ``._name.jpg`` files macOS leaves on other file
    systems) are ignored. When two files carry the same number (``img046.jpg`` and
    ``img46.jpg``), the first in sorted order is used and the other is noted. Raises
    ``OSError`` if the folder cannot be listed.
    """
    frames: dict[int, str] = {}
    notes: list[str] = []
    for entry in sorted(Path(folder).iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or not entry.is_file():
            continue
        number = frame_number_from_name(entry.name)
        if number is None:
            continue
        if number in frames:
            notes.append(f"frame {number}: {entry.name} ignored, {frames[number]} used")
            continue
        frames[number] = entry.name
    return frames, notes


def frames_per_clip(between: int) -> int:
    """Frames selected per clip: onset, apex, offset and ``between`` in each interval."""
    return 2 * between + 3


def apex_position(between: int) -> int:
    """Index of the apex frame among a clip's selected frames."""
    return between + 1


def requested_frames(onset: int, apex: int, offset: int, between: int) -> list[tuple[str, int]]:
    """(role, frame) pairs: onset, ``between`` evenly spaced, apex, ``between``, offset.

    Intermediate frames split each interval into ``between + 1`` equal steps, rounded half
    up (so the selection is exact and reproducible).
    """

    def spaced(start: int, end: int, role: str) -> list[tuple[str, int]]:
        return [
            (f"{role}{k}", math.floor(start + (end - start) * k / (between + 1) + 0.5))
            for k in range(1, between + 1)
        ]

    return [
        ("onset", onset),
        *spaced(onset, apex, "onset_apex_"),
        ("apex", apex),
        *spaced(apex, offset, "apex_offset_"),
        ("offset", offset),
    ]


@dataclass
class FrameSelection:
    """The frames chosen for a clip, or the reason none could be chosen."""

    numbers: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    substitutions: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def select_frames(
    available: dict[int, str],
    onset: int,
    apex: int,
    offset: int,
    *,
    between: int,
    tolerance: int,
) -> FrameSelection:
    """Pick the requested frames; a missing one is replaced by the nearest within tolerance.

    Ties go to the earlier frame. Frames with no replacement are listed in ``missing``.
    """
    selection = FrameSelection()
    numbers = sorted(available)
    for role, wanted in requested_frames(onset, apex, offset, between):
        if wanted in available:
            selection.numbers.append(wanted)
            selection.files.append(available[wanted])
            continue
        position = bisect.bisect_left(numbers, wanted)
        neighbours = [numbers[i] for i in (position - 1, position) if 0 <= i < len(numbers)]
        neighbours = [n for n in neighbours if abs(n - wanted) <= tolerance]
        if not neighbours:
            selection.missing.append(f"{role} frame {wanted}")
            continue
        chosen = min(neighbours, key=lambda n: (abs(n - wanted), n))
        selection.numbers.append(chosen)
        selection.files.append(available[chosen])
        selection.substitutions.append(f"{role} frame {wanted} missing: {chosen} used")
    return selection
