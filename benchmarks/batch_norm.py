"""Batch normalisation trained on Keras' ops against TensorFlow's fused kernel, interleaved in
one process, for every model variant that normalises batches.

``python -m benchmarks.batch_norm [--repeats N] [--clips N] [--out DIR]``: the study's 2D CNN
(binary and multiclass sizes of conf/base, batches of 128 frames) and multiclass 3D CNN
(batches of 16) on ``N`` random clips at conf/real's crop (9 x 128 x 128); STSTNet and RCN-A
on ``8 N`` random 28 x 28 x 3 flow fields at their references' batch sizes. Per variant, two
models from the same weights and seeds, Keras' layer (``keras``) and the fused kernel as
``fit_model`` trains (``fused``, ``models.batch_norm``): a warm-up epoch each, then one epoch
of each in turn per repeat, on the same batches (no shuffling), op determinism off. An epoch
is timed from its start to its end: a ``fit`` call's own set-up and tear-down are left out
(they stall up to 2.3 s at random on TensorFlow 2.21's CPU build). The report gives best and
median epochs, the speed-up, the share of the dense matmul rate (the best of the rates
measured before and after, in the same process), how far the two models' training-mode
outputs are apart from the same initial weights (the same function: float rounding only),
and their predictions after the same epochs (rounding differences grow through training).
Results: ``DIR/batch_norm.json`` and ``.md`` (default: a new ``data/09_benchmarks/<UTC
time>/``).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from benchmarks import standalone
from benchmarks.timing import log

SHAPE, FLOW = (9, 128, 128), (28, 28, 3)
# (architecture, size variant, batch size): the variants with batch normalisation
VARIANTS = [("2dcnn", "binary", 128), ("2dcnn", "multiclass", 128), ("3dcnn", "multiclass", 16),
            ("ststnet", "multiclass", 256), ("rcn_a", "multiclass", 64)]  # fmt: skip
FORMS = ("keras", "fused")
FLOW_CLIPS = 8  # flow fields per clip of --clips (the flow models are tiny)


def measure(repeats: int, clips: int) -> dict[str, Any]:
    import keras

    from benchmarks.flops import matmul_rate, training_flops_per_clip
    from benchmarks.worker import EpochTimer
    from microexpression_pipeline.models import get
    from microexpression_pipeline.models.batch_norm import fused_batch_norm
    from microexpression_pipeline.models.building import build_model
    from microexpression_pipeline.pipelines.train.schema import TrainingParams

    training = TrainingParams.model_validate(standalone.parameters()["training"])
    rates = [matmul_rate(2048)["gflops"]]
    rng = np.random.default_rng(0)
    results: dict[str, Any] = {}
    for key, variant, batch in VARIANTS:
        architecture = get(key)
        n_classes = 2 if variant == "binary" else 3
        if architecture.sees == "flow":
            n = clips * FLOW_CLIPS
            shape, x = FLOW, rng.normal(size=(n, *FLOW)).astype("float32")
        else:
            n = clips
            shape, x = SHAPE, rng.integers(0, 256, (n, *SHAPE), dtype=np.uint8)
        y = np.eye(n_classes, dtype="float32")[rng.integers(0, n_classes, n)]
        frames = SHAPE[0] if architecture.frame_level else 1
        if architecture.frame_level:  # trained on single frames
            x, y = x.reshape(-1, *SHAPE[1:]), np.repeat(y, SHAPE[0], axis=0)
        models = {}
        for form in FORMS:
            keras.utils.set_random_seed(1)  # the same weights and dropout seeds
            models[form] = build_model(
                architecture, shape, n_classes, training.architectures[key], 1e-3, "temporal"
            )
        first = {}  # training-mode outputs from the same initial weights: the same function?
        for form, model in models.items():
            with fused_batch_norm(model) if form == "fused" else nullcontext():
                first[form] = np.asarray(model(x[:batch], training=True))
        times: dict[str, list[float]] = {form: [] for form in models}
        for turn in range(1 + repeats):  # a warm-up epoch each (tracing), then the timed ones
            for form, model in models.items():
                timer = EpochTimer()  # the epoch itself: not fit's set-up and tear-down
                with fused_batch_norm(model) if form == "fused" else nullcontext():
                    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False,
                              callbacks=[timer])  # fmt: skip
                if turn:
                    times[form] += timer.wall
        outputs = {f: np.asarray(m.predict(x[:batch], verbose=0)) for f, m in models.items()}
        flops = training_flops_per_clip(models["keras"], frames)["training_flops_per_clip"]
        row: dict[str, Any] = {"batch": batch, "clips": n, "train_gflop_per_clip": flops / 1e9}
        for form, t in times.items():
            best = min(t)
            row[form] = {
                "epoch_best_s": round(best, 3),
                "epoch_median_s": round(float(np.median(t)), 3),
                "speed_up_best": round(min(times["keras"]) / best, 2),
                "achieved_gflops": n * flops / 1e9 / best,
                "first_outputs_max_diff": float(np.abs(first[form] - first["keras"]).max()),
                "predictions_max_diff": float(np.abs(outputs[form] - outputs["keras"]).max()),
            }
        results[f"{key} {variant}"] = row
        log(f"{key} {variant}: {row}")
        keras.backend.clear_session()
    rates.append(matmul_rate(2048)["gflops"])
    rate = max(rates)  # other load only ever lowers it
    for row in results.values():
        for form in FORMS:
            row[form]["matmul_share"] = round(row[form]["achieved_gflops"] / rate, 3)
    return {"architectures": results, "matmul_gflops": round(rate, 1),
            "matmul_gflops_all": [round(r, 1) for r in rates]}  # fmt: skip


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Batch normalisation: Keras' ops against the fused kernel", "",
        f"Machine: {result['machine_line']}", "",
        f"Random clips of {SHAPE} (flow models: {FLOW}), conf/base's sizes, one epoch per "
        f"measurement, {result['repeats']} interleaved repeats, op determinism off; dense "
        f"matmul rate {result['matmul_gflops']} GFLOP/s (float32 2048 x 2048, best of "
        f"{result['matmul_gflops_all']}).", "",
        "| model | clips | batch | GFLOP/clip (train) | Keras best s | Keras median s "
        "| fused best s | fused median s | speed-up | share of matmul (Keras / fused) "
        "| first outputs differ by | predictions after training differ by |",
        "|---" * 12 + "|",
    ]  # fmt: skip
    for name, row in result["architectures"].items():
        k, f = row["keras"], row["fused"]
        lines.append(
            f"| {name} | {row['clips']} | {row['batch']} | {row['train_gflop_per_clip']:.3g} | "
            f"{k['epoch_best_s']} | {k['epoch_median_s']} | {f['epoch_best_s']} | "
            f"{f['epoch_median_s']} | {f['speed_up_best']}x | "
            f"{k['matmul_share']:.0%} / {f['matmul_share']:.0%} | "
            f"{f['first_outputs_max_diff']:.1e} | {f['predictions_max_diff']:.1e} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    arguments = standalone.parser(__doc__)
    arguments.add_argument("--repeats", type=int, default=3)
    arguments.add_argument("--clips", type=int, default=64)
    args = arguments.parse_args(argv)
    result = measure(args.repeats, args.clips) | {"repeats": args.repeats, "clips": args.clips}
    return standalone.write(args.out, "batch_norm", result | standalone.machine(), markdown)


if __name__ == "__main__":
    raise SystemExit(main())
