"""Clip extraction: read each clip's frame files, find its face once, crop every frame.

Frames are checked and cropped in parallel over clips (``workers`` threads). Detection runs
batched on the onset frames, then on the apex frames of clips still without a face, while the
clips of the batches already detected are being cropped. A clip with an unusable frame, or
without a face (unless ``no_face: centre_crop``), goes to the quarantine.

With ``magnification.enabled``, every frame from the first to the last selected one
(``event_frame_files``) is decoded and cropped with the clip's one crop transform, the
cropped sequence is magnified (``motion.magnification``), and the selected frames are kept.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from microexpression_pipeline.motion.magnification import (
    band_frequencies,
    magnify,
    usable_levels,
)
from microexpression_pipeline.pipelines.ingestion.clip_index import EVENT_COLUMN
from microexpression_pipeline.pipelines.ingestion.decoding import (
    FrameFileError,
    blank_problem,
    decode_file,
    read_frame_file,
    to_uint8,
)
from microexpression_pipeline.pipelines.ingestion.faces import (
    FACE_COLUMNS,
    Face,
    FaceDetector,
    aligned_crop,
    apply_crop,
    best_face,
    centre_crop,
    default_detector,
    detect_batch,
    detection_image,
    face_fields,
)
from microexpression_pipeline.pipelines.ingestion.frames import apex_position, frames_per_clip
from microexpression_pipeline.pipelines.ingestion.quarantine import (
    Reason,
    quarantine_record,
    quarantine_table,
)
from microexpression_pipeline.pipelines.ingestion.schema import (
    MAGNIFIED_NOTE,
    IngestionParams,
    Magnification,
)


@dataclass
class _ClipWork:
    """One clip on its way through reading, detection and cropping."""

    row: Mapping[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    small: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)
    face: Face | None = None
    used: str = "none"
    clip: np.ndarray | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def reject(self, reason: Reason, detail: str) -> None:
        row = self.row
        self.records.append(
            quarantine_record(
                row["dataset"], row["clip_id"], row["subject"], reason, detail, "rejected"
            )
        )


def _prepare_detection(work: _ClipWork, role: str, position: int, max_side: int) -> None:
    """Decode the frame at ``position`` (the ``role`` frame) into a downscaled RGB copy."""
    path = Path(work.row["source_folder"]) / work.row["frame_files"][position]
    try:
        image, scale, _ = decode_file(path, gray=False, max_side=max_side)
    except FrameFileError as problem:
        work.reject(problem.reason, problem.detail)
        return
    small, extra = detection_image(image, max_side)
    work.small[role] = (small, scale * extra)


def _read_detection_frames(work: _ClipWork, max_side: int) -> _ClipWork:
    """Check that every frame file can be read, and prepare the onset frame for detection."""
    folder = Path(work.row["source_folder"])
    for name in work.row["frame_files"]:
        try:
            read_frame_file(folder / name, content=False)
        except FrameFileError as problem:
            work.reject(problem.reason, problem.detail)
            return work
    _prepare_detection(work, "onset", 0, max_side)
    return work


def _detect_all(
    works: list[_ClipWork],
    role: str,
    position: int,
    detector: FaceDetector,
    *,
    max_side: int,
    batch_size: int,
    min_confidence: float,
    on_batch: Callable[[list[_ClipWork]], None] | None = None,
) -> None:
    """Batched detection on the ``role`` frame (at ``position``) of clips without a face.

    ``on_batch`` gets each batch's clips as soon as their faces are known.
    """
    pending = [w for w in works if not w.records and w.face is None]
    if role != "onset":
        for work in pending:
            _prepare_detection(work, role, position, max_side)
        pending = [w for w in pending if not w.records]
    by_shape: dict[tuple[int, ...], list[_ClipWork]] = {}
    for work in pending:
        by_shape.setdefault(work.small[role][0].shape, []).append(work)
    with tqdm(total=len(pending), desc=f"detect faces ({role})", unit="clip") as bar:
        for group in by_shape.values():
            for start in range(0, len(group), batch_size):
                chunk = group[start : start + batch_size]
                found = detect_batch(detector, [w.small[role][0] for w in chunk])
                for work, faces in zip(chunk, found, strict=True):
                    face = best_face(faces, work.small[role][1], min_confidence)
                    if face is not None:
                        work.face, work.used = face, role
                if on_batch is not None:
                    on_batch(chunk)
                bar.update(len(chunk))
    for work in pending:
        work.small.pop(role, None)


def _crop_clip(
    work: _ClipWork,
    size: int,
    margin: float,
    no_face: str,
    magnification: Magnification | None = None,
) -> _ClipWork:
    """Decode every selected frame (every event frame if magnifying) and apply the clip's
    one crop transform."""
    folder = Path(work.row["source_folder"])
    crop = aligned_crop(work.face, margin) if work.face is not None else None
    min_scale = min(1.0, 2.0 * size / crop.side) if crop is not None else 1.0
    names = work.row["frame_files"] if magnification is None else work.row[EVENT_COLUMN]
    frames, scales, shapes, decoded = [], set(), set(), {}
    try:
        for name in names:
            if name not in decoded:  # an event frame repeated to fill a gap is decoded once
                decoded[name] = decode_file(folder / name, gray=True, min_scale=min_scale)
            image, scale, shape = decoded[name]
            frames.append(image)
            scales.add(scale)
            shapes.add(shape)
    except FrameFileError as problem:
        work.reject(problem.reason, problem.detail)
        return work
    if len(shapes) != 1 or len(scales) != 1:
        work.reject(Reason.CORRUPT_FRAME, f"frames of different sizes {sorted(shapes)}")
        return work
    frames, depth_note = to_uint8(frames)
    for name, frame in zip(names, frames, strict=True):
        if problem := blank_problem(frame):
            work.reject(Reason.BLANK_FRAME, f"{name} {problem}")
            return work
    if depth_note:
        work.notes.append(depth_note)
    (height, width), scale = shapes.pop(), scales.pop()
    if crop is not None:
        if work.used == "apex":
            work.notes.append("no face on onset frame: apex frame used")
    elif no_face == "centre_crop":
        crop = centre_crop(height, width)
        row = work.row
        work.records.append(
            quarantine_record(
                row["dataset"],
                row["clip_id"],
                row["subject"],
                Reason.CENTRE_CROP,
                "no face on the onset or apex frame: centre crop",
                "patched",
            )
        )
        work.notes.append("no face found: centre crop")
    else:
        work.reject(
            Reason.NO_FACE,
            "no face on the onset or apex frame (set ingestion.no_face: centre_crop to keep it)",
        )
        return work
    work.clip = np.stack([apply_crop(f, crop, size, scale) for f in frames]).astype(np.uint8)
    if magnification is not None:
        work.clip = _magnified(work, work.clip, magnification, size)
    work.fields = face_fields(work.face, work.used, crop, height, width)
    return work


def _magnified(
    work: _ClipWork, event: np.ndarray, settings: Magnification, size: int
) -> np.ndarray:
    """The selected frames of the magnified event sequence; the clip's notes say how."""
    row = work.row
    record = settings.record(str(row["dataset"]), size)
    fps, numbers = record["fps"], [int(n) for n in row["frame_numbers"]]
    first, count = min(numbers), len(event)
    span = f"frames {first}-{first + count - 1} ({count} frames)"
    if not band_frequencies(count, fps, settings.low_hz, settings.high_hz).size:
        work.notes.append(
            f"not magnified: {span} at {fps:g} fps hold no frequency in "
            f"{settings.low_hz:g}-{settings.high_hz:g} Hz (the lowest is {fps / 2 / count:g} Hz)"
        )
        return event[[n - first for n in numbers]]
    magnified = magnify(
        event,
        fps,
        settings.amplification,
        settings.low_hz,
        settings.high_hz,
        settings.levels,
        record["cutoff_wavelength_px"],
    )
    levels = usable_levels(size, size, settings.levels)
    work.notes.append(
        f"{MAGNIFIED_NOTE} motion x{settings.amplification:g} in {settings.low_hz:g}-"
        f"{settings.high_hz:g} Hz at {fps:g} fps, {levels} levels, cutoff wavelength "
        f"{record['cutoff_wavelength_px']:g} px, over {span}"
    )
    return magnified[[n - first for n in numbers]]


