"""Metadata sheet files: format detected from content, header row found.

A sheet is read as an .xlsx workbook (every worksheet searched for the header) or as CSV
text (encoding and delimiter detected), whatever its file name says. A file that cannot be
read raises ``SheetFormatError``: one line naming the file, what it looks like and what is
expected.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import re
import stat
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pandas as pd

from microexpression_pipeline.errors import InputError

logger = logging.getLogger(__name__)

# Column names are compared after lower-casing and removing spaces, underscores and dashes,
# so "Onset Frame" (SAMM) and "OnsetFrame" (CASME II) are the same column.
SHEET_COLUMNS: dict[str, dict[str, str]] = {
    "samm": {
        "subject": "Subject",
        "filename": "Filename",
        "onset": "Onset Frame",
        "apex": "Apex Frame",
        "offset": "Offset Frame",
        "action_units": "Action Units",
        "emotion": "Estimated Emotion",
    },
    "casme2": {
        "subject": "Subject",
        "filename": "Filename",
        "onset": "OnsetFrame",
        "apex": "ApexFrame",
        "offset": "OffsetFrame",
        "action_units": "Action Units",
        "emotion": "Estimated Emotion",
    },
}
HEADER_SEARCH_ROWS = 60
DELIMITERS = (",", ";", "\t")
SETTING = "ingestion.sources.<data_source>.<source>.metadata"
SAVE_AS = "save it as .xlsx or .csv, or "
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
ODF_MIMETYPE = b"application/vnd.oasis.opendocument"
# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
TEXT_ENCODINGS = ("utf-8", "cp1252", "latin-1")  # tried in order when there is no BOM
BINARY_KINDS = {
    b"\xff\xd8\xff": "a JPEG image",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"\x1f\x8b": "a gzip archive",
}
TEXT_CONTROLS = frozenset(b"\t\n\v\f\r\x1a")
HEAD_BYTES = 8192
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})


class SheetFormatError(InputError, ValueError):
    """A metadata sheet cannot be read, is empty or lacks required columns."""


def normalise_column_name(name: Any) -> str:
    """Lower-case a header cell and drop spaces, underscores and dashes."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return ""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def is_blank(value: Any) -> bool:
    """Whether a cell is empty: None, NaN or only whitespace."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return str(value).strip() == ""


@dataclass(frozen=True)
class _Grid:
    """The cells of one worksheet or CSV file, before header interpretation."""

    rows: list[list[Any]]
    attrs: dict[str, str | None]

    @property
    def place(self) -> str:
        worksheet = self.attrs.get("worksheet")
        return f"worksheet {worksheet!r} " if worksheet is not None else ""


def _unreadable(path: Path, found: str, sheet_format: str, fix: str = "") -> SheetFormatError:
    """The one-line error for a file that is not a readable sheet."""
    columns = list(SHEET_COLUMNS[sheet_format].values())
    return SheetFormatError(
        f"{path}: {found}. Expected an .xlsx workbook or a .csv file with columns "
        f"{columns}; {fix}set {SETTING} to such a file."
    )


def _wanted(sheet_format: str) -> dict[str, str]:
    """Normalised name -> sheet name of the required columns."""
    return {normalise_column_name(name): name for name in SHEET_COLUMNS[sheet_format].values()}


def _find_header(rows: Iterable[list[Any]], wanted: Iterable[str]) -> tuple[int, set[str]]:
    """The index of the row (within the first HEADER_SEARCH_ROWS) with the most required
    columns, stopping at the first that has all; and the columns it has (-1, {} if none)."""
    wanted = set(wanted)
    best_row, best_found = -1, set()
    for index, row in enumerate(islice(rows, HEADER_SEARCH_ROWS)):
        found = {normalise_column_name(cell) for cell in row} & wanted
        if len(found) > len(best_found):
            best_row, best_found = index, found
        if found == wanted:
            break
    return best_row, best_found


def _read_head(path: Path, sheet_format: str) -> bytes:
    """The first bytes of a regular file; an error if it is missing, a folder or unreadable."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SheetFormatError(
            f"{path}: metadata sheet not found; check ingestion.sources.*.metadata."
        ) from None
    except OSError as exc:
        raise _unreadable(path, f"the file cannot be read ({exc.strerror})", sheet_format) from exc
    if stat.S_ISDIR(mode):
        raise _unreadable(path, "the path is a directory, not a file", sheet_format)
    if not stat.S_ISREG(mode):
        raise _unreadable(path, "the path is not a regular file", sheet_format)
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except PermissionError as exc:
        raise _unreadable(
            path, "the file cannot be read (permission denied)", sheet_format
        ) from exc
    except OSError as exc:
        raise _unreadable(path, f"the file cannot be read ({exc.strerror})", sheet_format) from exc


