"""Where evaluation units run: in-process, on a local Dask cluster or on a running one.

A unit is one independent piece of a node's work (for training: one architecture, mode,
seed and fold). ``run_units`` runs a node's units with the same function wherever they go
and gives their results back in plan order, so that outputs never depend on placement.
"""

from microexpression_pipeline.compute.cluster import ComputeHook, close_clients, dask_client
from microexpression_pipeline.compute.params import ComputeParams
from microexpression_pipeline.compute.units import UnitError, run_units

__all__ = [
    "ComputeHook",
    "ComputeParams",
    "UnitError",
    "close_clients",
    "dask_client",
    "run_units",
]
