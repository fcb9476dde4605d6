"""Atomic saves: an unfinished save is never a version, and a version is never replaced."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError, Version

from microexpression_pipeline.datasets import NpzDataset, optional
from microexpression_pipeline.datasets.atomic import (
    JSONDataset,
    MatplotlibDataset,
    ParquetDataset,
)
from microexpression_pipeline.handoffs.atomic_save import is_partial


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("factory", "name", "data"),
    [
        (ParquetDataset, "t.parquet", pd.DataFrame({"a": [1, 2]})),
        (JSONDataset, "t.json", {"a": 1}),
        (NpzDataset, "t.npz", {"a": np.arange(3)}),
    ],
)
def test_a_versioned_save_lands_whole_under_its_final_name(tmp_path, factory, name, data):
    dataset = factory(filepath=str(tmp_path / name), version=Version(None, "v1"))
    dataset.save(data)
    assert _files(tmp_path) == [f"{name}/v1/{name}"]
    loaded = dataset.load()
    assert loaded.equals(data) if isinstance(data, pd.DataFrame) else str(loaded) == str(data)


def test_a_failed_save_leaves_no_version_and_no_partial_file(tmp_path):
    dataset = JSONDataset(filepath=str(tmp_path / "t.json"), version=Version(None, "v1"))
    with pytest.raises(DatasetError):
        dataset.save({"not json": object()})
    assert _files(tmp_path) == []
    assert not dataset.exists()


def test_a_partial_file_is_not_taken_as_the_latest_version(tmp_path):
    old = ParquetDataset(filepath=str(tmp_path / "t.parquet"), version=Version(None, "v1"))
    old.save(pd.DataFrame({"a": [1]}))
    # What a save killed before its rename leaves behind, in a later version folder.
    leftover = tmp_path / "t.parquet" / "v2" / ".t.parquet.partial-123-abcd"
    leftover.parent.mkdir()
    leftover.write_bytes(b"PAR1 half written")
    latest = ParquetDataset(filepath=str(tmp_path / "t.parquet"), version=Version(None, None))
    assert latest.resolve_load_version() == "v1"
    assert latest.load()["a"].tolist() == [1]
    assert is_partial(str(leftover)) and not is_partial(str(tmp_path / "t.parquet"))


def test_an_existing_version_is_never_overwritten(tmp_path):
    first = NpzDataset(filepath=str(tmp_path / "t.npz"), version=Version(None, "v1"))
    first.save({"a": np.zeros(2)})
    second = NpzDataset(filepath=str(tmp_path / "t.npz"), version=Version(None, "v1"))
    with pytest.raises(DatasetError, match=r"must not exist|already exists"):
        second.save({"a": np.ones(2)})
    assert first.load()["a"].tolist() == [0.0, 0.0]
    assert _files(tmp_path) == ["t.npz/v1/t.npz"]


def test_an_unversioned_save_replaces_the_file_whole(tmp_path):
    dataset = JSONDataset(filepath=str(tmp_path / "t.json"))
    dataset.save({"a": 1})
    dataset.save({"a": 2})
    assert dataset.load() == {"a": 2}
    assert _files(tmp_path) == ["t.json"]


def test_a_folder_of_figures_is_renamed_into_place_whole(tmp_path):
    dataset = MatplotlibDataset(filepath=str(tmp_path / "figs"), version=Version(None, "v1"))
    figures = {f"{name}.png": plt.figure() for name in ("a", "b")}
    dataset.save(figures)
    assert _files(tmp_path) == ["figs/v1/figs/a.png", "figs/v1/figs/b.png"]


def test_an_optional_input_ignores_an_unfinished_save(tmp_path):
    ParquetDataset(filepath=str(tmp_path / "p.parquet"), version=Version(None, "v1")).save(
        pd.DataFrame({"a": [1]})
    )
    (tmp_path / "p.parquet" / "v2").mkdir()
    (tmp_path / "p.parquet" / "v2" / ".p.parquet.partial-1-ab").write_bytes(b"x")
    latest = optional.ParquetDataset(
        filepath=str(tmp_path / "p.parquet"), version=Version(None, None)
    )
    assert latest.resolve_load_version() == "v1"
    assert latest.load()["a"].tolist() == [1]
