"""Shared fixtures: the project root and a way to run the real ``kedro`` CLI on a copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEDRO = str(Path(sys.executable).with_name("kedro"))


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


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
