"""Nodes of the ``ingestion`` pipeline: raw folder + metadata sheet -> aligned uint8 clips."""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle
from tqdm.auto import tqdm

from microexpression_pipeline.pipelines.ingestion.faces import (
    CropTransform,
    Face,
    FaceDetector,
    aligned_crop,
    apply_crop,
    best_face,
    centre_crop,
    decode_frame,
    default_detector,
    detect_batch,
    detection_image,
    frame_size,
)
from microexpression_pipeline.pipelines.ingestion.frames import list_frames, select_frames
from microexpression_pipeline.pipelines.ingestion.metadata import (
    known_emotion_labels,
    normalise_sheet,
    read_metadata_sheet,
)
from microexpression_pipeline.pipelines.ingestion.quarantine import (
    Reason,
    quarantine_record,
    quarantine_table,
)

logger = logging.getLogger(__name__)

SOURCES: tuple[str, ...] = ("samm", "casme2")

FACE_COLUMNS = (
    "face_found",
    "detection_frame",
    "face_confidence",
    "face_x",
    "face_y",
    "face_w",
    "face_h",
    "left_eye_x",
    "left_eye_y",
    "right_eye_x",
    "right_eye_y",
    "crop_centre_x",
    "crop_centre_y",
    "crop_side",
    "crop_angle",
    "frame_height",
    "frame_width",
)


# --------------------------------------------------------------------------- sources


def prepare_raw_sources(
    data_source: str,
    ingestion: Mapping[str, Any],
    synthetic: Mapping[str, Any] | None,
    seed: int,
) -> tuple[dict[str, Any], ...]:
    """The raw folder and sheet of each source for ``data_source`` (one dict per source).

    For ``data_source: synthetic`` the generated sample is created on first use (and reused
    afterwards). Raises naming the parameter or path to fix when something is missing.
    """
    sources = ingestion["sources"]
    if data_source not in sources:
        raise ValueError(
            f"data_source: {data_source!r} has no entry in ingestion.sources "
            f"(conf/base/parameters_ingestion.yml); valid: {', '.join(sources)}"
        )
    if data_source == "synthetic":
        from microexpression_pipeline.synthetic import (
            ensure_synthetic_sample,
        )

        sample = ensure_synthetic_sample(dict(synthetic or {}), seed)
        generated = {
            "samm": {"root": sample["samm_root"], "metadata": sample["samm_metadata_xlsx"]},
            "casme2": {"root": sample["casme2_root"], "metadata": sample["casme2_metadata_xlsx"]},
        }
    specs = []
    for name in SOURCES:
        spec = dict(sources[data_source].get(name) or {"enabled": False})
        spec["name"] = name
        spec.setdefault("enabled", True)
        if data_source == "synthetic" and spec["enabled"]:
            for key, path in generated[name].items():
                if Path(spec[key]).resolve() != Path(path).resolve():
                    logger.warning(
                        "ingestion.sources.synthetic.%s.%s is %s but the sample is at %s; "
                        "using the sample",
                        name,
                        key,
                        spec[key],
                        path,
                    )
                spec[key] = path
        if spec["enabled"]:
            for key in ("root", "metadata"):
                path = Path(spec[key])
                if not path.exists():
                    raise FileNotFoundError(
                        f"ingestion.sources.{data_source}.{name}.{key}: {path} does not exist; "
                        f"download the dataset there, point {key} at it, or set "
                        f"ingestion.sources.{data_source}.{name}.enabled: false"
                    )
                spec[key] = str(path.resolve())
        specs.append(spec)
    return tuple(specs)


# --------------------------------------------------------------------------- clip index