def _check_workbook_zip(path: Path, sheet_format: str) -> None:
    """Raise unless a zip file holds an .xlsx / .xlsm workbook."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, OSError) as exc:
        found = "the file is a corrupt or truncated zip archive, not a readable .xlsx workbook"
        raise _unreadable(path, found, sheet_format, "save it again as .xlsx or .csv, or ") from exc
    if mimetype.startswith(ODF_MIMETYPE + b".spreadsheet"):
        raise _unreadable(
            path, "the file is an OpenDocument spreadsheet (.ods)", sheet_format, SAVE_AS
        )
    if mimetype.startswith(ODF_MIMETYPE):
        found = f"the file is an OpenDocument file ({mimetype.decode('ascii', 'replace')})"
        raise _unreadable(path, found, sheet_format)
    if "xl/workbook.bin" in names:
        found = "the file is an .xlsb (binary) workbook, which cannot be read here"
        raise _unreadable(path, found, sheet_format, SAVE_AS)
    if not any(name.startswith("xl/") for name in names):
        found = "the file is a zip archive but not an .xlsx workbook (it has no xl/ part)"
        raise _unreadable(path, found, sheet_format)


def _worksheets(path: Path, sheet_format: str) -> Iterator[_Grid]:
    """Every worksheet of an .xlsx workbook, in workbook order, read lazily."""
    _check_workbook_zip(path, sheet_format)
    name = None
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            for name in book.sheet_names:
                frame = pd.read_excel(book, sheet_name=name, header=None, dtype=object)
                rows = [list(row) for row in frame.itertuples(index=False, name=None)]
                attrs = {"file_format": "xlsx", "worksheet": name, "encoding": None}
                yield _Grid(rows, {**attrs, "delimiter": None})
    except Exception as exc:  # openpyxl / pandas failing on a damaged workbook
        where = f" (worksheet {name!r})" if name is not None else ""
        found = f"the file is a zip archive that cannot be read as an .xlsx workbook{where}"
        raise _unreadable(path, f"{found}: {type(exc).__name__}", sheet_format, SAVE_AS) from exc


def _binary_kind(head: bytes) -> str | None:
    """What a non-text file looks like ('a JPEG image', or its first bytes), None if text."""
    for magic, kind in BINARY_KINDS.items():
        if head.startswith(magic):
            return kind
    controls = sum(1 for byte in head if byte < 32 and byte not in TEXT_CONTROLS)
    if b"\x00" in head or controls * 20 > len(head):
        return f"binary data (first bytes {head[:8].hex(' ')})"
    return None


def _decode(path: Path, head: bytes, sheet_format: str) -> tuple[str, str]:
    """The file's text and the encoding used: its BOM's, else UTF-8, cp1252 or latin-1."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            try:
                return path.read_bytes().decode(encoding), encoding
            except UnicodeDecodeError as exc:
                found = f"the file starts with a {encoding} byte-order mark but is not {encoding}"
                raise _unreadable(path, found + " text", sheet_format) from exc
    kind = _binary_kind(head)
    if kind is not None:
        found = f"the file is {kind}, not a spreadsheet or CSV text"
        raise _unreadable(path, found, sheet_format)
    data = path.read_bytes()
    for encoding in TEXT_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


def _csv_rows(path: Path, text: str, delimiter: str, sheet_format: str) -> Iterator[list[str]]:
    """The records of CSV text; a spreadsheet shows record n on row n."""
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        found = f"the file is not readable as CSV text ({exc})"
        raise _unreadable(path, found, sheet_format) from exc


def _csv_grid(path: Path, text: str, encoding: str, sheet_format: str) -> _Grid:
    """The cells of CSV text, split on the one delimiter that gives a full header row
    (else on the one that gives the most required columns, for the error message)."""
    wanted = _wanted(sheet_format)
    complete, best, best_count = [], DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        _, found = _find_header(_csv_rows(path, text, delimiter, sheet_format), wanted)
        if found == set(wanted):
            complete.append(delimiter)
        if len(found) > best_count:
            best, best_count = delimiter, len(found)
    if len(complete) > 1:
        names = " and ".join(repr(d) for d in complete)
        raise SheetFormatError(
            f"{path}: ambiguous CSV delimiter: {names} each give a header row with all required "
            f"columns. Expected one delimiter; keep one header row in the file and set {SETTING}."
        )
    delimiter = complete[0] if complete else best
    rows = list(_csv_rows(path, text, delimiter, sheet_format))
    return _Grid(
        rows,
        {"file_format": "csv", "worksheet": None, "encoding": encoding, "delimiter": delimiter},
    )


