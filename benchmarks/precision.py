"""Training in float32 against mixed precision, per architecture, interleaved in one process.

``python -m benchmarks.precision [--repeats N] [--clips N] [--out DIR]``: the study's four
architectures at conf/real's crop (9 x 128 x 128, the binary sizes of conf/base) and STSTNet
on 28 x 28 x 3 flow; per repeat one training epoch of each precision, alternating, after a
warm-up epoch each. ``mixed_bfloat16`` is measured where the CPU has bfloat16 units (AVX-512
BF16 or AMX; the machine line says) or a GPU is present, ``mixed_float16`` where a GPU is.
Both models of an architecture start from the same weights; the report gives how far their
first outputs differ. Results: ``DIR/precision.json`` and ``.md`` (default: a new
``data/09_benchmarks/<UTC time>/``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import standalone
from benchmarks.timing import log

ROOT = Path(__file__).resolve().parents[1]
SHAPE, FLOW = (9, 128, 128), (28, 28, 3)
BATCH = {"3dcnn": 16, "cnn_lstm": 16, "convlstm2d": 16, "2dcnn": 32, "ststnet": 16}


def precisions(machine: dict[str, Any]) -> list[str]:
    """float32, and the mixed precisions this machine has the units for."""
    found = ["float32"]
    if machine["gpus"] or {"avx512_bf16", "amx_bf16"} & set(machine["cpu_flags"]):
        found.append("mixed_bfloat16")
    if machine["gpus"]:
        found.append("mixed_float16")
    return found


def measure(repeats: int, clips: int, chosen: list[str]) -> dict[str, Any]:
    import keras

    from benchmarks.worker import EpochTimer
    from microexpression_pipeline.models import get
    from microexpression_pipeline.models.building import build_model
    from microexpression_pipeline.models.precision import dtype_policy
    from microexpression_pipeline.pipelines.train.schema import TrainingParams

    params = standalone.parameters()
    training = TrainingParams.model_validate(params["training"])
    rng = np.random.default_rng(0)
    results: dict[str, Any] = {}
    for key, batch in BATCH.items():
        architecture = get(key)
        if architecture.sees == "flow":
            shape, x = FLOW, rng.normal(size=(clips, *FLOW)).astype("float32")
        else:
            shape, x = SHAPE, rng.integers(0, 256, (clips, *SHAPE), dtype=np.uint8)
        y = np.eye(2, dtype="float32")[rng.integers(0, 2, clips)]
        if architecture.frame_level:  # trained on single frames
            x, y = x.reshape(-1, *SHAPE[1:]), np.repeat(y, SHAPE[0], axis=0)
        models = {}
        for precision in chosen:
            keras.utils.set_random_seed(1)
            with dtype_policy(precision):
                models[precision] = build_model(
                    architecture, shape, 2, training.architectures[key], 1e-3, "temporal"
                )
        first = {p: np.asarray(m(x[:batch], training=False)) for p, m in models.items()}
        times: dict[str, list[float]] = {p: [] for p in chosen}
        for model in models.values():
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # warm-up
        for _ in range(repeats):
            for precision, model in models.items():
                timer = EpochTimer()  # the epoch itself: fit's tear-down stalls at random
                model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[timer])
                times[precision] += timer.wall
        row = {
            p: {"epoch_best_s": round(min(t), 3), "epoch_median_s": round(float(np.median(t)), 3)}
            for p, t in times.items()
        }
        for precision in chosen[1:]:
            row[precision]["speed_up_best"] = round(
                row["float32"]["epoch_best_s"] / row[precision]["epoch_best_s"], 2
            )
            row[precision]["first_output_max_diff"] = float(
                np.abs(first[precision] - first["float32"]).max()
            )
        results[key] = row
        log(f"{key}: {row}")
        keras.backend.clear_session()
    return results


def markdown(result: dict[str, Any]) -> str:
    chosen = result["precisions"]
    lines = [
        "# Training precision: float32 against mixed precision", "",
        f"Machine: {result['machine_line']}", "",
        f"{result['clips']} random clips of {SHAPE} (STSTNet: flow {FLOW}), conf/base's "
        f"binary sizes, one epoch per measurement, {result['repeats']} interleaved repeats.",
        "", "| architecture | " + " | ".join(
            f"{p} best s | {p} median s" + (" | speed-up | first outputs differ by"
                                             if p != "float32" else "") for p in chosen) + " |",
        "|---" * (1 + 2 * len(chosen) + 2 * (len(chosen) - 1)) + "|",
    ]  # fmt: skip
    for key, row in result["architectures"].items():
        cells = [key]
        for p in chosen:
            cells += [str(row[p]["epoch_best_s"]), str(row[p]["epoch_median_s"])]
            if p != "float32":
                cells += [f"{row[p]['speed_up_best']}x", f"{row[p]['first_output_max_diff']:.1e}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    arguments = standalone.parser(__doc__)
    arguments.add_argument("--repeats", type=int, default=3)
    arguments.add_argument("--clips", type=int, default=32)
    args = arguments.parse_args(argv)
    described = standalone.machine()
    chosen = precisions(described["machine"])
    result = {"architectures": measure(args.repeats, args.clips, chosen), "precisions": chosen,
              "repeats": args.repeats, "clips": args.clips} | described  # fmt: skip
    return standalone.write(args.out, "precision", result, markdown)


if __name__ == "__main__":
    raise SystemExit(main())
