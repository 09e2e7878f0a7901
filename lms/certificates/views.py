from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from lms.auth.access import AUTHENTICATED, PUBLIC, allow
from lms.auth.models import Role
from lms.certificates import (
    audit_checkpoints,
    codes,
    identity,
    linkedin,
    queries,
    rendering,
    services,
    signed_documents,
    storage,
)
from lms.certificates.europass import europass_document
from lms.certificates.forms import BulkIssueForm, ManualIssueForm, ReissueForm, RevokeForm, VerifyForm
from lms.certificates.models import Certificate
from lms.ops import route_limits
from lms.unit_of_work import on_refusal, refusals_into

bp = Blueprint("certificates", __name__)

JSON_LD = "application/ld+json"


def _json_response(document: dict[str, Any], *, download_name: str | None = None) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype=JSON_LD)
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers fetch these from anywhere
    if download_name:
        response.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


def _own_certificate(code: str) -> Certificate:
    certificate = queries.certificate_by_code(code)
    if certificate is None or (
        certificate.user_id != current_user.id and not current_user.has_role(Role.ADMIN)
    ):
        abort(404)  # someone else's certificate: not found, not forbidden (reveals nothing)
    return certificate


def _rate_limited_lookup() -> None:
    """Count this lookup before anything is read: the verify pages share one budget per client
    (Flask-Limiter, lms.ops.route_limits; the address is stored only as a hash). An unknown code counts
    too; past the limit the app's error page answers 429 with Retry-After."""
    with route_limits.limit(
        "verify",
        "CERTIFICATE_VERIFY_LIMIT",
        30,
        "CERTIFICATE_VERIFY_WINDOW_SECONDS",
        600,
        lambda: _("Too many verification requests. Please wait a few minutes and try again."),
    ):
        pass


# --- trainee ---------------------------------------------------------------------------------


@bp.route("/certificates")
@allow(AUTHENTICATED)
def mine() -> str:
    certificates = queries.certificates_of(current_user.id)
    return render_template(
        "certificates/mine.html",
        certificates=[(c, queries.verification_state(c).state) for c in certificates],
        grouped=codes.grouped,
        linkedin_url=linkedin.certificate_link,
    )


def _send_pdf(code: str, *, english: bool) -> Response:
    """A holder's (or an admin's) PDF. The file is made by the job after the issue's commit; if
    this download comes first (right after completing), it is rendered now, with no transaction
    open and no row written (the job records its digest)."""
    certificate = _own_certificate(code)
    grouped, suffix = codes.grouped(certificate.code), "-en" if english else ""
    if english and certificate.language != "en":
        path = storage.english_pdf_path(certificate)
    else:
        path = storage.pdf_path(certificate)
    if not path.exists():
        rendering.render_missing_files(certificate)
    return send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"certificate-{grouped}{suffix}.pdf",
    )


@bp.route("/certificates/<code>.pdf")
@allow(AUTHENTICATED)
def download_pdf(code: str) -> Response:
    return _send_pdf(code, english=False)


@bp.route("/certificates/<code>/english.pdf")
@allow(AUTHENTICATED)
def download_english_pdf(code: str) -> Response:
    """The English version of a certificate issued in another language (issue 8)."""
    return _send_pdf(code, english=True)


@bp.route("/certificates/<code>.json")
@allow(AUTHENTICATED)
def download_credential(code: str) -> Response:
    certificate = _own_certificate(code)
    return _json_response(certificate.credential, download_name=f"credential-{certificate.code}.json")


@bp.route("/certificates/<code>/europass.jsonld")
@allow(AUTHENTICATED)
def download_europass(code: str) -> Response:
    """The certificate as an unsigned European Digital Credential (ELM 3) for the Europass wallet."""
    certificate = _own_certificate(code)
    return _json_response(europass_document(certificate), download_name=f"europass-{certificate.code}.jsonld")


# --- public ----------------------------------------------------------------------------------

NOINDEX_ENDPOINTS = {"certificates.verify_form", "certificates.verify", "certificates.public_credential"}


@bp.after_request
def _verify_pages_noindex(response: Response) -> Response:
    """A holder's name on a verify page must not end up in a search engine (issue 23): the header
    also covers the JSON and the 429 page; the HTML also carries <meta name="robots">."""
    if request.endpoint in NOINDEX_ENDPOINTS:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/verify")
@allow(PUBLIC)
def verify_form() -> str | Response:
    form = VerifyForm(formdata=request.args if request.args else None)
    if request.args and form.validate():
        code = codes.normalise(form.code.data or "")
        if code is not None:
            return redirect(url_for("certificates.verify", code=codes.grouped(code)))
        _rate_limited_lookup()
        return render_template("certificates/verify.html", form=form, state=None, not_found=True)
    return render_template("certificates/verify.html", form=form, state=None, not_found=False)


@bp.route("/verify/<code>")
@allow(PUBLIC)
def verify(code: str) -> tuple[str, int]:
    _rate_limited_lookup()
    certificate = queries.certificate_by_code(code)
    form = VerifyForm(formdata=None)
    if certificate is None:
        form.code.data = code[:40]
        return render_template("certificates/verify.html", form=form, state=None, not_found=True), 404
    state = queries.verification_state(certificate)
    return render_template(
        "certificates/verify.html",
        form=form,
        state=state.state,
        c=certificate,
        grouped_code=codes.grouped(certificate.code),
        modality_label=queries.modality_label(certificate.modality),
        not_found=False,
    ), 200


@bp.route("/verify/<code>/credential.json")
@allow(PUBLIC)
def public_credential(code: str) -> Response:
    _rate_limited_lookup()
    certificate = queries.certificate_by_code(code)
    if certificate is None:
        abort(404)
    return _json_response(certificate.credential, download_name=f"credential-{certificate.code}.json")


