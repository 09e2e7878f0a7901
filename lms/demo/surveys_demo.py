"""Demo surveys (issue 21): the academy's standard forms attached to the demo runs, and answers from the
people who finished, so that the results pages and the donor indicators show data after `make run`.

Answers go through the same service a trainee's page uses (``submit_response``), from invitations made as
the application makes them. Runs that are over get their invitations (and the answers' days) moved back
to the weeks after each completion, as lms/demo/cohort.py does for the rest of the history; a response is
anonymous, so its day is drawn from the days the run's people answered, not matched to one of them. Runs
still under way keep open, unanswered invitations (the trainees see them on their dashboard).

Development only; idempotent (a run that already has surveys is left alone).
"""

from __future__ import annotations

from datetime import date, timedelta
from random import Random
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from lms.auth.services import find_user_by_email
from lms.dates import add_months
from lms.db import utcnow
from lms.enrolment.models import CourseRun, Enrolment, EnrolmentStatus
from lms.extensions import db
from lms.surveys import invitations, services
from lms.surveys.answering import asked_items, submit_response
from lms.surveys.models import RunSurvey, SurveyForm, SurveyInvitation, SurveyItem, SurveyKind, SurveyResponse
from lms.surveys.sync import sync_forms

END_OF_COURSE, FOLLOW_UP = "end-of-course", "follow-up"
FOLLOW_UP_MONTHS = 2
ANSWER_SHARE = 0.85  # a realistic response rate: most, not all

# Free text as trainees write it, in their language (several per item so the results page has a list).
TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "most_useful": {
        "en": (
            "The exercises with real documents.",
            "Checking the security features step by step.",
            "The case studies from other border crossing points.",
        ),
        "ru": (
            "Практические упражнения с настоящими документами.",
            "Разбор реальных случаев на границе.",
            "Пошаговая проверка защитных элементов.",
        ),
        "fr": ("Les études de cas concrets.", "Les exercices pratiques sur les documents."),
        "ar": ("التمارين العملية على الوثائق الحقيقية.", "دراسات الحالة من المعابر الحدودية الأخرى."),
    },
    "to_improve": {
        "en": ("More time for questions.", "The videos were slow to load on our connection."),
        "ru": ("Больше времени на практику.", "Хотелось бы больше материалов на русском языке."),
        "fr": ("Plus de temps pour les questions.", "Des supports imprimables."),
        "ar": ("مزيد من الوقت للأسئلة.", "توفير المزيد من المواد باللغة العربية."),
    },
    "examples": {
        "en": (
            "I now check the UV features of every passport at primary line.",
            "I trained two colleagues at my post.",
        ),
        "ru": (
            "Теперь проверяю защитные элементы паспорта на первой линии контроля.",
            "Провёл занятие для коллег на своём пункте пропуска.",
        ),
        "fr": (
            "J'ai formé deux collègues de mon poste.",
            "Je vérifie systématiquement les éléments de sécurité.",
        ),
        "ar": ("أصبحت أتحقق من عناصر الأمان في كل جواز سفر.", "درّبت زميلين في مركزي."),
    },
    "comments": {
        "en": ("A refresher next year would help.",),
        "ru": ("Полезно было бы пройти повторный курс через год.",),
        "fr": ("Une session de rappel serait utile.",),
        "ar": ("ستكون دورة تنشيطية في العام القادم مفيدة.",),
    },
}


def load_demo_surveys(rng: Random | None = None) -> int:
    """Attach the standard forms to every demo run without surveys; returns the responses written."""
    forms = _standard_forms()
    admin = find_user_by_email("admin@academy.test")
    if forms is None or admin is None:
        return 0
    rng = rng or Random(2121)  # noqa: S311  # demo answers, not secrets
    attached = set(db.session.scalars(select(RunSurvey.run_id)))
    written = 0
    for run in db.session.scalars(select(CourseRun).order_by(CourseRun.id)).all():
        if run.id in attached:
            continue
        settings = services.RunSurveySettings(
            end_form_id=forms[END_OF_COURSE].id,
            follow_up_form_id=forms[FOLLOW_UP].id,
            follow_up_months=FOLLOW_UP_MONTHS,
        )
        services.attach_surveys(run, settings, actor_id=admin.id)
        written += _answer_run(run, rng)
    db.session.flush()
    return written


def _standard_forms() -> dict[str, SurveyForm] | None:
    """The two standard forms, synced from courses/_surveys/ when the database does not have them yet."""
    slugs = (END_OF_COURSE, FOLLOW_UP)
    found = {f.slug: f for f in db.session.scalars(select(SurveyForm).where(SurveyForm.slug.in_(slugs)))}
    if len(found) < len(slugs):
        sync_forms(current_app.config["COURSES_DIR"])
        found = {f.slug: f for f in db.session.scalars(select(SurveyForm).where(SurveyForm.slug.in_(slugs)))}
    return found if len(found) == len(slugs) else None


def _completed(run: CourseRun) -> list[Enrolment]:
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.run_id == run.id, Enrolment.status == EnrolmentStatus.COMPLETED)
            .order_by(Enrolment.id)
        )
    )


