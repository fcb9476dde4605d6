"""Optical flow models' training: measured in a worker process, projected to a LOSO study.

Each flow model of the profile on random float16 28 x 28 x 3 flow fields through the
project's input pipeline (``make_dataset``, as a fold trains), in a process of its own (op
determinism as configured), with the sample's settings and with the references'. An epoch's
time is measured at two data sizes (a SAMM LOSO fold's ~153 clips and a larger set), giving
``t(n) = a + b n`` (``a``: the fixed cost of an epoch, ``1 / b``: the marginal clips/s), and a
fit's own fixed cost (building the model, tracing the first epoch and the first prediction).
The projected LOSO time on SAMM-sized data (159 clips, 29 subjects: 29 folds + 1 final fit on
all clips; no augmentation, as the references) is::

    T = 30 * overhead + E * (29 * t(159 - 159 / 29) + t(159)) + 159 / prediction rate

The worker is ``python -m benchmarks.flow TASK.json RESULT.json`` (``run_training_task``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.subprocesses import jsonable, run_worker
from benchmarks.timing import log, timed

# SAMM (CASME-style 5-class LOSO in the references): 159 clips of 29 subjects.
SAMM_CLIPS, SAMM_SUBJECTS = 159, 29
FLOW_SHAPE = (28, 28, 3)
SETTINGS = ("sample", "reference")
PREDICT_CLIPS = 6  # a LOSO fold's test subject: ~159 / 29 clips


def _training_params(
    training: Mapping[str, Any], architecture: str, setting: str, references: Mapping[str, Any]
) -> dict[str, Any]:
    """``training`` with the architecture's overrides of ``setting`` (the sample's, conf/base;
    the references', ``references``: conf/real's overrides), validation off."""
    block = dict(training["architectures"][architecture])
    overrides = dict(block.get("overrides") or {})
    if setting == "reference":
        overrides.update(references[architecture])
    overrides["validation_fraction"] = 0.0
    return {
        **training,
        "keras_verbose": 0,
        "architectures": {
            **training["architectures"],
            architecture: {**block, "overrides": overrides},
        },
    }


def _fit_measure(task: Mapping[str, Any], architecture: str, setting: str) -> dict[str, Any]:
    """One architecture under one setting: epochs at the two sizes, the fit's fixed cost,
    prediction clips/s, parameters."""
    import keras

    from microexpression_pipeline.models import get
    from microexpression_pipeline.models.building import predict
    from microexpression_pipeline.pipelines.train.fitting import (
        _callbacks,
        fresh_model,
        make_dataset,
    )
    from microexpression_pipeline.pipelines.train.nodes import _spec
    from microexpression_pipeline.pipelines.train.schema import TrainingParams

    training = TrainingParams.model_validate(
        _training_params(task["training"], architecture, setting, task["references"])
    )
    classes = tuple(f"c{i}" for i in range(int(task["n_classes"])))
    spec = _spec(get(architecture), FLOW_SHAPE, classes, training)
    rng = np.random.default_rng(task["seed"])
    sizes = [int(n) for n in task["sizes"]]
    x = rng.normal(0.0, 1.0, (max(sizes), *FLOW_SHAPE)).astype(np.float16)
    onehot = np.eye(len(classes), dtype="float32")[rng.integers(0, len(classes), len(x))]
    epochs: dict[str, Any] = {}
    first: dict[str, Any] = {}
    overhead, predict_s, params = 0.0, 0.0, 0
    for n in sizes:
        keras.backend.clear_session()
        keras.utils.set_random_seed(task["seed"])
        model, build_s, _ = timed(lambda: fresh_model(spec))
        data = make_dataset(
            x[:n], onehot[:n], spec.batch_size, task["seed"], False, None, spec.drop_remainder
        )
        callbacks = _callbacks(spec, False)

        def fit(k: int, model: Any = model, data: Any = data, callbacks: list = callbacks) -> None:
            model.fit(data, epochs=k, callbacks=callbacks, verbose=0, shuffle=False)

        _, first_s, _ = timed(lambda: fit(1))
        _, second_s, _ = timed(lambda: fit(1))
        k = max(int(task["min_epochs"]), math.ceil(float(task["seconds"]) / max(second_s, 1e-4)))
        k = min(k, int(task["max_epochs"]))
        _, wall, cpu = timed(lambda: fit(k))  # noqa: B023
        steps = n // spec.batch_size if spec.drop_remainder and n >= spec.batch_size else None
        fitted = steps * spec.batch_size if steps else n
        epochs[str(n)] = {
            "clips": n,
            "clips_fitted_per_epoch": fitted,
            "epochs_timed": k,
            "epoch_seconds": wall / k,
            "clips_per_second": fitted * k / wall,
            "cpu_per_wall": cpu / wall,
            "first_epoch_seconds": first_s,
        }
        first[str(n)] = {"build_seconds": build_s, "first_epoch_seconds": first_s}
        if n == min(sizes):
            test = x[:PREDICT_CLIPS]
            _, predict_first_s, _ = timed(lambda: predict(model, test, spec.batch_size))  # noqa: B023
            overhead = build_s + max(0.0, first_s - wall / k) + predict_first_s
        if n == max(sizes):
            big = x[:n]
            predict(model, big, spec.batch_size)
            _, predict_s, _ = timed(lambda: predict(model, big, spec.batch_size))  # noqa: B023
            params = int(model.count_params())
    return {
        "architecture": architecture,
        "setting": setting,
        "batch_size": spec.batch_size,
        "epochs_configured": spec.epochs,
        "optimizer": spec.optimizer,
        "learning_rate": spec.learning_rate,
        "drop_last_batch": spec.drop_remainder,
        "parameters": params,
        "epochs": epochs,
        "fit_overhead_seconds": overhead,
        "fit_overhead_parts": first,
        "prediction_clips_per_second": max(sizes) / predict_s,
    }


def run_training_task(task: Mapping[str, Any]) -> dict[str, Any]:
    """The worker: every (architecture, setting) of the task in this process."""
    import tensorflow as tf

    if task["deterministic"]:
        tf.config.experimental.enable_op_determinism()
    runs = []
    for architecture in task["architectures"]:
        for setting in task["settings"]:
            log(f"flow training {architecture} ({setting})")
            runs.append(_fit_measure(task, architecture, setting))
    return {"runs": runs}


def loso_projection(run: Mapping[str, Any], fold_clips: int) -> dict[str, Any]:
    """Projected LOSO time on SAMM-sized data from an architecture's measured epochs."""
    points = sorted((e["clips"], e["epoch_seconds"]) for e in run["epochs"].values())
    (n1, t1), (n2, t2) = points[0], points[-1]
    slope = (t2 - t1) / (n2 - n1) if n2 != n1 else t1 / n1
    model = "a + b n"
    if slope <= 0:  # the larger epoch was not slower (noise at tiny sizes): t proportional
        slope, model = t2 / n2, "b n (the larger epoch was not slower)"
    fixed = max(0.0, t1 - slope * n1)

    def epoch(n: float) -> float:
        return fixed + slope * n

    fit_n = SAMM_CLIPS - SAMM_CLIPS / SAMM_SUBJECTS
    epochs = run["epochs_configured"]
    fits = SAMM_SUBJECTS + 1
    training_s = epochs * (SAMM_SUBJECTS * epoch(fit_n) + epoch(SAMM_CLIPS))
    overhead_s = fits * run["fit_overhead_seconds"]
    predict_s = SAMM_CLIPS / run["prediction_clips_per_second"]
    large = run["epochs"][str(n2)]["clips_per_second"]
    naive_s = epochs * (SAMM_SUBJECTS * fit_n + SAMM_CLIPS) / large
    return {
        "folds": SAMM_SUBJECTS,
        "fits": fits,
        "mean_fit_clips": fit_n,
        "epochs": epochs,
        "epoch_model": model,
        "epoch_fixed_seconds": fixed,
        "marginal_clips_per_second": 1 / slope if slope > 0 else None,
        "epoch_seconds_at_fold": epoch(fit_n),
        "measured_at_clips": [n1, n2],
        "fold_size_measured": n1 == fold_clips,
        "training_hours": training_s / 3600,
        "overhead_hours": overhead_s / 3600,
        "prediction_hours": predict_s / 3600,
        "hours": (training_s + overhead_s + predict_s) / 3600,
        "steady_rate_hours": naive_s / 3600,
    }