def _process(
    works: list[_ClipWork], ingestion: IngestionParams, detector: FaceDetector
) -> list[_ClipWork]:
    """Read, detect and crop every clip, in parallel over clips."""
    max_side = ingestion.detection_max_side
    positions = {"onset": 0, "apex": apex_position(ingestion.frames_between_key_frames)}

    settings = ingestion.magnification if ingestion.magnification.enabled else None

    def crop(work: _ClipWork) -> _ClipWork:
        return _crop_clip(
            work, ingestion.image_size, ingestion.face_margin, ingestion.no_face, settings
        )

    name = works[0].row["dataset"] if works else ""
    with ThreadPoolExecutor(max_workers=max(1, ingestion.workers)) as pool:
        works = list(
            tqdm(
                pool.map(lambda w: _read_detection_frames(w, max_side), works),
                total=len(works),
                desc=f"{name}: read frames",
                unit="clip",
            )
        )
        crops: dict[int, Future[_ClipWork]] = {}

        def start_crops(batch: list[_ClipWork]) -> None:
            for work in batch:
                if work.face is not None:
                    work.small.clear()
                    crops[id(work)] = pool.submit(crop, work)

        for role, position in positions.items():
            _detect_all(
                works,
                role,
                position,
                detector,
                max_side=max_side,
                batch_size=ingestion.detection_batch_size,
                min_confidence=ingestion.min_face_confidence,
                on_batch=start_crops,
            )
        for work in works:
            if id(work) not in crops:
                work.small.clear()
                crops[id(work)] = pool.submit(lambda w: w if w.records else crop(w), work)
        return list(
            tqdm(
                (crops[id(w)].result() for w in works),
                total=len(works),
                desc=f"{name}: crop clips",
                unit="clip",
            )
        )


