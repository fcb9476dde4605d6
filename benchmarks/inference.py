"""Latency of the inference pipeline on one 2-second clip at 200 fps in SAMM's 2040x1088.

``python -m benchmarks.inference [--out DIR]``. The clip is rendered by the synthetic
generator (400 grey frames, an expression with onset 150, apex 185, offset 230) and written
as a video file (MPEG-4 part 2, ``mp4v``, the encoder OpenCV's wheel ships). Models: a 3D CNN
(frames, at conf/real's 128 px crop) and STSTNet (flow), freshly built (latency does not
depend on the weights). Per model, the stages of one run, each timed on its own:

- decode: the video read into memory (``clip_reader.read_clip_source``);
- spot: the apex spotted (the face found on frame 0, all 400 frames cropped to 64 px,
  registered and compared; ``find_intervals`` without key frames);
- detect: the face found on the onset frame (MTCNN, ``preprocess.face_crop``);
- crop: the 9 frames cropped (``preprocess.crop_frames``);
- flow: TV-L1 onset -> apex (flow models only, ``preprocess.model_input``);
- model: the network's prediction (``models.predict``);

then the served model (the same network logged with ``MlflowServedModelDataset``, loaded
with ``mlflow.pyfunc.load_model``): one request of the 400 frames as base64 JPEG files,
in-process and over HTTP (``mlflow models serve``; its start-up is not counted). Results:
``DIR/inference.json`` and ``DIR/inference.md`` (default: a new
``data/09_benchmarks/<UTC time>/``).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import standalone
from benchmarks.subprocesses import worker_env
from benchmarks.timing import log

ROOT = Path(__file__).resolve().parents[1]
SIZE, FPS, FRAMES = (2040, 1088), 200, 400
ONSET, APEX, OFFSET = 150, 185, 230  # a 400 ms expression (175 ms to its apex)


def render(folder: Path) -> tuple[Path, int]:
    """The clip's JPEG frames (the generator's SAMM format) and its video; the video path and
    the number of blinks the generator drew into the clip."""
    import cv2

    from microexpression_pipeline.synthetic import samm_format
    from microexpression_pipeline.synthetic.clips import ClipSpec, render_clip
    from microexpression_pipeline.synthetic.face import make_subject

    rng = np.random.default_rng(7)
    subject = make_subject(rng, *SIZE, samm_format.FACE_FRACTION, colour=False)
    spec = ClipSpec("SAMM", 6, "006_1_1", "happiness", "12", ONSET, APEX, OFFSET, 0,
                    FRAMES - 1, "006")  # fmt: skip
    frames = folder / "frames"
    frames.mkdir(parents=True)
    blinks = render_clip(
        subject, spec, np.random.default_rng(8), lambda n: frames / f"006_{n:05d}.jpg",
        au_amplitude=3.0, noise_sigma=2.0, jpeg_quality=90, frame_scale=1.0,
    )  # fmt: skip
    video = folder / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    for path in sorted(frames.iterdir()):
        writer.write(cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR))
    writer.release()
    return video, blinks


def trained(key: str) -> Any:
    """A fresh model of ``key`` with the card of conf/real's preprocessing and flow."""

    from microexpression_pipeline.models import ARCHITECTURES
    from microexpression_pipeline.models.building import build_model
    from microexpression_pipeline.models.card import ModelCard, Preprocessing
    from microexpression_pipeline.motion.flow_settings import FlowSettings
    from microexpression_pipeline.pipelines.inference.model_source import TrainedModel
    from microexpression_pipeline.pipelines.train.schema import TrainingParams

    params = standalone.parameters("real")
    ingestion, architecture = params["ingestion"], ARCHITECTURES[key]
    flow = FlowSettings(**params["features"]["flow"]) if architecture.sees == "flow" else None
    size = ingestion["image_size"]
    shape = (flow.size, flow.size, 3) if flow else (9, size, size)
    block = TrainingParams.model_validate(params["training"]).architectures[key]
    network = build_model(architecture, shape, 2, block, 0.001)
    card = ModelCard(
        architecture=key, architecture_name=architecture.name, sees=architecture.sees,
        mode="binary", classes=["negative", "positive"],
        preprocessing=Preprocessing(**{k: ingestion[k] for k in Preprocessing.model_fields
                                       if k != "magnification"}),
        flow=flow, data_source="synthetic", protocol="none",
    )  # fmt: skip
    return TrainedModel(network, card, f"fresh {architecture.name}")


def stages(video: Path, model: Any) -> dict[str, float]:
    """Seconds of each stage of one inference run on ``video``."""
    from microexpression_pipeline.models.building import predict
    from microexpression_pipeline.pipelines.inference.clip_reader import read_clip_source
    from microexpression_pipeline.pipelines.inference.nodes import find_intervals
    from microexpression_pipeline.pipelines.inference.preprocess import (
        crop_frames,
        face_crop,
        model_input,
        selected_positions,
    )
    from microexpression_pipeline.pipelines.inference.schema import InferenceParams
    from microexpression_pipeline.pipelines.ingestion.faces import default_detector

    detector = default_detector()
    pre, out = model.card.preprocessing, {}

    def clock(name: str, call: Any) -> Any:
        started = time.perf_counter()
        result = call()
        out[name] = round(time.perf_counter() - started, 3)
        return result

    frames = clock("decode", lambda: read_clip_source(video))
    intervals = clock("spot", lambda: find_intervals(frames, model, InferenceParams()))
    out["spotted"] = [
        [int(r.onset), int(r.apex), int(r.offset), round(float(r.peak_motion), 2)]
        for r in intervals.itertuples()
    ]
    positions = selected_positions(frames, ONSET, APEX, OFFSET, pre.frames_between_key_frames)
    crop, _ = clock("detect", lambda: face_crop(frames, ONSET, APEX, pre, detector))
    clip = clock("crop", lambda: crop_frames(frames, positions, crop, pre.image_size))
    inputs = clock("flow", lambda: model_input(clip, model.card))
    predict(model.network, inputs[None], 1)  # the first call builds the graph
    clock("model", lambda: predict(model.network, inputs[None], 1))
    return out


