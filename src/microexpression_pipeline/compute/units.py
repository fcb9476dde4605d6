"""Run a node's units in-process or on Dask workers, with the same function, and give their
results back in plan order with what each cost (wall time, peak memory, where it ran).

On a cluster the node's shared inputs are scattered once to every worker (they are already
in the client's memory, and workers then need no access to the catalog's storage); each unit
is one task. A worker lost mid-unit makes the scheduler rerun the unit elsewhere (up to its
``distributed.scheduler.allowed-failures``); a unit that raises stops the run, naming it.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psutil
from tqdm.auto import tqdm

from microexpression_pipeline.compute.cluster import dask_client
from microexpression_pipeline.compute.params import ComputeParams

# Units share process-wide state (a framework's global seed and session), so a process runs
# one at a time, even on a Dask worker started with several threads.
_ONE_AT_A_TIME = threading.Lock()


class UnitError(RuntimeError):
    """A unit raised, or kept losing its workers; the message names the unit."""


class _PeakMemory:
    """The process's resident memory, sampled every ``interval`` seconds, and its peak."""

    def __init__(self, interval: float = 0.05) -> None:
        self._process = psutil.Process()
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "in-process"


def measured(function: Callable[..., Any], unit: Any, /, **inputs: Any) -> tuple[Any, dict]:
    """``function(unit, **inputs)`` and its cost: wall seconds, the process's peak and
    starting resident memory (MB), where it ran and with how many TensorFlow threads."""
    with _ONE_AT_A_TIME:
        memory = _PeakMemory()
        started = time.perf_counter()
        try:
            result = function(unit, **inputs)
        finally:
            memory.stop()
        cost = {
            "wall_seconds": round(time.perf_counter() - started, 3),
            "peak_rss_mb": round(memory.peak / 2**20, 1),
            "start_rss_mb": round(memory.start / 2**20, 1),
            "worker": _where(),
            "threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "default"),
        }
    return result, cost


def run_units(
    function: Callable[..., Any],
    units: Sequence[Any],
    shared: Mapping[str, Any],
    compute: ComputeParams,
    *,
    label: Callable[[Any], str],
    key: Callable[[Any], str],
    name: str,
    serial_kwargs: Mapping[str, Any] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[tuple[Any, dict]]:
    """``function(unit, **shared)`` for every unit, with its cost, in the order of ``units``.

    In-process (``compute.scheduler`` null) units run one after another, with
    ``serial_kwargs`` (e.g. progress callbacks, which do not travel) and ``on_start(i)``
    before unit ``i``; on a cluster they are Dask tasks keyed ``key(unit)``, under one
    progress bar. ``label(unit)`` names a failed unit."""
    client = dask_client(compute)
    if client is None:
        results = []
        for index, unit in enumerate(units):
            if on_start is not None:
                on_start(index)
            try:
                results.append(measured(function, unit, **shared, **(serial_kwargs or {})))
            except Exception as exc:
                raise UnitError(f"{label(unit)} failed: {type(exc).__name__}: {exc}") from exc
        return results
    return _on_cluster(client, function, units, shared, compute.retries, label, key, name)


def _on_cluster(client, function, units, shared, retries, label, key, name) -> list:
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    scattered = {k: client.scatter([v], broadcast=True, hash=False)[0] for k, v in shared.items()}
    run = uuid.uuid4().hex[:8]
    futures = [
        client.submit(
            measured,
            function,
            unit,
            key=f"{key(unit)}-{run}",
            pure=False,
            retries=retries,
            **scattered,
        )
        for unit in units
    ]
    which = {future.key: unit for future, unit in zip(futures, units, strict=True)}
    bar = tqdm(total=len(futures), desc=f"units {name}", unit="unit")
    try:
        for future in as_completed(futures):
            if future.status == "cancelled":
                raise UnitError(
                    f"{label(which[future.key])} was cancelled on the Dask cluster (a client "
                    "or the scheduler cancelled it); run again"
                )
            if future.status != "finished":
                unit, exc = which[future.key], future.exception()
                if isinstance(exc, KilledWorker):
                    raise UnitError(
                        f"{label(unit)} was lost with every worker that ran it ({exc}); a "
                        "worker that runs out of memory is lost this way: see its log"
                    ) from exc
                raise UnitError(
                    f"{label(unit)} failed on a Dask worker: {type(exc).__name__}: {exc}"
                ) from exc
            bar.set_postfix_str(f"{label(which[future.key])}", refresh=False)
            bar.update(1)
        return client.gather(futures)
    finally:
        bar.close()
        client.cancel([*futures, *scattered.values()])
