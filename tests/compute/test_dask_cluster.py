"""Evaluation units on a real Dask cluster: a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1 (subprocesses stopped here), a small LOSO through the real CLI pointed
at it, a second run with one worker killed mid-run, and a local cluster; the predictions of
each equal the in-process (serial) run's, bit for bit.

Every worker runs TensorFlow with as many threads as an in-process run has by default (the
cores): TensorFlow's CPU kernels split their sums by thread count, so only equal thread
counts give bit-identical results.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from mlflow.tracking import MlflowClient

from microexpression_pipeline.compute import ComputeParams, UnitError, close_clients, run_units
from microexpression_pipeline.compute.cluster import machine_cores
from microexpression_pipeline.pipelines.train import create_pipeline
from microexpression_pipeline.pipelines.train.schema import EvaluationParams, TrainingParams
from tests.pipelines.inference.conftest import project_loader, write_training_sets
from tests.pipelines.train.conftest import make_augmented_set

pytestmark = pytest.mark.slow

DASK = str(Path(sys.executable).with_name("dask"))
SHAPE = (9, 16, 16)
OVERRIDES = {
    "training": {"epochs": 1, "batch_size": 8},
    "evaluation": {"protocol": "loso"},
    "ingestion": {"image_size": SHAPE[1]},  # what the final model's card says
}
PARAMS = (
    ",".join(
        f"{section}.{key}:{value}"
        for section, keys in OVERRIDES.items()
        for key, value in keys.items()
    )
    + ",mode:binary"
)
UNITS = 5  # 4 subjects: 4 LOSO folds, then the final model


def _newest(project: Path, name: str) -> Path:
    folder = project / "data" / "07_model_output" / "synthetic" / "binary" / "3dcnn" / name
    return sorted(folder.iterdir())[-1] / name


def _outputs(project: Path) -> tuple[pd.DataFrame, dict]:
    """The newest predictions and summary of the 3D CNN in ``project``."""
    predictions = pd.read_parquet(_newest(project, "predictions.parquet"))
    return predictions, json.loads(_newest(project, "summary.json").read_text())


def _same_predictions(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    columns = ["sample_id", "seed", "fold", "true_label", "predicted_label"]
    assert got[columns].astype(str).values.tolist() == expected[columns].astype(str).values.tolist()
    probabilities = [c for c in expected.columns if c.startswith("prob_")]
    assert np.array_equal(got[probabilities].to_numpy(), expected[probabilities].to_numpy())


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, copy_project) -> Path:
    """A project copy with toy binary sets (4 subjects, 24 clips of 9 x 16 x 16)."""
    root = copy_project(tmp_path_factory.mktemp("dask") / "project")
    write_training_sets(root, make_augmented_set, SHAPE)
    return root


def _run_in_process(project: Path, compute: ComputeParams) -> tuple[pd.DataFrame, dict]:
    """The 3D CNN's training node through Kedro's runner, with the project's parameters and
    the same overrides as the CLI runs."""
    params = dict(project_loader(project)["parameters"])
    arrays, samples = make_augmented_set(
        n_subjects=4, clips_per_subject=3, copies=1, shape=SHAPE, moving=True
    )
    mapping = params["label_mappings"]["binary"]
    meta = {"mode": "binary", "classes": list(mapping), "label_mapping": dict(mapping),
            "transform_set": "clip"}  # fmt: skip
    data = {
        "augmentation.clip.clips": arrays,
        "augmentation.clip.samples": samples,
        "augmentation.clip.meta": meta,
        "params:training": TrainingParams.model_validate(
            params["training"] | OVERRIDES["training"]
        ),
        "params:evaluation": EvaluationParams.model_validate(
            params["evaluation"] | OVERRIDES["evaluation"]
        ),
        "params:seed": params["seed"],
        "params:mode": "binary",
        "params:label_mappings": params["label_mappings"],
        "params:ingestion": params["ingestion"] | OVERRIDES["ingestion"],
        "params:compute": compute,
        "run_info": {"data_source": "synthetic"},
    }
    catalog = DataCatalog({name: MemoryDataset(value) for name, value in data.items()})
    try:
        SequentialRunner().run(create_pipeline().only_nodes("train_3dcnn"), catalog)
    finally:
        close_clients()
    return catalog["train_3dcnn_predictions"].load(), catalog["train_3dcnn_summary"].load()


@pytest.fixture(scope="module")
def serial(project: Path) -> tuple[pd.DataFrame, dict]:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)  # in-process, whatever the shell
        return _run_in_process(project, ComputeParams())


class Cluster:
    """A scheduler and named workers, each its own process group (a nanny and its worker)."""

    def __init__(self, root: Path, port: int, project: Path, env: dict[str, str]) -> None:
        self.address = f"tcp://127.0.0.1:{port}"
        self.logs = root
        self.env = env | {
            "PYTHONPATH": str(project / "src"),
            # As many TensorFlow threads as an in-process run uses by default.
            "TF_NUM_INTRAOP_THREADS": str(machine_cores()),
        }
        self.project = project
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: list = []
        self._start("scheduler", [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--dashboard-address", "127.0.0.1:0"])  # fmt: skip
        for name in ("w0", "w1"):
            self._start(name, [DASK, "worker", self.address, "--name", name, "--nthreads", "1",
                               "--host", "127.0.0.1", "--no-dashboard"])  # fmt: skip

    def _start(self, name: str, command: list[str]) -> None:
        log = (self.logs / f"{name}.log").open("w")
        self._logs.append(log)
        self.processes[name] = subprocess.Popen(
            command, cwd=self.project, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        for log in self._logs:
            log.close()


@pytest.fixture(scope="module")
def cluster(project: Path, tmp_path_factory, free_port, kedro_env):
    from distributed import Client

    started = Cluster(tmp_path_factory.mktemp("dask-logs"), free_port(), project, kedro_env)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(started.address, timeout=5) as client:
                    client.get_task_stream()  # the scheduler records tasks from now on
                    while len(client.nthreads()) < 2 and time.monotonic() < deadline:
                        time.sleep(0.2)
                    names = {w["name"]: a for a, w in client.scheduler_info()["workers"].items()}
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert sorted(names) == ["w0", "w1"], "the two workers did not join in 2 minutes"
        started.workers = names
        yield started
    finally:
        started.stop()


def _unit_records(address: str, since: float) -> list[dict]:
    """The scheduler's records of the unit tasks it ran since ``since`` (a Unix time)."""
    from distributed import Client

    with Client(address, timeout=10) as client:
        return [r for r in client.get_task_stream(start=since) if str(r["key"]).startswith("unit-")]


