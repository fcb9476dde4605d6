"""The MEGC 2019 composite: three ingested datasets merged into MEGC's three classes.

Each dataset's labels map to the classes by its own list (CASME II's fear and sadness are
left out, SAMM's are negative), the configured exclusions are removed, and every clip left
out is counted with its reason. Subjects stay per dataset (``dataset`` column; the folds key
them ``<dataset>/<subject>``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from microexpression_pipeline.pipelines.megc2019.schema import CompositeParams

logger = logging.getLogger(__name__)


def _class_lookup(mapping: Mapping[str, Sequence[str]]) -> dict[str, str]:
    return {label.strip().lower(): name for name, labels in mapping.items() for label in labels}


def check_mode_agrees(
    composite: CompositeParams, mode: str, label_mappings: Mapping[str, Any]
) -> None:
    """The training mode must give every composite label its MEGC class (the augmentation
    labels the composite's clips by ``label_mappings[mode]``)."""
    if mode not in label_mappings:
        raise ValueError(
            f"megc2019.mode: {mode!r} is not a key of label_mappings ({', '.join(label_mappings)})"
        )
    classes = list(next(iter(composite.mapping.values())))
    if list(label_mappings[mode]) != classes:
        raise ValueError(
            f"megc2019.mode: label_mappings.{mode} has classes {list(label_mappings[mode])}, "
            f"but megc2019.composite.mapping has {classes}"
        )
    training = _class_lookup(label_mappings[mode])
    for dataset, mapping in composite.mapping.items():
        for label, name in _class_lookup(mapping).items():
            if training.get(label) != name:
                raise ValueError(
                    f"megc2019.composite.mapping.{dataset}: {label!r} is {name!r}, but "
                    f"label_mappings.{mode} maps it to {training.get(label)!r}; add it there"
                )


def build_composite(
    parts: Mapping[str, tuple[Mapping[str, np.ndarray], pd.DataFrame]],
    composite: CompositeParams,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, dict[str, Any]]:
    """The composite's clips and index (row-aligned) and its summary.

    ``parts``: dataset -> (its ``clips`` payload, its clip index). The summary has, per
    dataset, the clips read, kept per class, subjects, labels left out (with counts), the
    exclusions applied or not found, and the comparison with MEGC 2019's counts.
    """
    classes = list(next(iter(composite.mapping.values())))
    excluded = {(e.dataset, e.clip_id): e.note for e in composite.exclusions}
    clips, frames = [], []
    summary: dict[str, Any] = {"classes": classes, "datasets": {}}
    shapes = {}
    for dataset in composite.datasets:
        if dataset not in parts:
            raise ValueError(f"megc2019.composite.datasets: {dataset} was not ingested")
        payload, index = parts[dataset]
        ids = index["clip_id"].astype(str).tolist()
        if [str(c) for c in payload["clip_ids"]] != ids:
            raise ValueError(
                f"{dataset}.clips and {dataset}.clip_index are not row-aligned; re-run "
                "kedro run --pipeline=ingestion"
            )
        if dataset not in composite.mapping:
            raise ValueError(f"megc2019.composite.mapping: no entry for {dataset}")
        lookup = _class_lookup(composite.mapping[dataset])
        keys = index["emotion"].astype(str).str.strip().str.lower()
        megc_class = keys.map(lookup)
        dropped = np.array([(dataset, c) in excluded for c in ids], dtype=bool)
        kept = megc_class.notna().to_numpy() & ~dropped
        shapes[dataset] = tuple(payload["clips"].shape[1:])
        part = index.loc[kept].copy()
        part["dataset"] = dataset
        part["megc_class"] = megc_class[kept].to_numpy()
        frames.append(part)
        clips.append(payload["clips"][kept])
        left_out = index.loc[megc_class.isna().to_numpy(), "emotion"].astype(str)
        exclusions = [
            {
                "clip_id": clip_id,
                "note": note,
                "status": _exclusion_status(clip_id, ids, megc_class),
            }
            for (source, clip_id), note in excluded.items()
            if source == dataset
        ]
        summary["datasets"][dataset] = {
            "clips_ingested": len(index),
            "clips": int(kept.sum()),
            "subjects": int(part["subject"].astype(str).nunique()),
            "class_counts": {c: int((part["megc_class"] == c).sum()) for c in classes},
            "left_out_labels": {str(k): int(v) for k, v in left_out.value_counts().items()},
            "exclusions": exclusions,
            "expected_counts": dict(composite.expected_counts.get(dataset, {})),
            "expected_subjects": composite.expected_subjects.get(dataset),
        }
    if len(set(shapes.values())) > 1:
        raise ValueError(
            f"the datasets' clips differ in shape ({shapes}); ingest them with the same "
            "ingestion.image_size and frames_between_key_frames"
        )
    index = pd.concat(frames, ignore_index=True)
    duplicated = index["clip_id"].astype(str).duplicated(keep=False)
    if duplicated.any():
        raise ValueError(
            f"clip ids occur in two datasets: {sorted(set(index.loc[duplicated, 'clip_id']))[:5]}"
        )
    payload = {
        "clips": np.concatenate(clips),
        "clip_ids": index["clip_id"].astype(str).to_numpy(dtype=str),
    }
    summary.update(_totals(summary["datasets"], classes, composite))
    for line in summary_lines(summary):
        logger.info("MEGC 2019 composite: %s", line)
    return payload, index, summary


def _exclusion_status(clip_id: str, ids: list[str], megc_class: pd.Series) -> str:
    """What an exclusion did: removed a clip, or found it outside the classes or absent."""
    if clip_id not in ids:
        return "not in the clip index (quarantined at ingestion, or another id)"
    inside = pd.notna(megc_class.iloc[ids.index(clip_id)])
    return "excluded" if inside else "outside the classes anyway"


def _totals(
    datasets: Mapping[str, Mapping[str, Any]], classes: list[str], composite: CompositeParams
) -> dict[str, Any]:
    """Composite totals and the differences from MEGC 2019's counts."""
    differences = []
    for dataset, part in datasets.items():
        expected = part["expected_counts"]
        for name in classes:
            if name in expected and expected[name] != part["class_counts"][name]:
                differences.append(
                    f"{dataset} {name}: {part['class_counts'][name]} clips, MEGC 2019 has "
                    f"{expected[name]}"
                )
        if part["expected_subjects"] not in (None, part["subjects"]):
            differences.append(
                f"{dataset}: {part['subjects']} subjects, MEGC 2019 has {part['expected_subjects']}"
            )
    return {
        "clips": sum(p["clips"] for p in datasets.values()),
        "subjects": sum(p["subjects"] for p in datasets.values()),
        "class_counts": {c: sum(p["class_counts"][c] for p in datasets.values()) for c in classes},
        "matches_megc2019": not differences,
        "differences": differences,
    }


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The composite's counts, one line per dataset and one for the whole."""
    lines = []
    for dataset, part in summary["datasets"].items():
        counts = " / ".join(f"{n} {c}" for c, n in part["class_counts"].items())
        lines.append(f"{dataset}: {part['clips']} clips ({counts}), {part['subjects']} subjects")
    counts = " / ".join(f"{n} {c}" for c, n in summary["class_counts"].items())
    lines.append(
        f"composite: {summary['clips']} clips ({counts}), {summary['subjects']} subjects"
        + ("" if summary["matches_megc2019"] else f"; differs from MEGC 2019: "
           f"{'; '.join(summary['differences'])}")
    )  # fmt: skip
    return lines
