"""The MEGC 2019 composite's LOSO of STSTNet at its reference settings, on this machine.

``python -m benchmarks.megc2019 [--folds K] [--out DIR]``. In a temporary project copy:

1. ``kedro run --env real --pipeline=megc2019`` on the synthetic sample
   (``data_source:synthetic``) up to the composite's flow set: sample generation, ingestion
   of the three datasets at the real settings' 128 px, the composite (442 clips, 68
   subjects), and every clip's TV-L1 flow (no augmented copies, as the references);
2. the first ``K`` of the 68 LOSO folds trained through the train pipeline's own fold code
   (``make_folds``, ``run_fold``) with conf/real's STSTNet settings (Adam 5e-5, batches of
   256, 800 epochs), each fold's build / fit / predict seconds and its first and later epochs
   timed;
3. the per-epoch cost of STSTNet's parts: the model as built (its three streams as one
   16-filter convolution) beside the reference's three separate streams (the same function),
   and without its batch normalisation or with Keras' own (not PyTorch-exact) max-pool
   padding.

The projection: preparation + 69 fits (68 folds and the final model) at the measured mean
fold time. Results: ``DIR/megc2019.json`` and ``DIR/megc2019.md`` (default DIR: a new
``data/09_benchmarks/<UTC time>/``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import standalone
from benchmarks.end_to_end import KEDRO, copy_project
from benchmarks.subprocesses import worker_env
from benchmarks.timing import log

ROOT = Path(__file__).resolve().parents[1]
PARAMS = "data_source:synthetic,model:ststnet"
UNTIL = "megc2019.augmentation.flow.flow_inputs"
TWO_WORKERS = 1.44  # benchmarks.units: two single-thread workers against one process, STSTNet
BARE = "the same maths as one hand-written TensorFlow step (no Keras; see _bare_tensorflow_ms)"


def _latest(folder: Path) -> Path:
    return sorted(p for p in folder.iterdir() if p.is_dir())[-1] / folder.name


def prepare(project: Path) -> float:
    """Run the pipeline up to the composite's flow set; its wall seconds."""
    argv = [KEDRO, "run", "--env", "real", "--pipeline=megc2019", "--params", PARAMS,
            "--to-nodes", UNTIL]  # fmt: skip
    log(f"preparation: {' '.join(argv[1:])}")
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=project, env=worker_env(), capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-3000:])
    return time.perf_counter() - started


def _reference_training(project: Path) -> Any:
    """conf/real's training parameters (merged over conf/base) as the train node gets them."""
    from kedro.config import OmegaConfigLoader

    from microexpression_pipeline.pipelines.train.schema import TrainingParams
    from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k not in ("base_env", "default_run_env")}
    loader = OmegaConfigLoader(str(project / "conf"), base_env="base", default_run_env="real",
                               **args)  # fmt: skip
    return TrainingParams.model_validate(loader["parameters"]["training"])


class _EpochClock:
    """Keras callback: the wall seconds of every epoch."""

    def __init__(self) -> None:
        import keras

        class Clock(keras.callbacks.Callback):
            def on_epoch_begin(inner, epoch: int, logs: Any = None) -> None:  # noqa: N805
                inner.started = time.perf_counter()

            def on_epoch_end(inner, epoch: int, logs: Any = None) -> None:  # noqa: N805
                self.seconds.append(time.perf_counter() - inner.started)

        self.seconds: list[float] = []
        self.callback = Clock()


