"""Runs that share a data folder: two at once never overwrite each other or read each
other's outputs, and a run killed in the middle of a save leaves no version behind."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from kedro.io.core import Version
from kedro.pipeline import Pipeline, node

from microexpression_pipeline.datasets import NpzDataset
from microexpression_pipeline.handoffs.manifest import verify_manifest
from microexpression_pipeline.handoffs.run_versions import (
    next_version,
    pin_own_outputs,
    reserve_version,
)

KEDRO = str(Path(sys.executable).with_name("kedro"))
AUGMENTED = Path("data/05_model_input/synthetic/augmented/binary/clip")

# Loaded by the `kedro` subprocess of the kill test (through PYTHONPATH): holds the run at
# the moment a save of PAUSE_SAVE has been written under its partial name and is about to
# be renamed, so that the test can kill it right there.
PAUSING_SITECUSTOMIZE = """
import os
import time
from pathlib import Path

if os.environ.get("PAUSE_SAVE"):
    from microexpression_pipeline.handoffs import atomic_save

    _commit = atomic_save.commit

    def commit(fs, partial, final, *, replace):
        if final.endswith(os.environ["PAUSE_SAVE"]):
            Path(os.environ["PAUSED_MARKER"]).write_text(partial)
            time.sleep(600)
        return _commit(fs, partial, final, replace=replace)

    atomic_save.commit = commit
"""


def test_versions_reserved_in_the_same_millisecond_differ(tmp_path):
    first = reserve_version(str(tmp_path), "2026-11-25T10.00.00.999Z")
    second = reserve_version(str(tmp_path), "2026-11-25T10.00.00.999Z")
    assert first == "2026-11-25T10.00.00.999Z"
    assert second == "2026-11-25T10.00.01.000Z" == next_version(first)


def test_a_run_reads_its_own_output_even_when_another_run_saved_a_newer_one(tmp_path):
    def dataset(version: Version) -> NpzDataset:
        return NpzDataset(filepath=str(tmp_path / "x.npz"), version=version)

    class Catalog(dict):
        def get(self, name):
            return self[name]

    catalog = Catalog(x=dataset(Version(None, "2026-01-01T00.00.00.001Z")))
    pipeline = Pipeline([node(lambda: None, inputs=None, outputs="x", name="make_x")])
    assert pin_own_outputs(pipeline, catalog, "2026-01-01T00.00.00.001Z", {}) == ["x"]
    catalog["x"].save({"a": np.zeros(1)})
    dataset(Version(None, "2026-01-01T00.00.00.002Z")).save({"a": np.ones(1)})  # the other run
    assert catalog["x"].load()["a"].tolist() == [0.0]
    assert dataset(Version(None, None)).load()["a"].tolist() == [1.0]  # unpinned: the latest


def _start(project: Path, kedro_env: dict, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [KEDRO, "run", *args],
        cwd=project,
        env={**kedro_env, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_two_runs_started_together_keep_their_own_versions(
    project_copy, kedro_env, fake_ingested, read_manifests
):
    fake_ingested(project_copy)
    runs = [
        _start(project_copy, kedro_env, "--pipeline=augmentation", "--params", f"seed:{seed}")
        for seed in (1, 2)
    ]
    logs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], "\n".join(log[-2000:] for log in logs)

    manifests = read_manifests(project_copy)
    assert len(manifests) == 2
    assert sorted(m["parameters"]["seed"] for m in manifests) == [1, 2]
    versions = {m["kedro_session_id"] for m in manifests}
    assert len(versions) == 2
    saved = sorted((project_copy / AUGMENTED).glob("clips.npz/*/clips.npz"))
    assert {p.parent.name for p in saved} == versions
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in saved}
    assert len(digests) == 2  # different seeds, different sets: neither was overwritten
    for manifest in manifests:
        clips = manifest["datasets"]["augmentation.clip.clips"]
        # The preview node of each run loaded that run's own clips.
        assert clips["roles"] == ["saved", "loaded"]
        assert clips["version"] == manifest["kedro_session_id"]
        assert verify_manifest(manifest, project_copy)[0] == []


@pytest.mark.slow
def test_a_run_killed_mid_save_leaves_no_version_a_load_would_pick(
    project_copy, kedro_env, run_kedro, fake_ingested, read_manifests, tmp_path
):
    fake_ingested(project_copy)
    first = run_kedro(project_copy, "run", "--pipeline=augmentation")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    (kept,) = (project_copy / AUGMENTED).glob("clips.npz/*/clips.npz")
    kept_bytes = kept.read_bytes()

    hook_dir = tmp_path / "site"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(PAUSING_SITECUSTOMIZE)
    marker = tmp_path / "paused"
    run = _start(
        project_copy,
        kedro_env,
        "--pipeline=augmentation",
        "--params",
        "seed:7",
        PYTHONPATH=os.pathsep.join(filter(None, [str(hook_dir), kedro_env.get("PYTHONPATH")])),
        PAUSE_SAVE="clips.npz",
        PAUSED_MARKER=str(marker),
    )
    deadline = time.monotonic() + 300
    while not marker.exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert marker.exists(), (run.poll(), run.stdout.read()[-3000:] if run.poll() else "")
    os.kill(run.pid, signal.SIGKILL)
    run.communicate(timeout=60)

    partial = Path(marker.read_text())
    assert partial.exists() and partial.name.startswith(".clips.npz.partial-")
    assert list(partial.parent.iterdir()) == [partial]  # nothing under the final name
    latest = NpzDataset(filepath=str(kept.parent.parent), version=Version(None, None))
    assert latest.resolve_load_version() == kept.parent.name
    assert (
        latest.load()["clips"].tobytes() == NpzDataset(filepath=str(kept)).load()["clips"].tobytes()
    )
    assert kept.read_bytes() == kept_bytes
    assert len(read_manifests(project_copy)) == 1  # the killed run recorded nothing

    again = run_kedro(project_copy, "run", "--pipeline=augmentation", "--params", "seed:8")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert len(list((project_copy / AUGMENTED).glob("clips.npz/*/clips.npz"))) == 2
