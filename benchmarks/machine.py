"""A description of the machine the benchmark ran on (recorded with every result)."""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "opencv-contrib-python-headless",
    "numpy",
    "mtcnn",
)
ISA_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")


def _cpuinfo() -> dict[str, Any]:
    """CPU model and the vector extensions that matter for dense maths (Linux only)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"model": platform.processor() or "unknown", "flags": []}
    model, flags = "unknown", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown":
            model = value.strip()
        elif key.strip() == "flags" and not flags:
            flags = set(value.split())
    return {"model": model, "flags": [f for f in ISA_FLAGS if f in flags]}


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _git(project_root: Path) -> dict[str, Any]:
    """The checkout's commit and whether it has local changes (read-only git calls)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=project_root, capture_output=True, text=True, timeout=20, check=True
        ).stdout.strip()

    try:
        return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(git("status", "-s"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def gpus() -> list[str]:
    """Names of the GPUs TensorFlow sees (empty on a CPU-only machine or build)."""
    import tensorflow as tf

    return [device.name for device in tf.config.list_physical_devices("GPU")]


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other work competing for the cores)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def describe(project_root: Path) -> dict[str, Any]:
    """Everything needed to compare a result with another machine's."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    cpu = _cpuinfo()
    gpu_names = gpus()
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu["model"],
        "cpu_flags": cpu["flags"],
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": _memory_gib(),
        "gpus": gpu_names,
        "gpu": ", ".join(gpu_names) if gpu_names else "no GPU on this machine",
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": _versions(),
        "git": _git(project_root),
        "load_average_at_start": load_average(),
    }


def summary_line(machine: dict[str, Any]) -> str:
    """One line naming the machine, for table captions."""
    cores = machine["usable_cores"]
    memory = machine["memory_gib"]
    return (
        f"{machine['cpu']} ({vector_units(machine.get('cpu_flags', []))}), "
        f"{cores} core{'s' if cores != 1 else ''}, {memory} GiB, "
        f"{machine['gpu']}; {machine['date_utc']}"
    )


def vector_units(flags: list[str]) -> str:
    """The CPU's dense-maths units, as the precision options need them: AVX2 / AVX-512, and
    16-bit brain float (AVX-512 BF16, AMX), which ``mixed_bfloat16`` uses."""
    width = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    bf16 = [name for flag, name in (("avx512_bf16", "AVX-512 BF16"), ("amx_bf16", "AMX"))
            if flag in flags]  # fmt: skip
    return f"{width}, " + (" and ".join(bf16) if bf16 else "no bfloat16 units")
