"""Evaluation units per second: in-process (serial) against a local Dask cluster, one run.

``python -m benchmarks.units [--subjects N] [--out DIR]``: a LOSO over ``N`` subjects (N folds
and the final model: N + 1 units) of the 3D CNN and of STSTNet at the embedded sample's
settings (conf/base), on random clips of the sample's crop size and flow fields, each run
in-process and on local clusters of 2 workers x 1 TensorFlow thread and 1 worker x all the
cores. A cluster is started and warmed up (its workers import TensorFlow) before it is timed;
its start-up is reported apart. Predictions are compared with the in-process run's: equal
bit for bit at the same threads per unit, within float tolerance otherwise. Results:
``DIR/units.json`` and ``.md`` (default: a new ``data/09_benchmarks/<UTC time>/``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks import standalone
from benchmarks.timing import log

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURES = ("3dcnn", "ststnet")
CLIPS_PER_SUBJECT, COPIES = 6, 1


def _data(subjects: int, crop: int) -> dict[str, tuple[dict, pd.DataFrame]]:
    """Random frame clips (9 x crop x crop) and flow fields (28 x 28 x 3), with originals and
    copies per subject, two balanced classes."""
    rng = np.random.default_rng(0)
    rows = []
    for s in range(subjects):
        for c in range(CLIPS_PER_SUBJECT):
            for copy in range(COPIES + 1):
                clip = f"{s:03d}_{c}"
                rows.append({"sample_id": clip if copy == 0 else f"{clip}#aug{copy}",
                             "source_clip_id": clip, "subject": f"{s:03d}",
                             "label": ("negative", "positive")[c % 2],
                             "is_augmented": copy > 0, "copy_index": copy})  # fmt: skip
    samples = pd.DataFrame(rows)
    ids = samples["sample_id"].to_numpy("U")
    frames = rng.integers(0, 256, (len(samples), 9, crop, crop), dtype=np.uint8)
    flow = rng.normal(size=(len(samples), 28, 28, 3)).astype(np.float16)
    return {
        "clip": ({"clips": frames, "sample_ids": ids}, samples),
        "flow": ({"clips": flow, "sample_ids": ids}, samples),
    }


def measure(subjects: int) -> dict[str, Any]:

    from microexpression_pipeline.compute import ComputeParams, close_clients
    from microexpression_pipeline.compute.cluster import machine_cores
    from microexpression_pipeline.models import get
    from microexpression_pipeline.pipelines.train.nodes import train_and_evaluate
    from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams

    params = standalone.parameters()
    training = TrainingParams.model_validate(params["training"] | {"keras_verbose": 0})
    evaluation = EvaluationParams.model_validate(params["evaluation"] | {"protocol": "loso"})
    mapping = {"binary": {"negative": ["negative"], "positive": ["positive"]}}
    sets = _data(subjects, params["ingestion"]["image_size"])
    cores = machine_cores()
    settings = {
        "in-process": ComputeParams(),
        "local 2 x 1 thread": ComputeParams(scheduler="local", workers=2, threads_per_worker=1),
        f"local 1 x {cores} threads": ComputeParams(
            scheduler="local", workers=1, threads_per_worker=cores
        ),
    }

    def evaluate(key: str, compute: ComputeParams, n_subjects: int | None = None):
        architecture = get(key)
        arrays, samples = sets[architecture.transform_set]
        if n_subjects is not None:  # a warm-up on fewer subjects
            keep = samples["subject"].astype(int) < n_subjects
            arrays = {"clips": arrays["clips"][keep.to_numpy()],
                      "sample_ids": arrays["sample_ids"][keep.to_numpy()]}  # fmt: skip
            samples = samples.loc[keep].reset_index(drop=True)
        meta = {"mode": "binary", "classes": list(mapping["binary"]),
                "label_mapping": mapping["binary"],
                "transform_set": architecture.transform_set}  # fmt: skip
        started = time.perf_counter()
        outputs = train_and_evaluate(architecture, arrays, samples, meta, training, evaluation,
                                     42, "binary", mapping, {}, compute)  # fmt: skip
        return outputs, time.perf_counter() - started

    results: dict[str, Any] = {"subjects": subjects, "units": subjects + 1, "cores": cores}
    reference: dict[str, pd.DataFrame] = {}
    for name, compute in settings.items():
        started = time.perf_counter()
        if compute.scheduler is not None:
            evaluate("ststnet", compute, n_subjects=2)  # starts the cluster, imports TensorFlow
        start_up = time.perf_counter() - started
        row: dict[str, Any] = {"start_up_s": round(start_up, 1)}
        for key in ARCHITECTURES:
            (predictions, *_, summary), seconds = evaluate(key, compute)
            probabilities = predictions.filter(like="prob_").to_numpy()
            row[key] = {"seconds": round(seconds, 1),
                        "units_per_s": round((subjects + 1) / seconds, 3),
                        "unit_wall_s_sum": summary["compute"]["unit_wall_seconds"],
                        "workers": len(summary["compute"]["workers"])}  # fmt: skip
            if name == "in-process":
                reference[key] = predictions
            else:
                expected = reference[key].filter(like="prob_").to_numpy()
                row[key]["equal"] = bool(np.array_equal(probabilities, expected))
                row[key]["max_abs_diff"] = float(np.abs(probabilities - expected).max())
                row[key]["labels_agree"] = float(
                    (predictions["predicted_label"] == reference[key]["predicted_label"]).mean()
                )
            log(f"{name} {key}: {row[key]}")
        close_clients()
        results[name] = row
    for key in ARCHITECTURES:
        serial = results["in-process"][key]["units_per_s"]
        for name in list(settings)[1:]:
            results[name][key]["speed_up"] = round(results[name][key]["units_per_s"] / serial, 2)
    return results


def markdown(result: dict[str, Any]) -> str:
    names = [k for k in result if isinstance(result[k], dict) and "start_up_s" in result[k]]
    lines = [
        "# Evaluation units: in-process against a local Dask cluster", "",
        f"Machine: {result['machine_line']}", "",
        f"LOSO over {result['subjects']} subjects ({result['units']} units per architecture), "
        "conf/base's training settings, random clips and flow fields.", "",
        "| where | start-up s | " + " | ".join(
            f"{a} s | {a} units/s | {a} speed-up | {a} predictions" for a in ARCHITECTURES
        ) + " |",
        "|---" * (2 + 4 * len(ARCHITECTURES)) + "|",
    ]  # fmt: skip
    for name in names:
        row = result[name]
        cells = [name, str(row["start_up_s"] if name != "in-process" else "-")]
        for a in ARCHITECTURES:
            r = row[a]
            same = (
                "reference"
                if "equal" not in r
                else (
                    "identical"
                    if r["equal"]
                    else f"max diff {r['max_abs_diff']:.1e}, labels {r['labels_agree']:.0%} same"
                )
            )
            cells += [str(r["seconds"]), str(r["units_per_s"]), f"{r.get('speed_up', 1.0)}x",
                      same]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    arguments = standalone.parser(__doc__)
    arguments.add_argument("--subjects", type=int, default=12)
    args = arguments.parse_args(argv)
    result = measure(args.subjects) | standalone.machine()
    return standalone.write(args.out, "units", result, markdown)


if __name__ == "__main__":
    raise SystemExit(main())
