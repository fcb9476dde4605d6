"""Nodes of the ``augmentation`` pipeline: label, plan, augment, summarise, preview."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from microexpression_pipeline.pipelines.augmentation.balancing import check_copies
from microexpression_pipeline.pipelines.augmentation.labels import (
    assign_classes,
    check_clips,
    class_order,
)
from microexpression_pipeline.pipelines.augmentation.schema import AugmentationParams
from microexpression_pipeline.pipelines.augmentation.transforms import (
    TRANSFORM_ORDER,
    augment_clip,
    draw_transforms,
)

logger = logging.getLogger(__name__)

LabelMappings = Mapping[str, Mapping[str, Sequence[str]]]

# Scalar columns of the sample table: (column, transform, parameter). Empty when the
# transform was not applied, or when parameters were drawn per frame (see transform_params).
SCALAR_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("shift_px", "translate", "shift_px"),
    ("angle_deg", "rotate", "angle_deg"),
    ("scale_factor", "scale", "factor"),
    ("brightness", "brightness_contrast", "brightness"),
    ("contrast", "brightness_contrast", "contrast"),
    ("noise_mean", "noise", "mean"),
    ("noise_sigma", "noise", "sigma"),
)


def mapping_fingerprint(mode: str, label_mappings: LabelMappings) -> tuple[str, str]:
    """The mapping of ``mode`` as canonical JSON, and its SHA-256."""
    mapping = {str(cls): [str(v) for v in labels] for cls, labels in label_mappings[mode].items()}
    text = json.dumps(mapping, separators=(",", ":"))
    return text, hashlib.sha256(text.encode()).hexdigest()


def _clip_rng(seed: int, clip_id: str) -> np.random.Generator:
    """A generator of its own per source clip, so a clip's copies do not depend on the others."""
    digest = hashlib.sha256(clip_id.encode()).digest()
    return np.random.default_rng([seed, 2, int.from_bytes(digest[:8], "little")])


def _transform_set(augmentation: AugmentationParams, name: str) -> dict[str, Any]:
    """The settings of transform set ``name`` (the schema checked every set exists)."""
    return augmentation.transform_sets[name].model_dump()


def _copies(augmentation: AugmentationParams, name: str) -> dict[str, dict[str, int]]:
    """Copies per original of transform set ``name``: its own ``copies``, or the shared ones."""
    own = augmentation.transform_sets[name].copies
    return augmentation.copies if own is None else own


def label_clips(
    clips: dict[str, np.ndarray],
    clip_index: pd.DataFrame,
    mode: str,
    label_mappings: LabelMappings,
) -> pd.DataFrame:
    """Check clips and index against each other and give every clip its class of ``mode``.

    Clips whose emotion is not in the mapping stay in the table with ``label_index`` -1
    and a ``left_out_reason``.
    """
    check_clips(clips, clip_index)
    labelled = assign_classes(clip_index, mode, label_mappings)
    left_out = labelled[labelled["label_index"] < 0]
    if len(left_out):
        logger.info(
            "Mode %r leaves out %d of %d clips: %s",
            mode,
            len(left_out),
            len(labelled),
            left_out["emotion"].value_counts().to_dict(),
        )
    return labelled


