"""The one CSV writer of the academy: every CSV download (run export, progress and indicator reports,
audit log) goes through it, so that no export can forget the rules below.

- UTF-8 with a byte-order mark: Excel then reads Cyrillic and Arabic correctly.
- CRLF line ends, quoting as the csv module does it (RFC 4180).
- Formula injection (OWASP "CSV Injection"): a text cell that starts with = + - @, a tab or a carriage
  return (or their full-width forms, which some East Asian spreadsheet set-ups read as the same) gets a
  leading apostrophe, so a spreadsheet shows it as text instead of running it. Any text, wherever it
  comes from: a trainee writes their own profile, and "-2+3" in a name is as much a formula as "=1+1".
- Numbers the code passes as numbers (int, float, Decimal) stay numbers: a negative gain is still -3.5.
  They cannot carry a formula; only text can.

Pure: takes iterables of plain values and yields bytes, a chunk per ROWS_PER_CHUNK rows, so memory
stays flat for a million rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"
ROWS_PER_CHUNK = 500


def neutralise(value: Any) -> Any:
    """A cell safe to open in a spreadsheet: text that looks like a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple):  # e.g. an audit record's before/after
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_stream(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(cell) for cell in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell) for cell in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    """The whole file at once, for small files (a run's people)."""
    return b"".join(csv_stream(header, rows))
