"""Training throughput per architecture: the project's input pipeline against a plain
``model.fit`` on a float32 NumPy array, and against the machine's dense matmul rate.

For each architecture at the ingested clip shape, the same clips (the augmented binary set,
repeated up to the clip count) train the same layers three ways:

- ``pipeline``: the project's path (``make_dataset`` from uint8, in-model ``Rescaling``, batch
  normalisation on the fused kernel as ``training.fused_batch_norm`` sets), with
  op determinism as configured (``training.deterministic``);
- ``pipeline_nondeterministic``: the same with op determinism off;
- ``plain``: the study's approach, ``model.fit`` on float32 arrays in [0, 1], determinism off.

Op determinism is process-wide, so the configured pipeline runs in a worker process of its own
when it is on; the runs of one process train side by side (interleaved epochs). One warm-up
epoch (tracing) is followed by timed epochs; the fastest timed epoch counts. The clip count per
architecture is set so that a timed epoch lasts about the profile's seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.flops import training_flops_per_clip
from benchmarks.profiles import Profile
from benchmarks.subprocesses import jsonable, run_worker
from benchmarks.timing import log
from microexpression_pipeline.models import ARCHITECTURES, Architecture
from microexpression_pipeline.models.building import build_model
from microexpression_pipeline.pipelines.augmentation.labels import class_order
from microexpression_pipeline.pipelines.train.nodes import _spec
from microexpression_pipeline.pipelines.train.schema import TrainingParams

ASSUMED_EFFICIENCY = 0.3  # of the matmul rate, only to choose clip counts


def model_flops(
    architecture: Architecture,
    shape: tuple[int, int, int],
    n_classes: int,
    training: TrainingParams,
) -> dict[str, Any]:
    """FLOPs per clip of the project's model of ``architecture`` for ``n_classes``."""
    model = build_model(
        architecture,
        shape,
        n_classes,
        training.architectures[architecture.key],
        1e-3,
        training.intensity,
    )
    return training_flops_per_clip(model, shape[0] if architecture.frame_level else 1)


def clip_count(
    architecture: Architecture,
    flops: float,
    matmul_gflops: float,
    shape: tuple[int, int, int],
    training: TrainingParams,
    profile: Profile,
) -> int:
    """Clips for a timed epoch of about ``profile.epoch_seconds`` (at least two batches)."""
    spec = _spec(architecture, shape, ("a", "b"), training)
    batch_clips = math.ceil(spec.batch_size / shape[0]) if spec.frame_level else spec.batch_size
    estimate = profile.epoch_seconds * ASSUMED_EFFICIENCY * matmul_gflops * 1e9 / flops
    wanted = max(round(estimate), profile.min_clips, 2 * batch_clips)
    return int(min(wanted, max(profile.max_clips, 2 * batch_clips)))


def _write_data(folder: Path, clips: np.ndarray, labels: np.ndarray, n: int) -> dict[str, str]:
    """The set repeated up to ``n`` clips, as .npy files for the workers."""
    order = np.resize(np.arange(len(clips)), n)
    np.save(folder / "clips.npy", clips[order])
    np.save(folder / "labels.npy", labels[order].astype(np.int64))
    return {"clips": str(folder / "clips.npy"), "labels": str(folder / "labels.npy")}


