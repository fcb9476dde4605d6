"""Metadata sheets normalised to candidate clips (reading the files: test_sheet_files.py)."""

from __future__ import annotations

import pandas as pd

from microexpression_pipeline.pipelines.ingestion.metadata import normalise_sheet
from microexpression_pipeline.pipelines.ingestion.sheet_files import read_metadata_sheet

from .conftest import CASME_COLUMNS, write_sheet

CASME_ROWS = [
    {
        "Subject": 1,
        "Filename": "EP02_01f",
        "OnsetFrame": 46,
        "ApexFrame": 59,
        "OffsetFrame": 86,
        "Action Units": "12",
        "Estimated Emotion": "happiness",
    },
    {
        "Subject": 2,
        "Filename": "EP03_02",
        "OnsetFrame": 10,
        "ApexFrame": "/",
        "OffsetFrame": 30,
        "Action Units": "4",
        "Estimated Emotion": "repression",
    },
]


def _candidates(sheet, root):
    frame, records = normalise_sheet(
        read_metadata_sheet(sheet, "casme2"),
        dataset="casme2",
        sheet_format="casme2",
        root=root,
        known_emotions={"happiness", "repression"},
        corrections=[],
    )
    return frame, records


def test_csv_and_xlsx_normalise_to_the_same_clips(tmp_path):
    """Cells read from CSV are text, from .xlsx numbers: the candidates are the same."""
    root = tmp_path / "CASME2_RAW_selected"
    from_xlsx, xlsx_records = _candidates(
        write_sheet(tmp_path / "c.xlsx", CASME_ROWS, CASME_COLUMNS), root
    )
    from_csv, csv_records = _candidates(
        write_sheet(tmp_path / "c.csv", CASME_ROWS, CASME_COLUMNS), root
    )
    pd.testing.assert_frame_equal(from_csv, from_xlsx)
    assert csv_records == xlsx_records
    assert list(from_xlsx["clip_id"]) == ["sub01_EP02_01f", "sub02_EP03_02"]
    assert list(from_xlsx["apex"]) == [59, 20]  # '/' -> the middle frame
    assert list(from_xlsx["sheet_row"]) == [2, 3]
