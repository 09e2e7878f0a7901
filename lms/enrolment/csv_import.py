"""Parsing and checking a trainee CSV file: plain bytes in, rows and numbered problems out.

No database here: the checks that need one (unknown country or authority, eligibility, seats) run in
``services.import_trainees``; this module only decides what the file says and whether it is well formed.
Rows are numbered as a spreadsheet shows them: the header is row 1, the first trainee row 2.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from lms.config import LANGUAGES
from lms.csv_export import csv_bytes

COLUMNS = (
    "email",
    "given_name",
    "family_name",
    "patronymic",
    "native_name",
    "country",
    "authority",
    "position",
    "sex",
    "birth_year_band",
    "language",
)
REQUIRED_COLUMNS = ("email",)
# Needed to create a person; an existing account can be matched by email alone.
NEW_PERSON_COLUMNS = ("given_name", "family_name", "country", "authority")
SEXES = ("female", "male", "undisclosed")
BIRTH_YEAR_BANDS = ("before-1960", "1960-1969", "1970-1979", "1980-1989", "1990-1999", "2000-or-later")
MAX_LENGTHS = {
    "email": 254,
    "given_name": 100,
    "family_name": 100,
    "patronymic": 100,
    "native_name": 200,
    "authority": 40,
    "position": 120,
}


@dataclass(frozen=True)
class ImportRow:
    row: int
    email: str
    given_name: str | None = None
    family_name: str | None = None
    patronymic: str | None = None
    native_name: str | None = None
    country: str | None = None
    authority: str | None = None
    position: str | None = None
    sex: str | None = None
    birth_year_band: str | None = None
    language: str | None = None

    def missing_for_new_person(self) -> list[str]:
        return [name for name in NEW_PERSON_COLUMNS if not getattr(self, name)]


@dataclass(frozen=True)
class RowProblem:
    row: int  # 0: the file as a whole
    message: str


@dataclass
class ParsedFile:
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def decode(data: bytes) -> str | None:
    """UTF-8 with or without a byte-order mark; None when the bytes are not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def detect_delimiter(header_line: str) -> str:
    """Spreadsheets in many locales save with semicolons; the header tells which one was used."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


PROGRESS_EVERY = 1000  # rows between two calls of parse_csv's progress callback


def parse_csv(data: bytes, progress: Callable[[int, int], None] | None = None) -> ParsedFile:
    """``progress(rows read, rows in the file)`` is called every PROGRESS_EVERY rows (a background
    import shows it: checking the addresses is most of the time a large file takes)."""
    parsed = ParsedFile()
    text = decode(data)
    if text is None:
        parsed.problems.append(RowProblem(0, _("The file is not UTF-8 text. Save it as “CSV UTF-8”.")))
        return parsed
    if not text.strip():
        parsed.problems.append(RowProblem(0, _("The file is empty.")))
        return parsed
    first_line = text.splitlines()[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(first_line))
    try:
        records = list(reader)
    except csv.Error as error:
        parsed.problems.append(RowProblem(0, _("The file is not valid CSV: %(error)s", error=str(error))))
        return parsed
    header = [name.strip().lower() for name in records[0]]
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        parsed.problems.append(RowProblem(1, _("Unknown column(s): %(names)s.", names=", ".join(unknown))))
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        parsed.problems.append(RowProblem(1, _("Missing column(s): %(names)s.", names=", ".join(missing))))
    if len(set(header)) != len(header):
        parsed.problems.append(RowProblem(1, _("A column appears twice in the header.")))
    if parsed.problems:
        return parsed
    seen: dict[str, int] = {}
    for number, record in enumerate(records[1:], start=2):
        if progress is not None and (number - 1) % PROGRESS_EVERY == 0:
            progress(number - 1, len(records) - 1)
        if not any(cell.strip() for cell in record):
            continue
        row, problems = parse_row(number, header, record)
        parsed.problems.extend(problems)
        if row is None:
            continue
        key = row.email.lower()
        if key in seen:
            parsed.problems.append(
                RowProblem(
                    number,
                    _("Duplicate: %(email)s is also on row %(other)s.", email=row.email, other=seen[key]),
                )
            )
            continue
        seen[key] = number
        if not problems:
            parsed.rows.append(row)
    if not parsed.rows and not parsed.problems:
        parsed.problems.append(RowProblem(0, _("The file has a header but no trainee rows.")))
    return parsed


def count_rows(data: bytes) -> int:
    """Trainee rows in the file (records after the header, blank ones left out); 0 when it cannot be
    read. Cheap (nothing is checked): decides the size bound and whether an import runs as a job."""
    text = decode(data)
    if not text or not text.strip():
        return 0
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text.splitlines()[0]))
    try:
        return max(0, sum(1 for record in reader if any(cell.strip() for cell in record)) - 1)
    except csv.Error:
        return 0


def size_problem(data: bytes, rows: int, max_bytes: int, max_rows: int) -> RowProblem | None:
    """A file over the bounds is refused whole, before any row is checked: nothing is imported."""
    if len(data) > max_bytes:
        return RowProblem(
            0,
            _(
                "The file is too large (%(size)s KB; at most %(limit)s KB). Split it into smaller files.",
                size=f"{len(data) // 1024:,}",
                limit=f"{max_bytes // 1024:,}",
            ),
        )
    if rows > max_rows:
        return RowProblem(
            0,
            _(
                "The file has %(rows)s rows; at most %(limit)s can be imported at once. Split it into "
                "smaller files.",
                rows=f"{rows:,}",
                limit=f"{max_rows:,}",
            ),
        )
    return None


def parse_row(
    number: int, header: Sequence[str], record: Sequence[str]
) -> tuple[ImportRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    if len(record) > len(header):
        problems.append(RowProblem(number, _("The row has more cells than the header has columns.")))
    values = {
        name: (record[index].strip() if index < len(record) else "") for index, name in enumerate(header)
    }
    for name, limit in MAX_LENGTHS.items():
        if len(values.get(name, "")) > limit:
            problems.append(
                RowProblem(
                    number, _("%(column)s is longer than %(limit)s characters.", column=name, limit=limit)
                )
            )
    raw_email = values.get("email", "")
    email = ""
    if not raw_email:
        problems.append(RowProblem(number, _("The email address is missing.")))
    else:
        try:
            email = validate_email(raw_email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            problems.append(
                RowProblem(number, _("“%(email)s” is not a valid email address.", email=raw_email))
            )
    country = values.get("country", "").upper() or None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        problems.append(
            RowProblem(number, _("“%(country)s” is not a two-letter country code.", country=country))
        )
    sex = values.get("sex", "").lower() or None
    if sex is not None and sex not in SEXES:
        problems.append(
            RowProblem(number, _("Sex must be one of: %(values)s (or empty).", values=", ".join(SEXES)))
        )
    band = values.get("birth_year_band", "").lower() or None
    if band is not None and band not in BIRTH_YEAR_BANDS:
        problems.append(
            RowProblem(
                number,
                _(
                    "Year-of-birth band must be one of: %(values)s (or empty).",
                    values=", ".join(BIRTH_YEAR_BANDS),
                ),
            )
        )
    language = values.get("language", "").lower() or None
    if language is not None and language not in LANGUAGES:
        problems.append(
            RowProblem(number, _("Language must be one of: %(values)s.", values=", ".join(LANGUAGES)))
        )
    if problems:
        return (ImportRow(row=number, email=email or raw_email), problems)
    return (
        ImportRow(
            row=number,
            email=email,
            given_name=values.get("given_name") or None,
            family_name=values.get("family_name") or None,
            patronymic=values.get("patronymic") or None,
            native_name=values.get("native_name") or None,
            country=country,
            authority=(values.get("authority") or "").lower() or None,
            position=values.get("position") or None,
            sex=sex,
            birth_year_band=band,
            language=language,
        ),
        [],
    )


def write_csv(rows: Iterable[Sequence[str | None]], columns: Sequence[str] = COLUMNS) -> bytes:
    """A file in the import's columns, through the academy's one CSV writer (lms.csv_export: a BOM for
    Cyrillic and Arabic, formulas neutralised, since any trainee writes their own profile)."""
    return csv_bytes(columns, rows)
