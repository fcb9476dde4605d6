"""Optical flow: extraction per method beside the decode floor, and the flow models' training.

Extraction: ``clip_flows`` (one onset -> apex pair per clip, 28 x 28 x [u, v, strain], the
``features`` section's settings for each method) on the ingested clips at the profile's crop
size and at 128 px crops (the onset and apex frames resized to 128 where the profile's crops
are smaller), in this one process, called repeatedly for at least the profile's seconds.
The decode floor: reading a clip's onset and apex JPEGs from the sample's raw files as grey
images (``cv2.imread``) in one thread, timed the same way; beside it the ingestion section's
multi-threaded decode rate, per two frames.

Training: see ``benchmarks.flow_training`` (measured in a worker process, LOSO projection, the
references' settings).

``python -m benchmarks.flow TASK.json RESULT.json`` runs a training task (the worker process).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from benchmarks.flow_training import (
    SAMM_CLIPS,
    SAMM_SUBJECTS,
    run_training_task,
    training_rates,
)
from benchmarks.timing import log, timed
from microexpression_pipeline.motion.flow_settings import FeaturesParams
from microexpression_pipeline.motion.optical_flow import FLOW_METHODS, check_settings, clip_flows

COMPARE_SIZE = 128  # px: the crops flow is computed on in the study's setting


# ---------------------------------------------------------------- extraction and decode floor


def _pairs_at(clips: np.ndarray, size: int) -> np.ndarray:
    """Onset and apex (frames 0 and F // 2) of uint8 (N, F, H, W) clips, resized to ``size``:
    (N, 2, size, size), whose frame 1 is the apex ``clip_flows`` takes."""
    onset, apex = clips[:, 0], clips[:, clips.shape[1] // 2]
    if clips.shape[-1] == size and clips.shape[-2] == size:
        return np.stack([onset, apex], axis=1)
    interpolation = cv2.INTER_CUBIC if size > clips.shape[-1] else cv2.INTER_AREA
    return np.stack(
        [
            np.stack([cv2.resize(f, (size, size), interpolation=interpolation) for f in pair])
            for pair in zip(onset, apex, strict=True)
        ]
    )


def _repeat(call: Any, min_seconds: float) -> dict[str, Any]:
    """``call`` once as a warm-up (unless ``min_seconds`` is 0), then repeatedly for at least
    ``min_seconds``."""
    if min_seconds > 0:
        call()
    calls, seconds, cpu = 0, 0.0, 0.0
    while calls == 0 or seconds < min_seconds:
        _, wall, used = timed(call)
        calls, seconds, cpu = calls + 1, seconds + wall, cpu + used
    return {"calls": calls, "seconds": seconds, "cpu_seconds": cpu}


def extraction_rates(
    clips: np.ndarray, features: FeaturesParams, min_seconds: float
) -> dict[str, Any]:
    """clips/s of ``clip_flows`` per method at the crops' size and at 128 px."""
    side = int(clips.shape[-1])
    sizes = [side] if side == COMPARE_SIZE else [side, COMPARE_SIZE]
    flow = features.flow
    out: dict[str, Any] = {}
    for method in FLOW_METHODS:
        settings = check_settings(method, flow.methods.get(method, {}))
        per_size = {}
        for size in sizes:
            pairs = _pairs_at(clips, size)

            def call(pairs: np.ndarray = pairs, method: str = method, s: dict = settings) -> None:
                clip_flows(pairs, method, s, flow.size)

            m = _repeat(call, min_seconds)
            rate = len(pairs) * m["calls"] / m["seconds"]
            log(f"flow {method} at {size} px: {rate:.1f} clips/s ({m['calls']} calls)")
            per_size[str(size)] = {
                **m,
                "clips": len(pairs),
                "clips_per_second": rate,
                "cpu_per_wall": m["cpu_seconds"] / m["seconds"],
            }
        out[method] = {"settings": settings, "sizes": per_size}
    return out


def decode_floor(clip_index: pd.DataFrame, min_seconds: float) -> dict[str, Any]:
    """clips/s of decoding each clip's onset and apex JPEGs (grey, full resolution), one
    thread; the files are read once before (page cache)."""
    files = []
    for row in clip_index.itertuples():
        names = list(row.frame_files)
        files.append(
            (Path(row.source_folder) / names[0], Path(row.source_folder) / names[len(names) // 2])
        )
    for pair in files:
        for path in pair:
            path.read_bytes()

    def call() -> None:
        for pair in files:
            for path in pair:
                if cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) is None:
                    raise RuntimeError(f"OpenCV cannot decode {path}")

    m = _repeat(call, min_seconds)
    height, width = cv2.imread(str(files[0][0]), cv2.IMREAD_GRAYSCALE).shape
    return {
        **m,
        "clips": len(files),
        "frame_size": [width, height],
        "clips_per_second": len(files) * m["calls"] / m["seconds"],
        "cpu_per_wall": m["cpu_seconds"] / m["seconds"],
    }


def run(
    clips: Mapping[str, np.ndarray],
    clip_index: pd.DataFrame,
    ingestion: Mapping[str, Any],
    params: Mapping[str, Any],
    study: Mapping[str, Any],
    profile: Any,
    seed: int,
    folder: Path,
) -> dict[str, Any]:
    """The flow section: extraction per method and size, decode floor, flow models' training."""
    features = FeaturesParams.model_validate(params["features"])
    array = clips["clips"][: profile.flow_max_clips]
    log(
        f"flow extraction: {len(array)} clips of {array.shape[-1]} px, "
        f"{cv2.getNumThreads()} OpenCV threads"
    )
    extraction = extraction_rates(array, features, profile.flow_seconds)
    floor = decode_floor(clip_index, profile.flow_seconds)
    threads = ingestion.get("workers")
    frames_per_s = ingestion.get("decode_only_frames_per_second")
    training = training_rates(
        params,
        study,
        profile.flow_architectures,
        (profile.flow_fold_clips, profile.flow_train_clips),
        profile.flow_epoch_seconds,
        seed,
        folder,
    )
    return {
        "clip_size": int(array.shape[-1]),
        "compare_size": COMPARE_SIZE,
        "stored_size": features.flow.size,
        "opencv_threads": cv2.getNumThreads(),
        "min_seconds": profile.flow_seconds,
        "extraction": extraction,
        "decode_floor": floor,
        "ingestion_decode": {
            "threads": threads,
            "clips_per_second": frames_per_s / 2 if frames_per_s else None,
        },
        "training": training,
        "samm": {"clips": SAMM_CLIPS, "subjects": SAMM_SUBJECTS},
    }


def main(argv: list[str]) -> None:
    task_path, result_path = argv
    task = json.loads(Path(task_path).read_text())
    Path(result_path).write_text(json.dumps(run_training_task(task), indent=1))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main(sys.argv[1:])
