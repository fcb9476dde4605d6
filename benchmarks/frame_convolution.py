"""cnn+lstm's per-frame CNN as the study's TimeDistributed Conv2D against the same function as
depth-1 Conv3D (``frame_convolution``), interleaved in one process.

``python -m benchmarks.frame_convolution [--repeats N] [--out DIR]``: clips of 9 x 128 x 128
(conf/real's crop), the binary sizes of conf/base, batches of 16, 64 random clips; per repeat
one training epoch and one prediction pass of each form, alternating, after a warm-up epoch
each. Reports the best and median epoch and prediction times and their ratio. Results:
``DIR/frame_convolution.json`` and ``.md`` (default: a new ``data/09_benchmarks/<UTC time>/``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import standalone
from benchmarks.timing import log

ROOT = Path(__file__).resolve().parents[1]
SHAPE, BATCH, CLIPS = (9, 128, 128), 16, 64
FORMS = ("time_distributed", "conv3d")


def _models() -> dict[str, Any]:
    import keras

    from microexpression_pipeline.models import get
    from microexpression_pipeline.models.building import build_model
    from microexpression_pipeline.pipelines.train.schema import TrainingParams

    training = standalone.parameters()["training"]
    block = TrainingParams.model_validate(training).architectures["cnn_lstm"]
    models = {}
    for form in FORMS:
        keras.utils.set_random_seed(1)
        variant = block.binary.model_copy(update={"frame_convolution": form})
        models[form] = build_model(get("cnn_lstm"), SHAPE, 2,
                                   block.model_copy(update={"binary": variant}), 0.001)  # fmt: skip
    return models


def measure(repeats: int) -> dict[str, Any]:
    """Seconds per training epoch and per prediction pass of each form, interleaved."""
    from benchmarks.worker import EpochTimer

    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (CLIPS, *SHAPE), dtype=np.uint8)
    labels = np.eye(2, dtype="float32")[rng.integers(0, 2, CLIPS)]
    models = _models()
    times: dict[str, dict[str, list[float]]] = {f: {"epoch": [], "predict": []} for f in FORMS}
    for model in models.values():
        model.fit(clips, labels, batch_size=BATCH, epochs=1, verbose=0)  # warm-up
        model.predict(clips, batch_size=BATCH, verbose=0)
    for repeat in range(repeats):
        for form, model in models.items():
            timer = EpochTimer()  # the epoch itself: fit's tear-down stalls at random
            model.fit(clips, labels, batch_size=BATCH, epochs=1, verbose=0, callbacks=[timer])
            times[form]["epoch"] += timer.wall
            started = time.perf_counter()
            model.predict(clips, batch_size=BATCH, verbose=0)
            times[form]["predict"].append(time.perf_counter() - started)
        log(f"repeat {repeat + 1}/{repeats}")
    summary = {
        form: {f"{kind}_{stat}_s": round(float(fn(values)), 3)
               for kind, values in kinds.items()
               for stat, fn in (("best", np.min), ("median", np.median))}
        for form, kinds in times.items()
    }  # fmt: skip
    before, after = summary["time_distributed"], summary["conv3d"]
    summary["speed_up"] = {key: round(before[key] / after[key], 2) for key in before}
    return summary


def markdown(result: dict[str, Any]) -> str:
    rows = [f"| {form} | " + " | ".join(str(v) for v in result[form].values()) + " |"
            for form in FORMS]  # fmt: skip
    header = " | ".join(result[FORMS[0]])
    return "\n".join([
        "# cnn+lstm: TimeDistributed Conv2D vs depth-1 Conv3D (same function)", "",
        f"Machine: {result['machine_line']}", "",
        f"{CLIPS} clips of {SHAPE}, batches of {BATCH}, {result['repeats']} interleaved repeats.",
        "", f"| form | {header} |", "|---" * (len(result[FORMS[0]]) + 1) + "|", *rows, "",
        "Speed-up (TimeDistributed / Conv3D): "
        + ", ".join(f"{k} {v}x" for k, v in result["speed_up"].items()), "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    arguments = standalone.parser(__doc__)
    arguments.add_argument("--repeats", type=int, default=7)
    args = arguments.parse_args(argv)
    result = measure(args.repeats) | {"repeats": args.repeats} | standalone.machine()
    return standalone.write(args.out, "frame_convolution", result, markdown)


if __name__ == "__main__":
    raise SystemExit(main())
