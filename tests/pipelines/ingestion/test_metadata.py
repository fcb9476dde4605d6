"""Metadata sheets: header detection, shape errors, normalisation of both datasets."""

from __future__ import annotations

import pandas as pd
import pytest

from microexpression_pipeline.pipelines.ingestion.metadata import (
    SheetFormatError,
    read_metadata_sheet,
)

from .conftest import CASME_COLUMNS, SAMM_COLUMNS, samm_row, write_sheet


def test_xlsx_with_title_rows_header_found(tmp_path):
    rows = [samm_row(6, "006_1_2", 5562, 5588, 5632, "Anger"), samm_row(7, "007_3_1", 1, 2, 3)]
    sheet = write_sheet(tmp_path / "samm.xlsx", rows, SAMM_COLUMNS, title_rows=13)
    raw = pd.read_excel(sheet, header=None)
    assert str(raw.iloc[13, 0]) == "Subject"  # header on sheet row 14
    frame = read_metadata_sheet(sheet, "samm")
    assert list(frame["filename"]) == ["006_1_2", "007_3_1"]
    assert list(frame["sheet_row"]) == [15, 16]
    assert frame.loc[0, "onset"] == 5562 and frame.loc[0, "emotion"] == "Anger"


@pytest.mark.parametrize("title_rows", [0, 3])
def test_csv_same_columns(tmp_path, title_rows):
    rows = [samm_row(6, "006_1_2", 5562, 5588, 5632, "Anger")]
    sheet = write_sheet(tmp_path / "samm.csv", rows, SAMM_COLUMNS, title_rows=title_rows)
    frame = read_metadata_sheet(sheet, "samm")
    assert frame.loc[0, "filename"] == "006_1_2"
    assert int(frame.loc[0, "apex"]) == 5588


def test_casme_sheet_with_empty_columns(tmp_path):
    rows = [
        {
            "Subject": 1,
            "Filename": "EP02_01f",
            "OnsetFrame": 46,
            "ApexFrame": "/",
            "OffsetFrame": 86,
            "Action Units": "12",
            "Estimated Emotion": "happiness",
        }
    ]
    frame = read_metadata_sheet(write_sheet(tmp_path / "c.xlsx", rows, CASME_COLUMNS), "casme2")
    assert frame.loc[0, "apex"] == "/" and frame.loc[0, "subject"] == 1


def test_empty_sheet_stops_with_file_name(tmp_path):
    path = tmp_path / "empty.xlsx"
    pd.DataFrame().to_excel(path, index=False)
    with pytest.raises(SheetFormatError, match=r"empty\.xlsx.*empty"):
        read_metadata_sheet(path, "samm")


def test_wrong_shape_names_missing_columns(tmp_path):
    columns = [c for c in SAMM_COLUMNS if c not in {"Apex Frame", "Estimated Emotion"}]
    rows = [samm_row(6, "006_1_2", 1, 2, 3)]
    sheet = write_sheet(tmp_path / "bad.csv", rows, columns)
    with pytest.raises(SheetFormatError) as error:
        read_metadata_sheet(sheet, "samm")
    message = str(error.value)
    assert "bad.csv" in message and "'Apex Frame'" in message and "'Estimated Emotion'" in message
    assert "'Onset Frame'" not in message.split("Expected")[0]


def test_header_without_rows_stops(tmp_path):
    sheet = write_sheet(tmp_path / "header_only.xlsx", [], SAMM_COLUMNS)
    with pytest.raises(SheetFormatError, match="no data rows"):
        read_metadata_sheet(sheet, "samm")
