"""Small timing helpers: wall and CPU seconds of a call, best of repeated measurements."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from benchmarks.machine import cpu_seconds

T = TypeVar("T")


def timed(call: Callable[[], T]) -> tuple[T, float, float]:
    """``call()``'s result, wall seconds and CPU seconds (this process and its children)."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = call()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def best(measurements: list[dict[str, Any]], key: str = "seconds") -> dict[str, Any]:
    """The fastest of repeated measurements, with every repeat's ``key`` kept beside it."""
    fastest = min(measurements, key=lambda m: m[key])
    return {**fastest, f"all_{key}": [m[key] for m in measurements]}


def log(message: str) -> None:
    """Progress on stderr (the results go to files)."""
    import sys

    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
