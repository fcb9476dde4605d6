"""Fixtures for the inspection tests: a kedro-viz server on a free localhost port, headless
Chromium (Debian's package, never a downloaded browser) and a folder for test artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KEDRO = str(Path(sys.executable).with_name("kedro"))

# Debian's `chromium` package (installed by .ci/install-chromium).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# kedro-viz loads the whole project (TensorFlow, MLflow) before it answers.
VIZ_START_TIMEOUT_S = 240


def get_json(url: str, timeout: float = 30) -> object:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


@dataclass(frozen=True)
class VizServer:
    project: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str) -> object:
        return get_json(f"{self.url}/api/{path}")


@pytest.fixture(scope="module")
def viz_server(
    tmp_path_factory: pytest.TempPathFactory,
    copy_project,
    kedro_env: dict[str, str],
    free_port,
    stop_process,
    wait_until_up,
) -> Iterator[VizServer]:
    """``kedro viz run --port <free> --no-browser`` (default host) on a project copy."""
    project = copy_project(tmp_path_factory.mktemp("viz") / "project")
    port = free_port()
    log = project / "kedro-viz.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [KEDRO, "viz", "run", "--port", str(port), "--no-browser"],
            cwd=project,
            env=kedro_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = VizServer(project=project, port=port, log=log)
    try:
        wait_until_up(
            process, lambda: server.api("main"), "kedro viz run", log, VIZ_START_TIMEOUT_S
        )
        yield server
    finally:
        stop_process(process)


@pytest.fixture(scope="session")
def chromium() -> dict:
    """Playwright launch arguments for Debian's headless Chromium; the browser tests skip
    where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
            "(bash .ci/install-chromium) to run the browser tests"
        )
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    """Where tests leave files for people to look at: $PYTEST_ARTIFACTS when set, else
    tests/artifacts/ (not versioned)."""
    folder = Path(os.environ.get("PYTEST_ARTIFACTS") or PROJECT_ROOT / "tests" / "artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
