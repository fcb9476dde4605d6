"""Metadata sheet files: format from content, encodings, delimiters, worksheets, bad files."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from microexpression_pipeline.pipelines.ingestion.sheet_files import (
    HEADER_SEARCH_ROWS,
    SheetFormatError,
    read_metadata_sheet,
)

from .conftest import CASME_COLUMNS, SAMM_COLUMNS, samm_row, write_sheet

SETTING = "set ingestion.sources.<data_source>.<source>.metadata"
EXPECTED = "Expected an .xlsx workbook or a .csv file with columns ['Subject', 'Filename'"


def samm_rows(notes: str = "café – naïve") -> list[dict]:
    """Two SAMM rows; the first has a non-ASCII note and an Action Units cell with commas."""
    first = samm_row(6, "006_1_2", 5562, 5588, 5632, "Anger")
    first.update({"Notes": notes, "Action Units": "R12, L14"})
    return [first, samm_row(7, "007_3_1", 1, 2, 3, "Surprise")]


def clean_csv(folder: Path, notes: str = "café – naïve") -> Path:
    """The SAMM sheet as a clean UTF-8 comma CSV with 13 title rows (header on row 14)."""
    folder.mkdir(exist_ok=True)
    return write_sheet(folder / "clean.csv", samm_rows(notes), SAMM_COLUMNS, title_rows=13)


def rewrite_csv(
    source: Path, target: Path, delimiter: str, encoding: str, bom: bytes = b""
) -> Path:
    """``source``'s records written with another delimiter and encoding (CRLF, as Excel)."""
    with source.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(records)
    target.write_bytes(bom + buffer.getvalue().encode(encoding))
    return target


