"""Running the benchmark's worker processes (``benchmarks.worker``) with JSON in and out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PYCACHE = Path(tempfile.gettempdir()) / "microexpression-bench-pycache"
# The folder that holds the ``benchmarks`` package (the project root): on a worker's path.
HARNESS_PARENT = Path(__file__).resolve().parents[1]


def worker_env(bytecode_cache: bool = False) -> dict[str, str]:
    """The environment of a subprocess: quiet TensorFlow, no telemetry, no tracking server.

    ``bytecode_cache``: compiled modules are cached in a folder of the system's temporary
    directory (``PYTHONPYCACHEPREFIX``; nothing is written next to the sources), so that
    every worker after the first starts in seconds even where ``PYTHONDONTWRITEBYTECODE``
    is set. Start-up is not what the workers measure.
    """
    env = {
        **os.environ,
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


@dataclass
class Worker:
    """A started worker process and where its result and error output go."""

    name: str
    process: subprocess.Popen
    result: Path
    stderr: Path


def start_worker(
    task: Mapping[str, Any], folder: Path, name: str, module: str = "benchmarks.worker"
) -> Worker:
    """Start one task in a fresh process (``python -m <module> TASK.json RESULT.json``)."""
    task_path, result_path = folder / f"{name}.task.json", folder / f"{name}.result.json"
    stderr_path = folder / f"{name}.stderr.txt"
    task_path.write_text(json.dumps(task, indent=1))
    env = worker_env(bytecode_cache=True)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(HARNESS_PARENT), env.get("PYTHONPATH")) if p
    )
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", module, task_path, result_path],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return Worker(name, process, result_path, stderr_path)


def finish_worker(worker: Worker, timeout: float) -> dict[str, Any]:
    """Wait for a worker; its JSON result (raises with its error output on failure)."""
    try:
        code = worker.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait()
        raise
    if code != 0 or not worker.result.exists():
        raise RuntimeError(
            f"benchmark worker {worker.name} failed (exit {code}): "
            f"{worker.stderr.read_text()[-3000:]}"
        )
    return json.loads(worker.result.read_text())


def run_worker(
    task: Mapping[str, Any],
    folder: Path,
    name: str,
    timeout: float,
    module: str = "benchmarks.worker",
) -> dict[str, Any]:
    """Run one task in a fresh process (``module``) and return its result."""
    return finish_worker(start_worker(task, folder, name, module), timeout)


def jsonable(value: Any) -> Any:
    """``value`` with OmegaConf/NumPy containers and scalars turned into JSON types."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return value