def _grids(path: Path, sheet_format: str) -> Iterator[_Grid]:
    """The worksheets of a workbook, or the one grid of a CSV file, by the file's content."""
    head = _read_head(path, sheet_format)
    if not head:
        raise _unreadable(path, "the file is empty (0 bytes)", sheet_format)
    if head.startswith(OLE2_MAGIC):
        found = "the file is an OLE2 (legacy .xls or encrypted) workbook, which cannot be read here"
        raise _unreadable(
            path, found, sheet_format, "save it as .xlsx or .csv without a password, or "
        )
    if head.startswith(ZIP_MAGIC):
        yield from _worksheets(path, sheet_format)
        return
    text, encoding = _decode(path, head, sheet_format)
    yield _csv_grid(path, text, encoding, sheet_format)


def _note_misnamed(path: Path, file_format: str) -> None:
    """Log a sheet whose name says another format than its content."""
    suffix = path.suffix.lower()
    named_xlsx = suffix in XLSX_SUFFIXES
    if (file_format == "csv" and named_xlsx) or (file_format == "xlsx" and not named_xlsx):
        logger.warning("Metadata sheet %s holds %s content; read it as such", path, file_format)


def _data_rows(grid: _Grid, header_index: int) -> tuple[list[str], list[dict[str, Any]]]:
    """The header names and the non-blank rows below the header, with ``sheet_row``."""
    names = [
        str(cell).strip() if not is_blank(cell) else f"unnamed_{i}"
        for i, cell in enumerate(grid.rows[header_index])
    ]
    body = []
    for number, row in enumerate(grid.rows[header_index + 1 :], start=header_index + 2):
        if all(is_blank(cell) for cell in row):
            continue
        padded = list(row) + [None] * (len(names) - len(row))
        body.append({**dict(zip(names, padded, strict=False)), "sheet_row": number})
    return names, body


def _table(path: Path, grid: _Grid, header_index: int, sheet_format: str) -> pd.DataFrame:
    """The data rows of a grid, required columns renamed to their keys, ``attrs`` set."""
    names, body = _data_rows(grid, header_index)
    if not body:
        raise SheetFormatError(f"{path}: the metadata sheet has a header but no data rows.")
    by_norm = {normalise_column_name(name): name for name in names}
    required = SHEET_COLUMNS[sheet_format]
    rename = {by_norm[normalise_column_name(col)]: key for key, col in required.items()}
    frame = pd.DataFrame(body).rename(columns=rename)
    frame.attrs.update(grid.attrs)
    _note_misnamed(path, str(grid.attrs["file_format"]))
    return frame


def _missing_columns(
    path: Path, sheet_format: str, searched: list[_Grid], best: tuple[_Grid, int, set[str]]
) -> SheetFormatError:
    """The error for a sheet none of whose grids has all required columns."""
    wanted = _wanted(sheet_format)
    grid, index, found = best
    missing = [wanted[key] for key in wanted if key not in found]
    where = f"best header candidate: {grid.place}row {index + 1}" if index >= 0 else "no header"
    sheets = ", ".join(repr(g.attrs["worksheet"]) for g in searched if g.attrs["worksheet"])
    of_sheets = f" of worksheets {sheets}" if sheets else ""
    return SheetFormatError(
        f"{path}: not a {sheet_format} metadata sheet; missing columns {missing} ({where}, "
        f"searched the first {HEADER_SEARCH_ROWS} rows{of_sheets}). "
        f"Expected columns: {list(SHEET_COLUMNS[sheet_format].values())}."
    )


def read_metadata_sheet(path: str | Path, sheet_format: str) -> pd.DataFrame:
    """Read a metadata sheet, finding its header row (title rows above it are skipped).

    Returns the rows below the header with the original column names (required ones
    renamed to their keys), plus ``sheet_row`` (1-based row number as a spreadsheet shows
    it). ``attrs`` records ``file_format``, ``worksheet``, ``encoding`` and ``delimiter``.
    Raises ``SheetFormatError`` naming the file and what is wrong with it.
    """
    path = Path(path)
    if sheet_format not in SHEET_COLUMNS:
        raise SheetFormatError(
            f"{path}: unknown sheet format {sheet_format!r}; valid: {', '.join(SHEET_COLUMNS)}"
        )
    wanted = set(_wanted(sheet_format))
    searched: list[_Grid] = []
    best: tuple[_Grid, int, set[str]] | None = None
    for grid in _grids(path, sheet_format):
        index, found = _find_header(grid.rows, wanted)
        if found == wanted:
            return _table(path, grid, index, sheet_format)
        searched.append(grid)
        if best is None or len(found) > len(best[2]):
            best = (grid, index, found)
    if best is None or not any(not is_blank(c) for g in searched for row in g.rows for c in row):
        raise SheetFormatError(f"{path}: the metadata sheet is empty.")
    raise _missing_columns(path, sheet_format, searched, best)