def run(
    binary_set: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    profile: Profile,
    matmul_gflops: float,
    seed: int,
    folder: Path,
    precisions: tuple[str, ...] = ("float32",),
) -> dict[str, Any]:
    """Throughput of every architecture of the profile, per approach, and derived ratios."""
    training = jsonable(params["training"])
    validated = TrainingParams.model_validate(training)
    multiclass = len(class_order("multiclass", params["label_mappings"]))
    clips, labels = binary_set["clips"], binary_set["labels"]
    shape = tuple(int(d) for d in clips.shape[1:])
    first_matmul = matmul_gflops
    deterministic = validated.deterministic
    flops = {
        (a, n): model_flops(ARCHITECTURES[a], shape, n, validated)
        for a in profile.architectures
        for n in (2, multiclass)
    }
    counts = {
        a: clip_count(
            ARCHITECTURES[a],
            flops[a, 2]["training_flops_per_clip"],
            matmul_gflops,
            shape,
            validated,
            profile,
        )
        for a in profile.architectures
    }
    data = _write_data(folder, clips, labels, max(counts.values()))
    base = {
        "kind": "throughput",
        **data,
        "n_clips": max(counts.values()),
        "training": training,
        "seed": seed,
        "matmul_size": profile.matmul_size,
        "matmul_seconds": profile.matmul_seconds,
    }
    matmul_runs: list[dict[str, Any]] = []

    def planned(architecture: str, approach: str, precision: str, n_classes: int = 2) -> dict:
        return {
            "architecture": architecture,
            "approach": approach,
            "n_clips": counts[architecture],
            "n_classes": n_classes,
            "precision": precision,
        }

    measured: list[dict[str, Any]] = []
    failed: dict[str, str] = {}

    def measure(precision: str) -> None:
        nonlocal matmul_runs
        for repeat in range(profile.repeats):
            # Runs compared with each other train side by side in one process (interleaved
            # epochs); op determinism is process-wide, so the configured pipeline gets its own.
            configured: list[list[dict[str, Any]]] = []
            free: list[list[dict[str, Any]]] = []
            for a in profile.architectures:
                if deterministic:
                    configured.append([planned(a, "pipeline", precision)])
                    free.append(
                        [
                            planned(a, "pipeline_nondeterministic", precision),
                            planned(a, "plain", precision),
                        ]
                    )
                else:
                    configured.append(
                        [planned(a, "pipeline", precision), planned(a, "plain", precision)]
                    )
                if profile.measure_multiclass and repeat == 0:
                    configured.append([planned(a, "pipeline", precision, multiclass)])
            for label, deterministic_run, groups in (
                ("configured", deterministic, configured),
                ("nondeterministic", False, free),
            ):
                if not groups:
                    continue
                n_runs = sum(len(g) for g in groups)
                log(f"training ({precision}, repeat {repeat + 1}, {label}): {n_runs} runs")
                task = {
                    **base,
                    "deterministic": deterministic_run,
                    "timed_epochs": profile.timed_epochs,
                    "groups": groups,
                }
                timeout = 600 + 120 * n_runs * (1 + profile.timed_epochs)
                name = f"train-{precision}-{label}-{repeat}"
                done = run_worker(task, folder, name, timeout)
                matmul_runs += done["matmul"]
                # The machine's rate while this process trained: the better of its two.
                own = max(m["gflops"] for m in done["matmul"])
                for result in done["runs"]:
                    measured.append(
                        {**result, "deterministic": deterministic_run, "process_matmul_gflops": own}
                    )

    for precision in precisions:
        try:
            measure(precision)
        except RuntimeError as error:  # e.g. an op without a float16 kernel on this device
            if precision == "float32":
                raise
            failed[precision] = " ".join(str(error).split())[-500:]
            measured[:] = [m for m in measured if m["precision"] != precision]
    # The machine's rate is the best seen in this run: other load only ever lowers it.
    matmul_gflops = max([matmul_gflops, *(m["gflops"] for m in matmul_runs)])

    architectures: dict[str, Any] = {}
    for a in profile.architectures:
        per_precision = {}
        for precision in (p for p in precisions if p not in failed):
            per_precision[precision] = _summarise(
                a,
                [m for m in measured if m["architecture"] == a and m["precision"] == precision],
                flops,
                matmul_gflops,
                multiclass,
            )
        architectures[a] = {
            "name": ARCHITECTURES[a].name,
            "clips": counts[a],
            **per_precision["float32"],
        }
        if len(precisions) > 1:
            architectures[a]["precisions"] = per_precision
    return {
        "clip_shape": list(shape),
        "deterministic_configured": deterministic,
        "matmul_gflops": matmul_gflops,
        "matmul_gflops_all": [first_matmul, *(m["gflops"] for m in matmul_runs)],
        "timed_epochs": profile.timed_epochs,
        "repeats": profile.repeats,
        "architectures": architectures,
        "failed_precisions": failed,
        "runs": measured,
    }


