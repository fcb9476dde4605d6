"""Run versions that concurrent runs never share, and runs that read their own outputs.

Kedro names every dataset a run saves with the run's session id, a timestamp to the
millisecond. Two runs started in the same millisecond on the same data would share it, so
each run reserves its version under ``<data_root>/.run_versions/`` (an exclusive create on
a local folder), moving a millisecond on until the reservation succeeds.

Kedro also loads an unpinned versioned dataset at its *latest* version, so a run whose
node reads a dataset an earlier node of the same run wrote could read a newer version that
a concurrent run saved in between. ``pin_own_outputs`` pins such datasets to the run's own
version.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
from kedro.io.core import AbstractVersionedDataset, Version, get_protocol_and_path
from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

RESERVATIONS = ".run_versions"
_FORMAT = "%Y-%m-%dT%H.%M.%S.%f"


def next_version(version: str) -> str:
    """The version one millisecond after ``version`` (Kedro's format, ``...SS.mmmZ``)."""
    moment = datetime.strptime(version[:-1] + "000", _FORMAT) + timedelta(milliseconds=1)
    return moment.strftime(_FORMAT)[:-3] + "Z"


def reserve_version(data_root: str, proposed: str, attempts: int = 1000) -> str:
    """Reserve ``proposed`` (or the first free later millisecond) for one run under
    ``data_root``; return the reserved version."""
    protocol, path = get_protocol_and_path(data_root)
    version = proposed
    if protocol == "file":
        folder = Path(path) / RESERVATIONS
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(attempts):
            try:
                os.close(os.open(folder / version, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                return version
            except FileExistsError:
                version = next_version(version)
        raise RuntimeError(f"could not reserve a run version under {folder}")
    fs = fsspec.filesystem(protocol)
    folder_url = f"{data_root.rstrip('/')}/{RESERVATIONS}"
    for _ in range(attempts):  # object stores: best effort (no exclusive create)
        marker = f"{folder_url}/{version}"
        if not fs.exists(marker):
            fs.touch(marker)
            return version
        version = next_version(version)
    raise RuntimeError(f"could not reserve a run version under {folder_url}")


def inner_dataset(dataset: Any) -> Any:
    """The dataset that stores the files (a wrapper's ``wrapped`` dataset, or itself)."""
    return getattr(dataset, "wrapped", dataset)


def pin_own_outputs(
    pipeline: Pipeline, catalog: Any, run_version: str, user_pins: dict[str, str]
) -> list[str]:
    """Make every versioned dataset ``pipeline`` writes load at ``run_version``.

    Datasets the user pinned (``--load-versions``) keep their pin. Returns the names pinned.
    """
    pinned = []
    for name in sorted(pipeline.all_outputs()):
        if name in user_pins:
            continue
        try:
            dataset = inner_dataset(catalog.get(name))
        except Exception:  # not a catalog dataset (a memory output)
            continue
        version = getattr(dataset, "_version", None)
        if isinstance(dataset, AbstractVersionedDataset) and version and version.load is None:
            dataset._version = Version(run_version, version.save or run_version)
            pinned.append(name)
    logger.debug("Pinned to the run's version %s: %s", run_version, pinned)
    return pinned
