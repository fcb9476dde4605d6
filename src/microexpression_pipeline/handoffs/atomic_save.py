"""Atomic saves for file-backed Kedro datasets.

A dataset that mixes in ``AtomicSaveMixin`` writes every save to a hidden partial path
beside its target (``<version>/.<name>.partial-<pid>-<id>``) and renames it into place
only once the write has finished. Kedro finds versions with the glob
``<filepath>/*/<name>``, which never matches a partial path, so a run killed in the middle
of a save leaves no half-written version that a later load would take as the latest.

A versioned save never replaces an existing version: on a local filesystem the final
name is created with a hard link (which fails if the name exists), so two runs that
happen to share a version cannot overwrite each other's files. On object stores
(``s3://`` ...) each object appears whole, the existence check is best effort.
"""

from __future__ import annotations

import inspect
import os
import shutil
import uuid
from collections.abc import Callable
from functools import wraps
from pathlib import Path, PurePosixPath
from typing import Any

from fsspec.implementations.local import LocalFileSystem
from kedro.io.core import DatasetError, get_filepath_str

PARTIAL_MARKER = ".partial-"


def partial_path(final: PurePosixPath) -> PurePosixPath:
    """A hidden sibling of ``final`` that Kedro's version glob never matches."""
    return final.parent / f".{final.name}{PARTIAL_MARKER}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def is_partial(path: str) -> bool:
    """Whether ``path`` (or one of its folders) is an unfinished save."""
    return any(
        part.startswith(".") and PARTIAL_MARKER in part for part in PurePosixPath(path).parts
    )


def _fsync(path: str) -> None:
    if Path(path).is_file():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def commit(fs: Any, partial: str, final: str, *, replace: bool) -> None:
    """Move the finished ``partial`` to ``final``; refuse to replace it unless ``replace``."""
    if isinstance(fs, LocalFileSystem):
        _commit_local(partial, final, replace=replace)
        return
    if not replace and fs.exists(final):
        fs.rm(partial, recursive=True)
        raise _exists_error(final)
    if fs.isdir(partial):  # object stores: copy the objects, then drop the partial ones
        if replace and fs.exists(final):
            fs.rm(final, recursive=True)
        fs.copy(partial, final, recursive=True)
        fs.rm(partial, recursive=True)
    else:
        fs.mv(partial, final)


def _commit_local(partial: str, final: str, *, replace: bool) -> None:
    source, target = Path(partial), Path(final)
    if source.is_dir():
        if replace and target.is_dir():
            shutil.rmtree(target)
        try:
            source.rename(target)  # fails if target is a non-empty folder
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise _exists_error(final) from exc
        return
    _fsync(partial)
    if replace:
        source.replace(target)
        return
    try:
        os.link(source, target)  # atomic, and fails if the target exists
    except FileExistsError as exc:
        source.unlink()
        raise _exists_error(final) from exc
    source.unlink()


def _exists_error(final: str) -> DatasetError:
    return DatasetError(
        f"{final} already exists: another run saved this version first. Nothing was "
        "overwritten; run again to save under a new version."
    )


def remove_quietly(fs: Any, path: str) -> None:
    """Remove a partial save, ignoring a path that is already gone."""
    try:
        if fs.exists(path):
            fs.rm(path, recursive=True)
    except OSError:
        pass


class AtomicSaveMixin:
    """Makes the saves of an fsspec-based Kedro dataset atomic (see the module docstring).

    Put it first in the bases, before the kedro-datasets class: the class's own ``save``
    then writes to the partial path that ``_get_save_path`` hands it, and the wrapper that
    Kedro puts around ``save`` renames the result into place when it returns.
    """

    _fs: Any
    _protocol: str
    _atomic_depth: int = 0
    _atomic_pending: tuple[str, str] | None = None

    def _get_save_path(self) -> PurePosixPath:
        final = super()._get_save_path()  # type: ignore[misc]
        if not self._atomic_depth:
            return final
        if self._atomic_pending is None:
            partial = partial_path(PurePosixPath(final))
            self._atomic_pending = (
                get_filepath_str(partial, self._protocol),
                get_filepath_str(final, self._protocol),
            )
        return PurePosixPath(self._atomic_pending[0])

    @classmethod
    def _save_wrapper(cls, save_func: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
        # An inherited ``save`` arrives already wrapped by Kedro (whose wrapper checks the
        # saved version, so it must run after the rename): wrap the plain function instead.
        save_func = inspect.unwrap(save_func)

        @wraps(save_func)
        def committing_save(self: Any, data: Any) -> None:
            depth = self._atomic_depth
            self._atomic_depth = depth + 1
            try:
                save_func(self, data)
                pending, self._atomic_pending = self._atomic_pending, None
                if pending is not None:
                    partial, final = pending
                    commit(self._fs, partial, final, replace=not self._version)
                    self._fs.invalidate_cache(str(PurePosixPath(final).parent))
            except BaseException:
                pending, self._atomic_pending = self._atomic_pending, None
                if pending is not None:
                    remove_quietly(self._fs, pending[0])
                raise
            finally:
                self._atomic_depth = depth

        return super()._save_wrapper(committing_save)  # type: ignore[misc]