def test_units_run_on_the_cluster_workers_and_predict_as_in_process(
    project, cluster, serial, run_kedro
) -> None:
    since = time.time()
    result = run_kedro(project, "run", "--pipeline=train", "--nodes", "train_3dcnn",
                       "--params", f"{PARAMS},compute.scheduler:{cluster.address}")  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    predictions, summary = _outputs(project)
    _same_predictions(predictions, serial[0])
    # The scheduler ran every unit, on the two workers; the summary says where each ran.
    records = _unit_records(cluster.address, since)
    assert len({r["key"] for r in records}) == UNITS
    assert {r["worker"] for r in records} == set(cluster.workers.values())
    where = {record["unit"]["worker"] for record in [*summary["folds"], summary["final_model"]]}
    assert where == set(cluster.workers.values())
    assert summary["compute"]["scheduler"] == cluster.address
    assert "Dask scheduler " + cluster.address in result.stdout + result.stderr
    # Per unit, wall time and peak memory in MLflow (step: place in the plan); parameters.
    tracking = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    run_id = summary["run"]["mlflow_run_id"]
    for name in ("unit_wall_seconds", "unit_peak_rss_mb"):
        history = tracking.get_metric_history(run_id, f"3dcnn.{name}")
        assert sorted(m.step for m in history) == list(range(UNITS))
        assert all(m.value > 0 for m in history)
    [parameters] = tracking.get_metric_history(run_id, "3dcnn.parameters")
    assert parameters.value == summary["final_model"]["parameters"] > 0


