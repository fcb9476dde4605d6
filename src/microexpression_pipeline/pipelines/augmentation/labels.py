"""Mapping of metadata emotion labels to the classes of a ``mode``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

REQUIRED_INDEX_COLUMNS: tuple[str, ...] = ("subject", "clip_id", "emotion")


def class_order(mode: str, label_mappings: Mapping[str, Mapping[str, Sequence[str]]]) -> list[str]:
    """The classes of ``mode`` in the order written in ``label_mappings``."""
    if mode not in label_mappings:
        raise ValueError(
            f"mode: {mode!r} is not a key of label_mappings; "
            f"valid choices: {', '.join(label_mappings)}"
        )
    return [str(name) for name in label_mappings[mode]]


def label_lookup(
    mode: str, label_mappings: Mapping[str, Mapping[str, Sequence[str]]]
) -> dict[str, str]:
    """Lower-cased emotion label -> class name for ``mode``."""
    class_order(mode, label_mappings)
    lookup: dict[str, str] = {}
    for cls, labels in label_mappings[mode].items():
        for label in labels:
            key = str(label).strip().lower()
            if key in lookup and lookup[key] != cls:
                raise ValueError(
                    f"label_mappings.{mode}: label {label!r} is mapped to both "
                    f"{lookup[key]!r} and {cls!r}; keep it in one class only."
                )
            lookup[key] = str(cls)
    return lookup


def check_clips(clips: Mapping[str, np.ndarray], clip_index: pd.DataFrame) -> None:
    """Check that the clip arrays and the clip index describe the same clips, row by row."""
    for key in ("clips", "clip_ids"):
        if key not in clips:
            raise ValueError(
                f"samm.clips: array {key!r} is missing (found {sorted(clips)}); "
                "re-run the ingestion pipeline."
            )
    frames = clips["clips"]
    if frames.dtype != np.uint8 or frames.ndim != 4:
        raise ValueError(
            f"samm.clips: 'clips' must be uint8 of shape N x F x H x W "
            f"(got {frames.dtype} {frames.shape}); re-run the ingestion pipeline."
        )
    ids = np.asarray(clips["clip_ids"]).astype(str)
    if ids.shape != (frames.shape[0],):
        raise ValueError(
            f"samm.clips: 'clip_ids' has shape {ids.shape} but there are {frames.shape[0]} "
            "clips; the two arrays must be row-aligned."
        )
    missing = [col for col in REQUIRED_INDEX_COLUMNS if col not in clip_index.columns]
    if missing:
        raise ValueError(
            f"samm.clip_index: columns {missing} are missing "
            f"(found {list(clip_index.columns)}); re-run the ingestion pipeline."
        )
    if len(clip_index) != len(ids):
        raise ValueError(
            f"samm.clip_index has {len(clip_index)} rows but samm.clips holds {len(ids)} "
            "clips; row i of the index must describe clip i."
        )
    index_ids = clip_index["clip_id"].astype(str).to_numpy()
    mismatch = np.flatnonzero(index_ids != ids)
    if mismatch.size:
        row = int(mismatch[0])
        raise ValueError(
            f"samm.clip_index row {row}: clip_id {index_ids[row]!r} does not match "
            f"samm.clips clip_ids[{row}] = {ids[row]!r}; the two must be row-aligned."
        )
    duplicated = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if duplicated:
        raise ValueError(
            f"samm.clip_index: clip_id values {duplicated[:5]} occur more than once; "
            "every clip needs a unique clip_id for provenance."
        )
    no_subject = clip_index["subject"].isna() | (clip_index["subject"].astype(str) == "")
    if no_subject.any():
        row = int(np.flatnonzero(no_subject.to_numpy())[0])
        raise ValueError(
            f"samm.clip_index row {row} (clip_id {index_ids[row]!r}): subject is empty; "
            "every clip needs its subject so folds can keep subjects apart."
        )


def assign_classes(
    clip_index: pd.DataFrame,
    mode: str,
    label_mappings: Mapping[str, Mapping[str, Sequence[str]]],
) -> pd.DataFrame:
    """One row per clip with its class (or the reason it is left out).

    Columns: ``row`` (position in ``samm.clips``), ``clip_id``, ``subject``, ``dataset``,
    ``emotion``, ``label``, ``label_index`` (-1 when left out), ``left_out_reason``.
    """
    order = class_order(mode, label_mappings)
    lookup = label_lookup(mode, label_mappings)
    emotion = clip_index["emotion"]
    keys = emotion.astype("string").str.strip().str.lower()
    labels = keys.map(lookup)
    reasons = np.where(
        emotion.isna().to_numpy() | (keys.fillna("") == "").to_numpy(),
        "no emotion label",
        [f"emotion {e!r} is not in label_mappings.{mode}" for e in emotion.astype(str)],
    )
    included = labels.notna().to_numpy()
    dataset = (
        clip_index["dataset"].astype(str).to_numpy()
        if "dataset" in clip_index.columns
        else np.full(len(clip_index), "", dtype=object)
    )
    return pd.DataFrame(
        {
            "row": np.arange(len(clip_index), dtype=np.int64),
            "clip_id": clip_index["clip_id"].astype(str).to_numpy(),
            "subject": clip_index["subject"].astype(str).to_numpy(),
            "dataset": dataset,
            "emotion": emotion.astype(str).where(emotion.notna(), "").to_numpy(),
            "label": labels.where(labels.notna(), "").astype(str).to_numpy(),
            "label_index": np.array(
                [order.index(lbl) if ok else -1 for lbl, ok in zip(labels, included, strict=True)],
                dtype=np.int64,
            ),
            "left_out_reason": np.where(included, "", reasons),
        }
    )
