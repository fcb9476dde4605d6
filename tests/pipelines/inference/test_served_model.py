"""The registered served model behind a real ``mlflow models serve``: a request of a clip's
frame files gives what the trained model gives the clip as ingestion makes it; a bad request
is answered 400 with a JSON message naming the problem; the registry tags say where the
model came from."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from microexpression_pipeline.models.card import SYNTHETIC_WARNING

from .conftest import TrainedProject

MLFLOW = str(Path(sys.executable).with_name("mlflow"))
NAME = "microexpression-binary-3dcnn"
START_TIMEOUT_S = 120


def _not_json(constant: str) -> None:
    """Strict JSON, as browsers and most languages parse it: no NaN or Infinity."""
    raise ValueError(f"{constant} is not JSON")


@dataclass(frozen=True)
class Server:
    url: str
    log: Path

    def invoke(self, payload: dict) -> tuple[int, dict]:
        """POST /invocations: the status and the JSON body (of an error too)."""
        request = urllib.request.Request(
            f"{self.url}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, json.load(response, parse_constant=_not_json)
        except urllib.error.HTTPError as error:
            body = error.read().decode()
            try:
                return error.code, json.loads(body)
            except ValueError:
                return error.code, {"not_json": body}


@pytest.fixture(scope="module")
def server(
    trained_project: TrainedProject,
    kedro_env: dict[str, str],
    free_port,
    stop_process,
    wait_until_up,
) -> Iterator[Server]:
    """``mlflow models serve`` of the latest registered 3dcnn, on a free localhost port."""
    port = free_port()
    log = trained_project.root / f"serve-{port}.log"
    # MLflow starts `uvicorn` by name: the environment's own, as in an activated one.
    path = f"{Path(sys.executable).parent}{os.pathsep}{kedro_env.get('PATH', '')}"
    env = {**kedro_env, "MLFLOW_TRACKING_URI": trained_project.tracking_uri, "PATH": path}
    command = [MLFLOW, "models", "serve", "-m", f"models:/{NAME}/latest",
               "--env-manager", "local", "--host", "127.0.0.1", "-p", str(port)]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=trained_project.root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    served = Server(f"http://127.0.0.1:{port}", log)
    try:
        wait_until_up(process, lambda: _ping(served.url), "mlflow models serve", log,
                      START_TIMEOUT_S)  # fmt: skip
        yield served
    finally:
        stop_process(process)


def _ping(url: str) -> None:
    """GET /ping: raises until the server answers 200."""
    with urllib.request.urlopen(f"{url}/ping", timeout=5) as response:
        if response.status != 200:
            raise ValueError(f"/ping answered {response.status}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _request(files: list[bytes], key_frames: tuple[int, int, int] | None = None) -> dict:
    payload: dict = {"dataframe_split": {"columns": ["image"], "data": [[_b64(f)] for f in files]}}
    if key_frames is not None:
        payload["params"] = dict(zip(("onset", "apex", "offset"), key_frames, strict=True))
    return payload


def _bmp(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".bmp", image)
    assert ok
    return encoded.tobytes()


@pytest.mark.slow
def test_request_gives_the_models_prediction_for_the_ingested_clip(
    server: Server, trained_project: TrainedProject
) -> None:
    files = [path.read_bytes() for path in trained_project.frames]
    status, body = server.invoke(_request(files, trained_project.key_frames))
    assert status == 200, body
    (row,) = body["predictions"]
    card = trained_project.card("3dcnn")
    expected = trained_project.probabilities("3dcnn")
    got = [row[f"prob_{name}"] for name in card.classes]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert row["label"] == card.classes[int(np.argmax(expected))]
    onset, apex, offset = trained_project.key_frames
    assert (row["onset"], row["apex"], row["offset"], row["spotted"]) == (
        onset, apex, offset, False,
    )  # fmt: skip
    assert (row["trained_on"], row["note"]) == ("synthetic", SYNTHETIC_WARNING)
    assert row["model_uri"] == f"models:/{NAME}"
    assert row["peak_motion"] is None  # given key frames: no spotting peak (null, not NaN)


@pytest.mark.slow
def test_request_without_key_frames_is_spotted(
    server: Server, trained_project: TrainedProject
) -> None:
    files = [path.read_bytes() for path in trained_project.frames]
    status, body = server.invoke(_request(files))
    assert status == 200, body
    (row,) = body["predictions"]
    assert row["spotted"] is True
    assert (row["onset"], row["offset"]) == (0, len(files) - 1)


def _bad_requests(trained: TrainedProject) -> dict[str, tuple[dict, str]]:
    """Name -> (request, what its error message must say)."""
    files = [path.read_bytes() for path in trained.frames]
    onset, apex, offset = trained.key_frames
    smaller = cv2.resize(cv2.imread(str(trained.frames[3])), (120, 90))
    mixed = [*files[:3], _bmp(smaller), *files[4:]]
    grey = [_bmp(np.full((180, 240, 3), 128, np.uint8))] * 10
    # position 2 is one of the frames the model sees (between onset 0 and apex 9)
    dropped = [*files[:2], grey[0], *files[3:]]
    rng = np.random.default_rng(0)
    noise = [_bmp(rng.integers(0, 256, (180, 240, 3), dtype=np.uint8)) for _ in range(10)]
    wrong_column = _request(files, trained.key_frames)
    wrong_column["dataframe_split"]["columns"] = ["frame"]
    not_base64 = _request(files[:5], (0, 2, 4))
    not_base64["dataframe_split"]["data"][1] = ["this is not base64!"]
    return {
        "two frames": (_request(files[:2]), "has 2 frame(s)"),
        "key frames out of order": (_request(files, (apex, onset, offset)), "out of order"),
        "key frames outside the clip": (
            _request(files, (onset, apex, len(files) + 5)),
            "outside the clip",
        ),
        "frames of different sizes": (_request(mixed), "frame 3 is 120x90"),
        "uniform grey frames": (_request(grey, (0, 4, 9)), "no face found"),
        "a blank frame between the key frames": (
            _request(dropped, trained.key_frames),
            "2 is blank",
        ),
        "noise frames, spotted": (_request(noise), "no face found"),
        "no image column": (wrong_column, "image"),
        "not base64": (not_base64, "row 1 of 'image' is not base64"),
        "not an image file": (_request([b"not an image"] * 5), "frame 0 is not an image file"),
        "two key frames only": (
            {**_request(files), "params": {"onset": onset, "apex": apex}},
            "together, or none of them",
        ),
    }


BAD = [
    "two frames",
    "key frames out of order",
    "key frames outside the clip",
    "frames of different sizes",
    "uniform grey frames",
    "a blank frame between the key frames",
    "noise frames, spotted",
    "no image column",
    "not base64",
    "not an image file",
    "two key frames only",
]


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD)
def test_bad_request_is_answered_400_with_its_problem(
    server: Server, trained_project: TrainedProject, case: str
) -> None:
    request, says = _bad_requests(trained_project)[case]
    status, body = server.invoke(request)
    assert status == 400, (status, body)
    assert "message" in body, body
    assert says in body["message"], body["message"][-2000:]
    assert "Traceback" not in json.dumps(body), body
    assert "stack_trace" not in body, body["stack_trace"]
    assert "frame frame" not in body["message"], (
        "a request's frames are named 'frame <i>', and the message adds another 'frame' "
        "(preprocess.crop_frames)"
    )


@pytest.mark.slow
def test_registered_version_is_tagged_with_its_provenance(
    trained_project: TrainedProject,
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=trained_project.tracking_uri)
    versions = client.search_model_versions(f"name='{NAME}'")
    newest = max(versions, key=lambda v: int(v.version))
    tags = newest.tags
    assert tags["data_source"] == "synthetic"
    assert tags["protocol"] == "group_kfold"
    for metric in ("uf1", "uar"):
        assert 0.0 <= float(tags[metric]) <= 1.0, tags
    assert "synthetic" in tags["warning"]
    assert json.loads(tags["training_data_versions"]), tags