def served(folder: Path, model: Any) -> dict[str, float]:
    """Seconds of one request of the clip's 400 JPEG frames: in-process and over HTTP."""
    import mlflow
    import pandas as pd

    from microexpression_pipeline.datasets.mlflow_served_model_dataset import (
        MlflowServedModelDataset,
    )

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    with mlflow.start_run():
        dataset = MlflowServedModelDataset(name="model", registered_name="bench-inference")
        dataset.save({"model": model.network, "card": model.card.model_dump(mode="json")})
    files = sorted((folder / "frames").iterdir())
    started = time.perf_counter()
    images = [base64.b64encode(f.read_bytes()).decode() for f in files]
    encode = time.perf_counter() - started
    request = pd.DataFrame({"image": images})
    params = {"onset": ONSET, "apex": APEX, "offset": OFFSET}
    pyfunc = mlflow.pyfunc.load_model("models:/bench-inference/latest")
    started = time.perf_counter()
    pyfunc.predict(request, params=params)
    in_process = time.perf_counter() - started
    body = json.dumps({"dataframe_split": {"columns": ["image"], "data": [[i] for i in images]},
                       "params": params}).encode()  # fmt: skip
    return {
        "encode_s": round(encode, 3),
        "in_process_s": round(in_process, 3),
        "http_s": _http(folder, uri, body),
        "request_mb": round(len(body) / 2**20, 1),
    }


def _http(folder: Path, uri: str, body: bytes, port: int = 47123) -> float:
    """Seconds of one POST /invocations to ``mlflow models serve`` (started beforehand)."""
    mlflow_cli = str(Path(sys.executable).with_name("mlflow"))
    argv = [mlflow_cli, "models", "serve", "-m", "models:/bench-inference/latest",
            "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    log_file = (folder / "serve.log").open("w")
    # MLflow starts `uvicorn` by name: this environment's, as in an activated one.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**worker_env(), "MLFLOW_TRACKING_URI": uri, "PATH": path}
    server = subprocess.Popen(argv, env=env,
                              stdout=log_file, stderr=subprocess.STDOUT,
                              start_new_session=True)  # fmt: skip
    try:
        for _ in range(240):
            if server.poll() is not None:
                raise RuntimeError((folder / "serve.log").read_text()[-3000:])
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                time.sleep(1)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()
        return round(time.perf_counter() - started, 3)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Inference latency: one 2-second clip, 200 fps, 2040x1088", "",
        f"Machine: {result['machine_line']}", "",
        f"Video: {result['video_mb']} MB (`mp4v`), {FRAMES} frames; key frames {ONSET} / "
        f"{APEX} / {OFFSET} given for detect, crop, flow and model; spotting on all frames.",
        "", "| model | decode s | spot s | detect s | crop s | flow s | model s | "
        "file to prediction s (decode + detect + crop + flow + model) |",
        "|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, s in result["stages"].items():
        total = s["decode"] + s["detect"] + s["crop"] + s["flow"] + s["model"]
        lines.append(f"| {name} | {s['decode']} | {s['spot']} | "
                     f"{s['detect']} | {s['crop']} | {s['flow']} | {s['model']} | "
                     f"{total:.2f} |")  # fmt: skip
    spotted = next(iter(result["stages"].values()))["spotted"]
    lines += ["", f"Spotted (onset, apex, offset, peak motion; threshold "
              f"{result['threshold']}, windows of {result['window']} frames): {spotted}; the "
              f"expression's apex is frame {APEX}; the clip also holds {result['blinks']} "
              "blink(s) and the generator's slow head drift."]  # fmt: skip
    v = result["served"]
    lines += [
        "",
        f"Served 3D CNN, one request of {FRAMES} base64 JPEG frames "
        f"({v['request_mb']} MB of JSON): base64 encoding {v['encode_s']} s, pyfunc "
        f"in-process {v['in_process_s']} s, HTTP `mlflow models serve` {v['http_s']} s.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = standalone.parser(__doc__)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as tmp:
        folder = Path(tmp)
        log("rendering the clip")
        video, blinks = render(folder)
        models = {key: trained(key) for key in ("3dcnn", "ststnet")}
        from microexpression_pipeline.pipelines.inference.schema import InferenceParams

        defaults = InferenceParams()
        result: dict[str, Any] = {"video_mb": round(video.stat().st_size / 2**20, 1),
                                  "stages": {}, "threshold": defaults.spotting_threshold,
                                  "blinks": blinks,
                                  "window": defaults.max_clip_frames}  # fmt: skip
        for key, model in models.items():
            log(f"stages of {key}")
            result["stages"][key] = stages(video, model)
        log("served model")
        result["served"] = served(folder, models["3dcnn"])
    result |= standalone.machine()
    return standalone.write(args.out, "inference", result, markdown)


if __name__ == "__main__":
    raise SystemExit(main())
