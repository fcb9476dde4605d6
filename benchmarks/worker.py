"""The benchmark's training processes: each task runs in a fresh Python process.

``python -m benchmarks.worker TASK.json RESULT.json``

A fresh process per task keeps the measurements apart: op determinism is process-wide in
TensorFlow (it cannot be switched off once on), and a memory peak is only meaningful for a
process that did nothing else. Tasks and results are JSON; the clips are ``.npy`` files.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from keras import layers

from benchmarks.flops import matmul_rate, training_flops_per_clip
from microexpression_pipeline.models import get, task_variant
from microexpression_pipeline.models.batch_norm import fused_batch_norm
from microexpression_pipeline.pipelines.train.fitting import fit_model, fresh_model, make_dataset
from microexpression_pipeline.pipelines.train.nodes import _spec
from microexpression_pipeline.pipelines.train.schema import TrainingParams
from microexpression_pipeline.pipelines.train.spec import TrainingSpec


def status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in KiB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (VmHWM, or ru_maxrss where /proc is absent)."""
    hwm = status_kib("VmHWM")
    if hwm is not None:
        return hwm * 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class EpochTimer(keras.callbacks.Callback):
    """Wall and CPU seconds of every epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: Mapping | None = None) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        self.wall.append(time.perf_counter() - self._wall)
        self.cpu.append(time.process_time() - self._cpu)


def plain_model(spec: TrainingSpec) -> keras.Model:
    """The project's model fed float32 arrays in [0, 1] (the study's way): its layers after the
    uint8 input and its ``Rescaling``, the intensity normalisation included."""
    sizes = getattr(spec.arch_params, task_variant(len(spec.classes)))
    built = spec.architecture.build(spec.shape, len(spec.classes), sizes, spec.intensity)
    if not isinstance(built.layers[1], layers.Rescaling):
        raise TypeError(f"{spec.architecture.key}: the model does not start with Rescaling")
    inputs = x = keras.Input(shape=built.input_shape[1:], dtype="float32")
    for layer in built.layers[2:]:
        x = layer(x)
    model = keras.Model(inputs, x, name="plain")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=spec.learning_rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _classes(n_classes: int) -> tuple[str, ...]:
    return tuple(f"class{i}" for i in range(n_classes))


class Trainee:
    """One model being timed: the project's pipeline or the plain float32 fit."""

    def __init__(
        self, run: Mapping[str, Any], clips: np.ndarray, labels: np.ndarray, task: Mapping
    ) -> None:
        self.run, self.n = run, int(run["n_clips"])
        clips, labels = clips[: self.n], labels[: self.n]
        classes = _classes(int(run["n_classes"]))
        shape = tuple(clips.shape[1:])
        training = TrainingParams.model_validate(task["training"])
        spec = self.spec = _spec(get(run["architecture"]), shape, classes, training)
        keras.utils.set_random_seed(task["seed"])
        keras.mixed_precision.set_global_policy(run.get("precision", "float32"))
        onehot = np.eye(len(classes), dtype="float32")[labels % len(classes)]
        if run["approach"].startswith("pipeline"):
            self.model = fresh_model(spec)
            data = make_dataset(clips, onehot, spec.batch_size, task["seed"], spec.frame_level)
            self.fit_args: dict[str, Any] = {"x": data}
        else:
            self.model = plain_model(spec)
            x, y = clips.astype("float32") / np.float32(255), onehot
            if spec.frame_level:
                x, y = x.reshape(-1, *x.shape[2:]), np.repeat(y, clips.shape[1], axis=0)
            self.fit_args = {"x": x, "y": y, "batch_size": spec.batch_size, "shuffle": True}
        keras.mixed_precision.set_global_policy("float32")
        self.timer = EpochTimer()

    def epoch(self) -> None:
        """One more epoch (``fit`` keeps the compiled train step between calls)."""
        done = len(self.timer.wall)
        fused = self.run["approach"].startswith("pipeline") and self.spec.fused_batch_norm
        with fused_batch_norm(self.model) if fused else nullcontext():  # as fit_model
            self.model.fit(**self.fit_args, initial_epoch=done, epochs=done + 1, verbose=0,
                           callbacks=[self.timer])  # fmt: skip

    def result(self) -> dict[str, Any]:
        timed_wall, timed_cpu = self.timer.wall[1:], self.timer.cpu[1:]
        fastest = min(timed_wall)
        frames = self.spec.shape[0] if self.spec.frame_level else 1
        return {
            **self.run,
            "batch_size": self.spec.batch_size,
            "warmup_epoch_seconds": self.timer.wall[0],
            "epoch_seconds": timed_wall,
            "epoch_cpu_seconds": timed_cpu,
            "clips_per_second": self.n / fastest,
            "cpu_utilisation": timed_cpu[timed_wall.index(fastest)] / fastest,
            **training_flops_per_clip(self.model, frames),
        }


