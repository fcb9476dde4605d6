"""The clip index built from a sheet of SAMM's real shape over stand-in frame files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from microexpression_pipeline.pipelines.ingestion.frames import requested_frames
from microexpression_pipeline.pipelines.ingestion.nodes import build_clip_index
from microexpression_pipeline.pipelines.ingestion.schema import IngestionParams

REAL_SHEET = Path(__file__).resolve().parents[3].parent / "shared" / "data"
REAL_SHEET = REAL_SHEET / "samm_metadata_cleaned.csv"
FOUR_DIGIT_SUBJECTS = {17, 28}
CORRECTED_APEX = {
    "028_4_1": 1105,
    "032_3_1": 4945,
    "032_3_2": 5130,
}  # e.g. 017_1395.jpg; the others are 5-digit (006_05562.jpg)


@pytest.fixture(scope="module")
def real_sheet() -> pd.DataFrame:
    if not REAL_SHEET.is_file():
        pytest.skip(f"{REAL_SHEET} is not present beside the checkout")
    return pd.read_csv(REAL_SHEET)


def test_real_shape_index(real_sheet, tmp_path, ingestion_params, label_mappings):
    assert len(real_sheet) == 159 and real_sheet["Subject"].nunique() == 29
    root = tmp_path / "SAMM"
    expected_padding = {}
    for row in real_sheet.itertuples(index=False):
        subject = int(row.Subject)
        pad = 4 if subject in FOUR_DIGIT_SUBJECTS else 5
        folder = root / f"{subject:03d}" / row[1]
        folder.mkdir(parents=True)
        onset, offset = row[3], row[5]
        apex = CORRECTED_APEX.get(row[1], row[4])
        # the frames a correct selection needs, plus distractors around them
        wanted = {f for _, f in requested_frames(onset, apex, offset, between=3)}
        for frame in wanted | {onset - 1, offset + 1, row[4], apex + 1}:
            (folder / f"{subject:03d}_{frame:0{pad}d}.jpg").touch()
        expected_padding[row[1]] = pad
    source = {
        "name": "samm",
        "enabled": True,
        "format": "samm",
        "root": str(root),
        "metadata": str(REAL_SHEET),
    }
    ingestion = IngestionParams.model_validate(ingestion_params)
    candidates, quarantine, stats = build_clip_index(source, ingestion, label_mappings)

    assert stats["rows_read"] == 159
    assert len(candidates) == 159 and candidates["subject"].nunique() == 29
    assert set(candidates["subject"].str.len()) == {3}
    assert candidates["clip_id"].is_unique
    patched = quarantine[quarantine["action"] == "patched"].set_index("clip_id")
    noted = quarantine[quarantine["action"] == "noted"].set_index("clip_id")
    assert set(quarantine["action"]) == {"patched", "noted"}
    assert set(patched["reason"]) == {"corrected"}
    assert sorted(patched.index) == ["028_4_1", "032_3_1", "032_3_2"]
    # apex 3 and 1 frames before the offset: 4 frames wanted in between, some repeated
    assert set(noted["reason"]) == {"repeated_frames"}
    assert sorted(noted.index) == ["017_3_3", "026_3_3"]
    index = candidates.set_index("clip_id")
    assert index.loc["028_4_1", "apex"] == 1105
    assert index.loc["032_3_1", "apex"] == 4945
    assert index.loc["032_3_2", "apex"] == 5130
    sheet = real_sheet.set_index("Filename")
    for clip_id, row in index.iterrows():
        expected = [
            f for _, f in requested_frames(row["onset"], row["apex"], row["offset"], between=3)
        ]
        assert row["frame_numbers"] == expected, clip_id
        assert row["onset"] == sheet.loc[clip_id, "Onset Frame"]
        assert row["offset"] == sheet.loc[clip_id, "Offset Frame"]
        pad = expected_padding[clip_id]
        assert row["frame_files"][0] == f"{row['subject']}_{row['onset']:0{pad}d}.jpg"
        assert row["emotion"] == sheet.loc[clip_id, "Estimated Emotion"]
        assert not row["substitutions"]
    assert index.loc["006_1_2", "frame_files"][0] == "006_05562.jpg"
