"""Byte-reproducible .xlsx writing (openpyxl stamps the save time into every workbook)."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

_FIXED_TIME = datetime.datetime(2014, 5, 8)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def write_xlsx(path: Path, rows: Iterable[Sequence[Any]], sheet_title: str = "Sheet1") -> None:
    """Write ``rows`` (an empty row stays a blank sheet row) with fixed timestamps."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for row in rows:
        sheet.append(list(row))
    workbook.properties.creator = "microexpression_pipeline.synthetic"
    workbook.properties.created = workbook.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            target.writestr(entry, source.read(info.filename), zipfile.ZIP_DEFLATED)