def _summarise(
    architecture: str,
    runs: list[dict[str, Any]],
    flops: Mapping[tuple[str, int], Mapping[str, Any]],
    matmul_gflops: float,
    multiclass: int,
) -> dict[str, Any]:
    """Fastest rate per approach; the ratios to the plain fit and the share of the matmul rate."""

    def best_run(approach: str, n_classes: int = 2) -> dict[str, Any] | None:
        chosen = [r for r in runs if r["approach"] == approach and r["n_classes"] == n_classes]
        return max(chosen, key=lambda r: r["clips_per_second"]) if chosen else None

    def fastest(approach: str, n_classes: int = 2) -> float | None:
        run = best_run(approach, n_classes)
        return run["clips_per_second"] if run else None

    def own_matmul(approach: str, n_classes: int = 2) -> float | None:
        run = best_run(approach, n_classes)
        return run.get("process_matmul_gflops") if run else None

    pipeline, free, plain_fit = (
        fastest("pipeline"),
        fastest("pipeline_nondeterministic"),
        fastest("plain"),
    )
    free = free if free is not None else pipeline
    train_flops = flops[architecture, 2]["training_flops_per_clip"]
    multiclass_flops = flops[architecture, multiclass]["training_flops_per_clip"]
    multiclass_rate = fastest("pipeline", multiclass)
    achieved = pipeline * train_flops / 1e9
    own = own_matmul("pipeline")
    return {
        "batch_size": next((r["batch_size"] for r in runs), None),
        "pipeline_clips_per_second": pipeline,
        "pipeline_nondeterministic_clips_per_second": free,
        "plain_clips_per_second": plain_fit,
        "ratio_to_plain": pipeline / plain_fit if plain_fit else None,
        "ratio_to_plain_nondeterministic": free / plain_fit if plain_fit else None,
        "training_gflop_per_clip": train_flops / 1e9,
        "achieved_gflops": achieved,
        "achieved_gflops_nondeterministic": free * train_flops / 1e9,
        "share_of_matmul": achieved / matmul_gflops,
        # against the matmul rate measured in the process that trained the fastest run
        "process_matmul_gflops": own,
        "share_of_process_matmul": achieved / own if own else None,
        "multiclass_process_matmul_gflops": own_matmul("pipeline", multiclass),
        "share_of_matmul_nondeterministic": free * train_flops / 1e9 / matmul_gflops,
        "plain_share_of_matmul": plain_fit * train_flops / 1e9 / matmul_gflops
        if plain_fit
        else None,
        "multiclass_training_gflop_per_clip": multiclass_flops / 1e9,
        "multiclass_pipeline_clips_per_second": multiclass_rate
        if multiclass_rate is not None
        else achieved * 1e9 / multiclass_flops,
        "multiclass_rate": "measured"
        if multiclass_rate is not None
        else "estimated from the binary variant's achieved FLOP/s",
        "forward_flops_by_layer": dict(
            flops[architecture, 2]["per_layer_forward_flops_per_sample"]
        ),
        "cpu_utilisation": max(
            (r["cpu_utilisation"] for r in runs if r["approach"] == "pipeline"), default=None
        ),
        # how much the timed epochs of one and the same run differ: the noise of a ratio
        "epoch_spread": max(
            (
                max(r["epoch_seconds"]) / min(r["epoch_seconds"]) - 1
                for r in runs
                if len(r["epoch_seconds"]) > 1
            ),
            default=None,
        ),
    }
