"""Configuration layering and feature registration, called by ``create_app``."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lms import config as paths
from lms.admin.views import bp as admin_bp
from lms.api.setup import init_api
from lms.auth.access import enforce_access
from lms.auth.account_views import bp as account_bp
from lms.auth.services import load_user
from lms.auth.views import bp as auth_bp
from lms.authoring.views import bp as authoring_bp
from lms.authoring.views import files_bp as authoring_files_bp
from lms.certificates.rendering import take_pdfs_issued_in_request
from lms.certificates.services import take_bulk_issues_requested_in_request
from lms.certificates.setup import init_certificates
from lms.certificates.views import bp as certificates_bp
from lms.cli import register_cli
from lms.courses.views import bp as courses_bp
from lms.db import READS_FIRST_ATTRIBUTE, write_intended
from lms.enrolment.setup import init_enrolment
from lms.enrolment.views import bp as enrolment_bp
from lms.errors import register_error_handlers
from lms.extensions import babel, csrf, db, login_manager, migrate
from lms.frontend.setup import init_frontend
from lms.frontend.views import bp as frontend_bp
from lms.i18n import install_template_gettext, register_i18n
from lms.integrations.setup import init_integrations
from lms.jobs.tasks import enqueue_certificate_work, enqueue_mail_delivery
from lms.jobs.views import bp as jobs_bp
from lms.notifications.services import take_mail_queued_in_request
from lms.ops.route_limits import init_route_limits
from lms.ops.setup import init_ops
from lms.ops.views import bp as ops_bp
from lms.packages.setup import init_packages
from lms.quizzes.views import bp as quizzes_bp
from lms.reports.views import bp as reports_bp
from lms.request_input import IntegerConverter
from lms.security.csrf_tokens import use_page_csrf_token
from lms.security.setup import init_security
from lms.security.views import bp as security_bp
from lms.sessions.setup import init_sessions
from lms.sessions.views import bp as sessions_bp
from lms.settings.services import get_settings
from lms.settings.views import bp as settings_bp
from lms.settings.views import register_settings_context
from lms.surveys.setup import init_surveys
from lms.surveys.views import bp as surveys_bp
from lms.unit_of_work import init_unit_of_work

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Every feature's models, imported before the app starts so that metadata (create_all, Alembic)
# knows every table. A new feature adds its line here.
MODEL_MODULES = (
    "lms.orgs.models",
    "lms.auth.models",
    "lms.courses.models",
    "lms.enrolment.models",
    "lms.quizzes.models",
    "lms.packages.models",
    "lms.packages.runtime.models",
    "lms.sessions.models",
    "lms.surveys.models",
    "lms.audit.models",
    "lms.certificates.models",
    "lms.integrations.models",
    "lms.api.models",
    "lms.notifications.models",
    "lms.settings.models",
    "lms.ops.models",
    "lms.jobs.models",
    "lms.security.models",
    "lms.authoring.models",
    "lms.reports.models",
    "lms.reports.facts",  # not models: its session listeners keep the fact table true on every write
)


def configure_app(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    app.config.from_object(paths.Config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(paths.settings_from_environment())
    if overrides:
        app.config.from_mapping(overrides)
    instance = Path(app.instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = paths.load_or_create_secret_key(instance)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        instance.mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'lms.sqlite'}"


def register_features(app: Flask) -> None:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    # Every <int:...> in every route: an id no database row can have does not match (404), before any view
    # passes it to a driver that cannot bind it (lms/request_input.py).
    app.url_map.converters["int"] = IntegerConverter
    db.init_app(app)
    migrate.init_app(app, db, directory=str(paths.MIGRATIONS_DIR))
    csrf.init_app(app)
    use_page_csrf_token(app)  # signed once per session, not per page (lms/security/csrf_tokens.py)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    register_i18n(app)
    register_settings_context(app)  # after register_i18n: the settings' academy name wins
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_template_gettext(app)  # templates find the catalogue once per request (lms/i18n.py)

    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            install_sqlite_pragmas(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])

    init_ops(app)  # before enforce_access: request ids and timing cover refused requests too
    init_frontend(app)  # its after_request (caching, gzip) runs after every later one: compresses last
    app.before_request(enforce_access)
    app.after_request(send_mail_after_commit)
    app.after_request(certificate_work_after_commit)
    init_unit_of_work(app)  # after the after-commit hooks: after_request runs in reverse, so it commits first
    init_enrolment(app)  # completion re-checked on the signals of quizzes and lessons
    init_sessions(app)
    init_surveys(app)
    init_certificates(app)
    for blueprint in (
        auth_bp,
        courses_bp,
        enrolment_bp,
        certificates_bp,
        account_bp,
        admin_bp,
        settings_bp,
        quizzes_bp,
        ops_bp,
        jobs_bp,
        security_bp,
        reports_bp,
        authoring_bp,
        authoring_files_bp,
        frontend_bp,
        sessions_bp,
        surveys_bp,
    ):
        app.register_blueprint(blueprint)
    init_packages(app)  # SCORM packages (issue 25)
    init_integrations(app)  # webhooks and xAPI (issue 24)
    init_api(app)  # /api/v1 (issue 24)
    register_error_handlers(app)
    init_route_limits(app)  # per-address limits on public routes (Flask-Limiter)
    init_security(app)  # after the error handlers: its 500 page shows the request id
    register_cli(app)


def send_mail_after_commit(response: Response) -> Response:
    """The view has committed the mail it queued (outgoing_mail rows): hand it to the mail job.
    The request never talks to the mail server, so a slow or down one never delays or fails a page;
    the job retries with backoff, and the sweep sends whatever no job took (docs/operations.md)."""
    queued = take_mail_queued_in_request()
    if queued and response.status_code < 400:  # an error response rolled its change back
        enqueue_mail_delivery(queued)
    return response


def certificate_work_after_commit(response: Response) -> Response:
    """The view has committed the certificates it issued (rows only) or a bulk issue it recorded:
    hand them to the certificate jobs, which render the PDFs with no transaction open. A learner's
    request never waits for WeasyPrint (issue 18 item 9; docs/certificates.md)."""
    rendered, bulk = take_pdfs_issued_in_request(), take_bulk_issues_requested_in_request()
    if (rendered or bulk) and response.status_code < 400:  # an error response rolled its change back
        enqueue_certificate_work(rendered, bulk)
    return response


def select_locale() -> str | None:
    if not has_request_context():  # CLI, background work: services still translate (default locale)
        return None
    # The signed-in user's saved preference (the switcher saves it), then the choice made in this
    # session (anonymous visitors), then the browser's Accept-Language, then the academy default.
    languages = paths.LANGUAGES
    user = current_user._get_current_object()  # the proxy finds the user anew at each attribute
    if user.is_authenticated and user.preferred_language in languages:
        return str(user.preferred_language)
    chosen = session.get("language")
    if chosen in languages:
        return str(chosen)
    for tag, _quality in request.accept_languages:  # best first; "fr-CH" counts as French
        primary = tag.replace("_", "-").split("-")[0].lower()
        if primary in languages:
            return primary
    return get_settings().default_language  # the academy's default (admin setting)


def select_timezone() -> str | None:
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    if user.is_authenticated and user.timezone:
        return str(user.timezone)
    return None


def wants_write_transaction() -> bool:
    """SQLite: writers start with BEGIN IMMEDIATE so read-then-write never loses an update.

    A request writes when its method does or a view said so (g.write_intent); other code opts in
    with lms.db.writing_transactions(). Readers start a deferred BEGIN and never block writers (WAL).
    """
    if write_intended():
        return True
    if not has_request_context():
        return False
    if g.get("write_intent"):
        return True
    if request.method not in WRITE_METHODS:
        return False
    # A view marked @reads_before_writing (lms.db) reads first and asks for the write lock itself.
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, READS_FIRST_ATTRIBUTE, False)


def install_sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    # SQLAlchemy's documented pysqlite recipe: take transaction control away from the driver
    # so that we can choose BEGIN IMMEDIATE for writes.
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write_transaction() else "BEGIN")
