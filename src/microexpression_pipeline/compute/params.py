"""The ``compute`` parameter section: where a run's evaluation units go."""

from __future__ import annotations

import os
import re

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator

from microexpression_pipeline.errors import InputError
from microexpression_pipeline.parameters import StrictSection

ADDRESS = re.compile(r"^(tcp|tls|ucx|ws|wss)://[^\s/]+(:\d+)?/?$")
ENVIRONMENT_VARIABLE = "DASK_SCHEDULER_ADDRESS"


class ComputeParams(StrictSection):
    """``scheduler``: null (in-process, one unit after another; a running cluster instead
    when ``DASK_SCHEDULER_ADDRESS`` is set), ``local`` (a Dask cluster of ``workers``
    processes on this machine, started and stopped by the run) or the address of a running
    Dask scheduler (``tcp://host:8786``)."""

    section = "compute"

    scheduler: str | None = None
    # local: worker processes (null: one per GPU on a GPU machine, else the cores over
    # threads_per_worker: one per core without it).
    workers: PositiveInt | None = None
    # local: TensorFlow threads of each worker (null: the cores shared out over the workers).
    threads_per_worker: PositiveInt | None = None
    # Reruns of a unit that raised (a unit whose worker was lost always reruns elsewhere).
    retries: NonNegativeInt = 0
    # Seconds to wait for a running scheduler to answer.
    connect_timeout: float = Field(default=30.0, gt=0)

    @field_validator("scheduler")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None or value == "local" or ADDRESS.match(value):
            return value
        raise ValueError(
            "must be null (in-process), local (a cluster on this machine) or a scheduler "
            f"address such as tcp://host:8786, not {value!r}"
        )

    def address(self) -> str | None:
        """The scheduler to use: ``local``, an address, or None for in-process."""
        if self.scheduler is not None:
            return self.scheduler
        from_environment = os.environ.get(ENVIRONMENT_VARIABLE) or None
        if from_environment is not None and not ADDRESS.match(from_environment):
            raise InputError(
                f"{ENVIRONMENT_VARIABLE}={from_environment!r} is not a scheduler address "
                "such as tcp://host:8786; correct or unset it"
            )
        return from_environment