def assert_same_rows(frame: pd.DataFrame, reference: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(frame, reference)
    assert list(frame["sheet_row"]) == [15, 16]
    assert list(frame["filename"]) == ["006_1_2", "007_3_1"]


def sheet_error(path: Path, *phrases: str, sheet_format: str = "samm") -> str:
    """The error reading ``path``: one line, starting with the path, holding ``phrases``."""
    with pytest.raises(SheetFormatError) as error:
        read_metadata_sheet(path, sheet_format)
    message = str(error.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for phrase in phrases:
        assert phrase in message, (phrase, message)
    return message


# --- header search, columns, shape (the reading behaviour kept from before) ---


def test_xlsx_with_title_rows_header_found(tmp_path):
    rows = [samm_row(6, "006_1_2", 5562, 5588, 5632, "Anger"), samm_row(7, "007_3_1", 1, 2, 3)]
    sheet = write_sheet(tmp_path / "samm.xlsx", rows, SAMM_COLUMNS, title_rows=13)
    raw = pd.read_excel(sheet, header=None)
    assert str(raw.iloc[13, 0]) == "Subject"  # header on sheet row 14
    frame = read_metadata_sheet(sheet, "samm")
    assert list(frame["filename"]) == ["006_1_2", "007_3_1"]
    assert list(frame["sheet_row"]) == [15, 16]
    assert frame.loc[0, "onset"] == 5562 and frame.loc[0, "emotion"] == "Anger"
    assert frame.attrs == {
        "file_format": "xlsx",
        "worksheet": "Sheet1",
        "encoding": None,
        "delimiter": None,
    }


@pytest.mark.parametrize("title_rows", [0, 3])
def test_csv_same_columns(tmp_path, title_rows):
    rows = [samm_row(6, "006_1_2", 5562, 5588, 5632, "Anger")]
    sheet = write_sheet(tmp_path / "samm.csv", rows, SAMM_COLUMNS, title_rows=title_rows)
    frame = read_metadata_sheet(sheet, "samm")
    assert frame.loc[0, "filename"] == "006_1_2"
    assert int(frame.loc[0, "apex"]) == 5588
    assert list(frame["sheet_row"]) == [title_rows + 2]
    assert frame.attrs["file_format"] == "csv" and frame.attrs["encoding"] == "utf-8"


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
    assert {"unnamed_2", "unnamed_6"} <= set(frame.columns)
    assert list(frame["sheet_row"]) == [2]


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
    assert f"best header candidate: row 1, searched the first {HEADER_SEARCH_ROWS} rows" in message


def test_header_without_rows_stops(tmp_path):
    sheet = write_sheet(tmp_path / "header_only.xlsx", [], SAMM_COLUMNS)
    with pytest.raises(SheetFormatError, match="no data rows"):
        read_metadata_sheet(sheet, "samm")


def test_missing_file_named(tmp_path):
    sheet_error(tmp_path / "nowhere.xlsx", "metadata sheet not found")


# --- content, not the name, decides the format ---


def test_zero_byte_file(tmp_path):
    path = tmp_path / "samm.xlsx"
    path.write_bytes(b"")
    sheet_error(path, "the file is empty (0 bytes)", EXPECTED, SETTING)


def test_csv_named_xlsx_is_read_as_csv(tmp_path):
    clean = clean_csv(tmp_path / "clean")
    misnamed = tmp_path / "samm.xlsx"
    misnamed.write_bytes(clean.read_bytes())
    frame = read_metadata_sheet(misnamed, "samm")
    assert_same_rows(frame, read_metadata_sheet(clean, "samm"))
    assert frame.attrs["file_format"] == "csv" and frame.attrs["delimiter"] == ","


def test_xlsx_named_csv_is_read_as_workbook(tmp_path):
    clean = write_sheet(tmp_path / "clean.xlsx", samm_rows(), SAMM_COLUMNS, title_rows=13)
    misnamed = tmp_path / "samm.csv"
    misnamed.write_bytes(clean.read_bytes())
    frame = read_metadata_sheet(misnamed, "samm")
    assert_same_rows(frame, read_metadata_sheet(clean, "samm"))
    assert frame.loc[0, "onset"] == 5562  # a workbook number, not CSV text
    assert frame.attrs["file_format"] == "xlsx" and frame.attrs["worksheet"] == "Sheet1"


@pytest.mark.parametrize("name", ["samm.xls", "samm.xlsx"])
def test_ole2_workbook_says_save_as(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504))
    sheet_error(
        path,
        "the file is an OLE2 (legacy .xls or encrypted) workbook",
        "save it as .xlsx or .csv",
        EXPECTED,
    )


@pytest.mark.parametrize("name", ["samm.ods", "samm.xlsx"])
def test_opendocument_spreadsheet_says_save_as(tmp_path, name):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    sheet_error(path, "OpenDocument spreadsheet (.ods)", "save it as .xlsx or .csv", EXPECTED)


# --- CSV as spreadsheet programs write it ---


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter", "notes", "recorded"),
    [
        ("utf-8", b"", ",", "café – naïve", "utf-8"),
        ("utf-8", b"\xef\xbb\xbf", ",", "café – naïve", "utf-8-sig"),
        ("utf-16-le", b"\xff\xfe", "\t", "café – naïve", "utf-16"),  # Excel "Unicode text"
        ("utf-16-be", b"\xfe\xff", "\t", "café – naïve", "utf-16"),
        ("cp1252", b"", ";", "café – naïve", "cp1252"),  # '–' is byte 0x96
        ("latin-1", b"", ";", "naïve \x81", "latin-1"),  # 0x81 is not cp1252
    ],
)
def test_csv_encodings_read_the_same(tmp_path, encoding, bom, delimiter, notes, recorded):
    clean = clean_csv(tmp_path / "clean", notes)
    sheet = rewrite_csv(clean, tmp_path / "samm.csv", delimiter, encoding, bom)
    assert sheet.read_bytes() != clean.read_bytes()
    frame = read_metadata_sheet(sheet, "samm")
    assert_same_rows(frame, read_metadata_sheet(clean, "samm"))
    assert frame.loc[0, "Notes"] == notes and frame.loc[0, "action_units"] == "R12, L14"
    assert frame.attrs["encoding"] == recorded and frame.attrs["delimiter"] == delimiter


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters_read_the_same(tmp_path, delimiter):
    clean = clean_csv(tmp_path / "clean")
    sheet = rewrite_csv(clean, tmp_path / "samm.csv", delimiter, "utf-8")
    frame = read_metadata_sheet(sheet, "samm")
    assert_same_rows(frame, read_metadata_sheet(clean, "samm"))
    assert frame.attrs["delimiter"] == delimiter


