"""Run versions that concurrent runs never share, and runs that read their own outputs.

``ProjectSession`` is Kedro's session with one change: its session id (the save version of
everything the run writes) is reserved first, so that no concurrent run on the same data
root shares it.

Kedro names every dataset a run saves with the run's session id, a timestamp to the
millisecond. Two runs started in the same millisecond on the same data would share it, so
each run reserves its version under ``<data_root>/.run_versions/`` (an exclusive create on
a local folder), moving a millisecond on until the reservation succeeds.

Kedro also loads an unpinned versioned dataset at its *latest* version, so a run whose
node reads a dataset an earlier node of the same run wrote could read a newer version that
a concurrent run saved in between. ``pin_own_outputs`` pins such datasets to the run's own
version, and ``OwnOutputsHook`` does so before every run.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
from kedro.framework.hooks import hook_impl
from kedro.framework.project import settings
from kedro.framework.session import KedroSession
from kedro.io.core import AbstractVersionedDataset, Version, get_protocol_and_path
from kedro.pipeline import Pipeline
from kedro.utils import find_kedro_project

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


class OwnOutputsHook:
    """Makes a run's nodes read the versions that this run wrote (``pin_own_outputs``)."""

    @hook_impl(tryfirst=True)
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: Any
    ) -> None:
        if run_params.get("only_missing_outputs"):
            return  # skipped nodes write nothing: their outputs load at the latest version
        user_pins = run_params.get("load_versions") or {}
        pin_own_outputs(pipeline, catalog, run_params["run_id"], user_pins)


def data_root(env: str | None, conf_source: str | None, project_path: Path) -> str:
    """The ``data_root`` global (``conf/*/globals.yml``) as a URL or an absolute local path."""
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=conf_source or str(project_path / settings.CONF_SOURCE),
        env=env,
        **settings.CONFIG_LOADER_ARGS,
    )
    root = str((loader["globals"] or {}).get("data_root", "data"))
    if "://" in root or Path(root).is_absolute():
        return root
    return (project_path / root).as_posix()


class ProjectSession(KedroSession):
    """A ``KedroSession`` whose session id no concurrent run on the same data shares."""

    @classmethod
    def create(  # type: ignore[override]
        cls,
        project_path: Path | str | None = None,
        save_on_close: bool = True,
        env: str | None = None,
        runtime_params: dict[str, Any] | None = None,
        conf_source: str | None = None,
    ) -> ProjectSession:
        session = super().create(project_path, save_on_close, env, runtime_params, conf_source)
        project = Path(project_path or find_kedro_project(Path.cwd()) or Path.cwd()).resolve()
        env = env or os.getenv("KEDRO_ENV")
        version = reserve_version(data_root(env, conf_source, project), session.session_id)
        session.session_id = session.store["session_id"] = version
        return session
