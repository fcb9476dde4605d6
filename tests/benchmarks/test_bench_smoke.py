"""Smoke test of the benchmark harness (``python -m benchmarks --tiny``, run from the project
root): every section runs and is reported. No timing is asserted: benchmarks are not tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SECTIONS = (
    "machine",
    "matmul",
    "ingestion",
    "augmentation",
    "training",
    "flow",
    "memory",
    "end_to_end",
    "projection",
    "gpu",
    "targets",
)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KEDRO_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--out", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    return done, out


@pytest.mark.slow
def test_tiny_run_reports_every_section(tiny_run, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(PROJECT_ROOT))
    from benchmarks.__main__ import load_parameters

    done, out = tiny_run
    assert done.returncode == 0, done.stderr[-3000:]
    folders = [p for p in out.iterdir() if p.is_dir() and p.name != "samples"]
    assert len(folders) == 1
    result = json.loads((folders[0] / "bench.json").read_text())
    assert set(SECTIONS) <= set(result)
    for name in SECTIONS[:-1]:
        assert "error" not in result[name], (name, result[name])
    assert result["end_to_end"] == {"skipped": "not part of the tiny profile"}
    assert result["gpu"]["available"] in (True, False)
    training = result["training"]["architectures"]
    assert set(training) == {"3dcnn", "2dcnn"}
    for arch in training.values():
        assert arch["pipeline_clips_per_second"] > 0
        assert arch["plain_clips_per_second"] > 0
        assert arch["training_gflop_per_clip"] > 0
    assert result["ingestion"]["kept"] == result["ingestion"]["clips"] > 0
    projected = result["projection"]
    assert projected["per_model"]
    for p in projected["per_model"].values():  # FLOP-bound: the same folds at the matmul rate
        measured = training[p["architecture"]]
        gflop = measured[
            "training_gflop_per_clip"
            if p["mode"] == "binary"
            else "multiclass_training_gflop_per_clip"
        ]
        share = p["clips_per_second"] * gflop / result["training"]["matmul_gflops"]
        assert p["flop_bound_hours"] == pytest.approx(p["hours"] * share)
    assert projected["flop_bound_training_hours"] == pytest.approx(
        sum(p["flop_bound_hours"] for p in projected["per_model"].values())
    )
    # each rate beside the matmul of its own process: one of the run's, so the paired bound
    # lies between the bounds at the run's fastest and slowest matmul
    for arch in training.values():
        assert arch["process_matmul_gflops"] in result["training"]["matmul_gflops_all"]
        assert arch["share_of_process_matmul"] == pytest.approx(
            arch["achieved_gflops"] / arch["process_matmul_gflops"]
        )
    bounds = [projected[f"flop_bound_training_hours{s}"] for s in ("", "_paired", "_slowest")]
    assert bounds == sorted(bounds) and bounds[0] > 0
    # rates are measured at the study's settings, those the projection uses (conf/real)
    study = load_parameters(PROJECT_ROOT, "real")["training"]
    assert (
        training["2dcnn"]["batch_size"]
        == study["architectures"]["2dcnn"]["overrides"]["batch_size"]
    )
    assert training["3dcnn"]["batch_size"] == study["batch_size"]
    assert result["memory"]["runs"]
    flow = result["flow"]
    assert set(flow["extraction"]) == {"tvl1", "farneback", "dis"}
    assert flow["decode_floor"]["clips_per_second"] > 0
    assert {r["architecture"] for r in flow["training"]["runs"].values()} == {"ststnet"}
    assert all(r["loso"]["hours"] > 0 for r in flow["training"]["runs"].values())
    assert all(t["met"] in (True, False, None, "tie (within noise)") for t in result["targets"])


@pytest.mark.slow
def test_markdown_table_is_written(tiny_run) -> None:
    _, out = tiny_run
    (folder,) = [p for p in out.iterdir() if p.is_dir() and p.name != "samples"]
    text = (folder / "bench.md").read_text()
    assert text.startswith("# Benchmark (tiny)")
    for heading in (
        "## Targets",
        "## Ingestion",
        "## Augmentation",
        "## Training",
        "## Optical flow",
        "## Memory",
        "## End to end",
        "## Projected LOSO study",
        "## GPU",
    ):
        assert heading in text
    assert "| 3dcnn |" in text
    assert "no GPU on this machine" in text or "mixed_float16" in text


def test_results_never_overwrite_an_earlier_run(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(PROJECT_ROOT))
    from benchmarks.report import new_folder

    first, second = new_folder(tmp_path), new_folder(tmp_path)
    assert first != second and first.is_dir() and second.is_dir()