def test_ambiguous_delimiter_named(tmp_path):
    path = tmp_path / "samm.csv"
    path.write_text(";".join(SAMM_COLUMNS) + "\n" + ",".join(SAMM_COLUMNS) + "\n6,006_1_2\n")
    sheet_error(path, "ambiguous CSV delimiter", "','", "';'", SETTING)


# --- files that are no sheet at all ---


def test_jpeg_renamed_is_binary(tmp_path):
    path = tmp_path / "samm.csv"
    ok, encoded = cv2.imencode(".jpg", np.full((8, 8, 3), 128, np.uint8))
    assert ok
    path.write_bytes(encoded.tobytes())
    sheet_error(path, "the file is a JPEG image, not a spreadsheet or CSV text", EXPECTED)


def test_unknown_binary_shows_first_bytes(tmp_path):
    path = tmp_path / "samm.xlsx"
    path.write_bytes(bytes(range(256)))
    sheet_error(path, "binary data (first bytes 00 01 02 03 04 05 06 07)", EXPECTED)


def test_unreadable_file(tmp_path, monkeypatch):
    path = clean_csv(tmp_path)
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anyway: refuse as the OS would
        real_open = Path.open

        def refusing_open(self: Path, *args, **kwargs):
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refusing_open)
    try:
        sheet_error(path, "the file cannot be read (permission denied)", EXPECTED)
    finally:
        path.chmod(0o644)


def test_directory_as_sheet(tmp_path):
    folder = tmp_path / "samm.xlsx"
    folder.mkdir()
    sheet_error(folder, "is a directory, not a file", EXPECTED, SETTING)


def test_truncated_xlsx_is_corrupt_zip(tmp_path):
    clean = write_sheet(tmp_path / "clean.xlsx", samm_rows(), SAMM_COLUMNS, title_rows=13)
    path = tmp_path / "samm.xlsx"
    path.write_bytes(clean.read_bytes()[: clean.stat().st_size // 2])
    sheet_error(path, "corrupt or truncated zip archive", "save it again as .xlsx or .csv")


def test_zip_without_workbook(tmp_path):
    path = tmp_path / "samm.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    sheet_error(path, "a zip archive but not an .xlsx workbook", EXPECTED)


def test_damaged_workbook_xml(tmp_path):
    path = tmp_path / "samm.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "not xml <")
        archive.writestr("xl/workbook.xml", "not xml <")
    sheet_error(path, "cannot be read as an .xlsx workbook", "save it as .xlsx or .csv")


# --- worksheets ---


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, grid in sheets.items():
            grid.to_excel(writer, sheet_name=name, header=False, index=False)
    return path


README = pd.DataFrame([["About this file", None], [None, None], ["Subject", "Filename"]])


def test_data_on_second_worksheet(tmp_path):
    clean = write_sheet(tmp_path / "clean.xlsx", samm_rows(), SAMM_COLUMNS, title_rows=13)
    grid = pd.read_excel(clean, header=None, dtype=object)
    sheet = write_workbook(tmp_path / "samm.xlsx", {"readme": README, "data": grid})
    frame = read_metadata_sheet(sheet, "samm")
    assert_same_rows(frame, read_metadata_sheet(clean, "samm"))
    assert frame.attrs["worksheet"] == "data"


def test_no_worksheet_has_header_names_them(tmp_path):
    other = pd.DataFrame([["Subject", "Filename", "Onset Frame"], [6, "006_1_2", 1]])
    sheet = write_workbook(tmp_path / "samm.xlsx", {"readme": README, "notes": other})
    message = sheet_error(
        sheet,
        "not a samm metadata sheet; missing columns ['Apex Frame', 'Offset Frame'",
        "best header candidate: worksheet 'notes' row 1",
        "of worksheets 'readme', 'notes'",
    )
    assert "'Onset Frame'" not in message.split("Expected")[0]
