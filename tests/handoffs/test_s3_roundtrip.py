"""Shared storage: ``data_root: s3://...`` moves every catalog dataset to a bucket, and a
colleague reproduces a downstream step from an earlier version with ``--load-versions``.

Everything goes through the real ``kedro`` CLI of two project copies (colleagues A and B)
whose only change is ``conf/local/globals.yml``; the bucket is moto's S3 server on
localhost, reached through the standard AWS variables (``s3_server.env``).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog

from microexpression_pipeline.settings import CONFIG_LOADER_ARGS

KEDRO = str(Path(sys.executable).with_name("kedro"))
# The 2D CNN's augmented set (the one it trains on).
AUGMENTED = tuple(f"augmentation.frame2d.{name}" for name in ("clips", "samples", "meta"))
# What a `kedro run` may add at the top of a project copy whose data lives on S3: its MLflow
# tracking (database, artifacts) and tools' hidden state (kedro-viz's .viz/, lock files).
LOCAL_RUN_FILES = {"mlflow.db", "mlruns"}


def _catalog(project: Path, save_version: str) -> DataCatalog:
    """The project copy's own catalog (so its data_root applies), saving as ``save_version``."""
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(str(project / "conf"), default_run_env="local", **args)
    return DataCatalog.from_config(loader["catalog"], save_version=save_version)


def _kedro(project: Path, env: dict[str, str], *args: str) -> str:
    """Run ``kedro`` in ``project``; return its output, failing the test if it fails."""
    result = subprocess.run(
        [KEDRO, *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"kedro {' '.join(args)} failed:\n{log[-4000:]}"
    return log


def _versions(fs: Any, path: str) -> list[str]:
    """The saved versions of the versioned dataset at ``path`` (bucket/key), oldest first."""
    fs.invalidate_cache()
    name = path.rsplit("/", 1)[-1]
    return sorted(p.split("/")[-2] for p in fs.glob(f"{path}/*/{name}"))


def _tree(project: Path) -> set[str]:
    """Every file and folder under ``project``, relative to it."""
    return {str(path.relative_to(project)) for path in project.rglob("*")}


def _written_locally(project: Path, before: set[str]) -> list[str]:
    """What runs added to ``project`` since ``before``, MLflow tracking and hidden tool state
    aside: a dataset saved to the local disk (under ``data/``, a folder named after the bucket
    or ``s3:``) instead of the bucket shows up here."""
    return sorted(
        path
        for path in _tree(project) - before
        if (top := path.split("/")[0]) not in LOCAL_RUN_FILES and not top.startswith(".")
    )


@pytest.mark.slow
def test_colleague_reproduces_training_from_an_earlier_version_on_s3(
    s3_env, copy_project, kedro_env, clip_maker, tmp_path
):
    fs = s3_env.filesystem()
    bucket = s3_env.new_bucket()
    root = f"{bucket}/team"
    env = s3_env.env(kedro_env)
    alice, bob = copy_project(tmp_path / "alice"), copy_project(tmp_path / "bob")
    for project in (alice, bob):  # the one setting; no catalog or code change
        (project / "conf" / "local" / "globals.yml").write_text(f"data_root: s3://{root}\n")
    copied = {project: _tree(project) for project in (alice, bob)}

    # A's ingested clips, twice (a re-ingestion with more clips in between), on S3.
    sets = {
        "2026-01-01T00.00.00.000Z": {"Happiness": 4, "Anger": 4, "Disgust": 2},
        "2026-01-02T00.00.00.000Z": {"Happiness": 5, "Anger": 5, "Disgust": 3, "Fear": 3},
    }
    expected_samples = []
    for version, counts in sets.items():
        clips, index = clip_maker(counts, seed=len(counts), n_subjects=4)
        catalog = _catalog(alice, save_version=version)
        catalog.save("samm.clips", clips)
        catalog.save("samm.clip_index", index)
        _kedro(alice, env, "run", "--pipeline=augmentation")
        expected_samples.append(len(index) + 2 * counts["Happiness"])  # binary: positive x3

    primary = f"{root}/03_primary/synthetic/samm"
    assert _versions(fs, f"{primary}/clips.npz") == list(sets)
    assert _versions(fs, f"{primary}/clip_index.parquet") == list(sets)
    augmented = f"{root}/05_model_input/synthetic/augmented/binary/frame2d"
    first, latest = _versions(fs, f"{augmented}/clips.npz")
    for name in ("samples.parquet", "meta.json"):
        assert _versions(fs, f"{augmented}/{name}") == [first, latest]
    preview = f"{root}/08_reporting/synthetic/augmentation/binary/frame2d/preview.png"
    assert _versions(fs, preview) == [first, latest]
    assert _written_locally(alice, copied[alice]) == []

    # B trains from A's first augmented set, not the latest one.
    pinned = ",".join(f"{name}:{first}" for name in AUGMENTED)
    params = (
        "model:2dcnn,training.epochs:1,training.keras_verbose:0,"
        "evaluation.protocol:group_kfold,evaluation.n_splits:2"
    )
    log = _kedro(
        bob, env, "run", "--pipeline=train", "--params", params, f"--load-versions={pinned}"
    )
    assert "Running node: train_2dcnn" in log

    outputs = f"{root}/07_model_output/synthetic/binary/2dcnn"
    (trained,) = _versions(fs, f"{outputs}/summary.json")
    summary = json.loads(fs.cat_file(f"{outputs}/summary.json/{trained}/summary.json"))
    # The pinned augmented set, and (read by the packaging node) this run's own outputs.
    assert summary["run"]["input_versions"] == dict.fromkeys(AUGMENTED, first) | dict.fromkeys(
        ("train_2dcnn_model", "train_2dcnn_card"), trained
    )
    assert summary["n_training_samples"] == expected_samples[0] != expected_samples[1]
    assert _versions(fs, f"{outputs}/predictions.parquet") == [trained]
    model_dir = f"{root}/06_models/synthetic/binary/2dcnn/model.keras"
    assert _versions(fs, model_dir) == [trained]
    assert _written_locally(bob, copied[bob]) == []
    fs.invalidate_cache()
    assert fs.ls(bucket) == [root]  # everything under data_root

    with sqlite3.connect(bob / "mlflow.db") as db:
        ((run_id,),) = db.execute("select run_uuid from runs").fetchall()
        tags = dict(db.execute("select key, value from tags where run_uuid=?", (run_id,)))
    assert {tags[f"input_version.{name}"] for name in AUGMENTED} == {first}
    assert summary["run"]["mlflow_run_id"] == run_id

    # B's run manifest is in the bucket too: it records A's first set as what B loaded,
    # with S3 URLs, and `kedro manifest verify` checks it against the bucket.
    manifests = f"{root}/09_manifests/run_manifest.json"
    manifest = json.loads(fs.cat_file(f"{manifests}/{trained}/run_manifest.json"))
    loaded = manifest["datasets"]["augmentation.frame2d.clips"]
    assert loaded["version"] == first and loaded["roles"] == ["loaded"]
    assert loaded["files"][0]["path"] == f"s3://{augmented}/clips.npz/{first}/clips.npz"
    assert "OK: all" in _kedro(bob, env, "manifest", "verify")