def train_folds(project: Path, n_folds: int) -> dict[str, Any]:
    """The first ``n_folds`` LOSO folds of STSTNet on the composite's flow set, timed."""
    import pandas as pd
    import tensorflow as tf

    from microexpression_pipeline.models import ARCHITECTURES
    from microexpression_pipeline.pipelines.train.fitting import run_fold
    from microexpression_pipeline.pipelines.train.folds import make_folds
    from microexpression_pipeline.pipelines.train.nodes import _spec
    from microexpression_pipeline.pipelines.train.units import unit_seed

    data = project / "data/05_model_input/synthetic/megc2019/augmented/flow"
    with np.load(_latest(data / "clips.npz"), allow_pickle=False) as payload:
        clips = payload["clips"]
    samples = pd.read_parquet(_latest(data / "samples.parquet"))
    training = _reference_training(project)
    if training.deterministic:
        tf.config.experimental.enable_op_determinism()
    spec = _spec(ARCHITECTURES["ststnet"], tuple(clips.shape[1:]),
                 ("negative", "positive", "surprise"), training)  # fmt: skip
    folds = make_folds(samples, "loso")
    log(f"{len(folds)} folds of {len(samples)} samples; timing {n_folds} at {spec.epochs} epochs")
    measured = []
    for fold in folds[:n_folds]:
        clock = _EpochClock()
        started = time.perf_counter()
        predictions, _, record = run_fold(
            spec, clips, samples, fold.train_ids, fold.test_ids, unit_seed(42, fold.index),
            callbacks=[clock.callback],
        )  # fmt: skip
        total = time.perf_counter() - started
        epochs = np.asarray(clock.seconds)
        measured.append({
            "fold": fold.name, "train_samples": len(fold.train_ids),
            "test_clips": len(predictions), "seconds": round(total, 2), **record["seconds"],
            "first_epoch_s": round(float(epochs[0]), 3),
            "later_epoch_ms": round(float(np.median(epochs[1:])) * 1000, 1),
            "other_s": round(total - sum(record["seconds"].values()), 2),
        })  # fmt: skip
        log(f"fold {fold.name}: {measured[-1]}")
    return {"n_folds": len(folds), "epochs": spec.epochs, "batch_size": spec.batch_size,
            "learning_rate": spec.learning_rate, "folds": measured,
            "n_samples": len(samples)}  # fmt: skip


def _parts(n: int = 435, epochs: int = 20, rounds: int = 3) -> dict[str, float]:
    """Milliseconds per epoch of STSTNet and of variants without one of its costs: the best of
    ``rounds`` interleaved rounds of ``epochs`` epochs each."""
    import keras
    import tensorflow as tf
    from keras import layers

    from microexpression_pipeline.models.batch_norm import fused_batch_norm
    from microexpression_pipeline.models.flow_nets import (
        _edge,
        torch_batch_norm,
        torch_conv,
        torch_max_pool,
    )
    from microexpression_pipeline.models.inputs import flow_input

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (n, 28, 28, 3)).astype("float16")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]

    def keras_pool(s: Any) -> Any:
        return layers.MaxPooling2D(3, strides=3, padding="same")(s)

    def one_edge_pool(s: Any) -> Any:  # PyTorch's windows: only the leading pad is used
        for axis in (1, 2):
            s = layers.Concatenate(axis=axis)([_edge(s, axis, True), s])
        return layers.MaxPooling2D(3, strides=3)(s)

    def model(filters: tuple[int, ...], pool: Any, batch_norm: bool = True) -> Any:
        flow, h0 = flow_input((28, 28, 3), "minmax")
        streams = []
        for f in filters:
            s = layers.ReLU()(torch_conv(h0, f, 3, 2, "reference"))
            s = torch_batch_norm()(s) if batch_norm else s
            streams.append(layers.Dropout(0.5)(pool(s)))
        h = layers.Concatenate()(streams) if len(streams) > 1 else streams[0]
        h = layers.Flatten()(layers.AveragePooling2D(2)(h))
        return keras.Model(flow, layers.Dense(3, activation="softmax")(h))

    exact = lambda s: torch_max_pool(s, 3, 3, 1)  # noqa: E731
    variants = {
        "three separate streams of 3, 5 and 8 filters (the reference's layout)": model(
            (3, 5, 8), exact
        ),
        "STSTNet as built: the streams as one 16-filter convolution (same function)": model(
            (16,), exact
        ),
        "as built, without batch normalisation": model((16,), exact, batch_norm=False),
        "as built, Keras' max-pool padding (not PyTorch's windows)": model((16,), keras_pool),
        "as built, leading pad only (same function)": model((16,), one_edge_pool),
    }
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(256)
    for net in variants.values():
        net.compile(optimizer=keras.optimizers.Adam(5e-5), loss="categorical_crossentropy",
                    metrics=["accuracy"])  # fmt: skip
    best: dict[str, float] = {}
    for repeat in range(rounds):  # interleaved: drift hits every variant alike
        for name, net in variants.items():
            with fused_batch_norm(net):  # as the pipeline fits (training.fused_batch_norm)
                net.fit(dataset, epochs=2 if repeat == 0 else 1, verbose=0)
                started = time.perf_counter()
                net.fit(dataset, epochs=epochs, verbose=0)
            ms = (time.perf_counter() - started) / epochs * 1000
            best[name] = min(best.get(name, ms), ms)
        best[BARE] = min(best.get(BARE, np.inf), _bare_tensorflow_ms(x, y, epochs))
    out = {name: round(ms, 1) for name, ms in best.items()}
    log(f"parts, ms per epoch (best of {rounds}): {out}")
    return out