def test_a_unit_that_raises_stops_the_work_and_is_named(cluster) -> None:
    def fails_on_two(unit: int, offset: int) -> int:
        if unit == 2:
            raise ValueError("no data for this fold")
        return unit + offset

    compute = ComputeParams(scheduler=cluster.address)
    names = {"label": lambda u: f"unit number {u}", "key": lambda u: f"unit-test-{u}", "name": "t"}
    try:
        assert [r for r, _ in run_units(lambda u, offset: u + offset, [0, 1], {"offset": 1},
                                        compute, **names)] == [1, 2]  # fmt: skip
        with pytest.raises(UnitError, match="unit number 2 failed on a Dask worker: "
                           "ValueError: no data for this fold"):  # fmt: skip
            run_units(fails_on_two, [0, 1, 2, 3], {"offset": 1}, compute, **names)
    finally:
        close_clients()


def test_a_worker_killed_mid_run_leaves_the_outputs_complete_and_equal(
    project, cluster, serial, kedro_env
) -> None:
    from distributed import Client

    def executing_units(dask_worker) -> list[str]:  # runs on the worker (sent by value)
        keys = [str(task.key) for task in dask_worker.state.executing]
        return [key for key in keys if key.startswith("unit-")]

    victim = cluster.workers["w1"]
    kedro = str(Path(sys.executable).with_name("kedro"))
    command = [kedro, "run", "--pipeline=train", "--nodes", "train_3dcnn",
               "--params", f"{PARAMS},compute.scheduler:{cluster.address}"]  # fmt: skip
    run = subprocess.Popen(command, cwd=project, env=kedro_env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)  # fmt: skip
    killed: list[str] = []
    try:
        with Client(cluster.address, timeout=10) as client:
            deadline = time.monotonic() + 240
            while not killed and run.poll() is None and time.monotonic() < deadline:
                # the unit the worker is running now (not one merely sent to it)
                killed = client.run(executing_units, workers=[victim]).get(victim, [])
                if not killed:
                    time.sleep(0.05)
        if killed:
            cluster.kill("w1")
        output, _ = run.communicate(timeout=300)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)
    assert killed, "no unit ran on worker w1:\n" + output[-4000:]
    assert run.returncode == 0, output[-4000:]
    predictions, summary = _outputs(project)
    assert len(predictions) == len(serial[0])  # every test clip of every fold
    _same_predictions(predictions, serial[0])
    # The unit the lost worker was running was run again, on the other worker.
    records = [*summary["folds"], summary["final_model"]]
    key = killed[0]
    rerun = [r for r in records if key.startswith(_key(r))]
    assert [r["unit"]["worker"] for r in rerun] == [cluster.workers["w0"]]


def _key(record: dict) -> str:
    fold = "final" if "fold" not in record else f"fold{record['fold']}"
    return f"unit-3dcnn-binary-loso-seed{record['seed']}-{fold}-"


def test_a_local_cluster_predicts_as_in_process(project, serial) -> None:
    # One worker (the cluster above tests two): a local cluster's start, placement and gather.
    compute = ComputeParams(scheduler="local", workers=1, threads_per_worker=machine_cores())
    predictions, summary = _run_in_process(project, compute)
    _same_predictions(predictions, serial[0])
    assert summary["compute"]["scheduler"] == "local"
    [worker] = summary["compute"]["workers"]
    assert worker.startswith("tcp://127.0.0.1:")
    assert serial[1]["compute"]["workers"] == ["in-process"]
