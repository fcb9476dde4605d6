"""``compute``: the section's checks, the local cluster's plan, and units run in-process."""

from __future__ import annotations

import pytest

from microexpression_pipeline.compute import ComputeParams, UnitError, run_units
from microexpression_pipeline.compute.cluster import dask_client, worker_plan
from microexpression_pipeline.errors import InputError
from microexpression_pipeline.parameters import ParameterError

NAMES = {"label": lambda u: f"unit number {u}", "key": lambda u: f"unit-test-{u}", "name": "t"}


@pytest.mark.parametrize("value", ["cluster", "tcp:/host:8786", "http://host:8786/x y", ""])
def test_a_scheduler_that_is_neither_null_local_nor_an_address_is_refused(value: str) -> None:
    with pytest.raises(ParameterError, match=r"compute\.scheduler: .*tcp://host:8786"):
        ComputeParams.model_validate({"scheduler": value})


def test_the_environment_names_the_cluster_when_the_scheduler_is_null(monkeypatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert ComputeParams().address() is None
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    assert ComputeParams().address() == "tcp://10.0.0.5:8786"
    assert ComputeParams(scheduler="local").address() == "local"  # the parameter wins
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "10.0.0.5")
    with pytest.raises(InputError, match=r"DASK_SCHEDULER_ADDRESS='10\.0\.0\.5'"):
        ComputeParams().address()


def test_no_scheduler_at_the_address_is_an_input_error_naming_the_parameter(free_port) -> None:
    compute = ComputeParams(scheduler=f"tcp://127.0.0.1:{free_port()}", connect_timeout=1)
    with pytest.raises(InputError, match=r"compute\.scheduler: no Dask scheduler answered"):
        dask_client(compute)


def test_local_workers_share_the_cores_out_and_get_a_gpu_each(monkeypatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setattr("microexpression_pipeline.compute.cluster.machine_cores", lambda: 8)
    assert [w["TF_NUM_INTRAOP_THREADS"] for w in worker_plan(None, None)] == ["1"] * 8
    assert [w["TF_NUM_INTRAOP_THREADS"] for w in worker_plan(2, None)] == ["4", "4"]
    assert len(worker_plan(None, 4)) == 2
    assert all("CUDA_VISIBLE_DEVICES" not in w for w in worker_plan(2, None))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    gpus = worker_plan(None, None)
    assert [w["CUDA_VISIBLE_DEVICES"] for w in gpus] == ["2", "3"]
    assert [w["TF_NUM_INTRAOP_THREADS"] for w in gpus] == ["4", "4"]


def test_in_process_units_come_back_in_plan_order_with_their_cost(monkeypatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    started = []
    results = run_units(
        lambda unit, offset: unit * 10 + offset, [3, 1, 2], {"offset": 1}, ComputeParams(),
        on_start=started.append, **NAMES,
    )  # fmt: skip
    assert [result for result, _ in results] == [31, 11, 21]
    assert started == [0, 1, 2]
    for _, cost in results:
        assert cost["worker"] == "in-process"
        assert cost["wall_seconds"] >= 0
        assert cost["peak_rss_mb"] >= cost["start_rss_mb"] > 0


def test_an_in_process_unit_that_raises_is_named(monkeypatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)

    def fails_on_two(unit: int) -> int:
        if unit == 2:
            raise ValueError("no data for this fold")
        return unit

    with pytest.raises(UnitError, match="unit number 2 failed: ValueError: no data"):
        run_units(fails_on_two, [1, 2, 3], {}, ComputeParams(), **NAMES)
