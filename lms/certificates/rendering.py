"""PDF rendering, after the commit: the certificate's HTML, its files, the job's and the sweep's work."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import g, has_request_context, render_template
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from lms.audit.services import record_event
from lms.certificates import codes, pdf
from lms.certificates.issuer import Issuer, academy_issuer
from lms.certificates.models import Certificate
from lms.certificates.queries import modality_label
from lms.certificates.signed_documents import verify_url
from lms.certificates.storage import PDF_PENDING, english_pdf_path, pdf_path
from lms.db import utcnow
from lms.enrolment.models import CourseRun
from lms.extensions import db
from lms.i18n import localized_date, localized_number, text_direction

log = logging.getLogger(__name__)


def _pdf_html(certificate: Certificate, issuer: Issuer, language: str) -> str:
    """The certificate in ``language`` as HTML for WeasyPrint: fixed wording through gettext, dates
    and numbers per locale.

    The study-language PDF uses the title and outcomes copied onto the row; the English companion
    takes the course's English (default-language) texts, as the course had them at issue.
    """
    url = verify_url(issuer, certificate.code)
    if language == certificate.language:
        title, outcomes = certificate.course_title, list(certificate.learning_outcomes)
    else:
        course = certificate.run.course
        title = str(course.text("title", language))
        outcomes = [str(o) for o in course.text("learning_outcomes", language) or []]
    with force_locale(language):
        html = render_template(
            "certificates/pdf.html",
            c=certificate,
            language=language,
            course_title=title,
            learning_outcomes=outcomes,
            grouped_code=codes.grouped(certificate.code),
            verify_url=url,
            qr=pdf.qr_svg_data_uri(url),
            direction=text_direction(language),
            title_direction=pdf.text_direction(title),
            native_direction=pdf.text_direction(certificate.holder_native_name),
            credits_text=localized_number(certificate.credits) if certificate.credits is not None else "",
            modality_label=modality_label(certificate.modality),
            issued_on=localized_date(certificate.issued_at.date(), "long"),
            valid_until=(
                localized_date(certificate.valid_until.date(), "long") if certificate.valid_until else None
            ),
            run_starts_on=localized_date(certificate.run_starts_on) if certificate.run_starts_on else "",
            run_ends_on=localized_date(certificate.run_ends_on) if certificate.run_ends_on else "",
        )
    return html


# --- the PDF, after the commit ---------------------------------------------------------------
#
# WeasyPrint takes a quarter to half a second a page here (over a second for a process's first
# page), twice for a certificate with an English companion. Rendered inside the issuing
# transaction, that held SQLite's write lock for seconds on every automatic issue (a learner's
# quiz submission), so other learners' writes ran out of busy timeout (issue 18 item 9). An issue
# now writes rows only; the files are made here, with no transaction open, once the row is
# committed. pdf_sha256 == PDF_PENDING marks a certificate whose PDF is not recorded yet.


def render_after_commit(certificate_id: int) -> None:
    """Note a new certificate for the job that the app enqueues after the request's commit (like
    mail, docs/architecture.md). Outside a request the caller runs ``store_pdf`` after its commit;
    the every-minute sweep (``store_missing_pdfs``) renders whatever nobody did."""
    if has_request_context():
        g.setdefault("certificate_pdfs_to_render", []).append(certificate_id)


def take_pdfs_issued_in_request() -> list[int]:
    """The ids of the certificates this request issued, once: the after-request hook hands them to
    the rendering job (a rolled-back id finds no row there, or another pending certificate)."""
    if not has_request_context():
        return []
    return list(g.pop("certificate_pdfs_to_render", None) or [])


def _missing_documents(certificate: Certificate, issuer: Issuer) -> list[tuple[Path, str]]:
    """The PDF files this certificate should have and does not, each with the HTML to render
    (from the row's values and the run's course: no query once those are loaded)."""
    wanted = [(pdf_path(certificate), certificate.language)]
    if certificate.language != "en":
        # Issue 8: a certificate in the run's language always comes with an English version.
        wanted.append((english_pdf_path(certificate), "en"))
    missing = [(path, language) for path, language in wanted if not path.exists()]
    return [(path, _pdf_html(certificate, issuer, language)) for path, language in missing]


def _store_file(path: Path, data: bytes) -> None:
    """Create ``path`` holding ``data`` unless it exists. The bytes go to a temporary file that is
    then hard-linked into place (atomic, and fails if the name is taken), so a download never reads
    half a file and of two renderers (the job, the sweep, a download) the first one's file stays:
    a stored PDF is never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes it 0600; issued PDFs were always 0644
        with contextlib.suppress(FileExistsError):  # made meanwhile by another renderer: the first stays
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def render_missing_files(certificate: Certificate, issuer: Issuer | None = None) -> None:
    """Write this certificate's missing PDF files now (a download that came before the job).

    Ends the caller's transaction (it may only have read) before WeasyPrint runs, so nothing, not
    even a SQLite snapshot, is held while it works. Writes no row: the job or the sweep records the
    file's SHA-256."""
    documents = _missing_documents(certificate, issuer or academy_issuer())
    db.session.commit()
    for path, html in documents:
        _store_file(path, pdf.html_to_pdf(html))