def _bare_tensorflow_ms(x: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """Milliseconds per epoch of STSTNet's training maths as one hand-written TensorFlow step
    (no Keras model, fit loop, tf.data or metric): per-image min-max input, the 16-filter
    convolution, ReLU, the fused batch normalisation kernel, -inf padded 3x3 / 3 max-pool,
    dropout, 2x2 average pool, the linear layer, softmax cross-entropy, Adam 5e-5, batches of
    256 gathered from tensors in memory. The floor a framework-free loop reaches here."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    clips = tf.constant(x.astype("float32"))
    labels = tf.constant(y.argmax(axis=1))
    weights = [tf.Variable(rng.uniform(-0.2, 0.2, shape).astype("float32")) for shape in
               ((3, 3, 3, 16), (16,), (400, 3), (3,))]  # fmt: skip
    gamma, beta = tf.Variable(tf.ones(16)), tf.Variable(tf.zeros(16))
    variables = [*weights, gamma, beta]
    optimizer = tf.keras.optimizers.Adam(5e-5)

    @tf.function
    def step(batch: Any, target: Any) -> None:
        with tf.GradientTape() as tape:
            low = tf.reduce_min(batch, axis=(1, 2), keepdims=True)
            h = (batch - low) / (tf.reduce_max(batch, axis=(1, 2), keepdims=True) - low)
            h = tf.nn.conv2d(tf.pad(h, [[0, 0], [2, 2], [2, 2], [0, 0]]), weights[0], 1, "VALID")
            h = tf.nn.relu(h + weights[1])
            h, _, _ = tf.compat.v1.nn.fused_batch_norm(h, gamma, beta, epsilon=1e-5)
            h = tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]], constant_values=-np.inf)
            h = tf.nn.dropout(tf.nn.max_pool2d(h, 3, 3, "VALID"), 0.5)
            h = tf.reshape(tf.nn.avg_pool2d(h, 2, 2, "VALID"), (-1, 400))
            logits = tf.matmul(h, weights[2]) + weights[3]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(target, logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))

    def epoch() -> None:
        order = tf.random.shuffle(tf.range(len(x)))
        for start in range(0, len(x), 256):
            rows = order[start : start + 256]
            step(tf.gather(clips, rows), tf.gather(labels, rows))

    epoch()
    started = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return round((time.perf_counter() - started) / epochs * 1000, 1)


def _where_it_goes(result: dict[str, Any], mean: float) -> list[str]:
    """A fold's time split into its epochs and the rest, and the projection at the bare
    TensorFlow step's epoch time, in one process and on the two-worker local cluster."""
    t = result["training"]
    fit = float(np.mean([f["fit"] for f in t["folds"]]))
    epoch_s = fit / t["epochs"]
    rest = mean - fit
    bare = result["parts_ms_per_epoch"][BARE] / 1000
    prep = result["preparation_s"]
    fold_floor = rest + t["epochs"] * bare
    minutes = {
        "floor": (prep + 69 * fold_floor) / 60,
        "built, 2 workers": (prep + 69 * mean / TWO_WORKERS) / 60,
        "floor, 2 workers": (prep + 69 * fold_floor / TWO_WORKERS) / 60,
    }
    return [
        f"Where a fold's {mean:.1f} s go: the fit {fit:.1f} s, {t['epochs']} epochs of "
        f"{epoch_s * 1000:.1f} ms on average (the first one's tracing included); building "
        f"and predicting {rest:.1f} s. At the hand-written step's "
        f"{bare * 1000:.1f} ms per epoch (the table below) the LOSO would take "
        f"{minutes['floor']:.0f} min in one process. The local cluster's two single-thread "
        f"workers run STSTNet units {TWO_WORKERS}x as fast as one process (`benchmarks.units`, "
        f"RESULTS.md): {minutes['built, 2 workers']:.0f} min as built and "
        f"{minutes['floor, 2 workers']:.0f} min at that floor.",
    ]


def markdown(result: dict[str, Any]) -> str:
    t = result["training"]
    folds = t["folds"]
    mean = float(np.mean([f["seconds"] for f in folds]))
    lines = [
        "# MEGC 2019 composite: STSTNet LOSO at its reference settings", "",
        f"Machine: {result['machine_line']}", "",
        f"- Preparation (`kedro run --env real --pipeline=megc2019 --params {PARAMS} "
        f"--to-nodes {UNTIL}`: sample, ingestion of 3 datasets at 128 px, composite, TV-L1 "
        f"flow of {t['n_samples']} clips): {result['preparation_s']:.0f} s",
        f"- LOSO: {t['n_folds']} folds + the final model, {t['epochs']} epochs, batches of "
        f"{t['batch_size']}, Adam {t['learning_rate']}; {len(folds)} folds measured:", "",
        "| fold | train samples | test clips | total s | build s | fit s | predict s | "
        "first epoch s | later epochs ms (median) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for f in folds:
        lines.append(f"| {f['fold']} | {f['train_samples']} | {f['test_clips']} | "
                     f"{f['seconds']} | {f['build']} | {f['fit']} | {f['predict']} | "
                     f"{f['first_epoch_s']} | {f['later_epoch_ms']} |")  # fmt: skip
    lines += [
        "", f"Projected composite LOSO, one process: {result['preparation_s']:.0f} s + 69 x "
        f"{mean:.0f} s = {result['projected_s'] / 60:.0f} min (target: 10 min).", "",
        *_where_it_goes(result, mean), "",
        "Per-epoch cost of STSTNet's parts (435 clips, batches of 256, batch normalisation on "
        "the fused kernel as the pipeline trains, ms per epoch, best of 3 interleaved rounds "
        "of 20 epochs):", "",
        "| variant | ms / epoch |", "|---|---|",
        *(f"| {name} | {ms} |" for name, ms in result["parts_ms_per_epoch"].items()),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = standalone.parser(__doc__)
    parser.add_argument("--folds", type=int, default=2, help="LOSO folds to time (of 68)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bench-megc-"))
    try:
        project = copy_project(ROOT, folder / "project")
        preparation = prepare(project)
        training = train_folds(project, args.folds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    parts = _parts()
    mean = float(np.mean([f["seconds"] for f in training["folds"]]))
    result = standalone.machine() | {
        "preparation_s": round(preparation, 1),
        "training": training,
        "projected_s": round(preparation + 69 * mean, 1),
        "parts_ms_per_epoch": parts,
    }
    return standalone.write(args.out, "megc2019", result, markdown)


if __name__ == "__main__":
    raise SystemExit(main())
