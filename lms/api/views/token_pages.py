"""The token pages: a person's own tokens (from the account page) and the admins' list of every token,
where service tokens for an authority or a donor are made. A new token's secret is shown once."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from lms.api import tokens
from lms.api.forms import AuthorityTokenForm, RevokeForm, TokenForm
from lms.api.models import ApiToken
from lms.auth.access import AUTHENTICATED, allow
from lms.auth.models import Role, User
from lms.errors import NotFound
from lms.extensions import db
from lms.orgs.models import Authority
from lms.unit_of_work import on_refusal, refusals_into

bp = Blueprint("api_tokens", __name__)


def _own_page(
    form: TokenForm, issued: tokens.IssuedToken | None = None, status: int = 200
) -> tuple[str, int]:
    page = render_template("api/tokens.html", form=form, tokens=tokens.tokens_of(current_user.id),
                           issued=issued, revoke_form=RevokeForm(), scopes=tokens.SCOPES)  # fmt: skip
    return page, status


@bp.get("/account/api-tokens")
@allow(AUTHENTICATED)
def own_tokens() -> tuple[str, int]:
    return _own_page(TokenForm())


@bp.post("/account/api-tokens/new")
@allow(AUTHENTICATED)
def new_own_token() -> tuple[str, int]:
    form = TokenForm()
    if not form.validate_on_submit():
        return _own_page(form, status=422)
    with refusals_into(form):
        issued = tokens.issue_personal(current_user, form.token_request())
        return _own_page(TokenForm(formdata=None), issued)
    return _own_page(form, status=422)


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@allow(AUTHENTICATED)
@on_refusal(lambda **_: url_for("api_tokens.own_tokens"))
def revoke_own_token(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id or not RevokeForm().validate_on_submit():
        abort(404)
    tokens.revoke(token, current_user)
    flash(_("The token is revoked."), "success")
    return redirect(url_for("api_tokens.own_tokens"))


def _admin_page(
    issued: tokens.IssuedToken | None = None, status: int = 200, **forms: object
) -> tuple[str, int]:
    forms.setdefault("authority_form", AuthorityTokenForm(prefix="authority"))
    forms.setdefault("donor_form", TokenForm(prefix="donor"))
    page = render_template("api/admin_tokens.html", tokens=tokens.all_tokens(), issued=issued,
                           revoke_form=RevokeForm(), **forms)  # fmt: skip
    return page, status


@bp.get("/admin/api-tokens")
@allow(Role.ADMIN)
def admin_tokens() -> tuple[str, int]:
    return _admin_page()


@bp.post("/admin/api-tokens/authority")
@allow(Role.ADMIN)
def new_authority_token() -> tuple[str, int]:
    form = AuthorityTokenForm(prefix="authority")
    if form.validate_on_submit():
        authority_id, user_id = form.acting_ids()
        authority, acting = db.session.get(Authority, authority_id), db.session.get(User, user_id)
        with refusals_into(form):
            if authority is None or acting is None:
                raise NotFound(_("No such authority or person."))
            return _admin_page(
                tokens.issue_for_authority(current_user, authority, acting, form.token_request())
            )
    return _admin_page(status=422, authority_form=form)


@bp.post("/admin/api-tokens/donor")
@allow(Role.ADMIN)
def new_donor_token() -> tuple[str, int]:
    form = TokenForm(prefix="donor")
    if form.validate_on_submit():
        with refusals_into(form):
            return _admin_page(tokens.issue_for_donor(current_user, form.token_request()))
    return _admin_page(status=422, donor_form=form)


@bp.post("/admin/api-tokens/<int:token_id>/revoke")
@allow(Role.ADMIN)
@on_refusal(lambda **_: url_for("api_tokens.admin_tokens"))
def admin_revoke_token(token_id: int) -> Response:
    token = db.session.get(ApiToken, token_id)
    if token is None or not RevokeForm().validate_on_submit():
        abort(404)
    tokens.revoke(token, current_user)
    flash(_("The token is revoked."), "success")
    return redirect(url_for("api_tokens.admin_tokens"))
