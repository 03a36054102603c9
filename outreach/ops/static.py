"""Fingerprinted static files: ``url_for('static', filename='css/app.css')`` gives
``/static/css/app.3f2a9c01d4e7.css``, the first 12 hex digits of the file's SHA-256. A release that
changes a file changes its name, so nginx (and the browser, and the service worker, which serves
``/static/`` from its cache) may keep every fingerprinted file for a year: nothing is ever stale.

nginx serves ``/static/`` from disk (deploy/nginx/outreach.conf.in strips the fingerprint the same
way); the app's own static route does too, for development and the tests."""

import hashlib
import re
from pathlib import Path

from flask import Flask, current_app

FINGERPRINTED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")
YEAR = 365 * 24 * 3600

_cache: dict[Path, tuple[int, int, str]] = {}  # path -> (mtime_ns, size, digest)


def digest_of(path: Path) -> str | None:
    """The file's fingerprint, recomputed only when the file changed; None when there is no such file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    known = _cache.get(path)
    if known and known[:2] == (stat.st_mtime_ns, stat.st_size):
        return known[2]
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    _cache[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def fingerprinted(static_folder: Path, filename: str) -> str:
    """``css/app.css`` -> ``css/app.<digest>.css``; unchanged for a file without a suffix or not there."""
    folder, _slash, name = filename.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or FINGERPRINTED.match(filename):
        return filename
    digest = digest_of(static_folder / filename)
    if digest is None:
        return filename
    return f"{folder}{_slash}{stem}.{digest}.{ext}"


def init_app(app: Flask) -> None:
    static_folder = Path(app.static_folder or "static")
    send_plain = app.view_functions["static"]

    @app.url_defaults
    def add_fingerprint(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = fingerprinted(static_folder, values["filename"])

    def static(filename: str):
        match = FINGERPRINTED.match(filename)
        if match is None:
            return send_plain(filename=filename)
        plain = match["stem"] + match["ext"]
        response = current_app.send_static_file(plain)
        if digest_of(static_folder / plain) == match["digest"]:
            response.cache_control.public = True
            response.cache_control.max_age = YEAR
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        return response

    app.view_functions["static"] = static
