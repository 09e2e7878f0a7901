"""The session form and the hybrid choice: shape and format only; lms.sessions.services checks the rules
(overlap, run dates, time zone, skipped hours, place)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.request_input import DayField
from lms.sessions.models import SessionFormat
from lms.sessions.scheduling import local_input, local_span, zone_names
from lms.sessions.services import SessionData


def format_choices() -> list[SelectChoice]:
    return [
        SelectChoice(SessionFormat.IN_PERSON.value, _l("In person, at the venue")),
        SelectChoice(SessionFormat.ONLINE.value, _l("Online, with a meeting link")),
        SelectChoice(SessionFormat.HYBRID.value, _l("Hybrid: at the venue and online")),
    ]


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    day = DayField(_l("Date"), validators=[DataRequired()])
    starts_at = TimeField(_l("Starts at"), validators=[DataRequired()])
    ends_at = TimeField(
        _l("Ends at"),
        description=_l("An end earlier than the start is on the next day (for example 20:00 to 01:00)."),
        validators=[DataRequired()],
    )
    timezone = SelectField(
        _l("Time zone of the venue"),
        description=_l("Date and times are the venue's local time, in this zone."),
        validate_choice=False,  # the service says what is wrong with an unknown zone
        validators=[DataRequired(), Length(max=64)],
    )
    format = SelectField(_l("Format"), choices=format_choices(), validators=[DataRequired()])
    venue_name = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    venue_address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=2000)])
    venue_city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    venue_country = SelectField(_l("Country"), validate_choice=False, validators=[Optional(), Length(max=2)])
    meeting_url = StringField(
        _l("Meeting link"),
        description=_l("Shown only to the run's participants and trainers."),
        validators=[Optional(), Length(max=500)],
    )
    capacity = IntegerField(
        _l("Capacity"),
        description=_l("Leave empty for no limit."),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )
    agenda = TextAreaField(_l("Agenda (Markdown)"), validators=[Optional(), Length(max=20000)])
    trainers = SelectMultipleField(_l("Session trainers"), coerce=int, validators=[Optional()])

    def offer(self, countries: list[SelectChoice], trainers: list[SelectChoice]) -> SessionForm:
        self.timezone.choices = [SelectChoice(name, name) for name in zone_names()]
        self.venue_country.choices = [SelectChoice("", _l("—")), *countries]
        self.trainers.choices = trainers
        return self

    def fill_from(self, session: object) -> None:
        """The form drawn for editing: the session's times in the venue's zone."""
        zone = str(getattr(session, "timezone", "UTC"))
        starts = local_input(getattr(session, "starts_at"), zone)  # noqa: B009
        ends = local_input(getattr(session, "ends_at"), zone)  # noqa: B009
        self.day.data = starts.date()  # type: ignore[assignment]  # WTForms types data as None
        self.starts_at.data, self.ends_at.data = starts.time(), ends.time()
        self.timezone.data = zone
        self.agenda.data = str(getattr(session, "agenda_md", ""))
        self.trainers.data = [t.user_id for t in getattr(session, "trainers", [])]

    def data_for_service(self) -> SessionData:
        day = self.day.data
        assert day is not None and self.starts_at.data is not None and self.ends_at.data is not None  # noqa: S101
        starts_local, ends_local = local_span(day, self.starts_at.data, self.ends_at.data)
        return SessionData(
            title=self.title.data or "",
            starts_local=starts_local,
            ends_local=ends_local,
            timezone=self.timezone.data or "",
            format=self.format.data or SessionFormat.IN_PERSON,
            venue_name=self.venue_name.data,
            venue_address=self.venue_address.data,
            venue_city=self.venue_city.data,
            venue_country=self.venue_country.data or None,
            meeting_url=self.meeting_url.data,
            capacity=self.capacity.data,
            agenda_md=self.agenda.data or "",
            trainer_ids=frozenset(self.trainers.data or []),
        )


class CancelSessionForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=500)])


class AttendanceModeForm(FlaskForm):
    mode = RadioField(
        _l("How will you attend?"),
        choices=[
            SelectChoice(SessionFormat.IN_PERSON.value, _l("In person")),
            SelectChoice(SessionFormat.ONLINE.value, _l("Online")),
        ],
        validators=[DataRequired()],
    )
