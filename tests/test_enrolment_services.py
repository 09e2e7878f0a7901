"""Every state transition and every refusal of the enrolment services, on a real database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.audit.models import AuditRecord
from lms.auth.models import Role, User
from lms.courses.models import Course
from lms.db import utcnow
from lms.enrolment import admission, completion, nominations, runs, self_service
from lms.enrolment.models import Enrolment, EnrolmentEvent, EnrolmentMethod, EnrolmentStatus
from lms.errors import Forbidden, ValidationFailed
from lms.extensions import db
from lms.notifications.models import OutgoingMail
from lms.orgs.models import Authority
from tests.enrolment_support import make_course, make_run

S = EnrolmentStatus


@pytest.fixture
def course(app) -> Course:
    return make_course()


@pytest.fixture
def authority(make_authority: Callable[..., Authority]) -> Authority:
    return make_authority("UA", code="ua-sbgs-test", name="State Border Guard Service")


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN)


@pytest.fixture
def focal(make_user: Callable[..., User], authority: Authority) -> User:
    return make_user(Role.FOCAL_POINT, authority=authority)


def events(enrolment: Enrolment) -> list[tuple[str, str | None, str, int | None, str | None]]:
    rows = db.session.scalars(
        select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == enrolment.id).order_by(EnrolmentEvent.id)
    )
    return [(e.action, e.from_status, e.to_status, e.actor_id, e.reason) for e in rows]


def audit_actions(enrolment: Enrolment) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.subject_type == "enrolment", AuditRecord.subject_id == str(enrolment.id))
            .order_by(AuditRecord.id)
        )
    )


def test_nomination_then_approval_enrols_and_records_who_when_why(
    course: Course, make_user, authority, focal, admin
) -> None:
    run = make_run(course, EnrolmentMethod.NOMINATION, seats=2)
    trainee = make_user(authority=authority)
    enrolment = nominations.nominate(focal, run, trainee, "Works on the first line at Boryspil")
    assert enrolment.status == S.NOMINATED
    assert enrolment.authority_id == authority.id
    assert enrolment.nominated_by_id == focal.id
    nominations.approve(enrolment, admin, "Fits the profile")
    db.session.commit()
    assert enrolment.status == S.ENROLLED
    assert events(enrolment) == [
        ("nominated", None, S.NOMINATED, focal.id, "Works on the first line at Boryspil"),
        ("approved", S.NOMINATED, S.ENROLLED, admin.id, "Fits the profile"),
    ]
    assert audit_actions(enrolment) == ["enrolment.nominated", "enrolment.approved"]
    at = db.session.scalars(
        select(EnrolmentEvent.at).where(EnrolmentEvent.enrolment_id == enrolment.id)
    ).all()
    assert all(abs(utcnow() - moment) < timedelta(minutes=1) for moment in at)
    kinds = db.session.scalars(select(OutgoingMail.kind).where(OutgoingMail.recipient == trainee.email)).all()
    assert kinds == ["nomination_received", "enrolment_approved"]


def test_request_then_rejection_needs_a_reason(course: Course, make_user, admin) -> None:
    run = make_run(course, EnrolmentMethod.REQUEST)
    trainee = make_user()
    enrolment = self_service.request_place(trainee, run, justification="I train new staff")
    assert enrolment.status == S.REQUESTED
    with pytest.raises(ValidationFailed):
        nominations.reject(enrolment, admin, "  ")
    nominations.reject(enrolment, admin, "Run reserved for second-line officers")
    assert enrolment.status == S.REJECTED
    assert events(enrolment)[-1] == (
        "rejected",
        S.REQUESTED,
        S.REJECTED,
        admin.id,
        "Run reserved for second-line officers",
    )
    with pytest.raises(admission.WrongState):
        nominations.approve(enrolment, admin)


def test_open_run_enrols_at_once_then_waiting_list_and_promotion_on_withdrawal(
    course: Course, make_user
) -> None:
    run = make_run(course, EnrolmentMethod.OPEN, seats=1)
    first, second, third = make_user(), make_user(), make_user()
    a = self_service.self_enrol(first, run)
    b = self_service.self_enrol(second, run)
    c = self_service.self_enrol(third, run)
    assert (a.status, b.status, c.status) == (S.ENROLLED, S.WAITING, S.WAITING)
    assert (b.waiting_position, c.waiting_position) == (1, 2)
    nominations.withdraw(a, first, "Posted abroad")
    assert a.status == S.WITHDRAWN
    assert b.status == S.ENROLLED and b.waiting_position is None
    assert c.status == S.WAITING and c.waiting_position == 1
    assert events(b)[-1][:3] == ("promoted", S.WAITING, S.ENROLLED)
    assert db.session.scalar(select(OutgoingMail.kind).where(OutgoingMail.recipient == second.email)) == (
        "waiting_promoted"
    )


def test_approval_when_full_goes_to_waiting_list_and_rejection_of_a_seat_promotes(
    course: Course, make_user, focal, authority, admin
) -> None:
    run = make_run(course, seats=1)
    people = [make_user(authority=authority) for _ in range(3)]
    noms = [nominations.nominate(focal, run, p, "needed") for p in people]
    nominations.approve(noms[0], admin)
    nominations.approve(noms[1], admin)
    assert noms[1].status == S.WAITING and noms[1].waiting_position == 1
    with pytest.raises(admission.SeatsFull):
        nominations.approve(noms[2], admin, when_full=nominations.WhenFull.REFUSE)
    assert noms[2].status == S.NOMINATED
    nominations.reject(noms[0], admin, "Did not meet the prerequisites")
    assert noms[1].status == S.ENROLLED


def test_quota_used_sends_to_waiting_list_and_promotion_skips_authority_over_quota(
    course: Course, make_user, make_authority, admin
) -> None:
    ua = make_authority("UA")
    md = make_authority("MD")
    run = make_run(course, EnrolmentMethod.OPEN, seats=3, quotas={ua.id: 1})
    ua1, ua2, md1 = make_user(authority=ua), make_user(authority=ua), make_user(authority=md)
    e_ua1 = self_service.self_enrol(ua1, run)
    e_ua2 = self_service.self_enrol(ua2, run)
    assert e_ua2.status == S.WAITING  # quota used though seats are free
    e_md1 = self_service.self_enrol(md1, run)
    assert e_md1.status == S.ENROLLED
    with pytest.raises(admission.QuotaUsed):
        nominations.enrol_directly(admin, run, make_user(authority=ua))
    # A Moldovan seat frees: the Ukrainian still waits (quota), nobody jumps the rules.
    nominations.withdraw(e_md1, md1)
    assert e_ua2.status == S.WAITING
    nominations.withdraw(e_ua1, ua1)
    assert e_ua2.status == S.ENROLLED


def test_promotion_skips_someone_over_quota_for_the_next_eligible(
    course: Course, make_user, make_authority
) -> None:
    ua, md = make_authority("UA"), make_authority("MD")
    run = make_run(course, EnrolmentMethod.OPEN, seats=2, quotas={ua.id: 1})
    holder_ua, holder_md = make_user(authority=ua), make_user(authority=md)
    waiting_ua, waiting_md = make_user(authority=ua), make_user(authority=md)
    self_service.self_enrol(holder_ua, run)
    leaving = self_service.self_enrol(holder_md, run)
    w1, w2 = self_service.self_enrol(waiting_ua, run), self_service.self_enrol(waiting_md, run)
    assert (w1.waiting_position, w2.waiting_position) == (1, 2)
    nominations.withdraw(leaving, holder_md)
    assert w1.status == S.WAITING and w1.waiting_position == 1
    assert w2.status == S.ENROLLED


def test_refusals_not_eligible_window_and_no_seats(course: Course, make_user, make_authority, admin) -> None:
    ua, jo = make_authority("UA"), make_authority("JO")
    only_ua = make_run(course, EnrolmentMethod.OPEN, countries=("UA",))
    with pytest.raises(admission.NotEligible):
        self_service.self_enrol(make_user(authority=jo), only_ua)
    assert self_service.self_enrol(make_user(authority=ua), only_ua).status == S.ENROLLED
    by_authority = make_run(course, EnrolmentMethod.REQUEST, authority_ids=(jo.id,))
    assert self_service.request_place(make_user(authority=jo), by_authority).status == S.REQUESTED
    with pytest.raises(admission.NotEligible):
        self_service.request_place(make_user(authority=ua), by_authority)

    today = utcnow().date()
    closed = make_run(course, EnrolmentMethod.REQUEST, enrolment_closes_on=today - timedelta(days=1))
    with pytest.raises(admission.EnrolmentWindowClosed):
        self_service.request_place(make_user(), closed)
    not_yet = make_run(course, EnrolmentMethod.OPEN, enrolment_opens_on=today + timedelta(days=1))
    with pytest.raises(admission.EnrolmentWindowClosed):
        self_service.self_enrol(make_user(), not_yet)

    full = make_run(course, EnrolmentMethod.NOMINATION, seats=0)
    with pytest.raises(admission.SeatsFull):
        nominations.enrol_directly(admin, full, make_user())


def test_wrong_method_is_refused(course: Course, make_user, focal, authority) -> None:
    nomination_only = make_run(course, EnrolmentMethod.NOMINATION)
    with pytest.raises(Forbidden):
        self_service.self_enrol(make_user(), nomination_only)
    with pytest.raises(Forbidden):
        self_service.request_place(make_user(), nomination_only)
    open_run = make_run(course, EnrolmentMethod.OPEN)
    with pytest.raises(Forbidden):
        nominations.nominate(focal, open_run, make_user(authority=authority), "x")


def test_focal_point_cannot_act_outside_their_authority(
    course: Course, make_user, make_authority, focal
) -> None:
    run = make_run(course)
    stranger = make_user(authority=make_authority("GE"))
    with pytest.raises(admission.OutsideAuthority):
        nominations.nominate(focal, run, stranger, "please")
    with pytest.raises(admission.OutsideAuthority):
        nominations.add_staff_member(
            focal,
            nominations.NewPerson(
                email="x@ge.test", given_name="Nino", family_name="B", authority_id=stranger.authority_id or 0
            ),
        )
    enrolment = self_service.request_place(stranger, make_run(course, EnrolmentMethod.REQUEST))
    with pytest.raises(admission.OutsideAuthority):
        nominations.withdraw(enrolment, focal)


def test_focal_point_adds_a_new_person_who_cannot_sign_in_until_they_set_a_password(
    course: Course, focal, authority
) -> None:
    from lms.auth.services import authenticate

    person = nominations.add_staff_member(
        focal,
        nominations.NewPerson(
            email="Oksana.Melnyk@dpsu.test",
            given_name="Oksana",
            family_name="Melnyk",
            native_name="Оксана Мельник",
            authority_id=authority.id,
            position="Junior inspector",
            sex="female",
            birth_year_band="1990-1999",
        ),
    )
    assert person.email == "oksana.melnyk@dpsu.test"
    assert person.country_code == "UA" and person.has_role(Role.TRAINEE)
    assert authenticate(person.email, "") is None
    enrolment = nominations.nominate(focal, make_run(course), person, "New recruit")
    assert enrolment.status == S.NOMINATED
    with pytest.raises(admission.DuplicateEnrolment):
        nominations.add_staff_member(
            focal,
            nominations.NewPerson(
                email="oksana.melnyk@dpsu.test", given_name="O", family_name="M", authority_id=authority.id
            ),
        )


def test_duplicates_are_refused_but_recertification_starts_a_fresh_record(
    course: Course, make_user, focal, authority, admin
) -> None:
    trainee = make_user(authority=authority)
    first_run = make_run(course, EnrolmentMethod.OPEN)
    old = self_service.self_enrol(trainee, first_run)
    with pytest.raises(admission.DuplicateEnrolment):
        self_service.self_enrol(trainee, first_run)
    second_run = make_run(course, EnrolmentMethod.NOMINATION, title="Recertification 2027")
    with pytest.raises(admission.DuplicateEnrolment):  # still enrolled in the first run of the course
        nominations.nominate(focal, second_run, trainee, "Recertify")

    lesson = course.modules[0].lessons[0]
    for module in course.modules:
        for item in module.lessons:
            completion.complete_lesson(old, item)
    assert old.status == S.COMPLETED
    assert events(old)[-1][:3] == ("completed", S.ENROLLED, S.COMPLETED)

    nomination = nominations.nominate(focal, second_run, trainee, "Recertify")
    with pytest.raises(admission.DuplicateEnrolment):
        nominations.nominate(focal, second_run, trainee, "again")
    third_run = make_run(course, EnrolmentMethod.NOMINATION, title="Autumn 2027")
    alternative = nominations.nominate(focal, third_run, trainee, "Either date suits")
    nominations.approve(nomination, admin)
    with pytest.raises(admission.DuplicateEnrolment):  # now enrolled in the second run
        nominations.approve(alternative, admin)
    assert nomination.status == S.ENROLLED
    assert self_service.active_enrolment(trainee.id, course.id).id == nomination.id
    assert completion.completed_lesson_ids(nomination.id) == set()
    assert lesson.id in completion.completed_lesson_ids(old.id)  # the old record is kept


def test_bulk_decisions_report_each_problem_and_keep_the_rest(
    course: Course, make_user, focal, authority, admin
) -> None:
    run = make_run(course, seats=1)
    people = [make_user(authority=authority) for _ in range(3)]
    noms = [nominations.nominate(focal, run, p, "needed") for p in people]
    with pytest.raises(ValidationFailed):
        nominations.decide_many([n.id for n in noms], admin, approve_them=False, reason="")
    result = nominations.decide_many([n.id for n in noms], admin, approve_them=True, reason=None)
    assert (result.enrolled, result.waiting, result.problems) == (1, 2, [])
    result = nominations.decide_many([noms[0].id], admin, approve_them=True, reason=None)
    assert len(result.problems) == 1
    result = nominations.decide_many(
        [n.id for n in noms[1:]], admin, approve_them=False, reason="Cohort closed"
    )
    assert result.rejected == 2
    assert [n.status for n in noms] == [S.ENROLLED, S.REJECTED, S.REJECTED]


def test_raising_seats_in_run_rules_promotes_the_waiting_list(course: Course, make_user, admin) -> None:
    run = make_run(course, EnrolmentMethod.OPEN, seats=1)
    self_service.self_enrol(make_user(), run)
    waiting = self_service.self_enrol(make_user(), run)
    assert waiting.status == S.WAITING
    data = runs.RunData(
        course_id=course.id, title=run.title, modality=run.modality, language="en",
        starts_on=run.starts_on, ends_on=run.ends_on, enrolment_opens_on=run.enrolment_opens_on,
        enrolment_closes_on=run.enrolment_closes_on, seats_total=2, enrolment_method=EnrolmentMethod.OPEN,
        open_to_all=True,
    )  # fmt: skip
    runs.save_run(admin, run, data)
    assert waiting.status == S.ENROLLED


def test_save_run_checks_quota_codes_and_eligibility(course: Course, admin, authority) -> None:
    base = dict(
        course_id=course.id, title="Cohort", modality="blended", language="en", starts_on=None,
        ends_on=None, enrolment_opens_on=None, enrolment_closes_on=None, seats_total=12,
        enrolment_method=EnrolmentMethod.NOMINATION,
    )  # fmt: skip
    with pytest.raises(ValidationFailed):
        runs.save_run(admin, None, runs.RunData(**base, open_to_all=True, quota_codes={"nope": 2}))
    with pytest.raises(ValidationFailed):
        runs.save_run(admin, None, runs.RunData(**base, open_to_all=False))
    run = runs.save_run(
        admin,
        None,
        runs.RunData(**base, open_to_all=False, countries=frozenset({"UA"}), quota_codes={authority.code: 3}),
    )
    assert admission.seat_counts(run).quotas == {authority.id: 3}
    assert admission.run_eligibility(run).countries == {"UA"}


def test_withdrawn_people_may_ask_again_and_completed_cannot_withdraw(course: Course, make_user) -> None:
    run = make_run(course, EnrolmentMethod.REQUEST)
    trainee = make_user()
    first = self_service.request_place(trainee, run)
    nominations.withdraw(first, trainee)
    second = self_service.request_place(trainee, run)
    assert second.id != first.id and second.status == S.REQUESTED
    with pytest.raises(admission.WrongState):
        nominations.withdraw(first, trainee)