def plan_samples(
    labelled_clips: pd.DataFrame,
    clips: dict[str, np.ndarray],
    mode: str,
    label_mappings: LabelMappings,
    augmentation: AugmentationParams,
    seed: int,
    set_name: str,
) -> pd.DataFrame:
    """The sample table of transform set ``set_name``: every kept original, then its copies
    with their drawn transforms.

    With ``augmentation.balance`` every original gets ``balance_pool_copies`` copies, whatever
    its class (a pool: each fold's training draws the copies its own clips need to balance
    its classes; see ``pipelines/train/training_set.py``); otherwise ``copies`` per class."""
    classes = class_order(mode, label_mappings)
    transform_set = _transform_set(augmentation, set_name)
    kept = labelled_clips[labelled_clips["label_index"] >= 0].reset_index(drop=True)
    if augmentation.balance:
        n_copies = np.full(len(kept), augmentation.balance_pool_copies, dtype=np.int64)
    else:
        own = augmentation.transform_sets[set_name].copies is not None
        section = f"augmentation.transform_sets.{set_name}.copies" if own else "augmentation.copies"
        copies = check_copies(mode, classes, _copies(augmentation, set_name), section)
        n_copies = kept["label"].map(copies).to_numpy(dtype=np.int64)
    _, n_frames, height, width = clips["clips"].shape
    per_frame = bool(transform_set.get("per_frame", False))

    rows: list[dict[str, Any]] = []
    for clip, count in zip(kept.itertuples(index=False), n_copies, strict=True):
        base = {
            "source_clip_id": clip.clip_id,
            "source_row": clip.row,
            "dataset": clip.dataset,
            "subject": clip.subject,
            "emotion": clip.emotion,
            "label": clip.label,
            "label_index": clip.label_index,
        }
        rows.append({"sample_id": f"{clip.clip_id}/orig", **base, "copy_index": 0, "draws": None})
        rng = _clip_rng(seed, clip.clip_id)
        for k in range(1, int(count) + 1):
            draws = [
                draw_transforms(rng, transform_set, height, width)
                for _ in range(n_frames if per_frame else 1)
            ]
            rows.append(
                {"sample_id": f"{clip.clip_id}/aug{k:02d}", **base, "copy_index": k, "draws": draws}
            )

    table = pd.DataFrame(rows)
    if table.empty:
        raise ValueError(
            f"No clip has a label of label_mappings.{mode}; check the emotion column of "
            "samm.clip_index against label_mappings."
        )
    draws_col = table.pop("draws")
    table["is_augmented"] = table["copy_index"] > 0
    table["mode"] = mode
    table["transform_set"] = np.where(table["is_augmented"], set_name, "")
    table["per_frame"] = table["is_augmented"] & per_frame
    table["transforms"] = [
        "" if d is None else "+".join(t for t in TRANSFORM_ORDER if any(t in frame for frame in d))
        for d in draws_col
    ]
    for column, transform, key in SCALAR_COLUMNS:
        table[column] = [
            float(d[0][transform][key])
            if d is not None and len(d) == 1 and transform in d[0]
            else np.nan
            for d in draws_col
        ]
    table["transform_params"] = [
        "" if d is None else json.dumps(d[0] if len(d) == 1 else d, sort_keys=True)
        for d in draws_col
    ]
    columns = [
        "sample_id", "source_clip_id", "dataset", "subject", "emotion", "label", "label_index",
        "is_augmented", "copy_index", "source_row", "mode", "transform_set", "per_frame",
        "transforms", *(c for c, _, _ in SCALAR_COLUMNS), "transform_params",
    ]  # fmt: skip
    return table[columns]


def augment_clips(
    clips: dict[str, np.ndarray],
    samples: pd.DataFrame,
    mode: str,
    label_mappings: LabelMappings,
) -> dict[str, np.ndarray]:
    """The training set: originals copied unchanged, copies built from their recorded draws."""
    source = clips["clips"]
    out = np.empty((len(samples), *source.shape[1:]), dtype=np.uint8)
    started = time.perf_counter()
    augmented = 0
    for i, (row, params, is_aug) in enumerate(
        zip(
            samples["source_row"], samples["transform_params"], samples["is_augmented"], strict=True
        )
    ):
        clip = source[int(row)]
        if not is_aug:
            out[i] = clip
            continue
        parsed = json.loads(params)
        out[i] = augment_clip(clip, parsed if isinstance(parsed, list) else [parsed])
        augmented += 1
    elapsed = time.perf_counter() - started
    if augmented:
        logger.info(
            "Augmented %d clips of %s in %.2f s (%.1f clips/s)",
            augmented,
            "x".join(map(str, source.shape[1:])),
            elapsed,
            augmented / max(elapsed, 1e-9),
        )
    mapping_json, mapping_sha = mapping_fingerprint(mode, label_mappings)
    return {
        "clips": out,
        "sample_ids": samples["sample_id"].to_numpy().astype(str),
        "source_clip_ids": samples["source_clip_id"].to_numpy().astype(str),
        "subjects": samples["subject"].to_numpy().astype(str),
        "labels": samples["label_index"].to_numpy().astype(np.int64),
        "is_augmented": samples["is_augmented"].to_numpy().astype(bool),
        "class_names": np.array(class_order(mode, label_mappings), dtype=str),
        "mode": np.array(mode),
        "label_mapping": np.array(mapping_json),
        "label_mapping_sha256": np.array(mapping_sha),
    }


def _metric_key(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\-. /]", "_", name)


