"""Peak resident memory of a training run at N and 4N clips, each in a fresh process.

Two scopes per architecture: ``training`` (``fit_model`` as a fold runs it: its peak is mostly
the model's activations, which depend on the batch, not on N) and ``input_pipeline`` (the same
``tf.data`` pipeline iterated alone, without the model). In both the clips are held in memory
as uint8, as the catalog loads a set; that is "the data itself". Growth from N to 4N beyond
it is compared with the float32 size of the added clips (what a float32 copy would cost).

Both runs take the same steps on batches of one shape, so that only the data's size differs:
N is a whole number of batches, the validation split is off (no partial or validation batch
of another shape), and N trains for 4 epochs where 4N trains for 1 (the same number of
steps). The runs are one after the other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.subprocesses import jsonable, run_worker
from benchmarks.timing import log
from microexpression_pipeline.models import ARCHITECTURES
from microexpression_pipeline.pipelines.train.nodes import _spec
from microexpression_pipeline.pipelines.train.schema import TrainingParams

SCOPES = ("input_pipeline", "training")


def growth(small: Mapping[str, Any], large: Mapping[str, Any]) -> dict[str, Any]:
    """Peak growth from the N run to the 4N run, against the added data's size."""
    peak_growth = large["peak_rss_bytes"] - small["peak_rss_bytes"]
    added_uint8 = large["data_bytes_uint8"] - small["data_bytes_uint8"]
    added_float32 = large["data_bytes_float32"] - small["data_bytes_float32"]
    beyond = peak_growth - added_uint8
    return {
        "peak_growth_mb": peak_growth / 2**20,
        "added_data_uint8_mb": added_uint8 / 2**20,
        "added_data_float32_mb": added_float32 / 2**20,
        "growth_beyond_data_mb": beyond / 2**20,
        "growth_share_of_float32": peak_growth / added_float32,
        "growth_beyond_data_share_of_float32": beyond / added_float32,
    }


def without_validation(training: dict[str, Any]) -> dict[str, Any]:
    """The training settings with the validation split off (every architecture)."""
    architectures = {
        name: {**arch, "overrides": {**arch.get("overrides", {}), "validation_fraction": 0.0}}
        for name, arch in training["architectures"].items()
    }
    return {**training, "validation_fraction": 0.0, "architectures": architectures}


def whole_batches(
    architecture: str, shape: tuple[int, ...], training: Mapping[str, Any], minimum: int
) -> int:
    """The smallest clip count >= ``minimum`` that fills whole batches (of clips or frames)."""
    spec = _spec(
        ARCHITECTURES[architecture], shape, ("a", "b"), TrainingParams.model_validate(training)
    )
    frames = shape[0] if spec.frame_level else 1
    step = spec.batch_size // math.gcd(spec.batch_size, frames)
    return step * math.ceil(minimum / step)


def run(
    binary_set: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    architectures: tuple[str, ...],
    n_clips: int,
    seed: int,
    folder: Path,
    scopes: tuple[str, ...] = SCOPES,
) -> dict[str, Any]:
    """Peak RSS at N (``n_clips`` rounded up to whole batches) and 4N per architecture and
    scope, each run in a fresh process, one after the other."""
    training = without_validation(jsonable(params["training"]))
    clips, labels = binary_set["clips"], binary_set["labels"]
    shape = tuple(clips.shape[1:])
    sizes = {a: whole_batches(a, shape, training, n_clips) for a in architectures}
    order = np.resize(np.arange(len(clips)), 4 * max(sizes.values()))
    np.save(folder / "memory_clips.npy", clips[order])
    np.save(folder / "memory_labels.npy", labels[order].astype(np.int64))
    tasks: dict[tuple[str, str, str], dict[str, Any]] = {}
    for architecture, n in sizes.items():
        for scope in scopes:
            # A training run's peak varies a little from run to run: N runs a second time
            # there, and the two N peaks give the noise.
            plan = [(n, 4, "N"), (4 * n, 1, "4N")]
            if scope == "training":
                plan.append((n, 4, "N again"))
            for size, epochs, label in plan:
                tasks[architecture, scope, label] = {
                    "kind": "memory",
                    "scope": scope,
                    "architecture": architecture,
                    "clips": str(folder / "memory_clips.npy"),
                    "labels": str(folder / "memory_labels.npy"),
                    "n_clips": size,
                    "n_classes": 2,
                    "epochs": epochs,
                    "training": training,
                    "deterministic": bool(training["deterministic"]),
                    "seed": seed,
                }
    measured = {}
    for key, task in tasks.items():
        architecture, scope, label = key
        log(f"memory: {architecture} {scope} at {task['n_clips']} clips, {task['epochs']} epoch(s)")
        name = f"memory-{architecture}-{scope}-{label.replace(' ', '')}"
        measured[key] = run_worker(task, folder, name, timeout=1800)
    results: dict[str, Any] = {}
    for architecture, n in sizes.items():
        for scope in scopes:
            runs = {
                label: r for (a, s, label), r in measured.items() if (a, s) == (architecture, scope)
            }
            results[f"{architecture} {scope}"] = {
                "architecture": architecture,
                "name": ARCHITECTURES[architecture].name,
                "scope": scope,
                "n": n,
                **_summarise(runs),
            }
    return {
        "clip_shape": list(shape),
        "epochs": {"N": 4, "4N": 1},
        "runs": results,
    }


def _summarise(runs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Peaks of the runs of one architecture and scope, the noise and the growth N -> 4N."""
    small = dict(runs["N"])
    noise = None
    if "N again" in runs:
        peaks = [runs["N"]["peak_rss_bytes"], runs["N again"]["peak_rss_bytes"]]
        small["peak_rss_bytes"] = sum(peaks) / 2
        noise = abs(peaks[0] - peaks[1]) / 2**20
    return {
        "peak_rss_mb": {k: r["peak_rss_bytes"] / 2**20 for k, r in runs.items()},
        "rss_after_load_mb": {k: r["rss_after_load_bytes"] / 2**20 for k, r in runs.items()},
        "noise_mb": noise,
        "data_uint8_mb": runs["N"]["data_bytes_uint8"] / 2**20,
        **growth(small, runs["4N"]),
    }
