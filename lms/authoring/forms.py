"""Authoring forms: shape checks only. Every edit form carries the draft revision it was opened at."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from lms.config import LANGUAGE_NAMES, LANGUAGES
from lms.quizzes.grading import GRADING_METHODS, REGISTRY
from lms.request_input import database_id

SLUG_RULE = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Use lowercase letters, digits and hyphens."))


def language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES]


class RevisionForm(FlaskForm):
    revision = HiddenField(validators=[DataRequired()])

    def validate_revision(self, field: HiddenField) -> None:
        if database_id(field.data) is None:
            raise ValidationError(_l("The form is damaged: reload the page."))

    @property
    def revision_number(self) -> int:
        return int(self.revision.data)


class ActionForm(RevisionForm):
    """Buttons that change the draft (move, delete): CSRF and revision only."""


class MoveForm(RevisionForm):
    direction = HiddenField(validators=[AnyOf(["up", "down"])])


class NewCourseForm(FlaskForm):
    slug = StringField(
        _l("Short name (in addresses and file names)"), validators=[DataRequired(), Length(max=80), SLUG_RULE]
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language"), choices=language_choices())


class ImportForm(FlaskForm):
    archive = FileField(_l("Course zip (as made by Export)"), validators=[FileRequired()])


class MetadataForm(RevisionForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    language = SelectField(_l("Language"), choices=language_choices())
    level = StringField(_l("Level"), description=_l("e.g. EQF 5"), validators=[Optional(), Length(max=20)])
    credits = DecimalField(_l("Credits"), places=None, validators=[Optional(), NumberRange(0, 999)])
    notional_hours = IntegerField(
        _l("Notional learning hours"), validators=[Optional(), NumberRange(0, 10000)]
    )
    learning_outcomes = TextAreaField(
        _l("Learning outcomes"), description=_l("One per line."), validators=[Optional()]
    )
    delivery_mode = SelectField(
        _l("Delivery mode"),
        choices=[
            SelectChoice("online", _l("Online")),
            SelectChoice("blended", _l("Blended")),
            SelectChoice("in_person", _l("In person")),
        ],
    )
    lesson_completion = SelectField(
        _l("A lesson is complete when"),
        choices=[
            SelectChoice("manual", _l("the trainee marks it complete")),
            SelectChoice("on_read", _l("the trainee opens it")),
        ],
    )
    certificate_validity_months = IntegerField(
        _l("Certificates valid for (months)"),
        description=_l("Leave empty: no expiry."),
        validators=[Optional(), NumberRange(1, 600)],
    )


class AddItemForm(RevisionForm):
    slug = StringField(_l("Short name"), validators=[DataRequired(), Length(max=80), SLUG_RULE])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])


class RenameForm(RevisionForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])


class LessonForm(RevisionForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    minutes = IntegerField(_l("Reading time (minutes)"), validators=[Optional(), NumberRange(1, 600)])
    body_md = TextAreaField(
        _l("Text (Markdown)"),
        description=_l("Start headings at ##. Insert an uploaded image with ![description](address)."),
        validators=[DataRequired(message=_l("The lesson has no text."))],
    )
    video_url = StringField(
        _l("Video address"),
        description=_l("Optional: a link to the video (https://...)."),
        validators=[
            Optional(),
            Length(max=500),
            Regexp(r"^https?://\S+$", message=_l("Give an http(s) address.")),
        ],
    )
    transcript = TextAreaField(
        _l("Transcript of the video"),
        description=_l("Required with a video: trainees on a slow connection read it instead."),
    )
    action = HiddenField(default="save")

    def validate_transcript(self, field: TextAreaField) -> None:
        if (self.video_url.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("A video needs its transcript."))


def _role_choices() -> list[SelectChoice]:
    return [
        SelectChoice("practice", _l("Practice")),
        SelectChoice("pre_test", _l("Pre-test")),
        SelectChoice("post_test", _l("Post-test")),
        SelectChoice("final", _l("Final assessment")),
    ]


def _review_choices() -> list[SelectChoice]:
    return [
        SelectChoice("immediately", _l("Immediately")),
        SelectChoice("after_close", _l("After the quiz closes")),
        SelectChoice("never", _l("Never")),
    ]


class QuizForm(RevisionForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    role = SelectField(_l("Role"), choices=_role_choices())
    pass_mark = IntegerField(
        _l("Pass mark (%)"),
        validators=[
            InputRequired(message=_l("Give a pass mark.")),
            NumberRange(
                0, 100, message=_l("The pass mark is out of range: give a percentage from 0 to 100.")
            ),
        ],
    )
    attempts_allowed = IntegerField(
        _l("Attempts allowed"),
        description=_l("Empty: no limit."),
        validators=[Optional(), NumberRange(1, 100)],
    )
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes)"), validators=[Optional(), NumberRange(1, 1440)]
    )
    grading_method = SelectField(_l("Grade kept"), choices=[SelectChoice(m, m) for m in GRADING_METHODS])
    shuffle_questions = BooleanField(_l("Shuffle questions"))
    shuffle_choices = BooleanField(_l("Shuffle choices"))
    review_answers = SelectField(_l("Show the trainee's answers"), choices=_review_choices())
    review_correct_answers = SelectField(_l("Show the correct answers"), choices=_review_choices())
    review_feedback = SelectField(
        _l("Show feedback"),
        choices=_review_choices(),
        description=_l(
            "Feedback often gives the answer away, so it is never shown before the correct answers."
        ),
    )


def question_type_choices() -> list[SelectChoice]:
    return [SelectChoice(name, qtype.label) for name, qtype in REGISTRY.items()]


class QuestionForm(RevisionForm):
    key = StringField(
        _l("Question id"),
        description=_l("Stable: reports and regrades follow it."),
        validators=[Optional(), Length(max=80), SLUG_RULE],
    )
    type = SelectField(_l("Type"), default="single_choice", choices=question_type_choices())
    points = StringField(_l("Points"), default="1", validators=[Optional(), Length(max=10)])
    tags = StringField(
        _l("Tags"), description=_l("Separated by commas."), validators=[Optional(), Length(max=300)]
    )
    prompt = TextAreaField(_l("Question"), validators=[Optional(), Length(max=4000)])
    choices = TextAreaField(
        _l("Choices"), description=_l("One per line; start a correct choice with *."), validators=[Optional()]
    )
    scoring = SelectField(
        _l("Scoring"),
        default="partial",
        choices=[
            SelectChoice("partial", _l("Partial credit")),
            SelectChoice("all_or_nothing", _l("All or nothing")),
        ],
    )
    answer = StringField(
        _l("Correct answer"),
        description=_l("true or false, or the number."),
        validators=[Optional(), Length(max=50)],
    )
    tolerance = StringField(_l("Tolerance"), validators=[Optional(), Length(max=20)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=40)])
    accept = TextAreaField(_l("Accepted answers"), description=_l("One per line."), validators=[Optional()])
    case_sensitive = BooleanField(_l("Case sensitive"))
    pairs = TextAreaField(_l("Pairs"), description=_l("One per line: left = right."), validators=[Optional()])
    distractors = TextAreaField(
        _l("Extra wrong answers"), description=_l("One per line."), validators=[Optional()]
    )
    items = TextAreaField(
        _l("Items in the right order"), description=_l("One per line."), validators=[Optional()]
    )
    text = TextAreaField(
        _l("Text with gaps"), description=_l("Mark gaps [[1]], [[2]]..."), validators=[Optional()]
    )
    blanks = TextAreaField(
        _l("Answers for the gaps"),
        description=_l("One line per gap; alternatives separated by |."),
        validators=[Optional()],
    )
    feedback = TextAreaField(_l("Feedback"), validators=[Optional(), Length(max=2000)])
    source = TextAreaField(_l("Question as YAML"), validators=[Optional(), Length(max=20000)])
    mode = HiddenField(default="fields", validators=[AnyOf(["fields", "yaml"])])


class DrawForm(RevisionForm):
    bank = SelectField(_l("Bank"), choices=[])
    tag = StringField(_l("Only questions tagged"), validators=[Optional(), Length(max=60)])
    count = IntegerField(_l("How many"), default=1, validators=[DataRequired(), NumberRange(1, 100)])


class BankQuestionForm(RevisionForm):
    key = SelectField(_l("Bank question"), choices=[])


class UploadForm(FlaskForm):
    file = FileField(_l("Image (PNG, JPEG, GIF, WebP) or PDF"), validators=[FileRequired()])
    back = HiddenField()  # the authoring page the form was on (templates/authoring/_files.html)


class PublishForm(RevisionForm):
    note = TextAreaField(
        _l("What changed (kept in the version history)"),
        validators=[DataRequired(message=_l("Say in a few words what changed.")), Length(max=2000)],
    )


class AssignForm(FlaskForm):
    course = SelectField(_l("Course"), coerce=int, choices=[])
    trainer = SelectField(_l("Trainer"), coerce=int, choices=[])


class UnassignForm(FlaskForm):
    course = HiddenField(validators=[DataRequired()])
    trainer = HiddenField(validators=[DataRequired()])


class PreviewAnswersForm(FlaskForm):
    """Preview as trainee: the answers are read like an attempt's (q<position>[-part]); nothing is stored."""

    seed = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,12}$")])
