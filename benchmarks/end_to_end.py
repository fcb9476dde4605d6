"""Wall time of a real ``kedro run`` in a temporary copy of the project.

The copy holds the project's code, configuration and metadata (as the tests' project copies
do) and an empty ``data/``; the run generates the synthetic sample there and writes its data,
MLflow database and artifacts there, never into the checkout. The copy is deleted afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.subprocesses import worker_env
from benchmarks.timing import log, timed

KEDRO = str(Path(sys.executable).with_name("kedro"))


def copy_project(source: Path, root: Path) -> Path:
    """Copy code, configuration (not conf/local) and metadata of ``source`` into ``root``."""
    root.mkdir(parents=True)
    for name in ("pyproject.toml", ".telemetry"):
        if (source / name).exists():
            shutil.copy2(source / name, root / name)
    shutil.copytree(source / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(source / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "data").mkdir()
    return root


def command(params: Sequence[str]) -> list[str]:
    """The ``kedro run`` command line (``params``: ``key:value`` items)."""
    return [KEDRO, "run", *(["--params", ",".join(params)] if params else [])]


def run(project_root: Path, params: Sequence[str], timeout: float) -> dict[str, Any]:
    """Time ``kedro run`` with ``params`` (none: the default run) in a fresh project copy."""
    argv = command(params)
    with tempfile.TemporaryDirectory(prefix="bench-kedro-") as folder:
        project = copy_project(project_root, Path(folder) / "project")
        log(f"end to end: {' '.join(argv[1:])} in a project copy")
        done, wall, cpu = timed(
            lambda: subprocess.run(
                argv,
                cwd=project,
                env={**worker_env(), "COLUMNS": "200"},
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        )
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv[1:])}` failed: {done.stderr[-3000:]}")
    return {
        "command": "kedro " + " ".join(argv[1:]),
        "params": list(params),
        "seconds": wall,
        "cpu_seconds": cpu,
    }
