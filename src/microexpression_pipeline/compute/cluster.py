"""Dask clients of a run: a local cluster it starts, or a running scheduler it connects to.

One client per setting is kept for the whole run (so that its workers stay warm between
training nodes) and closed, with any cluster the run started, when the run ends
(``ComputeHook``) or the process exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess

from kedro.framework.hooks import hook_impl

from microexpression_pipeline.compute.params import ComputeParams
from microexpression_pipeline.errors import InputError

logger = logging.getLogger(__name__)

_CLIENTS: dict[tuple, object] = {}

# Dask's own INFO lines (worker start-up, event-loop notices) stay out of the run log; its
# warnings and errors stay in. A local cluster's worker processes get the setting before they
# start (Dask's pre-spawn environment), as Dask reads it when it is imported.
QUIET = {"DASK_LOGGING__DISTRIBUTED": "warning"}


def _quiet_dask() -> None:
    import dask

    logging.getLogger("distributed").setLevel(logging.WARNING)
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}))
    dask.config.set({"distributed.nanny.pre-spawn-environ": environ | QUIET})


def machine_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def visible_gpus() -> list[str]:
    """The GPUs a local cluster can give one worker each: ``CUDA_VISIBLE_DEVICES`` when set,
    else the indices ``nvidia-smi`` lists (none on a machine without it)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [gpu.strip() for gpu in visible.split(",") if gpu.strip() not in ("", "-1")]
    if shutil.which("nvidia-smi") is None:
        return []
    listed = subprocess.run(
        ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
        capture_output=True, text=True, check=False, timeout=30,
    )  # fmt: skip
    return listed.stdout.split() if listed.returncode == 0 else []


def worker_plan(workers: int | None, threads: int | None) -> list[dict[str, str]]:
    """The environment of each local worker: one worker per GPU (``CUDA_VISIBLE_DEVICES``;
    more workers than GPUs share them, each growing its GPU memory as it needs it), or on CPUs
    as many as asked (default: the cores over ``threads``, one per core without it), each
    with TensorFlow's thread count set so that together they do not oversubscribe the
    cores."""
    gpus, cores = visible_gpus(), machine_cores()
    count = workers or len(gpus) or max(1, cores // (threads or 1))
    per_worker = threads or max(1, cores // count)
    plan = []
    for index in range(count):
        env = {"TF_NUM_INTRAOP_THREADS": str(per_worker)}
        if gpus:
            env["CUDA_VISIBLE_DEVICES"] = gpus[index % len(gpus)]
            env["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"
        plan.append(env)
    return plan


def _local_client(params: ComputeParams):
    from distributed import Client, Nanny, Scheduler, SpecCluster
    from distributed.system import MEMORY_LIMIT

    _quiet_dask()
    plan = worker_plan(params.workers, params.threads_per_worker)
    options = {"nthreads": 1, "memory_limit": MEMORY_LIMIT // len(plan), "silence_logs": 30,
               "host": "127.0.0.1", "dashboard": False}  # fmt: skip
    cluster = SpecCluster(
        workers={
            f"local-{i}": {"cls": Nanny, "options": {**options, "env": env}}
            for i, env in enumerate(plan)
        },
        scheduler={
            "cls": Scheduler,
            "options": {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:8787"},
        },
        silence_logs=logging.WARNING,
        name="microexpression-pipeline",
    )
    try:
        client = Client(cluster)
    except BaseException:
        cluster.close()
        raise
    logger.info(
        "Started a local Dask cluster: %d workers, %s TensorFlow threads each%s; dashboard %s",
        len(plan), plan[0]["TF_NUM_INTRAOP_THREADS"],
        f", GPUs {[env['CUDA_VISIBLE_DEVICES'] for env in plan]}" if "CUDA_VISIBLE_DEVICES"
        in plan[0] else "", client.dashboard_link,
    )  # fmt: skip
    return client


def _remote_client(address: str, timeout: float):
    from distributed import Client

    _quiet_dask()
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise InputError(
            f"compute.scheduler: no Dask scheduler answered at {address} within {timeout:g} s "
            f"({exc}). Start one (`dask scheduler`, then `dask worker {address}` on each "
            "machine), or correct compute.scheduler / DASK_SCHEDULER_ADDRESS."
        ) from exc
    workers = client.nthreads()
    logger.info(
        "Dask scheduler %s: %d workers (%d threads); dashboard %s",
        address, len(workers), sum(workers.values()), client.dashboard_link,
    )  # fmt: skip
    if not workers:
        logger.warning("No Dask worker has joined %s yet: units wait for one.", address)
    return client


def dask_client(params: ComputeParams):
    """The run's ``distributed.Client`` for ``params``, or None to run units in-process."""
    address = params.address()
    if address is None:
        return None
    key = (address, params.workers, params.threads_per_worker)
    client = _CLIENTS.get(key)
    if client is None or client.status != "running":
        if address == "local":
            client = _local_client(params)
        else:
            client = _remote_client(address, params.connect_timeout)
        _CLIENTS[key] = client
    return client


def close_clients() -> None:
    """Close every client of this process, and the local clusters it started."""
    while _CLIENTS:
        _, client = _CLIENTS.popitem()
        cluster = client.cluster
        try:
            client.close()
        finally:
            if cluster is not None:
                cluster.close()


atexit.register(close_clients)


class ComputeHook:
    """Closes the run's Dask clients (stopping any local cluster) when the run ends."""

    @hook_impl
    def after_pipeline_run(self) -> None:
        close_clients()

    @hook_impl
    def on_pipeline_error(self) -> None:
        close_clients()
