"""Gunicorn settings for `make serve` (`gunicorn -c python:lms.ops.gunicorn_conf 'lms:create_app()'`).

Read from the same layers as the app: defaults here, then instance/config.py, then LMS_* variables
(SERVER_BIND / LMS_SERVER_BIND, SERVER_WORKERS, SERVER_TIMEOUT, SERVER_ACCESS_LOG, ...).

Why these defaults: sync workers, one per core (measured on 2 cores: two sync workers beat more
workers or threads; the work is CPU and database bound, and a sync worker holds one database
connection, so connections = workers x app servers). Timeouts: a request slower than 30 s is a bug
(bulk work goes to the job queue), a graceful stop waits 30 s for requests in flight. Workers are
recycled after ~2000 requests (jittered) to bound slow memory growth. No preload: every worker
creates its own app and database pool after the fork, so no connection is shared across processes.

Garbage collection (issue 22): a worker's long-lived objects (the app, its modules, templates, published
course snapshots, compiled statements) were scanned by every full collection, which cost 2.5-3.5 ms per
request on average on the busiest pages. Each worker moves them out of the collector's reach
(``gc.freeze()``, after a collection so no garbage is kept) once its app is loaded and again after its
100th and 1,000th request, when the first pages have built what they keep; objects made later are
collected as usual. What is frozen is never freed, so a snapshot replaced later stays in memory until
the worker is recycled (``max_requests``).
"""

from __future__ import annotations

import gc
import multiprocessing
from pathlib import Path
from typing import Any

from flask import Config as FlaskConfig

from lms import config as paths


def server_settings() -> dict[str, Any]:
    settings = FlaskConfig(str(paths.INSTANCE_DIR))
    settings.from_mapping(
        SERVER_BIND="127.0.0.1:8000",
        SERVER_WORKERS=max(2, multiprocessing.cpu_count()),
        SERVER_TIMEOUT=30,
        SERVER_GRACEFUL_TIMEOUT=30,
        SERVER_KEEPALIVE=5,
        SERVER_MAX_REQUESTS=2000,
        # Off: the app writes one line per request itself (lms/ops/logging.py: the same fields plus the
        # user, with one-time tokens cut out of the path), so gunicorn's line repeated it and put reset
        # and confirmation tokens in the log (docs/security.md). "-" = stderr, or a file path.
        SERVER_ACCESS_LOG="",
        SERVER_ERROR_LOG="-",
        SERVER_LOG_LEVEL="info",
        FORWARDED_ALLOW_IPS="127.0.0.1,::1",
        SERVER_CONTROL_SOCKET=str(Path(paths.INSTANCE_DIR) / "gunicorn.ctl"),
    )
    if (Path(paths.INSTANCE_DIR) / "config.py").exists():
        settings.from_pyfile("config.py")
    settings.from_mapping(paths.settings_from_environment())
    return dict(settings)


_settings = server_settings()

bind = [part.strip() for part in str(_settings["SERVER_BIND"]).split(",") if part.strip()]
workers = int(_settings["SERVER_WORKERS"])
worker_class = "sync"
timeout = int(_settings["SERVER_TIMEOUT"])
graceful_timeout = int(_settings["SERVER_GRACEFUL_TIMEOUT"])
keepalive = int(_settings["SERVER_KEEPALIVE"])
max_requests = int(_settings["SERVER_MAX_REQUESTS"])
max_requests_jitter = max(1, max_requests // 10)
accesslog = _settings["SERVER_ACCESS_LOG"] or None
errorlog = _settings["SERVER_ERROR_LOG"]
loglevel = str(_settings["SERVER_LOG_LEVEL"])
# The reverse proxy's X-Forwarded-Proto is trusted only from these addresses.
forwarded_allow_ips = str(_settings["FORWARDED_ALLOW_IPS"])
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms rid=%({x-request-id}o)s'
)
proc_name = "academy-lms"
# gunicorn >= 25 opens a control socket for `gunicornc`, by default one per user ($HOME/.gunicorn): a
# second server of the same user (a second academy, the bench beside `make serve`) took it over, and
# the first one's stop removed it. One per instance instead; "" turns it off, and so does a path
# longer than a Unix socket address may be.
_control = str(_settings["SERVER_CONTROL_SOCKET"] or "")
control_socket_disable = not _control or len(_control.encode()) > 100
if not control_socket_disable:
    control_socket = _control

FREEZE_AFTER_REQUESTS = (100, 1000)
_served = 0


def _freeze_what_lives() -> None:
    gc.collect()
    gc.freeze()


def post_worker_init(_worker: Any) -> None:
    _freeze_what_lives()


def post_request(_worker: Any, _request: Any, _environ: Any, _response: Any) -> None:
    global _served  # one counter per worker process
    _served += 1
    if _served in FREEZE_AFTER_REQUESTS:
        _freeze_what_lives()