def build_clip_index(
    raw_source: Mapping[str, Any],
    ingestion: Mapping[str, Any],
    label_mappings: Mapping[str, Mapping[str, list[str]]],
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Read and validate the sheet, then pick each clip's frame files.

    Returns the candidate clips (with ``frame_files``, ``frame_numbers`` and
    ``substitutions``), the quarantine records so far, and the sheet statistics.
    """
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
        known_emotions=known_emotion_labels(ingestion["known_emotions"], label_mappings),
        corrections=ingestion["corrections"],
    )
    kept = []
    for row in candidates.to_dict("records"):
        folder = Path(row["source_folder"])
        if not folder.is_dir():
            records.append(
                quarantine_record(
                    row["dataset"],
                    row["clip_id"],
                    row["subject"],
                    Reason.MISSING_CLIP_FOLDER,
                    f"sheet row {row['sheet_row']}: folder {folder} does not exist",
                    "rejected",
                )
            )
            continue
        available, ambiguity = list_frames(folder)
        selection = select_frames(
            available,
            row["onset"],
            row["apex"],
            row["offset"],
            between=ingestion["frames_between_key_frames"],
            tolerance=ingestion["missing_frame_tolerance"],
        )
        if selection.missing:
            span = f"{min(available)}-{max(available)}" if available else "none"
            records.append(
                quarantine_record(
                    row["dataset"],
                    row["clip_id"],
                    row["subject"],
                    Reason.MISSING_FRAME,
                    f"no frame within {ingestion['missing_frame_tolerance']} of: "
                    f"{'; '.join(selection.missing)} (frames present: {span})",
                    "rejected",
                )
            )
            continue
        for text in selection.substitutions:
            records.append(
                quarantine_record(
                    row["dataset"],
                    row["clip_id"],
                    row["subject"],
                    Reason.FRAME_SUBSTITUTED,
                    text,
                    "patched",
                )
            )
        kept.append(
            {
                **row,
                "notes": list(row["notes"]) + ambiguity,
                "frame_files": selection.files,
                "frame_numbers": selection.numbers,
                "substitutions": selection.substitutions,
            }
        )
    frame = pd.DataFrame(kept, columns=list(_empty_candidates().columns))
    return frame, quarantine_table(records), stats


def _empty_candidates() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "dataset",
            "subject",
            "clip_id",
            "onset",
            "apex",
            "offset",
            "emotion",
            "action_units",
            "source_folder",
            "sheet_row",
            "notes",
            "frame_files",
            "frame_numbers",
            "substitutions",
        ]
    )


# --------------------------------------------------------------------------- clips


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


def _check_bytes(path: Path) -> tuple[bytes | None, str]:
    """The file's bytes, or None and why it cannot be a usable frame."""
    if not path.is_file():
        return None, f"{path.name} is missing"
    data = path.read_bytes()
    if path.suffix.lower() in {".jpg", ".jpeg"}:
        if not data.startswith(b"\xff\xd8"):
            return None, f"{path.name} is not a JPEG (no start-of-image marker)"
        if b"\xff\xd9" not in data[-1024:]:
            return None, f"{path.name} is truncated (no end-of-image marker)"
    return data, ""


def _prepare_detection(work: _ClipWork, role: str, settings: Mapping[str, Any]) -> None:
    """Decode the ``role`` frame into a downscaled RGB copy for the detector."""
    index = 0 if role == "onset" else settings["frames_between_key_frames"] + 1
    name = work.row["frame_files"][index]
    data, problem = _check_bytes(Path(work.row["source_folder"]) / name)
    size = frame_size(data) if data is not None else None
    decoded = None
    if size is not None:
        min_scale = min(1.0, settings["detection_max_side"] / max(size))
        decoded = decode_frame(data, gray=False, min_scale=min_scale)
    if decoded is None:
        work.reject(Reason.CORRUPT_FRAME, problem or f"{name} cannot be decoded")
        return
    image, scale, _ = decoded
    small, extra = detection_image(image, settings["detection_max_side"])
    work.small[role] = (small, scale * extra)


def _read_detection_frames(work: _ClipWork, settings: Mapping[str, Any]) -> _ClipWork:
    """Check every frame file and prepare the onset frame for detection."""
    folder = Path(work.row["source_folder"])
    for name in work.row["frame_files"]:
        data, problem = _check_bytes(folder / name)
        if data is None:
            work.reject(Reason.CORRUPT_FRAME, problem)
            return work
    _prepare_detection(work, "onset", settings)
    return work


def _detect_all(
    works: list[_ClipWork],
    role: str,
    detector: FaceDetector,
    settings: Mapping[str, Any],
    on_batch: Callable[[list[_ClipWork]], None] | None = None,
) -> None:
    """Batched detection on the ``role`` frame of clips still without a face.

    ``on_batch`` gets each batch's clips as soon as their faces are known.
    """
    pending = [w for w in works if not w.records and w.face is None]
    if role != "onset":
        for work in pending:
            _prepare_detection(work, role, settings)
        pending = [w for w in pending if not w.records]
    by_shape: dict[tuple[int, ...], list[_ClipWork]] = {}
    for work in pending:
        by_shape.setdefault(work.small[role][0].shape, []).append(work)
    batch = settings["detection_batch_size"]
    with tqdm(total=len(pending), desc=f"detect faces ({role})", unit="clip") as bar:
        for group in by_shape.values():
            for start in range(0, len(group), batch):
                chunk = group[start : start + batch]
                found = detect_batch(detector, [w.small[role][0] for w in chunk])
                for work, faces in zip(chunk, found, strict=True):
                    face = best_face(faces, work.small[role][1], settings["min_face_confidence"])
                    if face is not None:
                        work.face, work.used = face, role
                if on_batch is not None:
                    on_batch(chunk)
                bar.update(len(chunk))
    for work in pending:
        work.small.pop(role, None)


def _crop_clip(work: _ClipWork, settings: Mapping[str, Any]) -> _ClipWork:
    """Decode every selected frame and apply the clip's one crop transform."""
    folder = Path(work.row["source_folder"])
    size = settings["image_size"]
    crop = aligned_crop(work.face, settings["face_margin"]) if work.face is not None else None
    min_scale = min(1.0, 2.0 * size / crop.side) if crop is not None else 1.0
    frames, scales, shapes = [], set(), set()
    for name in work.row["frame_files"]:
        data, problem = _check_bytes(folder / name)
        decoded = decode_frame(data, gray=True, min_scale=min_scale) if data is not None else None
        if decoded is None:
            work.reject(Reason.CORRUPT_FRAME, problem or f"{name} cannot be decoded")
            return work
        frames.append(decoded[0])
        scales.add(decoded[1])
        shapes.add(decoded[2])
    if len(shapes) != 1 or len(scales) != 1:
        work.reject(Reason.CORRUPT_FRAME, f"frames of different sizes {sorted(shapes)}")
        return work
    (height, width), scale = shapes.pop(), scales.pop()
    if crop is not None:
        if work.used == "apex":
            work.notes.append("no face on onset frame: apex frame used")
    elif settings["no_face"] == "centre_crop":
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
    work.fields = _face_fields(work.face, work.used, crop, height, width)
    return work


def _face_fields(
    face: Any, used: str, crop: CropTransform, height: int, width: int
) -> dict[str, Any]:
    nan = float("nan")
    x, y, w, h = face.box if face is not None else (nan,) * 4
    (lx, ly), (rx, ry) = (face.left_eye, face.right_eye) if face is not None else ((nan,) * 2,) * 2
    return {
        "face_found": face is not None,
        "detection_frame": used,
        "face_confidence": face.confidence if face is not None else nan,
        "face_x": x,
        "face_y": y,
        "face_w": w,
        "face_h": h,
        "left_eye_x": lx,
        "left_eye_y": ly,
        "right_eye_x": rx,
        "right_eye_y": ry,
        "crop_centre_x": crop.centre[0],
        "crop_centre_y": crop.centre[1],
        "crop_side": crop.side,
        "crop_angle": crop.angle,
        "frame_height": height,
        "frame_width": width,
    }


def extract_clips(
    candidates: pd.DataFrame,
    ingestion: Mapping[str, Any],
    detector: FaceDetector | None = None,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Detect the face once per clip, align and crop every selected frame.

    Frames are read and cropped in parallel over clips (``workers`` threads); detection
    runs batched on the onset frames, then on the apex frames of clips with no face, while
    the clips of the batches already detected are being cropped.
    Returns the npz payload (``clips`` uint8 N x F x S x S, ``clip_ids``), the clip index
    row-aligned with it, the quarantine records of this stage, and timings.
    """
    size = ingestion["image_size"]
    n_frames = 2 * ingestion["frames_between_key_frames"] + 3
    works = [_ClipWork(row) for row in candidates.to_dict("records")]
    if works and detector is None:
        detector = default_detector()  # loaded before the clock starts
    start = time.perf_counter()
    workers = max(1, int(ingestion["workers"]))
    name = works[0].row["dataset"] if works else ""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        works = list(
            tqdm(
                pool.map(lambda w: _read_detection_frames(w, ingestion), works),
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
                    crops[id(work)] = pool.submit(_crop_clip, work, ingestion)

        for role in ("onset", "apex"):
            _detect_all(works, role, detector, ingestion, start_crops)
        for work in works:
            if id(work) not in crops:
                work.small.clear()
                crops[id(work)] = pool.submit(
                    lambda w: w if w.records else _crop_clip(w, ingestion), work
                )
        works = list(
            tqdm(
                (crops[id(w)].result() for w in works),
                total=len(works),
                desc=f"{name}: crop clips",
                unit="clip",
            )
        )
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
        "workers": workers,
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
    for column in ("notes", "frame_files", "substitutions"):
        out[column] = out[column].map(lambda v: [str(x) for x in v])
    out["frame_numbers"] = out["frame_numbers"].map(lambda v: [int(x) for x in v])
    out["face_found"] = out["face_found"].astype(bool)
    out["detection_frame"] = out["detection_frame"].astype(str)
    for column in FACE_COLUMNS[2:15]:
        out[column] = out[column].astype("float64")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- summary


def summarise_ingestion(
    sheet_stats: Mapping[str, Any],
    index_quarantine: pd.DataFrame,
    extraction_quarantine: pd.DataFrame,
    clip_index: pd.DataFrame,
    timing: Mapping[str, float],
    ingestion: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, dict[str, float]]]:
    """The full quarantine, the ingestion summary (logged) and its numbers for MLflow.

    Raises if a row of the sheet is neither kept nor rejected (a clip lost silently).
    """
    quarantine = pd.concat([index_quarantine, extraction_quarantine], ignore_index=True)
    quarantine = quarantine_table(quarantine.to_dict("records"))
    rejected = quarantine[quarantine["action"] == "rejected"]
    patched = quarantine[quarantine["action"] == "patched"]
    kept = len(clip_index)
    rows_read = int(sheet_stats["rows_read"])
    if kept + len(rejected) != rows_read:
        raise RuntimeError(
            f"{sheet_stats['dataset']}: {rows_read} sheet rows but {kept} kept + "
            f"{len(rejected)} rejected; every row must be kept or quarantined"
        )
    kept_ids = set(clip_index["clip_id"].astype(str))
    face_found = int(clip_index["face_found"].sum()) if kept else 0
    attempted = kept + int((rejected["reason"] == Reason.NO_FACE).sum())
    summary = {
        "dataset": sheet_stats["dataset"],
        "enabled": bool(sheet_stats.get("enabled", True)),
        "metadata": sheet_stats.get("metadata", ""),
        "root": sheet_stats.get("root", ""),
        "rows_read": rows_read,
        "kept": kept,
        "rejected": len(rejected),
        "patched_kept_clips": len(set(patched["clip_id"]) & kept_ids),
        "rejected_by_reason": dict(sorted(Counter(rejected["reason"]).items())),
        "patched_by_reason": dict(sorted(Counter(patched["reason"]).items())),
        "face_found": face_found,
        "face_found_rate": face_found / attempted if attempted else 0.0,
        "frames_per_clip": 2 * ingestion["frames_between_key_frames"] + 3,
        "image_size": ingestion["image_size"],
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
    numbers: dict[str, float] = {
        key: float(value)
        for key, value in summary.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }
    numbers |= {f"rejected.{k}": float(v) for k, v in summary["rejected_by_reason"].items()}
    numbers |= {f"patched.{k}": float(v) for k, v in summary["patched_by_reason"].items()}
    metrics = {key: {"value": value, "step": 0} for key, value in sorted(numbers.items())}
    return quarantine, summary, metrics


# --------------------------------------------------------------------------- contact sheets


def plot_crop_contact_sheet(
    clips: Mapping[str, np.ndarray], clip_index: pd.DataFrame, ingestion: Mapping[str, Any]
) -> Figure:
    """The cropped frames of a few clips per emotion (one row per clip)."""
    per_class = ingestion["contact_sheet"]["clips_per_class"]
    chosen = (
        clip_index.reset_index(drop=True)
        .assign(position=lambda d: d.index)
        .groupby(clip_index["emotion"].str.lower().to_numpy(), sort=True)
        .head(per_class)
        .sort_values(["emotion", "clip_id"])
    )
    array = clips["clips"]
    n_frames = array.shape[1]
    rows = max(1, len(chosen))
    figure = Figure(figsize=(1.2 * n_frames, 1.3 * rows + 0.4), layout="constrained")
    axes = figure.subplots(rows, n_frames, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    if chosen.empty:
        axes[0, 0].text(0, 0.5, "no clips kept", fontsize=12)
    for r, item in enumerate(chosen.itertuples()):
        for c in range(n_frames):
            axes[r, c].imshow(array[item.position, c], cmap="gray", vmin=0, vmax=255)
            if c == 0:
                axes[r, c].set_title(f"{item.clip_id} {item.emotion}", fontsize=7, loc="left")
    figure.suptitle(f"{clip_index['dataset'].iloc[0] if len(clip_index) else ''} crops")
    return figure


def plot_detection_sheet(clip_index: pd.DataFrame, ingestion: Mapping[str, Any]) -> Figure:
    """Raw detection frames with the detected box, eye landmarks and the crop square."""
    count = ingestion["contact_sheet"]["detection_clips"]
    found = clip_index[clip_index["face_found"].astype(bool)] if len(clip_index) else clip_index
    first_per_subject = found.drop_duplicates("subject")
    chosen = pd.concat([first_per_subject, found.drop(first_per_subject.index)]).head(count)
    columns = max(1, min(4, len(chosen)))
    rows = max(1, -(-len(chosen) // columns))
    figure = Figure(figsize=(4 * columns, 3 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    if chosen.empty:
        axes[0, 0].text(0, 0.5, "no detected faces", fontsize=12)
    for ax, item in zip(axes.flat, chosen.itertuples(), strict=False):
        index = 0 if item.detection_frame == "onset" else ingestion["frames_between_key_frames"] + 1
        image = cv2.imread(
            str(Path(item.source_folder) / item.frame_files[index]), cv2.IMREAD_GRAYSCALE
        )
        if image is not None:
            ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.add_patch(
            Rectangle(
                (item.face_x, item.face_y), item.face_w, item.face_h, fill=False, color="lime"
            )
        )
        ax.plot(
            [item.left_eye_x, item.right_eye_x], [item.left_eye_y, item.right_eye_y], "r+", ms=8
        )
        crop = CropTransform(
            (item.crop_centre_x, item.crop_centre_y), item.crop_side, item.crop_angle
        )
        ax.add_patch(Polygon(_crop_corners(crop), closed=True, fill=False, color="orange"))
        ax.set_title(f"{item.clip_id} ({item.detection_frame})", fontsize=8)
    return figure


def _crop_corners(crop: CropTransform) -> np.ndarray:
    """The crop square's corners in raw pixels."""
    matrix = np.vstack([crop.matrix(1), [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(matrix)
    corners = np.array([[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], dtype=float)
    return (inverse @ corners.T).T[:, :2]