def reference_overrides(study: Mapping[str, Any], architectures: tuple[str, ...]) -> dict:
    """The references' training settings: each flow model's overrides in conf/real."""
    blocks = study["training"]["architectures"]
    return {a: jsonable((blocks.get(a) or {}).get("overrides") or {}) for a in architectures}


def training_rates(
    params: Mapping[str, Any],
    study: Mapping[str, Any],
    architectures: tuple[str, ...],
    sizes: tuple[int, int],
    seconds: float,
    seed: int,
    folder: Path,
) -> dict[str, Any]:
    """The flow models' training rates and projected LOSO times, per setting."""
    training = jsonable(params["training"])
    task = {
        "training": training,
        "references": reference_overrides(study, architectures),
        "architectures": list(architectures),
        "settings": list(SETTINGS),
        "sizes": list(sizes),
        "seconds": seconds,
        "min_epochs": 2 if seconds > 0 else 1,
        "max_epochs": 400,
        "n_classes": 3,
        "seed": seed,
        "deterministic": bool(training.get("deterministic", True)),
    }
    timeout = 300 + 60 * len(architectures) * len(SETTINGS)
    done = run_worker(task, folder, "flow", timeout, module="benchmarks.flow")
    out: dict[str, Any] = {}
    for run in done["runs"]:
        key = f"{run['architecture']}/{run['setting']}"
        out[key] = {**run, "loso": loso_projection(run, sizes[0])}
    return {
        "deterministic": task["deterministic"],
        "n_classes": task["n_classes"],
        "sizes": list(sizes),
        "runs": out,
        "references": task["references"],
    }
