"""Wiring of the front-end delivery into the app (called from lms.app_setup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, current_app, request, url_for
from werkzeug.wrappers import Response

from lms.frontend.compression import COMPRESSIBLE_TYPES, MINIMUM_SIZE, accepts_gzip, gzip_bytes, gzip_static
from lms.frontend.fingerprint import ONE_YEAR, content_hash, static_file
from lms.frontend.fragments import cached_fragment


def init_frontend(app: Flask) -> None:
    resolved: dict[str, Path | None] = {}  # filename -> file: resolving a path costs more than the page

    def add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or "v" in values or not app.static_folder:
            return
        filename = str(values.get("filename", ""))
        if filename not in resolved:
            resolved[filename] = static_file(app.static_folder, filename)
        path = resolved[filename]
        digest = content_hash(path) if path else None
        if digest:
            values["v"] = digest

    def finish_response(response: Response) -> Response:
        if request.endpoint == "static":
            set_static_caching(app, response)
        compress(app, response)
        return response

    app.url_defaults(add_fingerprint)
    app.add_template_global(cached_fragment)
    app.add_template_global(page_url)
    app.add_template_global(asset_url)
    app.after_request(finish_response)


PAGE_URLS_KEY = "lms_page_urls"


def page_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` built once per app, mount point and values: the links every page
    carries (sign-out, profile, language switch) and a course's address on every dashboard card cost a URL
    build each otherwise (~50 µs). Only for values that name things that exist (a course's slug), so the
    store grows with the academy, not with what is asked. Not for ``static`` (``asset_url``, below)
    nor relative names (``.index``), which depend on the request."""
    if endpoint == "static" or endpoint.startswith("."):
        raise ValueError(f"page_url() builds fixed page URLs only, not {endpoint!r}")
    return _remembered_url(endpoint, values)


def _remembered_url(endpoint: str, values: dict[str, Any]) -> str:
    urls: dict[tuple[object, ...], str] = current_app.extensions.setdefault(PAGE_URLS_KEY, {})  # per app
    key = (request.script_root, endpoint, *sorted(values.items()))
    url = urls.get(key)
    if url is None:
        url = urls[key] = url_for(endpoint, **values)
    return url


def asset_url(filename: str) -> str:
    """``url_for('static', filename=...)`` with its ``?v=<content hash>``, built once per process and mount
    point where the files cannot change under a running server (no debug, no template reloading: a new
    version is a new deployment, which restarts the workers). Every page links the stylesheet and the
    script; their URL build and the file's stat cost each page ~2 % of its time (docs/performance.md).
    In development every call builds the URL again, so an edited file gets its new hash at once."""
    if current_app.debug or current_app.jinja_env.auto_reload:
        return url_for("static", filename=filename)
    return _remembered_url("static", {"filename": filename})


def _requested_static_file(app: Flask) -> Any:
    filename = (request.view_args or {}).get("filename")
    if not app.static_folder or not filename:
        return None
    return static_file(app.static_folder, str(filename))


def set_static_caching(app: Flask, response: Response) -> None:
    """A fingerprinted URL (the current ?v=) is immutable for a year; anything else is revalidated."""
    path = _requested_static_file(app)
    version = request.args.get("v")
    if response.status_code == 200 and path is not None and version and version == content_hash(path):
        response.cache_control.public = True
        response.cache_control.max_age = ONE_YEAR
        response.cache_control.immutable = True
        response.cache_control.no_cache = None
    else:
        response.cache_control.no_cache = True
        response.cache_control.max_age = None


def compress(app: Flask, response: Response) -> None:
    if (
        request.method == "HEAD"
        or not (response.status_code == 200 or 400 <= response.status_code < 600)
        or response.mimetype not in COMPRESSIBLE_TYPES
        or "Content-Encoding" in response.headers
        or "Content-Range" in response.headers
    ):
        return
    response.vary.add("Accept-Encoding")
    if not accepts_gzip(request.headers.get("Accept-Encoding", "")):
        return
    if response.direct_passthrough:  # a static file: compressed once per version, kept in memory
        static_path = _requested_static_file(app) if request.endpoint == "static" else None
        if static_path is None or static_path.stat().st_size < MINIMUM_SIZE:
            return
        packed = gzip_static(static_path)
        file_body = response.response
        response.direct_passthrough = False
        response.set_data(packed)
        if hasattr(file_body, "close"):
            file_body.close()  # the file send_file opened is not read: close it now
    elif response.is_streamed:  # generated downloads (CSV exports) stream as they are
        return
    else:
        data = response.get_data()
        if len(data) < MINIMUM_SIZE:
            return
        response.set_data(gzip_bytes(data))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(f"{etag}-gzip", bool(weak))
