"""Generate the synthetic SAMM + CASME II + SMIC-HS sample: deterministic, reusable, never
clobbering."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.synthetic import casme2_format, samm_format, smic_format
from microexpression_pipeline.synthetic.clips import ClipSpec, render_clip
from microexpression_pipeline.synthetic.face import LANDMARK_NAMES, Subject, make_subject
from microexpression_pipeline.synthetic.settings import RenderSettings, resolve, validate_settings

MARKER = ".synthetic-sample.json"
GENERATOR = "microexpression_pipeline.synthetic"
FORMAT_VERSION = 2  # bump whenever the rendered output changes: existing samples get rebuilt
GROUND_TRUTH = "ground_truth.csv"
_DATASETS: dict[str, tuple[int, ModuleType]] = {
    "SAMM": (0, samm_format),
    "CASME2": (1, casme2_format),
    "SMIC": (2, smic_format),
}
_MEAN_FULL_CLIP = 65.0  # frames from onset to offset in SAMM, on average


class ForeignFolderError(FileExistsError):
    """The output folder holds files this generator did not write."""


def _paths(out: Path) -> dict[str, str]:
    return {
        "output_dir": str(out),
        "samm_root": str(out / samm_format.ROOT),
        "samm_metadata_xlsx": str(out / samm_format.SHEET_NAME),
        "samm_metadata_csv": str(out / samm_format.CSV_NAME),
        "casme2_root": str(out / casme2_format.ROOT),
        "casme2_metadata_xlsx": str(out / casme2_format.SHEET),
        "smic_root": str(out / smic_format.ROOT),
        "ground_truth_csv": str(out / GROUND_TRUTH),
    }


def _read_marker(out: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((out / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("generator") == GENERATOR else None


def _file_count(out: Path) -> tuple[int, int]:
    """(files, bytes) under ``out``, the marker left out."""
    files = [p for p in out.rglob("*") if p.is_file() and p.name != MARKER]
    return len(files), sum(p.stat().st_size for p in files)


def _ground_truth_row(clip: ClipSpec, subject: Subject, module: ModuleType) -> dict[str, Any]:
    """One ground-truth row: labels, true onset/apex/offset (also where the sheet says '/'),
    frame span and files, and, in raw-frame pixels, the face box (``face_x/y/w/h``, the
    detector's box on the base face carried through the subject's warp), the five landmarks
    (``*_x``/``*_y``; left = smaller x), the inter-ocular distance, plus the AU intensity,
    whether the face is mirrored, how many blinks the clip shows and its class in MEGC 2019's
    composite (``megc_class``; empty for a clip the composite leaves out)."""
    x, y, w, h = subject.face_box
    height, width = subject.image.shape[:2]
    excluded = {(s, c) for s, c, _ in module.EXCLUDED_FROM_MEGC}
    in_megc = (clip.subject, clip.clip_id) not in excluded
    row: dict[str, Any] = {
        "dataset": clip.dataset,
        "subject": clip.subject,
        "clip_id": clip.clip_id,
        "emotion": clip.emotion,
        "action_units": clip.action_units,
        "onset": clip.onset,
        "apex": clip.apex,
        "offset": clip.offset,
        "apex_listed": clip.extra.get("apex_listed", True),
        "first_frame": clip.first,
        "last_frame": clip.last,
        "n_frames": clip.last - clip.first + 1,
        "clip_dir": clip.folder,
        "onset_file": module.frame_name(clip, clip.onset),
        "apex_file": module.frame_name(clip, clip.apex),
        "offset_file": module.frame_name(clip, clip.offset),
        "frame_width": width,
        "frame_height": height,
        "face_x": x,
        "face_y": y,
        "face_w": w,
        "face_h": h,
    }
    for name, (px, py) in zip(LANDMARK_NAMES, subject.landmarks.tolist(), strict=True):
        row[f"{name}_x"], row[f"{name}_y"] = round(px, 2), round(py, 2)
    row["inter_ocular_px"] = round(subject.inter_ocular, 2)
    row["mirrored"] = subject.mirrored
    row["au_intensity"] = round(clip.intensity, 4)
    row["blinks"] = clip.extra.get("blinks", 0)
    row["megc_class"] = module.MEGC_CLASSES.get(clip.emotion, "") if in_megc else ""
    return row


def _render_dataset(
    name: str, root: Path, render: RenderSettings, seed: int
) -> tuple[list[ClipSpec], list[dict[str, Any]]]:
    """Design, render and describe one dataset under ``root``; return clips and truth rows."""
    index, module = _DATASETS[name]
    clips = module.design_clips(np.random.default_rng([seed, index, 0]), render)
    sizes = {"SAMM": render.samm_size, "CASME2": render.casme2_size, "SMIC": render.smic_size}
    width, height = sizes[name]
    subjects = {
        s: make_subject(
            np.random.default_rng([seed, index, 1, s]),
            width,
            height,
            module.FACE_FRACTION,
            colour=module.COLOUR,
        )
        for s in sorted({clip.subject for clip in clips})
    }
    # blinks keep their share of a clip; a 100 fps clip has half a 200 fps one's frames
    frame_scale = (
        float(np.mean(render.onset_to_offset)) / _MEAN_FULL_CLIP * module.FPS / samm_format.FPS
    )

    def one(position: int) -> None:
        clip = clips[position]
        folder = root / clip.folder
        folder.mkdir(parents=True, exist_ok=True)
        blinks = render_clip(
            subjects[clip.subject],
            clip,
            np.random.default_rng([seed, index, 2, position]),
            lambda n: folder / module.frame_name(clip, n),
            au_amplitude=render.au_intensity,
            noise_sigma=render.noise_sigma,
            jpeg_quality=render.jpeg_quality,
            frame_scale=frame_scale,
        )
        clip.extra["blinks"] = blinks
        if blinks and name == "SAMM":
            clip.extra["notes"] = "Blinks" if blinks > 1 else "While blinking"

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(one, range(len(clips))))
    module.write_metadata(clips, root)
    return clips, [_ground_truth_row(c, subjects[c.subject], module) for c in clips]


def generate_sample(out: Path, render: RenderSettings, seed: int) -> dict[str, int]:
    """Write the whole sample into ``out`` (which must exist); return clip/frame counts."""
    rows, counts = [], {}
    for name in _DATASETS:
        clips, gt = _render_dataset(name, out, render, seed)
        rows += gt
        key = name.lower()
        counts[f"{key}_clips"] = len(clips)
        counts[f"{key}_subjects"] = len({clip.subject for clip in clips})
        counts[f"{key}_frames"] = sum(clip.last - clip.first + 1 for clip in clips)
    pd.DataFrame(rows).to_csv(out / GROUND_TRUTH, index=False)
    return counts


def _intact_sample(out: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The marker of ``out`` if it holds the sample of ``fingerprint`` with every file."""
    marker = _read_marker(out)
    if marker is None or {k: marker.get(k) for k in fingerprint} != fingerprint:
        return None
    return marker if _file_count(out) == (marker["file_count"], marker["bytes"]) else None


