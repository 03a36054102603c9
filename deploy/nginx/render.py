#!/usr/bin/env python3
"""Render the nginx site from the settings: `python3 deploy/nginx/render.py /etc/outreach/outreach.env`.

Settings come from the environment files named (KEY=value lines, as systemd reads them) and then from
the process's environment, which wins. Standard library only: it runs with Debian's python3.

| setting | default | meaning |
|---|---|---|
| NGINX_SERVER_NAME | `_` (any) | the site's host name(s) |
| NGINX_TLS_CERTIFICATE / NGINX_TLS_CERTIFICATE_KEY | /etc/ssl/outreach/fullchain.pem, privkey.pem | certificate paths |
| NGINX_HTTP_PORT / NGINX_HTTPS_PORT | 80 / 443 | where nginx listens |
| NGINX_LISTEN_ADDRESS | empty: every address (IPv4 and IPv6) | or one address, e.g. 127.0.0.1 |
| NGINX_UPSTREAMS | 127.0.0.1:8000 | the app servers (gunicorn), separated by spaces or commas |
| NGINX_STATIC_ROOT | /srv/outreach/current/static | the release's static files |
| NGINX_ACCESS_LOG / NGINX_ERROR_LOG | /var/log/nginx/outreach.access.log, .error.log | logs |
| MAX_UPLOAD_MB | 32 | the app's upload limit, also nginx's |
"""

import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "outreach.conf.in"
DEFAULTS = {
    "NGINX_SERVER_NAME": "_",
    "NGINX_TLS_CERTIFICATE": "/etc/ssl/outreach/fullchain.pem",
    "NGINX_TLS_CERTIFICATE_KEY": "/etc/ssl/outreach/privkey.pem",
    "NGINX_HTTP_PORT": "80",
    "NGINX_HTTPS_PORT": "443",
    "NGINX_LISTEN_ADDRESS": "",
    "NGINX_UPSTREAMS": "127.0.0.1:8000",
    "NGINX_STATIC_ROOT": "/srv/outreach/current/static",
    "NGINX_ACCESS_LOG": "/var/log/nginx/outreach.access.log",
    "NGINX_ERROR_LOG": "/var/log/nginx/outreach.error.log",
    "MAX_UPLOAD_MB": "32",
}
_SAFE = re.compile(r"^[^;{}'\"\s]*$")  # a value must not be able to add nginx directives


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _eq, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def settings(files: list[Path], environ: dict[str, str]) -> dict[str, str]:
    values = dict(DEFAULTS)
    for path in files:
        values.update({k: v for k, v in read_env_file(path).items() if k in DEFAULTS})
    values.update({k: v for k, v in environ.items() if k in DEFAULTS})
    return values


def _listen(address: str, port: int, options: str = "") -> str:
    """One address, or every IPv4 and IPv6 address."""
    if address:
        return f"{address}:{port}{options}"
    return f"{port}{options};\n    listen [::]:{port}{options}"


def render(values: dict[str, str]) -> str:
    for key in DEFAULTS:
        if key not in ("NGINX_SERVER_NAME", "NGINX_UPSTREAMS") and not _SAFE.match(values[key]):
            raise SystemExit(f"{key}={values[key]!r}: no spaces, quotes, braces or semicolons")
    http_port, https_port = int(values["NGINX_HTTP_PORT"]), int(values["NGINX_HTTPS_PORT"])
    upstreams = [u for u in re.split(r"[\s,]+", values["NGINX_UPSTREAMS"]) if u]
    if not upstreams or not all(re.fullmatch(r"[\w.\-:\[\]/]+", u) for u in upstreams):
        raise SystemExit(f"NGINX_UPSTREAMS={values['NGINX_UPSTREAMS']!r}: host:port of each app server")
    if not re.fullmatch(r"[\w.\- *]+", values["NGINX_SERVER_NAME"]):
        raise SystemExit(f"NGINX_SERVER_NAME={values['NGINX_SERVER_NAME']!r} is not a list of host names")
    address = values["NGINX_LISTEN_ADDRESS"]
    replacements = {
        "SERVER_NAME": values["NGINX_SERVER_NAME"],
        "TLS_CERTIFICATE": values["NGINX_TLS_CERTIFICATE"],
        "TLS_CERTIFICATE_KEY": values["NGINX_TLS_CERTIFICATE_KEY"],
        "HTTP_LISTEN": _listen(address, http_port),
        "HTTPS_LISTEN": _listen(address, https_port, " ssl http2"),
        "HTTPS_PORT_SUFFIX": "" if https_port == 443 else f":{https_port}",
        "UPSTREAMS": "\n".join(f"    server {u} max_fails=3 fail_timeout=10s;" for u in upstreams),
        "STATIC_ROOT": values["NGINX_STATIC_ROOT"].rstrip("/"),
        "ACCESS_LOG": values["NGINX_ACCESS_LOG"],
        "ERROR_LOG": values["NGINX_ERROR_LOG"],
        "MAX_UPLOAD_MB": str(int(values["MAX_UPLOAD_MB"])),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    text = re.sub(r"@([A-Z_]+)@", lambda m: replacements[m.group(1)], text)
    return text


def main(argv: list[str]) -> None:
    import os

    sys.stdout.write(render(settings([Path(a) for a in argv], dict(os.environ))))


if __name__ == "__main__":
    main(sys.argv[1:])
