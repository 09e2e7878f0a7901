"""Survey forms edited in the browser (admins): create a form, its texts, its items and their order.

The file is the source of a file-backed form (``source_path`` set): the next sync would overwrite a
browser edit without a trace, so such a form is read-only here and the page says to edit the file
(docs/surveys.md "Survey forms"). ``copy_form`` makes an editable copy under a new slug. The sync, for
its part, never touches a form made here: a file with the same slug is refused.

The same rules as the files (lms/surveys/file_format.py), with translated messages: a stable key per
item (never changed once made, nor its type: results combine by it), English required, options only for
single and multiple choice. Items are retired, never deleted: their answers stay. Services flush and
raise ``lms.errors``; the request's unit of work commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record_event
from lms.errors import Conflict, ValidationFailed
from lms.extensions import db
from lms.surveys.file_format import CHOICE_TYPES, FORM_SLUG, INDICATORS, ITEM_KEY, ITEM_TYPES, KINDS
from lms.surveys.models import RunSurvey, SurveyForm, SurveyItem
from lms.surveys.texts import RATING_ENDS

LABEL_LENGTH = 300


@dataclass
class FormTexts:
    kind: str
    title: dict[str, str]
    intro: dict[str, str]


@dataclass
class OptionData:
    key: str
    label: dict[str, str]
    positive: bool = False


@dataclass
class ItemData:
    prompt: dict[str, str]
    required: bool = True
    indicator: str | None = None
    options: list[OptionData] = field(default_factory=list)
    low: dict[str, str] = field(default_factory=dict)  # rating: the label under 0
    high: dict[str, str] = field(default_factory=dict)  # rating: the label under 10


def _texts(values: dict[str, str]) -> dict[str, str]:
    return {lang: text.strip() for lang, text in values.items() if text and text.strip()}


def is_file_backed(form: SurveyForm) -> bool:
    return form.source_path is not None


def _editable(form: SurveyForm) -> None:
    if is_file_backed(form):
        raise Conflict(
            _(
                "This form comes from the file %(path)s: edit the file and sync it, "
                "or make a copy to edit here.",
                path=form.source_path,
            )
        )


def find_form(form_id: int) -> SurveyForm | None:
    return db.session.get(SurveyForm, form_id)


def find_item(form: SurveyForm, item_id: int) -> SurveyItem | None:
    """The item of this form (an item of another form is not found here)."""
    item = db.session.get(SurveyItem, item_id)
    return item if item is not None and item.form_id == form.id else None


def _check_texts(texts: FormTexts) -> None:
    if texts.kind not in KINDS:
        raise ValidationFailed(_("Choose the kind of survey."))
    if not _texts(texts.title).get("en"):
        raise ValidationFailed(_("The title is needed in English."))


def _apply_texts(form: SurveyForm, texts: FormTexts) -> None:
    form.kind = texts.kind
    form.title = _texts(texts.title)
    form.intro = _texts(texts.intro)


def create_form(slug: str, texts: FormTexts, *, actor_id: int) -> SurveyForm:
    slug = slug.strip()
    if not re.fullmatch(FORM_SLUG, slug) or len(slug) > 80:
        raise ValidationFailed(_("The short name may hold lower-case letters, digits and hyphens only."))
    if db.session.scalar(select(SurveyForm.id).where(SurveyForm.slug == slug)) is not None:
        raise Conflict(_("A survey form named %(slug)s already exists.", slug=slug))
    _check_texts(texts)
    form = SurveyForm(slug=slug, source_path=None, is_published=True)
    _apply_texts(form, texts)
    db.session.add(form)
    db.session.flush()
    record_event("survey.form_create", "survey_form", form.id, actor_id=actor_id, after=_form_view(form))
    return form


def update_form(form: SurveyForm, texts: FormTexts, *, actor_id: int) -> None:
    _editable(form)
    _check_texts(texts)
    if texts.kind != form.kind and _used_by_runs(form):
        raise Conflict(_("Runs use this form: its kind cannot change."))
    before = _form_view(form)
    _apply_texts(form, texts)
    db.session.flush()
    record_event(
        "survey.form_update", "survey_form", form.id, actor_id=actor_id, before=before, after=_form_view(form)
    )


def copy_form(form: SurveyForm, *, actor_id: int) -> SurveyForm:
    """An editable copy (made in the browser) of any form, its retired items left out."""
    base = f"{form.slug[:70].rstrip('-')}-copy"
    taken = set(db.session.scalars(select(SurveyForm.slug).where(SurveyForm.slug.like(f"{base}%"))))
    slug = next(
        name for n in range(1, len(taken) + 2) if (name := base if n == 1 else f"{base}-{n}") not in taken
    )
    copy = create_form(slug, FormTexts(form.kind, dict(form.title), dict(form.intro)), actor_id=actor_id)
    for position, item in enumerate(i for i in form.items if not i.retired):
        copy.items.append(
            SurveyItem(
                key=item.key,
                position=position,
                type=item.type,
                required=item.required,
                prompt=dict(item.prompt),
                options=[dict(o) for o in item.options],
                indicator=item.indicator,
            )
        )
    db.session.flush()
    return copy


def _used_by_runs(form: SurveyForm) -> bool:
    return db.session.scalar(select(RunSurvey.id).where(RunSurvey.form_id == form.id).limit(1)) is not None


def _form_view(form: SurveyForm) -> dict[str, Any]:
    return {"slug": form.slug, "kind": form.kind, "title": dict(form.title), "intro": dict(form.intro)}


# --- items --------------------------------------------------------------------------------------------------


def _stored_options(item_type: str, data: ItemData) -> list[dict[str, Any]]:
    if item_type in CHOICE_TYPES:
        return [
            {"key": o.key, "label": _texts(o.label), **({"positive": True} if o.positive else {})}
            for o in data.options
        ]
    if item_type == "rating":
        ends = zip(RATING_ENDS, (_texts(data.low), _texts(data.high)), strict=True)
        return [{"key": key, "label": label} for key, label in ends if label]
    return []


def _check_item(item_type: str, data: ItemData) -> None:
    if not _texts(data.prompt).get("en"):
        raise ValidationFailed(_("The question is needed in English."))
    keys = [o.key for o in data.options]
    if item_type in CHOICE_TYPES:
        if len(keys) < 2:
            raise ValidationFailed(_("A choice question needs at least two options."))
        if len(set(keys)) != len(keys):
            raise ValidationFailed(_("Two options have the same key."))
        if any(not re.fullmatch(ITEM_KEY, k) for k in keys):
            raise ValidationFailed(_("An option key may hold lower-case letters, digits and _ only."))
        if any(not _texts(o.label).get("en") for o in data.options):
            raise ValidationFailed(_("Each option needs its label in English."))
        if any(len(text) > LABEL_LENGTH for o in data.options for text in o.label.values()):
            raise ValidationFailed(
                _("An option label may be at most %(count)s characters.", count=LABEL_LENGTH)
            )
    elif keys:
        raise ValidationFailed(_("Only single and multiple choice questions have options."))
    if (_texts(data.low) or _texts(data.high)) and item_type != "rating":
        raise ValidationFailed(_("Only 0 to 10 ratings have end labels."))
    _check_indicator(item_type, data)


def _check_indicator(item_type: str, data: ItemData) -> None:
    if data.indicator is None:
        return
    if data.indicator not in INDICATORS:
        raise ValidationFailed(_("Choose an indicator from the list."))
    if data.indicator == "satisfaction" and item_type != "agreement":
        raise ValidationFailed(_("The satisfaction indicator reads an agreement question."))
    if data.indicator == "applied" and item_type not in ("agreement", "single"):
        raise ValidationFailed(_("The applied indicator reads an agreement or single choice question."))
    if data.indicator == "applied" and item_type == "single" and not any(o.positive for o in data.options):
        raise ValidationFailed(_("Mark the options that count as applied."))


def _apply_item(item: SurveyItem, data: ItemData) -> None:
    item.prompt = _texts(data.prompt)
    item.required = data.required
    item.indicator = data.indicator
    item.options = _stored_options(item.type, data)


def add_item(form: SurveyForm, key: str, item_type: str, data: ItemData, *, actor_id: int) -> SurveyItem:
    _editable(form)
    key = key.strip()
    if not re.fullmatch(ITEM_KEY, key):
        raise ValidationFailed(_("The key may hold lower-case letters, digits and _ only (at most 64)."))
    if item_type not in ITEM_TYPES:
        raise ValidationFailed(_("Choose the type of question."))
    if any(item.key == key for item in form.items):
        raise Conflict(_("This form already has a question with the key %(key)s (perhaps retired).", key=key))
    _check_item(item_type, data)
    item = SurveyItem(key=key, type=item_type, position=max((i.position for i in form.items), default=-1) + 1)
    _apply_item(item, data)
    form.items.append(item)
    db.session.flush()
    record_event(
        "survey.item_add", "survey_form", form.id, actor_id=actor_id, after={"key": key, "type": item_type}
    )
    return item


def update_item(form: SurveyForm, item: SurveyItem, data: ItemData, *, actor_id: int) -> None:
    """Texts, options, required, indicator; never the key or the type (results combine by them)."""
    _editable(form)
    _check_item(item.type, data)
    before = {"prompt": dict(item.prompt), "options": list(item.options), "required": item.required}
    _apply_item(item, data)
    db.session.flush()
    after = {"prompt": dict(item.prompt), "options": list(item.options), "required": item.required}
    record_event("survey.item_update", "survey_form", form.id, actor_id=actor_id, before=before, after=after)


def move_item(form: SurveyForm, item: SurveyItem, direction: str, *, actor_id: int) -> None:
    """One place up or down among the questions still asked; the first cannot go up, nor the last down."""
    _editable(form)
    if item.retired:
        raise ValidationFailed(_("A retired question has no place in the form."))
    active = sorted((i for i in form.items if not i.retired), key=lambda i: (i.position, i.id))
    index = active.index(item)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(active):
        raise ValidationFailed(_("This question cannot move that way."))
    active[index], active[other] = active[other], active[index]
    for position, each in enumerate(active):
        each.position = position
    for offset, each in enumerate(sorted((i for i in form.items if i.retired), key=lambda i: i.position)):
        each.position = len(active) + offset
    db.session.flush()
    record_event(
        "survey.item_move",
        "survey_form",
        form.id,
        actor_id=actor_id,
        after={"key": item.key, "to": direction},
    )


def set_retired(form: SurveyForm, item: SurveyItem, retired: bool, *, actor_id: int) -> None:
    """Retire a question (asked no more, its answers stay) or ask it again at the end of the form."""
    _editable(form)
    if item.retired == retired:
        return
    item.retired = retired
    if not retired:
        item.position = (
            max((i.position for i in form.items if not i.retired and i is not item), default=-1) + 1
        )
    db.session.flush()
    action = "survey.item_retire" if retired else "survey.item_restore"
    record_event(action, "survey_form", form.id, actor_id=actor_id, after={"key": item.key})
