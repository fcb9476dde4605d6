"""``NpzDataset``: a versioned, atomically written ``.npz`` file of named NumPy arrays.

Arrays are stored without pickle (object arrays are refused on save and on load), so a
file received from a colleague cannot execute code when it is opened.
"""

from __future__ import annotations

import io
from copy import deepcopy
from pathlib import PurePosixPath
from typing import Any

import fsspec
import numpy as np
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)

from microexpression_pipeline.handoffs.atomic_save import AtomicSaveMixin

Arrays = dict[str, np.ndarray]


class NpzDataset(AtomicSaveMixin, AbstractVersionedDataset[Arrays, Arrays]):
    """A dict of named arrays in one ``.npz`` file, on any fsspec filesystem.

    Saves are atomic (``AtomicSaveMixin``): an interrupted save never leaves a partial file
    under the final name, so never a half-written version that a later load would pick.

    Example catalog entry::

        samm.clips:
          type: microexpression_pipeline.datasets.NpzDataset
          filepath: data/03_primary/samm/clips.npz
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        compress: bool = False,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        fs_args = deepcopy(fs_args) or {}
        if protocol == "file":
            fs_args.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(deepcopy(credentials) or {}), **fs_args)
        self._compress = compress
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "compress": self._compress,
            "version": self._version,
        }

    def load(self) -> dict[str, np.ndarray]:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(load_path, "rb") as handle:
            payload = handle.read()
        try:
            with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
                return {name: archive[name] for name in archive.files}
        except ValueError as exc:
            raise DatasetError(
                f"{load_path} is not a pickle-free .npz file ({exc}); "
                "re-create it with this project's pipeline."
            ) from exc

    def save(self, data: dict[str, np.ndarray]) -> None:
        if not isinstance(data, dict) or not data:
            raise DatasetError("NpzDataset saves a non-empty dict of name -> numpy array.")
        arrays = {name: np.asarray(value) for name, value in data.items()}
        for name, array in arrays.items():
            if array.dtype.hasobject:
                raise DatasetError(
                    f"Array {name!r} has dtype object, which .npz can only store with pickle; "
                    "convert it to a numeric or fixed-width string dtype."
                )
        buffer = io.BytesIO()
        (np.savez_compressed if self._compress else np.savez)(buffer, **arrays)
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        self._fs.makedirs(str(PurePosixPath(save_path).parent), exist_ok=True)
        with self._fs.open(save_path, "wb") as handle:
            handle.write(buffer.getbuffer())
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))