def interleaved(
    group: list[Mapping[str, Any]], clips: np.ndarray, labels: np.ndarray, task: Mapping
) -> list[dict[str, Any]]:
    """Train the runs of ``group`` side by side: a warm-up epoch each (tracing), then the
    timed epochs in turns, so that other load on the machine hits every run alike."""
    keras.backend.clear_session()
    trainees = [Trainee(run, clips, labels, task) for run in group]
    for _ in range(1 + int(task["timed_epochs"])):
        for trainee in trainees:
            trainee.epoch()
    return [trainee.result() for trainee in trainees]


def run_throughput(task: Mapping[str, Any]) -> dict[str, Any]:
    """Every group of the task, in order, in this process."""
    if task["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    clips, labels = _load_clips(task)
    size, seconds = task["matmul_size"], task["matmul_seconds"]
    rates = [matmul_rate(size, min_seconds=seconds)]
    runs = [r for group in task["groups"] for r in interleaved(group, clips, labels, task)]
    rates.append(matmul_rate(size, min_seconds=seconds))
    return {"deterministic": task["deterministic"], "runs": runs, "matmul": rates}


def _load_clips(task: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n_clips`` clips, read into memory as the catalog loads a set (only those
    bytes are read: neither the whole file nor a memory map ever counts in this process)."""
    n = int(task["n_clips"])
    with Path(task["clips"]).open("rb") as handle:
        fmt = np.lib.format
        version = fmt.read_magic(handle)
        header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, fortran, dtype = header(handle)
        if fortran:
            raise ValueError(f"{task['clips']}: Fortran-ordered arrays are not supported")
        count = n * int(np.prod(shape[1:]))
        clips = np.fromfile(handle, dtype=dtype, count=count).reshape(n, *shape[1:])
    return clips, np.load(task["labels"])[:n]


def run_memory(task: Mapping[str, Any]) -> dict[str, Any]:
    """Resident memory of one run on ``n_clips`` clips held in memory: ``scope: training`` is a
    training run as the train node runs a fold (``fit_model``: the model's activations
    included), ``scope: input_pipeline`` only iterates the same ``tf.data`` pipeline."""
    if task["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    rss_start = (status_kib("VmRSS") or 0) * 1024
    clips, labels = _load_clips(task)
    rss_loaded = (status_kib("VmRSS") or 0) * 1024
    classes = _classes(int(task["n_classes"]))
    training = TrainingParams.model_validate(
        {**task["training"], "epochs": task["epochs"], "keras_verbose": 0}
    )
    spec = _spec(get(task["architecture"]), tuple(clips.shape[1:]), classes, training)
    started = time.perf_counter()
    if task["scope"] == "input_pipeline":
        onehot = np.eye(len(classes), dtype="float32")[labels % len(classes)]
        data = make_dataset(clips, onehot, spec.batch_size, task["seed"], spec.frame_level)
        for _ in range(spec.epochs):
            for _batch in data:
                pass
    else:
        ids = [f"clip{i:05d}" for i in range(len(clips))]
        table = pd.DataFrame(
            {
                "sample_id": ids,
                "source_clip_id": ids,
                "subject": [f"s{i % 7}" for i in range(len(clips))],
                "label": [classes[i % len(classes)] for i in labels],
                "is_augmented": False,
                "row": np.arange(len(clips)),
            }
        ).set_index("sample_id", drop=False)
        fit_model(spec, clips, table, task["seed"])
    return {
        "scope": task["scope"],
        "architecture": task["architecture"],
        "n_clips": len(clips),
        "epochs": spec.epochs,
        "data_bytes_uint8": int(clips.nbytes),
        "data_bytes_float32": int(clips.size * 4),
        "rss_start_bytes": rss_start,
        "rss_after_load_bytes": rss_loaded,
        "peak_rss_bytes": peak_rss_bytes(),
        "seconds": time.perf_counter() - started,
    }


TASKS = {"throughput": run_throughput, "memory": run_memory}


def main(argv: list[str]) -> None:
    task_path, result_path = argv
    task = json.loads(Path(task_path).read_text())
    result = TASKS[task["kind"]](task)
    Path(result_path).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
