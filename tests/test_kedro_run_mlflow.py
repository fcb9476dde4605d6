"""A real ``kedro run`` (the CLI, in a subprocess) records an MLflow run in the local
SQLite backend, with readable names, tags and the colon-form parameters typed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

TINY_SAMPLE = (
    "synthetic.size:0.2,synthetic.width:128,synthetic.height:96,"
    "synthetic.casme2_width:128,synthetic.casme2_height:96,"
    "synthetic.smic_width:128,synthetic.smic_height:96,"
    "synthetic.onset_to_offset_frames:[6,8],synthetic.margin_frames:[1,2],seed:7"
)


@pytest.mark.slow
def test_kedro_run_tracks_to_the_local_database(project_copy: Path, run_kedro) -> None:
    result = run_kedro(project_copy, "run", "--pipeline=synthetic", "--params", TINY_SAMPLE)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    database = project_copy / "mlflow.db"
    assert database.exists(), "the local MLflow backend is a SQLite file in the project"
    with sqlite3.connect(database) as db:
        experiments = [row[0] for row in db.execute("select name from experiments")]
        assert "microexpression-pipeline" in experiments
        runs = db.execute("select run_uuid, name, status from runs").fetchall()
        assert len(runs) == 1
        run_id, name, status = runs[0]
        assert status == "FINISHED"
        assert name == "synthetic | mode=binary model=all | synthetic"
        tags = dict(db.execute("select key, value from tags where run_uuid=?", (run_id,)))
        params = dict(db.execute("select key, value from params where run_uuid=?", (run_id,)))
    assert tags["data_source"] == "synthetic"
    assert tags["mode"] == "binary"
    # The colon form reached Kedro typed exactly as the `=` form would: ints stay ints.
    assert "'seed': 7" in tags["runtime_params"]
    assert "'size': 0.2" in tags["runtime_params"]
    assert params["seed"] == "7"
    # The run wrote its data inside the project copy, and nothing was pickled.
    written = list((project_copy / "data").rglob("*"))
    assert any(p.suffix == ".jpg" for p in written)
    assert not any(p.suffix in {".pkl", ".pickle"} for p in written)
