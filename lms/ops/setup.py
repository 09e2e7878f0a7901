"""Wiring of operations into the app (called from lms.app_setup before the other features)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.jobs.queue import configure_jobs
from lms.ops.logging import configure_logging


def init_ops(app: Flask) -> None:
    # Behind a reverse proxy (TLS ends there): trust its X-Forwarded-For/-Proto/-Host, so that
    # client addresses (rate limits, logs) and generated https URLs are right. PROXY_COUNT is the
    # number of proxies in front; 0 (default) trusts none, as when serving directly.
    proxies = int(app.config.get("PROXY_COUNT", 0))
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    configure_logging(app)  # first before_request: every response gets an X-Request-ID
    configure_jobs(app)
