"""Ingestion of a synthetic SAMM-format dataset at full resolution, beside decoding only.

The whole ingestion step (the ``build_clip_index``, ``extract_clips`` and
``summarise_ingestion`` nodes, called as the pipeline calls them) is timed beside, in the same
run and on the same JPEG files (the 9 selected frames of every clip, already in the page
cache), a plain OpenCV decode of those files at full resolution with as many threads as
ingestion uses (the floor of this step), the same decode at half resolution, and the face
detector alone on each clip's detection frame. Repeats are interleaved; the fastest counts.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from benchmarks.timing import best, log, timed
from microexpression_pipeline.pipelines.ingestion.decoding import decode_frame, frame_size
from microexpression_pipeline.pipelines.ingestion.faces import (
    default_detector,
    detect_batch,
    detection_image,
)
from microexpression_pipeline.pipelines.ingestion.nodes import (
    build_clip_index,
    extract_clips,
    summarise_ingestion,
)
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams
from microexpression_pipeline.synthetic import ensure_synthetic_sample


def _decode_all(files: list[Path], flag: int, workers: int) -> dict[str, Any]:
    def decode(path: Path) -> int:
        image = cv2.imread(str(path), flag)
        if image is None:
            raise RuntimeError(f"OpenCV cannot decode {path}")
        return image.size

    def run() -> list[int]:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(decode, files))

    _, wall, cpu = timed(run)
    return {"seconds": wall, "cpu_seconds": cpu}


def _detect_only(
    candidates: pd.DataFrame, ingestion: IngestionParams, detector: Any
) -> dict[str, Any]:
    """The detector on every clip's onset frame, decoded and downscaled as ingestion does."""
    max_side = ingestion.detection_max_side
    images = []
    for row in candidates.itertuples():
        data = (Path(row.source_folder) / row.frame_files[0]).read_bytes()
        size = frame_size(data)
        decoded = decode_frame(data, gray=False, min_scale=min(1.0, max_side / max(size)))
        images.append(detection_image(decoded[0], max_side)[0])
    batch = ingestion.detection_batch_size

    def run() -> None:
        for start in range(0, len(images), batch):
            detect_batch(detector, images[start : start + batch])

    _, wall, cpu = timed(run)
    return {"seconds": wall, "cpu_seconds": cpu}


def _ingest(
    raw_source: Mapping[str, Any],
    ingestion: IngestionParams,
    label_mappings: Mapping[str, Any],
    detector: Any,
) -> tuple[dict[str, Any], tuple[dict[str, np.ndarray], pd.DataFrame, dict[str, Any]]]:
    """The ingestion nodes of one source, timed; and their clips, index and summary."""

    def run() -> tuple[dict[str, np.ndarray], pd.DataFrame, dict[str, Any]]:
        candidates, quarantined, stats = build_clip_index(raw_source, ingestion, label_mappings)
        payload, index, quarantine, timing = extract_clips(
            candidates, raw_source, stats, ingestion, detector
        )
        _, summary, _ = summarise_ingestion(
            stats, quarantined, quarantine, index, timing, ingestion
        )
        return payload, index, summary

    outputs, wall, cpu = timed(run)
    return {"seconds": wall, "cpu_seconds": cpu}, outputs


def run(
    profile_sample: Mapping[str, Any],
    image_size: int,
    repeats: int,
    params: Mapping[str, Any],
    sample_dir: Path,
    seed: int,
) -> tuple[dict[str, Any], dict[str, np.ndarray], pd.DataFrame]:
    """Measure ingestion of the SAMM part of a synthetic sample; return the results and the
    ingested clips with their index (the input of the augmentation benchmark)."""
    settings = {"output_dir": str(sample_dir), **profile_sample}
    log(f"synthetic sample {settings} (generated once, then reused)")
    sample, generate_s, _ = timed(lambda: ensure_synthetic_sample(settings, seed))
    ingestion = IngestionParams.model_validate({**params["ingestion"], "image_size": image_size})
    raw_source = {
        "name": "samm",
        "enabled": True,
        "format": "samm",
        "root": sample["samm_root"],
        "metadata": sample["samm_metadata_xlsx"],
    }
    detector, load_s, _ = timed(default_detector)
    candidates, _, _ = build_clip_index(raw_source, ingestion, params["label_mappings"])
    files = [Path(r.source_folder) / f for r in candidates.itertuples() for f in r.frame_files]
    source_bytes = sum(len(path.read_bytes()) for path in files)  # also warms the page cache
    height, width = frame_size(files[0].read_bytes())
    workers = ingestion.workers
    measured: dict[str, list[dict[str, Any]]] = {
        "decode_full": [],
        "decode_half": [],
        "detect": [],
        "ingest": [],
    }
    for repeat in range(repeats):
        log(f"ingestion repeat {repeat + 1}/{repeats}: {len(candidates)} clips, {len(files)} JPEGs")
        measured["decode_full"].append(_decode_all(files, cv2.IMREAD_GRAYSCALE, workers))
        measured["decode_half"].append(_decode_all(files, cv2.IMREAD_REDUCED_GRAYSCALE_2, workers))
        measured["detect"].append(_detect_only(candidates, ingestion, detector))
        timing, (payload, index, summary) = _ingest(
            raw_source, ingestion, params["label_mappings"], detector
        )
        measured["ingest"].append(timing)
    fastest = {key: best(values) for key, values in measured.items()}
    ingest = fastest["ingest"]
    clips = len(candidates)
    seconds = ingest["seconds"]
    floor = fastest["decode_full"]["seconds"]
    result = {
        "dataset": "synthetic SAMM-format sample",
        "sample_settings": dict(profile_sample),
        "sample_generation_seconds": generate_s,
        "sample_reused": bool(sample["reused"]),
        "frame_size": [width, height],
        "image_size": image_size,
        "clips": clips,
        "frames": len(files),
        "kept": int(summary["kept"]),
        "faces_found": int(summary["face_found"]),
        "source_megabytes": source_bytes / 2**20,
        "workers": workers,
        "detector_load_seconds": load_s,
        "repeats": repeats,
        "ingestion": ingest,
        "decode_only_full": fastest["decode_full"],
        "decode_only_half": fastest["decode_half"],
        "detection_only": fastest["detect"],
        "clips_per_second": clips / seconds,
        "frames_per_second": len(files) / seconds,
        "decode_only_frames_per_second": len(files) / floor,
        "ratio_to_decode_only": seconds / floor,
        "detection_share_of_decode_only": fastest["detect"]["seconds"] / floor,
        # CPU work of decoding plus detection spread over every worker: what no overlap beats
        "first_batch_clips": min(clips, ingestion.detection_batch_size),
        "decode_plus_detection_bound": (
            fastest["decode_full"]["cpu_seconds"] + fastest["detect"]["cpu_seconds"]
        )
        / workers
        / floor,
        "measured_at": time.strftime("%H:%M:%S"),
    }
    return result, payload, index