def store_pdf(certificate_id: int) -> bool:
    """Render and store a committed certificate's PDF files if missing, then record the PDF's
    SHA-256 on the row and in the audit trail (once, whoever gets there first).

    Commits: it reads in one short transaction, renders with none open, and records the digest in
    a second short one, so the write lock is held for an UPDATE and an audit row, never for
    WeasyPrint. Idempotent (a job that runs twice renders nothing twice). False when no row has
    this id: its issue was rolled back."""
    session = db.session()
    certificate = session.get(
        Certificate,
        certificate_id,
        populate_existing=True,
        options=[joinedload(Certificate.run).joinedload(CourseRun.course)],  # the English texts
    )
    if certificate is None:
        session.rollback()
        return False
    issuer = academy_issuer()
    code, main = certificate.code, pdf_path(certificate)
    needs_digest = certificate.pdf_sha256 == PDF_PENDING
    # A job's transactions are writers (BEGIN IMMEDIATE on SQLite): end this one now, keeping the
    # values read, so that building the HTML (over a second for a process's first certificate:
    # templates and catalogues load) holds no lock either.
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    render_missing_files(certificate, issuer)
    if needs_digest:
        digest = hashlib.sha256(main.read_bytes()).hexdigest()
        recorded = db.session.execute(
            update(Certificate)
            .where(Certificate.id == certificate_id, Certificate.pdf_sha256 == PDF_PENDING)
            .values(pdf_sha256=digest)
            .execution_options(synchronize_session=False)
        )
        if getattr(recorded, "rowcount", 0) == 1:
            record_event(
                "certificate.pdf_stored",
                "certificate",
                certificate_id,
                after={"code": code, "pdf_sha256": digest},
            )
        db.session.commit()
    return True


def store_missing_pdfs(limit: int = 100, grace_seconds: int = 60) -> int:
    """The sweep: store the PDF of every certificate still without one (its job was lost, failed
    or could not be enqueued), oldest first, leaving the last ``grace_seconds`` to their own job.
    Commits; a certificate that fails is logged and left for the next sweep. Returns how many."""
    before = utcnow() - timedelta(seconds=grace_seconds)
    pending = list(
        db.session.scalars(
            select(Certificate.id)
            .where(Certificate.pdf_sha256 == PDF_PENDING, Certificate.issued_at <= before)
            .order_by(Certificate.id)
            .limit(limit)
        )
    )
    db.session.rollback()
    stored = 0
    for certificate_id in pending:
        try:
            stored += store_pdf(certificate_id)
        except Exception:
            db.session.rollback()
            log.exception(
                "could not store the PDF of certificate %s; the next sweep tries again", certificate_id
            )
    return stored
