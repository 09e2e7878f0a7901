"""XLSX downloads through XlsxWriter, with memory that stays flat however many rows. (CSV:
lms.csv_export, the one CSV writer every export uses.)

XlsxWriter's ``constant_memory`` mode writes each row to a temporary file as soon as the next one
starts, with text as inline strings (no shared-string table growing in memory); ``close()`` then packs
the workbook into a file in the same temporary folder, which goes out in chunks. Its ``in_memory`` mode
is not used: it would hold every row until the end. So unlike CSV, the first byte leaves once the last
row is written (an XLSX is a zip whose parts are only complete at the end); the rows are still read
lazily, when the response is sent, and the folder is removed when the download ends or is abandoned.

Text is written with ``write_string`` and the workbook's ``strings_to_*`` conversions are off: a cell
is never a formula, a URL or a number because of what it says, so "=1+1" from a profile stays text and
needs no prefix (unlike CSV).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

CHUNK_BYTES = 64 * 1024
# Control characters XML cannot hold are dropped (tab, newline and carriage return stay): XlsxWriter
# would write them as Excel's _xHHHH_ escapes, which readers other than Excel show as they are.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "nan_inf_to_errors": True,  # a NaN or infinity becomes #NUM!, never a broken file or an error
}


def _write(sheet: Worksheet, row: int, col: int, value: Any, style: Format | None = None) -> None:
    """One cell: numbers as numbers, yes/no for booleans, dates and times as the text the CSV shows,
    everything else as text. None and "" leave the cell empty."""
    if value is None or value == "":
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "yes" if value else "no", style)
    elif isinstance(value, int | float | Decimal):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, style)
    elif isinstance(value, datetime):
        sheet.write_string(row, col, value.strftime("%Y-%m-%d %H:%M:%S"), style)
    elif isinstance(value, date):
        sheet.write_string(row, col, value.isoformat(), style)
    else:
        sheet.write_string(row, col, _CONTROL.sub("", str(value)), style)


def xlsx_stream(
    header: Iterable[str], rows: Iterable[Iterable[Any]], sheet_name: str = "Report"
) -> Iterator[bytes]:
    """The workbook's bytes in chunks: one sheet, a bold header row, then ``rows``."""
    with tempfile.TemporaryDirectory(prefix="lms-xlsx-") as folder:
        path = os.path.join(folder, "export.xlsx")
        book = xlsxwriter.Workbook(path, {**WORKBOOK_OPTIONS, "tmpdir": folder})
        try:
            sheet = book.add_worksheet(sheet_name[:31])
            bold = book.add_format({"bold": True})
            for col, title in enumerate(header):
                _write(sheet, 0, col, title, bold)
            for number, values in enumerate(rows, start=1):
                for col, value in enumerate(values):
                    _write(sheet, number, col, value)
        finally:
            book.close()  # also when reading the rows failed: closes XlsxWriter's temporary files
        with open(path, "rb") as packed:
            while chunk := packed.read(CHUNK_BYTES):
                yield chunk