def summarise_counts(
    labelled_clips: pd.DataFrame,
    samples: pd.DataFrame,
    mode: str,
    label_mappings: LabelMappings,
    augmentation: AugmentationParams,
    seed: int,
    set_name: str,
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """The set's metadata (class order, mapping, counts, left-out clips) and MLflow metrics."""
    classes = class_order(mode, label_mappings)
    originals = samples[~samples["is_augmented"]]
    before = {cls: int((originals["label"] == cls).sum()) for cls in classes}
    after = {cls: int((samples["label"] == cls).sum()) for cls in classes}
    left = labelled_clips[labelled_clips["label_index"] < 0]
    transform_set = _transform_set(augmentation, set_name)
    mapping_json, mapping_sha = mapping_fingerprint(mode, label_mappings)
    logger.info("Class counts (mode %s) before augmentation: %s", mode, before)
    logger.info("Class counts (mode %s) after augmentation:  %s", mode, after)
    meta = {
        "mode": mode,
        "classes": classes,
        "class_order": classes,
        "label_mapping": json.loads(mapping_json),
        "label_mapping_sha256": mapping_sha,
        "seed": seed,
        "balance": augmentation.balance,
        "balance_pool_copies": augmentation.balance_pool_copies if augmentation.balance else None,
        "copies_per_original": None
        if augmentation.balance
        else {cls: int(_copies(augmentation, set_name)[mode][cls]) for cls in classes},
        "transform_set": set_name,
        "transforms": transform_set,
        "counts_before": before,
        "counts_after": after,
        "n_originals": len(originals),
        "n_samples": len(samples),
        "n_left_out": len(left),
        "left_out": [
            {
                "clip_id": r.clip_id,
                "subject": r.subject,
                "emotion": r.emotion,
                "reason": r.left_out_reason,
            }
            for r in left.itertuples(index=False)
        ],
    }
    metrics = {
        **{f"before.{_metric_key(c)}": {"value": float(n), "step": 0} for c, n in before.items()},
        **{f"after.{_metric_key(c)}": {"value": float(n), "step": 0} for c, n in after.items()},
        "left_out": {"value": float(len(left)), "step": 0},
        "samples": {"value": float(len(samples)), "step": 0},
    }
    return meta, metrics


def _describe(record: pd.Series) -> str:
    """One line per transform of a copy, e.g. ``rot -4.2°`` and ``shift +3 px``."""
    if record["per_frame"]:
        return f"{record['transforms']}\n(per frame)"
    parts = []
    if pd.notna(record["scale_factor"]):
        parts.append(f"zoom {record['scale_factor']:.2f}")
    if pd.notna(record["angle_deg"]):
        parts.append(f"rot {record['angle_deg']:+.1f}°")
    if pd.notna(record["shift_px"]):
        parts.append(f"shift {int(record['shift_px']):+d} px")
    if pd.notna(record["contrast"]):
        parts.append(f"b/c {record['brightness']:+.0f}/{record['contrast']:.2f}")
    if pd.notna(record["noise_mean"]):
        parts.append(f"noise {record['noise_mean']:.1f}/{record['noise_sigma']:.1f}")
    return "\n".join(parts)


def render_preview(
    augmented: dict[str, np.ndarray], samples: pd.DataFrame, augmentation: AugmentationParams
) -> Figure:
    """One original clip (top row) above some of its augmented copies, frame by frame."""
    n_rows_max = 1 + augmentation.preview.n_copies
    copies = samples[samples["is_augmented"]]
    if copies.empty:
        source = samples["source_clip_id"].iloc[0]
    else:
        counts = copies["source_clip_id"].value_counts(sort=False)
        source = counts.index[int(np.argmax(counts.to_numpy()))]
    rows = np.flatnonzero(samples["source_clip_id"].to_numpy() == source)[:n_rows_max]
    clips = augmented["clips"][rows]
    n_rows, n_frames = clips.shape[:2]
    figure = Figure(figsize=(1.3 * n_frames, 1.4 * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, n_frames, squeeze=False)
    for r, sample in enumerate(rows):
        record = samples.iloc[sample]
        title = "original" if not record["is_augmented"] else _describe(record)
        for f in range(n_frames):
            ax = axes[r][f]
            ax.imshow(clips[r, f], cmap="gray", vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {f + 1}", fontsize=8)
            if f == 0:
                ax.set_ylabel(title, fontsize=7)
    figure.suptitle(f"{source} ({samples['label'].iloc[rows[0]]}): original and copies", fontsize=9)
    return figure