def extract_all(
    candidates: pd.DataFrame, ingestion: IngestionParams, detector: FaceDetector | None = None
) -> tuple[dict[str, np.ndarray], pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """The npz payload (``clips`` uint8 N x F x S x S, ``clip_ids``), the clip index
    row-aligned with it, the quarantine records of this stage, and timings."""
    size = ingestion.image_size
    n_frames = frames_per_clip(ingestion.frames_between_key_frames)
    works = [_ClipWork(row) for row in candidates.to_dict("records")]
    if works and detector is None:
        detector = default_detector()  # loaded before the clock starts
    start = time.perf_counter()
    works = _process(works, ingestion, detector)
    seconds = time.perf_counter() - start

    kept_rows, arrays, records = [], [], []
    for work in works:
        records.extend(work.records)
        if work.clip is None:
            continue
        arrays.append(work.clip)
        kept_rows.append({**work.row, "notes": list(work.row["notes"]) + work.notes, **work.fields})
    clips = np.stack(arrays) if arrays else np.zeros((0, n_frames, size, size), dtype=np.uint8)
    index = pd.DataFrame(kept_rows, columns=[*candidates.columns, *FACE_COLUMNS])
    ids = index["clip_id"].astype(str).tolist()
    width = max([len(i) for i in ids] + [1])
    payload = {"clips": clips, "clip_ids": np.array(ids, dtype=f"<U{width}")}
    processed = len(works)
    timing = {
        "seconds": seconds,
        "clips_processed": processed,
        "frames_processed": processed * n_frames,
        "clips_per_second": processed / seconds if seconds > 0 else 0.0,
        "frames_per_second": processed * n_frames / seconds if seconds > 0 else 0.0,
        "peak_rss_mb": _peak_rss_mb(),
        "workers": max(1, ingestion.workers),
    }
    return payload, _index_types(index), quarantine_table(records), timing


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _index_types(index: pd.DataFrame) -> pd.DataFrame:
    """Stable column types for parquet (strings as str, lists as lists, numbers numeric)."""
    out = index.copy()
    for column in ("dataset", "subject", "clip_id", "emotion", "action_units", "source_folder"):
        out[column] = out[column].astype(str)
    for column in ("onset", "apex", "offset", "sheet_row", "frame_height", "frame_width"):
        out[column] = out[column].astype("int64")
    for column in ("notes", "frame_files", "substitutions", EVENT_COLUMN):
        if column in out:
            out[column] = out[column].map(lambda v: [str(x) for x in v])
    out["frame_numbers"] = out["frame_numbers"].map(lambda v: [int(x) for x in v])
    out["face_found"] = out["face_found"].astype(bool)
    out["detection_frame"] = out["detection_frame"].astype(str)
    for column in FACE_COLUMNS[2:15]:
        out[column] = out[column].astype("float64")
    return out.reset_index(drop=True)