def _swap_in(build: Path, out: Path) -> None:
    """Replace ``out`` (if any) by ``build`` with renames, so readers never see a half sample."""
    if not out.exists():
        build.rename(out)
        return
    retired = out.parent / f".{out.name}.old-{os.getpid()}"
    out.rename(retired)
    build.rename(out)
    shutil.rmtree(retired)


def _summary(out: Path, record: dict[str, Any], reused: bool, started: float) -> dict[str, Any]:
    return {
        **_paths(out),
        **record["counts"],
        "files": record["file_count"],
        "bytes": record["bytes"],
        "reused": reused,
        "seconds": round(time.perf_counter() - started, 3),
    }


def ensure_synthetic_sample(settings: Mapping[str, Any], seed: int) -> dict[str, Any]:
    """Make sure ``settings["output_dir"]`` holds the sample for ``settings`` and ``seed``.

    Reuses a sample generated with the same settings and seed; regenerates one generated
    with others (built in a temporary sibling folder, then swapped in); refuses a non-empty
    folder without this generator's marker file. Returns paths (str), counts, ``files``,
    ``bytes``, ``reused`` and ``seconds``.
    """
    started = time.perf_counter()
    parsed = validate_settings(settings)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer (got {seed!r})")
    out = Path(parsed.output_dir)
    fingerprint = {
        "generator": GENERATOR,
        "format_version": FORMAT_VERSION,
        "seed": seed,
        "settings": parsed.model_dump(exclude={"output_dir"}),
    }
    if out.exists() and not out.is_dir():
        raise ForeignFolderError(f"synthetic.output_dir: {out} exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        if _read_marker(out) is None:
            raise ForeignFolderError(
                f"synthetic.output_dir: {out} is not empty and was not written by the "
                f"synthetic generator (no {MARKER} in it); refusing to touch it. Point "
                "synthetic.output_dir to a new or empty folder."
            )
        kept = _intact_sample(out, fingerprint)
        if kept is not None:
            return _summary(out, kept, True, started)
    build = out.parent / f".{out.name}.building-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    try:
        counts = generate_sample(build, resolve(parsed), seed)
        files, size = _file_count(build)
        record = {**fingerprint, "counts": counts, "file_count": files, "bytes": size}
        (build / MARKER).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        try:
            _swap_in(build, out)
        except OSError:  # another process may have put the same sample there meanwhile
            kept = _intact_sample(out, fingerprint)
            if kept is None:
                raise
            return _summary(out, kept, True, started)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    return _summary(out, record, False, started)
