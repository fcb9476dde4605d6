"""Run manifests through the real CLI: written by every run, logged to MLflow, verified by
``kedro manifest verify``, and enforced when a later run loads a tampered file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

AUGMENTED = Path("data/05_model_input/synthetic/augmented/binary/clip")


def only_file(project: Path, pattern: str) -> Path:
    (path,) = (project / AUGMENTED).glob(pattern)
    return path


@pytest.fixture(scope="module")
def augmented_project(
    tmp_path_factory, copy_project, run_kedro, fake_ingested, read_manifests
) -> tuple[Path, dict]:
    """A project copy after one real ``kedro run --pipeline=augmentation``, and its manifest."""
    project = copy_project(tmp_path_factory.mktemp("manifest") / "project")
    fake_ingested(project)
    result = run_kedro(project, "run", "--pipeline=augmentation")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (manifest,) = read_manifests(project)
    return project, manifest


@pytest.mark.slow
def test_the_manifest_lists_every_dataset_with_its_version_and_hash(augmented_project):
    project, manifest = augmented_project
    run = manifest["kedro_session_id"]
    assert manifest["status"] == "completed"
    datasets = manifest["datasets"]
    assert {"samm.clips", "samm.clip_index", "augmentation.clip.clips", "augmentation.clip.samples",
            "augmentation.clip.meta", "augmentation.clip.preview"} <= set(datasets)  # fmt: skip
    assert datasets["samm.clips"]["roles"] == ["loaded"]
    clips = datasets["augmentation.clip.clips"]
    # Saved, then loaded (by the preview node) at the run's own version.
    assert clips["roles"] == ["saved", "loaded"] and clips["version"] == run
    (entry,) = clips["files"]
    assert entry["path"] == f"{AUGMENTED}/clips.npz/{run}/clips.npz"
    data = (project / entry["path"]).read_bytes()
    assert entry == {**entry, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert manifest["parameters"]["seed"] == 42 and manifest["parameters"]["mode"] == "binary"
    assert manifest["command"]["pipeline_names"] == ["augmentation"]
    assert len(manifest["dependency_lock"]["sha256"]) == 64
    assert set(manifest["git"]) == {"commit", "dirty"}
    assert "augmentation.clip.count_metrics" in manifest["not_file_backed"]

    with sqlite3.connect(project / "mlflow.db") as db:
        ((run_id, artifacts),) = db.execute("select run_uuid, artifact_uri from runs").fetchall()
        tags = dict(db.execute("select key, value from tags where run_uuid=?", (run_id,)))
    assert manifest["mlflow"]["run_id"] == run_id
    assert tags["run_manifest"].endswith(f"run_manifest.json/{run}/run_manifest.json")
    logged = Path(artifacts.removeprefix("file://")) / "run_manifest.json"
    assert json.loads(logged.read_text()) == manifest


@pytest.mark.slow
def test_verify_reports_tampered_truncated_missing_and_extra_files(
    augmented_project, run_kedro, tmp_path
):
    project, manifest = augmented_project
    result = run_kedro(project, "manifest", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    n_files = sum(len(d["files"]) for d in manifest["datasets"].values())
    assert f"OK: all {n_files} files match" in result.stdout

    # Tamper with a copy of the handoff, as a colleague would receive it.
    received = tmp_path / "received"
    (received / "data").mkdir(parents=True)
    for name in ("03_primary", "05_model_input", "08_reporting"):
        _copy_tree(project / "data" / name, received / "data" / name)
    samples = only_file(received, "samples.parquet/*/samples.parquet")
    tampered = bytearray(samples.read_bytes())
    tampered[len(tampered) // 2] ^= 0xFF
    samples.write_bytes(bytes(tampered))
    clips = only_file(received, "clips.npz/*/clips.npz")
    clips.write_bytes(clips.read_bytes()[:1000])
    meta = only_file(received, "meta.json/*/meta.json")
    (meta.parent / "notes.txt").write_text("added in transit")
    (preview,) = (received / "data" / "08_reporting").rglob("clip/preview.png/*/preview.png")
    preview.unlink()

    (manifest_file,) = (project / "data" / "09_manifests").glob("*/*/run_manifest.json")
    result = run_kedro(project, "manifest", "verify", str(manifest_file), "--root", str(received))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    rel = lambda p: str(p.relative_to(received))  # noqa: E731
    assert any(ln.startswith("CHANGED") and rel(samples) in ln for ln in lines), lines
    assert any(ln.startswith("TRUNCATED") and f"{rel(clips)}  " in ln for ln in lines), lines
    assert any(ln.startswith("EXTRA") and rel(meta.parent / "notes.txt") in ln for ln in lines)
    assert any(ln.startswith("MISSING") and rel(preview) in ln for ln in lines), lines
    assert "4 problem(s)" in result.stderr


def _copy_tree(source: Path, target: Path) -> None:
    import shutil

    shutil.copytree(source, target)


@pytest.mark.slow
def test_a_later_run_refuses_an_input_that_differs_from_its_manifest(
    augmented_project, run_kedro, read_manifests
):
    project, _ = augmented_project
    meta = only_file(project, "meta.json/*/meta.json")
    original = meta.read_bytes()
    meta.write_bytes(original.replace(b'"binary"', b'"BINARY"', 1))
    try:
        params = (
            "model:3dcnn,training.epochs:1,evaluation.protocol:group_kfold,evaluation.n_splits:2"
        )
        result = run_kedro(project, "run", "--pipeline=train", "--params", params)
    finally:
        meta.write_bytes(original)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "is not the file run" in log and "meta.json" in log, log[-3000:]
    assert "Running node: train_2dcnn" not in log
    failed = read_manifests(project)[-1]
    assert failed["status"] == "failed" and "SHA-256 differs" in failed["error"]
    assert not list((project / "data" / "07_model_output").rglob("summary.json"))