@bp.route("/.well-known/did.json")
@bp.route("/did.json")
@allow(PUBLIC)
def did_document() -> Response:
    """did:web resolves a bare host to /.well-known/did.json and a base URL with a path
    (did:web:host:academy) to <base>/did.json: the app serves the same document at both."""
    asked = identity.asked_identifier(request.url_root)  # a moved academy answers for its earlier address
    return _json_response(signed_documents.did_document(asked))


@bp.route(signed_documents.STATUS_LIST_PATH)
@allow(PUBLIC)
def status_list() -> Response:
    return _json_response(signed_documents.status_list_document())


@bp.route(audit_checkpoints.PUBLIC_PATH)
@allow(PUBLIC)
def audit_checkpoints_document() -> Response:
    """The signed heads of the audit chain (no personal data): docs/certificates.md."""
    return _json_response(audit_checkpoints.public_document())


# --- admin -----------------------------------------------------------------------------------


@bp.route("/admin/certificates")
@allow(Role.ADMIN)
def admin_list() -> str:
    certificates = queries.recent_certificates()
    return render_template(
        "certificates/admin_list.html",
        certificates=[(c, queries.verification_state(c).state) for c in certificates],
        grouped=codes.grouped,
        pending_count=len(queries.completed_without_certificate()),
    )


@bp.route("/admin/certificates/pending", methods=["GET", "POST"])
@allow(Role.ADMIN)
@on_refusal(lambda: url_for("certificates.admin_pending"))  # the list again, as it is now
def admin_pending() -> tuple[str, int] | Response:
    pending = queries.completed_without_certificate()
    form = BulkIssueForm()
    form.enrolments.choices = [SelectChoice(e.id, f"{e.user.full_name} · {e.run.title}") for e in pending]
    if form.validate_on_submit():
        # The jobs are enqueued after the request's commit (lms.jobs.tasks).
        batch = services.request_bulk_issue(list(form.enrolments.data or []), current_user.id)
        return redirect(url_for("certificates.admin_bulk_progress", batch=batch))
    status = 422 if form.errors else 200
    return render_template("certificates/admin_pending.html", form=form, pending=pending), status


@bp.route("/admin/certificates/bulk/<int:batch>")
@allow(Role.ADMIN)
def admin_bulk_progress(batch: int) -> Response:
    """A bulk issue's progress while the job works; the page reloads itself (a Refresh header:
    no script needed) until every certificate and its PDF is made."""
    progress = services.bulk_issue_progress(batch)  # an unknown batch: its LmsError's page and status
    page = render_template("certificates/admin_bulk_progress.html", progress=progress)
    response = Response(page, mimetype="text/html")  # werkzeug's Response says text/plain unless told
    if not progress.done:
        response.headers["Refresh"] = "5"
    return response


def run_label(run: Any) -> str:
    """A run in the manual-issue list: its title, and its dates if it has any (self-paced runs have none)."""
    if run.starts_on is None and run.ends_on is None:
        return str(run.title)
    starts = format_date(run.starts_on) if run.starts_on else "…"
    ends = format_date(run.ends_on) if run.ends_on else "…"
    return f"{run.title} ({starts} – {ends})"


@bp.route("/admin/certificates/issue", methods=["GET", "POST"])
@allow(Role.ADMIN)
def admin_issue() -> tuple[str, int] | Response:
    form = ManualIssueForm()
    form.run.choices = [SelectChoice(run.id, run_label(run)) for run in queries.runs_for_manual_issue()]
    if form.validate_on_submit():
        with refusals_into(form):  # the form again, with what was typed and the refusal on it
            certificate = services.issue_manually(
                form.email.data or "", form.run.data or 0, current_user.id, form.reason.data or ""
            )
            flash(_("Certificate %(code)s issued.", code=codes.grouped(certificate.code)), "success")
            return redirect(url_for("certificates.admin_detail", code=certificate.code))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("certificates/admin_issue.html", form=form), status


@bp.route("/admin/certificates/<code>")
@allow(Role.ADMIN)
def admin_detail(code: str) -> str:
    certificate = queries.certificate_by_code(code) or abort(404)
    return render_template(
        "certificates/admin_detail.html",
        c=certificate,
        state=queries.verification_state(certificate).state,
        grouped_code=codes.grouped(certificate.code),
        revoke_form=RevokeForm(formdata=None),
        reissue_form=ReissueForm(formdata=None),
        modality_label=queries.modality_label(certificate.modality),
    )


@bp.route("/admin/certificates/<code>/revoke", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(lambda code: url_for("certificates.admin_detail", code=code))
def admin_revoke(code: str) -> Response:
    certificate = queries.certificate_by_code(code) or abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the revocation."), "error")
        return redirect(url_for("certificates.admin_detail", code=certificate.code))
    services.revoke(
        certificate,
        current_user.id,
        form.reason.data or "",
        show_reason_publicly=bool(form.show_reason_publicly.data),
    )
    flash(_("Certificate %(code)s revoked.", code=codes.grouped(certificate.code)), "success")
    return redirect(url_for("certificates.admin_detail", code=code))


@bp.route("/admin/certificates/<code>/reissue", methods=["POST"])
@allow(Role.ADMIN)
@on_refusal(lambda code: url_for("certificates.admin_detail", code=code))
def admin_reissue(code: str) -> Response:
    certificate = queries.certificate_by_code(code) or abort(404)
    form = ReissueForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the re-issue."), "error")
        return redirect(url_for("certificates.admin_detail", code=certificate.code))
    replacement = services.reissue(certificate, current_user.id, form.reason.data or "")
    flash(_("Re-issued as %(code)s.", code=codes.grouped(replacement.code)), "success")
    return redirect(url_for("certificates.admin_detail", code=replacement.code))
