"""Does a source keep enough of its sheet's clips? If not, the run stops and says why.

A root one level too high or too low, or a sheet of another dataset, leaves most rows
without a clip folder (for SMIC, read from its folders: most clip folders rejected). Such a
run must not save an (almost) empty clip set that the next pipeline would load as the latest
version: it fails, naming what the folders look like against what the sheet expects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from microexpression_pipeline.pipelines.ingestion.raw_sources import RawDataError

_SHOWN = 6  # folder entries and example rejections named in a message


def check_coverage(
    stage: str,
    source: Mapping[str, Any],
    *,
    rows_read: int,
    kept: int,
    rejections: Iterable[Mapping[str, Any]],
    min_fraction: float,
    expected: Sequence[tuple[str, str]] = (),
    layout: str = "",
) -> None:
    """Raise ``RawDataError`` if ``stage`` kept no clip, or fewer than ``min_fraction`` of the
    sheet's rows (of the clip folders found, for a source without a sheet); ``expected`` is
    the (subject, clip folder) pairs the sheet names, ``layout`` a description of the folders
    to give instead."""
    if rows_read == 0 or (kept > 0 and kept >= min_fraction * rows_read):
        return
    rejected = [r for r in rejections if r["action"] == "rejected"]
    counts = ", ".join(
        f"{reason} {n}" for reason, n in Counter(r["reason"] for r in rejected).items()
    )
    examples = "; ".join(str(r["detail"]) for r in rejected[:3])
    sheet = source.get("metadata")
    read = f"rows of {sheet}" if sheet else f"clip folders under {source['root']}"
    message = (
        f"ingestion of {source['name']}: {stage} kept {kept} of the {rows_read} {read} "
        f"(ingestion.min_kept_fraction: {min_fraction}); "
        f"rejected: {counts or 'none'}. For example: {examples or '-'}."
    )
    if not layout and expected:
        layout = describe_layout(Path(source["root"]), expected)
    keys = ".root and .metadata" if sheet else ".root"
    raise RawDataError(
        f"{message} {layout}".rstrip()
        + f" Check ingestion.sources.<data_source>.{source['name']}{keys} (or "
        "lower ingestion.min_kept_fraction to keep what can be read); nothing was saved."
    )


def describe_layout(root: Path, expected: Sequence[tuple[str, str]]) -> str:
    """What ``root`` holds against the ``root/<subject>/<clip>`` folders the sheet expects,
    with the likely fix when the clips are one level lower or higher."""
    try:
        entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    except OSError as exc:
        return f"{root} cannot be listed ({exc.strerror or exc})."
    names = [p.name + ("/" if p.is_dir() else "") for p in entries]
    found = ", ".join(names[:_SHOWN]) + (
        f" and {len(names) - _SHOWN} more" if names[_SHOWN:] else ""
    )
    subject, clip = expected[0]
    text = (
        f"Found in {root}: {found or 'nothing'}; expected subject folders like {subject}/ "
        f"holding clip folders like {subject}/{clip}/."
    )
    sample = list(expected[:50])
    deeper = [p for p in entries if p.is_dir() and _holds_clips(p, sample)]
    if deeper:
        return f"{text} The clips are one level down: set root to {deeper[0]}."
    if any((root / c).is_dir() for _, c in sample):
        return f"{text} Clip folders lie directly in the root: they must be in subject folders."
    if _holds_clips(root.parent, sample):
        return f"{text} The clips are one level up: set root to {root.parent}."
    return text


def _holds_clips(folder: Path, expected: Sequence[tuple[str, str]]) -> bool:
    return any((folder / subject / clip).is_dir() for subject, clip in expected)
