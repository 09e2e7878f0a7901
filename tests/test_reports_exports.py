"""Exports (CSV safe for spreadsheets, XLSX that Excel-compatible readers open) and the SVG charts."""

from __future__ import annotations

import csv
import io
import tempfile
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from lms.csv_export import csv_stream, neutralise
from lms.reports.charts import Bar, column_chart, horizontal_bars
from lms.reports.exports import xlsx_stream

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", '=HYPERLINK("http://x")']


def test_formula_cells_are_neutralised_and_numbers_kept() -> None:
    for text in DANGEROUS:
        assert neutralise(text) == "'" + text
    assert neutralise("Olena Koval") == "Olena Koval"
    assert neutralise(-3.5) == -3.5 and neutralise(0) == 0
    data = b"".join(csv_stream(["name", "gain"], [[text, -3.5] for text in DANGEROUS]))
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Cyrillic and Arabic
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["name", "gain"]
    for row in rows[1:]:
        assert row[0][0] == "'" and row[1] == "-3.5"


def test_xlsx_opens_with_text_numbers_and_header() -> None:
    rows = [[1, "Олена Коваль", 66.7], [2, "=1+1", None], [3, "فاطمة", -3.5]]
    data = b"".join(xlsx_stream(["id", "name", "rate"], rows, sheet_name="Progress"))
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    sheet = book["Progress"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0] == ["id", "name", "rate"]
    assert values[1] == [1, "Олена Коваль", 66.7]
    assert values[2][1] == "=1+1"  # stored as text (inline string), never as a formula
    assert values[3] == [3, "فاطمة", -3.5]


def test_xlsx_cells_keep_their_types_and_text_is_never_a_formula() -> None:
    header = ["id", "gain", "passed", "failed", "on", "at", "empty", "name", "link", "typed"]
    row = [
        7, Decimal("12.50"), True, False, date(2026, 3, 1), datetime(2026, 3, 1, 10, 0, 5), None,
        "a\x00b\x1fc", "http://evil.example", "-3",
    ]  # fmt: skip
    data = b"".join(xlsx_stream(header, [row, ["", "=SUM(A1)", "@cmd", "+1"]]))
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")  # no formula anywhere
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert all(cell.font.b for cell in sheet[1])  # the header is bold
    cells = sheet[2]
    assert [cell.value for cell in cells] == [
        7, 12.5, "yes", "no", "2026-03-01", "2026-03-01 10:00:05", None, "abc", "http://evil.example", "-3",
    ]  # fmt: skip
    assert [cell.data_type for cell in cells[:2]] == ["n", "n"] and cells[9].data_type == "s"
    assert cells[8].hyperlink is None
    assert [(cell.value, cell.data_type) for cell in sheet[3]][1:4] == [
        ("=SUM(A1)", "s"), ("@cmd", "s"), ("+1", "s"),
    ]  # fmt: skip


def test_xlsx_leaves_no_temporary_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    header = ["id", "name", "country", "status", "progress", "at"]
    assert b"".join(xlsx_stream(header, _rows(10))).startswith(b"PK")
    assert list(tmp_path.iterdir()) == []
    abandoned = xlsx_stream(header, _rows(20_000))  # the browser went away after the first chunk
    assert next(abandoned).startswith(b"PK")
    abandoned.close()
    assert list(tmp_path.iterdir()) == []

    def failing() -> Iterator[list[object]]:
        yield from _rows(10)
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        b"".join(xlsx_stream(header, failing()))
    assert list(tmp_path.iterdir()) == []


def _rows(count: int) -> Iterator[list[object]]:
    for n in range(count):
        yield [n, f"Person {n}", "UA", "enrolled", n % 100, "2026-03-01 10:00:00"]


def _peak(stream: Iterator[bytes]) -> tuple[int, int]:
    tracemalloc.start()
    size = 0
    for chunk in stream:
        size += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, size


def test_exports_stream_with_flat_memory() -> None:
    header = ["id", "name", "country", "status", "progress", "at"]
    # Ten times the rows, the same memory (tracemalloc is slow, so not a million rows here: the bench
    # export of the L data set is the full-size check, see docs/reports.md).
    small_peak, _ = _peak(csv_stream(header, _rows(5_000)))
    large_peak, size = _peak(csv_stream(header, _rows(50_000)))
    assert size > 2_000_000
    assert large_peak < small_peak * 2 + 500_000
    small_peak, _ = _peak(xlsx_stream(header, _rows(2_000)))
    large_peak, _ = _peak(xlsx_stream(header, _rows(20_000)))
    assert large_peak < small_peak * 2 + 500_000


def test_charts_are_labelled_patterned_and_titled() -> None:
    bars = [Bar("Female", 40, "40"), Bar("Male", 55, "55"), Bar("Not disclosed", 0, "<5")]
    svg = str(horizontal_bars("sex", "Participants by sex", "Unique persons by sex", bars, patterned=True))
    assert '<title id="sex-title">Participants by sex</title>' in svg
    assert '<desc id="sex-desc">' in svg and 'role="img"' in svg
    assert "url(#sex-solid)" in svg and "url(#sex-stripes)" in svg and "url(#sex-dots)" in svg
    assert ">40<" in svg and ">55<" in svg and "&lt;5" in svg  # numbers written on the chart
    months = str(column_chart("m", "Completions <over> time", "d", [Bar("2026-03", 3, "3")]))
    assert "Completions &lt;over&gt; time" in months  # text is escaped
    assert str(column_chart("e", "Empty", "d", [])).count("<svg") == 1
