"""Shared fixtures: the project root and a way to run the real ``kedro`` CLI on a copy."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).with_name("kedro"))


def _free_port() -> int:
    """A free localhost port below 49152 (kedro-viz refuses the ephemeral range above)."""
    for port in random.Random(os.getpid()).sample(range(20000, 49000), 200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free localhost port between 20000 and 49000")


def _stop_process(process: subprocess.Popen) -> None:
    """Stop a server started with ``start_new_session=True`` and the processes it started
    (its own process group): SIGTERM, then SIGKILL after 20 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


def _wait_until_up(
    process: subprocess.Popen, probe: Callable[[], object], name: str, log: Path, timeout: float
) -> None:
    """Poll ``probe`` (it raises ``OSError`` or ``ValueError`` until the server answers)
    every second; fail with the server's log if it exits or stays silent for ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"{name} exited ({process.returncode}):\n{log.read_text()}")
        try:
            probe()
            return
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within {timeout} s:\n{log.read_text()[-4000:]}")
            time.sleep(1)


@pytest.fixture(scope="session")
def wait_until_up():
    """``wait_until_up(process, probe, name, log, timeout)``: wait for a started server."""
    return _wait_until_up


@pytest.fixture(scope="session")
def stop_process():
    """``stop_process(process)``: stop a server subprocess and its own process group."""
    return _stop_process


@pytest.fixture(scope="session")
def free_port():
    """``free_port()``: a free localhost port, for a server a test starts."""
    return _free_port


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def shipped_params(project_root: Path) -> dict:
    """The parameters of conf/base, as Kedro loads them (without conf/local)."""
    from kedro.config import OmegaConfigLoader

    from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(str(project_root / "conf"), default_run_env="base", **args)
    return dict(loader["parameters"])


def _copy_project(root: Path) -> Path:
    """Copy the project's code, configuration and metadata into ``root`` (created here).

    Runs in the copy write their data, MLflow database and artifacts there, never into the
    checkout.
    """
    root.mkdir(parents=True)
    for name in ("pyproject.toml", "requirements.lock", ".telemetry"):
        shutil.copy2(PROJECT_ROOT / name, root / name)
    shutil.copytree(
        PROJECT_ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "data").mkdir()
    return root


@pytest.fixture(scope="session")
def copy_project():
    """``copy_project(root)``: a copy of the project in ``root``, for module-wide fixtures."""
    return _copy_project


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A copy of the project in a temporary folder (see ``_copy_project``)."""
    return _copy_project(tmp_path / "project")


def _kedro_env() -> dict[str, str]:
    """The environment of a ``kedro`` subprocess: no telemetry, no outside tracking server."""
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "COLUMNS": "200",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


@pytest.fixture(scope="session")
def kedro_env() -> dict[str, str]:
    """The environment ``kedro`` subprocesses of the tests run with."""
    return _kedro_env()


def _run_kedro(project: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real ``kedro`` command line in ``project`` and capture its output."""
    return subprocess.run(
        [KEDRO, *args],
        cwd=project,
        env=_kedro_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def run_kedro():
    """``run_kedro(project, *args)``: the real ``kedro`` CLI in a subprocess."""
    return _run_kedro


def make_clips(
    counts: dict[str, int], frames: int = 9, size: int = 32, seed: int = 0, n_subjects: int = 7
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Random uint8 clips (N x F x size x size) with ``counts`` clips per emotion, and the
    row-aligned clip index, as the ingestion pipeline writes them (``samm.clips`` and
    ``samm.clip_index``)."""
    rng = np.random.default_rng(seed)
    emotions = [emotion for emotion, n in counts.items() for _ in range(n)]
    n = len(emotions)
    clip_ids = np.array([f"{6 + i % n_subjects:03d}_{i:03d}" for i in range(n)])
    clips = rng.integers(0, 256, size=(n, frames, size, size), dtype=np.uint8)
    index = pd.DataFrame(
        {
            "dataset": "SAMM",
            "subject": [cid.split("_")[0] for cid in clip_ids],
            "clip_id": clip_ids,
            "emotion": emotions,
            "action_units": "",
            "onset": 0,
            "apex": frames // 2,
            "offset": frames - 1,
        }
    )
    return {"clips": clips, "clip_ids": clip_ids}, index


@pytest.fixture(scope="session")
def clip_maker():
    """``clip_maker(counts, frames=9, size=32, seed=0, n_subjects=7)``: see ``make_clips``."""
    return make_clips


FAKE_SAMM_CATALOG = """
samm.clips:
  type: microexpression_pipeline.datasets.NpzDataset
  filepath: data/03_primary/fake/clips.npz
samm.clip_index:
  type: pandas.ParquetDataset
  filepath: data/03_primary/fake/clip_index.parquet
"""


def add_fake_ingested_clips(
    project: Path, counts: dict[str, int] | None = None, size: int = 16, n_subjects: int = 3
) -> None:
    """Fake ingested clips (``make_clips``; default 4 Happiness and 8 Anger clips of 3
    subjects) where a ``conf/local`` catalog of ``project`` points ``samm.clips`` and
    ``samm.clip_index``, so that ``kedro run --pipeline=augmentation`` runs in seconds."""
    from microexpression_pipeline.datasets import NpzDataset

    arrays, index = make_clips(
        counts or {"Happiness": 4, "Anger": 8}, size=size, n_subjects=n_subjects
    )
    fake = project / "data" / "03_primary" / "fake"
    NpzDataset(filepath=str(fake / "clips.npz")).save(arrays)
    index.to_parquet(fake / "clip_index.parquet")
    (project / "conf" / "local" / "catalog_fake_samm.yml").write_text(FAKE_SAMM_CATALOG)


@pytest.fixture(scope="session")
def fake_ingested():
    """``fake_ingested(project, counts=None, size=16)``: see ``add_fake_ingested_clips``."""
    return add_fake_ingested_clips