def _run_survey(run: CourseRun, kind: str) -> RunSurvey:
    found = db.session.scalar(select(RunSurvey).where(RunSurvey.run_id == run.id, RunSurvey.kind == kind))
    assert found is not None  # noqa: S101  # attached just before
    return found


def _answer_run(run: CourseRun, rng: Random) -> int:
    completed = _completed(run)
    if not completed:
        return 0
    over = run.ends_on is not None and run.ends_on < utcnow().date()
    written = _answer(_run_survey(run, SurveyKind.END_OF_COURSE), completed, rng, answer=over)
    follow_up = _run_survey(run, SurveyKind.FOLLOW_UP)
    due = [
        e for e in completed if e.completed_at and e.completed_at <= add_months(utcnow(), -FOLLOW_UP_MONTHS)
    ]
    if over and due:
        written += _answer(follow_up, due, rng, answer=True)
    return written


def _answer(run_survey: RunSurvey, enrolments: list[Enrolment], rng: Random, *, answer: bool) -> int:
    """Invite each person (opening now, as the application does) and, for a run that is over, let most of
    them answer through the service; then move the invitations and the answers' days back."""
    items = asked_items(run_survey)
    now = utcnow()
    answered_days: list[date] = []
    # Most answer, never so few that a run's results fall under the group of five.
    silent = round(len(enrolments) * (1 - ANSWER_SHARE))
    silent_ids = {e.id for e in rng.sample(enrolments, max(0, min(silent, len(enrolments) - 5)))}
    for enrolment in enrolments:
        invitation_id = invitations.invite(run_survey, enrolment.id, now - timedelta(minutes=1))
        invitation = db.session.get(SurveyInvitation, invitation_id) if invitation_id else None
        if invitation is None:
            continue
        invitation.sent_at = now  # the demo mails nobody
        if not answer or enrolment.id in silent_ids:
            continue
        language = enrolment.user.preferred_language or "en"
        submit_response(invitation, _answers(items, language, rng), language)
        answered_days.append(_move_back(invitation, run_survey, enrolment, rng))
    if answered_days:
        _spread_days(run_survey, answered_days, rng)
    return len(answered_days)


def _move_back(
    invitation: SurveyInvitation, run_survey: RunSurvey, enrolment: Enrolment, rng: Random
) -> date:
    """The invitation as it was: opened on completion (or the follow-up's months later), answered within
    days, closed since."""
    completed = enrolment.completed_at or utcnow()
    opens = (
        completed if run_survey.kind == SurveyKind.END_OF_COURSE else add_months(completed, FOLLOW_UP_MONTHS)
    )
    opens = min(opens, utcnow() - timedelta(days=run_survey.open_days + 1))
    invitation.opens_at = opens
    invitation.sent_at = opens
    invitation.closes_at = opens + timedelta(days=run_survey.open_days)
    answered = (opens + timedelta(days=rng.randint(0, 9))).date()
    invitation.answered_on = answered
    return answered


def _spread_days(run_survey: RunSurvey, days: list[date], rng: Random) -> None:
    """Each response of this survey gets one of the days people answered, in random order: the days
    the results show over time are right, and no response is tied to an invitation."""
    db.session.flush()
    ids = list(
        db.session.scalars(select(SurveyResponse.id).where(SurveyResponse.run_survey_id == run_survey.id))
    )
    rng.shuffle(days)
    for response_id, day in zip(ids, days, strict=False):
        db.session.execute(
            update(SurveyResponse).where(SurveyResponse.id == response_id).values(submitted_on=day)
        )


def _answers(items: list[SurveyItem], language: str, rng: Random) -> dict[str, Any]:
    """One person's plausible answers: a general mood, each answer near it; text now and then."""
    mood = rng.choice((2, 3, 3, 4, 4, 4, 4, 5, 5, 5))  # most satisfied, some not
    before = rng.randint(2, 6)
    answers: dict[str, Any] = {}
    for item in items:
        if item.type == "agreement":
            answers[item.key] = max(1, min(5, mood + rng.choice((-1, 0, 0, 0, 1))))
        elif item.type == "rating":
            answers[item.key] = _rating(item.key, mood, before, rng)
        elif item.type == "single":
            keys = [str(o.get("key")) for o in item.options or []]
            weights = [max(1, len(keys) - n) ** 2 for n in range(len(keys))]  # the first options more often
            answers[item.key] = rng.choices(keys, weights=weights)[0] if keys else None
        elif item.type == "multiple":
            keys = [str(o.get("key")) for o in item.options or []]
            answers[item.key] = [k for k in keys if rng.random() < 0.3]
        elif item.required or rng.random() < 0.5:
            bank = TEXTS.get(item.key, TEXTS["comments"])
            answers[item.key] = rng.choice(bank.get(language) or bank["en"])
    return answers


def _rating(key: str, mood: int, before: int, rng: Random) -> int:
    if "before" in key:
        return before
    if "after" in key:
        return min(10, before + rng.randint(2, 4))
    return max(0, min(10, mood * 2 + rng.randint(-2, 0)))
