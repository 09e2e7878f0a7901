"""Bulk import: the pure parser (encodings, separators, bad rows) and the all-or-nothing import."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from lms.auth.models import Role, User
from lms.auth.services import find_user_by_email
from lms.courses.models import Course
from lms.enrolment import bulk_import, import_snapshot, nominations, runs
from lms.enrolment.csv_import import COLUMNS, parse_csv, write_csv
from lms.enrolment.models import Enrolment, EnrolmentMethod, EnrolmentStatus
from lms.errors import Forbidden
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.orgs.models import Authority
from tests.enrolment_support import make_course, make_run

HEADER = "email,given_name,family_name,native_name,country,authority,position,sex,birth_year_band"
GOOD = (
    f"{HEADER}\n"
    "olha.tkachenko@dpsu.example.org,Olha,Tkachenko,Ольга Ткаченко,UA,ua-sbgs,Inspector,female,1990-1999\n"
    "serhiy.bondar@dpsu.example.org,Serhiy,Bondar,Сергій Бондар,UA,ua-sbgs,Senior inspector,male,1980-1989\n"
)


# --- The parser, without a database ------------------------------------------------------------


def test_a_good_file_parses_with_names_in_their_own_script() -> None:
    parsed = parse_csv(GOOD.encode())
    assert parsed.ok, parsed.problems
    assert [row.row for row in parsed.rows] == [2, 3]
    assert parsed.rows[0].native_name == "Ольга Ткаченко"
    assert parsed.rows[0].authority == "ua-sbgs" and parsed.rows[0].country == "UA"


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode("utf-8"), id="plain"),
        pytest.param(lambda text: text.encode("utf-8-sig"), id="bom"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("utf-8"), id="crlf"),
        pytest.param(lambda text: text.replace(",", ";").encode("utf-8"), id="semicolons"),
        pytest.param(
            lambda text: text.replace(",", ";").replace("\n", "\r\n").encode("utf-8-sig"),
            id="bom-semicolon-crlf",
        ),
    ],
)
def test_odd_encodings_give_the_same_rows(encode: Callable[[str], bytes]) -> None:
    arabic = (
        f"{HEADER}\nleila.haddad@psd.example.org,Leila,Haddad,ليلى حداد,JO,jo-rbd,Officer,female,1980-1989\n"
    )
    expected = parse_csv(arabic.encode()).rows
    parsed = parse_csv(encode(arabic))
    assert parsed.ok, parsed.problems
    assert parsed.rows == expected
    assert parsed.rows[0].native_name == "ليلى حداد"
    assert parsed.rows[0].email == "leila.haddad@psd.example.org"  # no BOM glued to the first column


def test_every_kind_of_bad_row_is_listed_with_its_row_number() -> None:
    text = (
        f"{HEADER}\n"
        "not-an-email,A,B,,UA,ua-sbgs,,,\n"  # 2
        "ok@dpsu.example.org,A,B,,UKR,ua-sbgs,,,\n"  # 3 country code shape
        "ok2@dpsu.example.org,A,B,,UA,ua-sbgs,,robot,\n"  # 4 sex
        "ok3@dpsu.example.org,A,B,,UA,ua-sbgs,,,1900s\n"  # 5 band
        ",A,B,,UA,ua-sbgs,,,\n"  # 6 missing email
        "\n"  # blank lines are skipped
        "OK3@dpsu.example.org,A,B,,UA,ua-sbgs,,,\n"  # 8 duplicate of row 5 (case-insensitive)
        "ok4@dpsu.example.org,A,B,,UA,ua-sbgs,,,,extra\n"  # 9 too many cells
    )
    parsed = parse_csv(text.encode())
    rows = sorted({problem.row for problem in parsed.problems})
    assert rows == [2, 3, 4, 5, 6, 8, 9]
    messages = " | ".join(p.message for p in parsed.problems)
    assert "not-an-email" in messages and "row 5" in messages


def test_file_level_problems() -> None:
    assert parse_csv(b"").problems[0].row == 0
    assert parse_csv(b"email\n").problems[0].message.startswith("The file has a header")
    latin1 = "email,given_name\nmüller@bpol.test,Jörg\n".encode("latin-1")
    assert "UTF-8" in parse_csv(latin1).problems[0].message
    unknown = parse_csv(b"email,shoe_size\na@b.test,44\n")
    assert unknown.problems[0].row == 1 and "shoe_size" in unknown.problems[0].message
    assert "email" in parse_csv(b"given_name\nA\n").problems[0].message


def test_export_writes_a_bom_and_crlf_that_parse_back() -> None:
    data = write_csv(
        [["a@b.example.org", "Ірина", "Бондаренко", None, "ليلى", "UA", "ua-sbgs", None, None, None, "ru"]]
    )
    assert data.startswith("\ufeff".encode()) and b"\r\n" in data
    parsed = parse_csv(data)
    assert parsed.ok and parsed.rows[0].given_name == "Ірина" and parsed.rows[0].native_name == "ليلى"
    assert tuple(data.decode("utf-8-sig").splitlines()[0].split(",")) == COLUMNS


# --- The import against the database ---------------------------------------------------------------


@pytest.fixture
def ua(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("UA", code="ua-sbgs", name="State Border Guard Service of Ukraine")


@pytest.fixture
def course(app) -> Course:
    return make_course()


def people_count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def test_dry_run_shows_what_would_happen_and_writes_nothing(course, ua, make_user) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    before = people_count()
    report = bulk_import.import_trainees(
        focal,
        run,
        parse_csv(GOOD.encode("utf-8-sig")),
        import_snapshot.ImportMode.NOMINATE,
        "Cohort",
        dry_run=True,
    )
    assert not report.problems and not report.written
    assert [(o.row, o.account, o.status) for o in report.outcomes] == [
        (2, "new", "nominated"),
        (3, "new", "nominated"),
    ]
    db.session.rollback()
    assert people_count() == before
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 0


def test_real_run_creates_updates_and_nominates_and_names_survive_the_round_trip(
    course, ua, make_user
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    existing = make_user(authority=ua, email="serhiy.bondar@dpsu.example.org", given_name="Serhii")
    run = make_run(course, EnrolmentMethod.NOMINATION)
    report = bulk_import.import_trainees(
        focal,
        run,
        parse_csv(GOOD.replace(",", ";").encode()),
        import_snapshot.ImportMode.NOMINATE,
        "Cohort",
        dry_run=False,
    )
    db.session.commit()
    assert report.written and not report.problems
    assert [o.account for o in report.outcomes] == ["new", "updated"]
    olha = find_user_by_email("olha.tkachenko@dpsu.example.org")
    assert olha is not None and olha.native_name == "Ольга Ткаченко" and olha.birth_year_band == "1990-1999"
    assert existing.given_name == "Serhiy"
    statuses = db.session.scalars(select(Enrolment.status).where(Enrolment.run_id == run.id)).all()
    assert statuses == [EnrolmentStatus.NOMINATED, EnrolmentStatus.NOMINATED]

    exported = write_csv([row[: len(COLUMNS)] for row in runs.export_rows(run)])
    again = parse_csv(exported)
    assert {row.native_name for row in again.rows} == {"Ольга Ткаченко", "Сергій Бондар"}


def test_any_bad_row_means_nothing_is_written_and_every_problem_is_listed(
    course, ua, make_user, make_authority
) -> None:
    make_authority("GE", code="ge-bp")
    admin = make_user(Role.ADMIN)
    taken = make_user(authority=ua, email="already@dpsu.example.org")
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=2, countries=("UA", "GE"))
    nominations.enrol_directly(admin, run, taken)
    db.session.commit()
    text = (
        f"{HEADER}\n"
        "fine@dpsu.example.org,Fine,Person,,UA,ua-sbgs,,,\n"  # 2 ok: takes the last seat
        "already@dpsu.example.org,,,,,,,,\n"  # 3 duplicate enrolment
        "who@nowhere.example.org,No,Where,,ZZ,,,,\n"  # 4 unknown country
        "lost@dpsu.example.org,Lost,Agency,,UA,ua-nope,,,\n"  # 5 unknown authority
        "mixed@dpsu.example.org,Mixed,Up,,UA,ge-bp,,,\n"  # 6 authority of another country
        "half@dpsu.example.org,Half,,,UA,ua-sbgs,,,\n"  # 7 new person without family name
        "late@dpsu.example.org,Late,Comer,,UA,ua-sbgs,,,\n"  # 8 no seat left
        "bad-email,X,Y,,UA,ua-sbgs,,,\n"  # 9 bad email (parser)
    )
    before = people_count()
    report = bulk_import.import_trainees(
        admin, run, parse_csv(text.encode()), import_snapshot.ImportMode.ENROL, "Direct", dry_run=False
    )
    db.session.rollback()
    assert not report.written
    assert [p.row for p in report.problems] == [3, 4, 5, 6, 7, 8, 9]
    assert people_count() == before
    assert db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.run_id == run.id)) == 1


def test_ineligible_rows_and_focal_points_outside_their_authority(
    course, ua, make_user, make_authority
) -> None:
    ge = make_authority("GE", code="ge-bp")
    make_user(authority=ge, email="nino@bp.example.org")
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION, countries=("GE",))
    text = f"{HEADER}\nnino@bp.example.org,,,,,,,,\nnew@dpsu.example.org,New,Person,,UA,ua-sbgs,,,\n"
    report = bulk_import.import_trainees(
        focal, run, parse_csv(text.encode()), import_snapshot.ImportMode.NOMINATE, "x", dry_run=False
    )
    db.session.rollback()
    assert [p.row for p in report.problems] == [2, 3]
    assert "own authority" in report.problems[0].message
    assert "not open" in report.problems[1].message
    with pytest.raises(Forbidden):
        bulk_import.import_trainees(
            focal, run, parse_csv(GOOD.encode()), import_snapshot.ImportMode.ENROL, "x", dry_run=True
        )


def test_the_command_line_import_dry_run_write_and_bounds(
    app, course, ua, make_user, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    focal = make_user(Role.FOCAL_POINT, authority=ua)
    run = make_run(course, EnrolmentMethod.NOMINATION)
    run_id, email = run.id, focal.email
    path = tmp_path / "staff.csv"
    path.write_bytes(GOOD.encode())
    command = ["lms", "enrolment", "import", str(run_id), str(path), "--as", email, "--justification", "x"]
    runner = app.test_cli_runner()
    dry = runner.invoke(args=command)
    assert dry.exit_code == 0 and "dry run: nothing written" in dry.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0
    written = runner.invoke(args=[*command, "--write"])
    assert written.exit_code == 0 and "imported 2 row(s)" in written.output
    db.session.rollback()
    assert db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.run_id == run_id)) == 2
    monkeypatch.setitem(app.config, "ENROLMENT_IMPORT_MAX_ROWS", 1)
    too_many = runner.invoke(args=[*command, "--write"])
    assert too_many.exit_code != 0 and "at most 1 can be imported" in too_many.output
