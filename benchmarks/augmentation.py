"""Augmentation of the ingested clips: the ``augmentation`` pipeline's nodes, per study mode.

``augment_clips`` (the step that makes the copies) is called repeatedly for at least the
profile's seconds; its rate is augmented copies per second. The whole step (labelling,
planning and augmenting) is timed once beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.timing import log, timed
from microexpression_pipeline.pipelines.augmentation.nodes import (
    augment_clips,
    label_clips,
    plan_samples,
)
from microexpression_pipeline.pipelines.augmentation.schema import AugmentationParams

MODES = ("binary", "multiclass")


def run(
    clips: dict[str, np.ndarray],
    clip_index: pd.DataFrame,
    params: Mapping[str, Any],
    seed: int,
    min_seconds: float,
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Results per mode, and the augmented set of each mode (clips and class indices)."""
    results: dict[str, Any] = {}
    sets: dict[str, dict[str, np.ndarray]] = {}
    mappings = params["label_mappings"]
    augmentation = AugmentationParams.model_validate(params["augmentation"])
    for mode in MODES:

        def step(mode: str = mode) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
            labelled = label_clips(clips, clip_index, mode, mappings)
            samples = plan_samples(labelled, clips, mode, mappings, augmentation, seed, "clip")
            return samples, augment_clips(clips, samples, mode, mappings)

        (samples, augmented), step_s, _ = timed(step)
        copies = int(samples["is_augmented"].sum())
        calls, seconds, cpu = 0, 0.0, 0.0
        while calls == 0 or seconds < min_seconds:
            _, wall, used = timed(lambda: augment_clips(clips, samples, mode, mappings))  # noqa: B023
            calls, seconds, cpu = calls + 1, seconds + wall, cpu + used
        log(f"augmentation {mode}: {copies} copies x {calls} calls in {seconds:.2f} s")
        results[mode] = {
            "originals": int((~samples["is_augmented"]).sum()),
            "copies": copies,
            "clip_shape": list(clips["clips"].shape[1:]),
            "step_seconds": step_s,
            "augment_calls": calls,
            "augment_seconds": seconds,
            "augment_cpu_seconds": cpu,
            "clips_per_second": copies * calls / seconds if copies else None,
        }
        sets[mode] = {"clips": augmented["clips"], "labels": augmented["labels"]}
    return {"modes": results}, sets
