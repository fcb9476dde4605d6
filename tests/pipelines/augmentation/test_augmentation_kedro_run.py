"""``kedro run --pipeline=augmentation`` end to end, on a project copy with fake ingested clips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def _latest(folder: Path, name: str) -> Path:
    return sorted(folder.glob(f"{name}/*/{name}"))[-1]


@pytest.mark.slow
def test_kedro_run_writes_the_set_of_the_requested_mode(project_copy, run_kedro, fake_ingested):
    fake_ingested(
        project_copy, {"Happiness": 3, "Anger": 2, "Fear": 1, "Other": 1}, size=32, n_subjects=7
    )

    result = run_kedro(
        project_copy, "run", "--pipeline=augmentation", "--params", "mode:multiclass"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    out = project_copy / "data" / "05_model_input" / "synthetic" / "augmented" / "multiclass"
    out = out / "clip"
    meta = json.loads(_latest(out, "meta.json").read_text())
    assert meta["counts_after"] == {
        "Happiness": 6, "Surprise": 0, "Anger": 2, "Fear": 6, "Disgust": 0, "Contempt": 0,
        "Sadness": 0,
    }  # fmt: skip
    assert meta["left_out"][0]["emotion"] == "Other"
    with np.load(_latest(out, "clips.npz"), allow_pickle=False) as archive:
        assert archive["clips"].shape == (14, 9, 32, 32) and str(archive["mode"]) == "multiclass"
        sample_ids = archive["sample_ids"].tolist()
    assert pd.read_parquet(_latest(out, "samples.parquet"))["sample_id"].tolist() == sample_ids
    preview = project_copy / "data" / "08_reporting" / "synthetic" / "augmentation" / "multiclass"
    assert _latest(preview / "clip", "preview.png").stat().st_size > 0
    # the 2D CNN's own set, drawn per frame, beside the clip models' set
    frame2d = pd.read_parquet(_latest(out.parent / "frame2d", "samples.parquet"))
    assert frame2d.loc[frame2d["is_augmented"], "per_frame"].all()
    assert frame2d["sample_id"].tolist() == sample_ids
    # the flow models' set: the flow of its own augmented frames, float16 28 x 28 x 3
    with np.load(_latest(out.parent / "flow", "clips.npz"), allow_pickle=False) as archive:
        assert archive["clips"].shape == (14, 28, 28, 3) and archive["clips"].dtype == np.float16
        assert json.loads(str(archive["flow_settings"]))["method"] == "tvl1"

    # and the `features` pipeline through the same command line: SAMM's flow, beside its clips
    result = run_kedro(
        project_copy, "run", "--pipeline=features",
        "--nodes=samm.compute_flow,samm.plot_flow_contact_sheet",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    feature = project_copy / "data" / "04_feature" / "synthetic" / "samm"
    with np.load(_latest(feature, "flow.npz"), allow_pickle=False) as archive:
        # every ingested clip (7, "Other" included), row-aligned with samm.clip_index
        assert archive["flow"].shape == (7, 28, 28, 3) and archive["flow"].dtype == np.float16
        originals = {s.split("/")[0] for s in sample_ids}
        assert originals < set(archive["clip_ids"].tolist())
    meta = json.loads(_latest(feature, "flow_meta.json").read_text())
    assert meta["method"] == "tvl1" and meta["computed_at_px"] == 32 and meta["n_clips"] == 7
    sheets = project_copy / "data" / "08_reporting" / "synthetic" / "samm"
    assert _latest(sheets, "flow_contact_sheet.png").stat().st_size > 0
