"""Settings, all read from environment variables with safe defaults.

Pick a class with ``FLASK_CONFIG`` (development, test, production) or pass it to
``create_app``. Nothing here talks to the network.

No server runs with a key anyone else knows: development (the default, also when gunicorn is
started without ``FLASK_CONFIG``) uses ``SECRET_KEY`` or else this installation's own random key,
made once in ``instance/secret_key``; the tests make one per run; production refuses to start
without a long key of its own, and refuses settings that would fail silently in the field.
"""

import ipaddress
import os
import re
import secrets
import shlex
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from flask_babel import gettext as _

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url(default: str, name: str = "DATABASE_URL") -> str:
    url = os.environ.get(name) or default
    # Hosting platforms still hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


# Keys that have been written in this repository: a cookie signed with one of them must open nothing.
PUBLIC_KEYS = frozenset({"dev-only-not-secret", "test-secret"})
MIN_SECRET_KEY = 32


def _local_host(host: str) -> bool:
    """localhost, 127.x.x.x, ::1, 0.0.0.0: an address that leads back to the machine that opens it."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


class ConfigError(RuntimeError):
    """Settings the app refuses to start with; the message has one problem per line."""


def instance_secret_key(path: Path) -> str:
    """This installation's own development key: random, made once, readable by its owner only.

    Several processes may start at once (the web server and the scheduler of `make run`): each
    writes a candidate beside the file and links it into place, and the first link wins."""
    key = path.read_text().strip() if path.is_file() else ""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    try:
        os.link(candidate, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    except OSError:
        os.replace(candidate, path)  # a file system without hard links
    finally:
        candidate.unlink(missing_ok=True)
    return path.read_text().strip()


def _workers_in(args: list[str]) -> int | None:
    for i, arg in enumerate(args):
        value = None
        if arg in ("-w", "--workers") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--workers="):
            value = arg.partition("=")[2]
        elif re.fullmatch(r"-w\d+", arg):
            value = arg[2:]
        if value is not None and value.isdigit():
            return int(value)
    return None


def web_workers() -> int | None:
    """How many gunicorn workers serve this app, when the command line or the environment says so
    (``-w``/``--workers``, ``GUNICORN_CMD_ARGS``, ``WEB_CONCURRENCY``); ``None`` when nothing does."""
    counts = []
    if sys.argv and "gunicorn" in sys.argv[0]:
        counts.append(_workers_in(sys.argv[1:]))
    counts.append(_workers_in(shlex.split(os.environ.get("GUNICORN_CMD_ARGS", ""))))
    concurrency = os.environ.get("WEB_CONCURRENCY", "")
    counts.append(int(concurrency) if concurrency.isdigit() else None)
    known = [n for n in counts if n is not None]
    return max(known) if known else None


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SECRET_KEY_FILE = os.environ.get("SECRET_KEY_FILE", str(INSTANCE_DIR / "secret_key"))  # development only
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'outreach.db'}")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("TIMEZONE", "Asia/Ho_Chi_Minh")
    LANGUAGES = ("vi", "en")

    # Phones change networks all the time: "basic" protection marks the session
    # non-fresh instead of logging the member out in the middle of a lane.
    SESSION_PROTECTION = "basic"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = timedelta(days=int(os.environ.get("REMEMBER_DAYS", "30")))
    PERMANENT_SESSION_LIFETIME = timedelta(days=int(os.environ.get("SESSION_DAYS", "7")))

    PASSWORD_HASH_METHOD = "scrypt"
    WTF_CSRF_TIME_LIMIT = None  # a form opened before a walk still posts after it
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "32")) * 1024 * 1024
    # A statistics file waiting for its second step (columns, a total confirmed) is kept this long.
    PENDING_UPLOAD_HOURS = float(os.environ.get("PENDING_UPLOAD_HOURS", "24"))

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "5 per minute;30 per hour")  # failures per name and address
    LOGIN_ADDRESS_RATE_LIMIT = os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "60 per hour")  # failures per address

    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # SMS guides. The console gateway only logs (the demo and development); "twilio" sends for real.
    SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "console")
    TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
    TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
    TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
    TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
    TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "")  # another base URL than https://api.twilio.com
    TWILIO_TIMEOUT_S = float(os.environ.get("TWILIO_TIMEOUT_S", "15"))
    SMS_QUIET_START = os.environ.get("SMS_QUIET_START", "21:00")  # local time; messages wait, never dropped
    SMS_QUIET_END = os.environ.get("SMS_QUIET_END", "07:00")
    SMS_DAILY_CAP_PER_COMMUNE = int(os.environ.get("SMS_DAILY_CAP_PER_COMMUNE", "500"))
    SMS_PRICE_PER_SEGMENT = float(os.environ.get("SMS_PRICE_PER_SEGMENT", "2300"))  # for the estimate only
    SMS_CURRENCY = os.environ.get("SMS_CURRENCY", "VND")
    SMS_MAX_ATTEMPTS = int(os.environ.get("SMS_MAX_ATTEMPTS", "6"))
    SMS_RETRY_BASE_S = float(os.environ.get("SMS_RETRY_BASE_S", "30"))  # 30 s, 1 min, 2 min ... at most 1 h
    SMS_DISPATCH_SECONDS = int(os.environ.get("SMS_DISPATCH_SECONDS", "5"))
    SMS_DISPATCH_BATCH = int(os.environ.get("SMS_DISPATCH_BATCH", "50"))
    # A row claimed longer ago than this and still "sending" was interrupted: a person checks it.
    SMS_STALE_CLAIM_S = int(os.environ.get("SMS_STALE_CLAIM_S", "300"))
    SMS_WEBHOOK_RATE_LIMIT = os.environ.get("SMS_WEBHOOK_RATE_LIMIT", "300 per minute")
    # The residents' "I need someone to come and help" form: sends per address (the same phone
    # within an hour, or within a week, changes nothing more: outreach/requests/services.py).
    HELP_RATE_LIMIT = os.environ.get("HELP_RATE_LIMIT", "10 per hour")
    FOLLOW_UP_REMINDER_HOUR = int(os.environ.get("FOLLOW_UP_REMINDER_HOUR", "8"))
    DAILY_SUMMARY_HOUR = int(os.environ.get("DAILY_SUMMARY_HOUR", "6"))

    # Running behind nginx on several servers (deploy/README.md).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))  # proxies in front whose X-Forwarded-* count
    METRICS_ALLOWED = os.environ.get("METRICS_ALLOWED", "127.0.0.1, ::1")  # addresses or networks allowed /metrics
    LOG_JSON = _bool("LOG_JSON", False)  # one JSON object per log line (production's default)
    SCHEDULER_HEARTBEAT_S = int(os.environ.get("SCHEDULER_HEARTBEAT_S", "10"))
    SCHEDULER_STALE_S = int(os.environ.get("SCHEDULER_STALE_S", "60"))  # /readyz fails past this heartbeat age
    SCHEDULER_STANDBY_POLL_S = float(os.environ.get("SCHEDULER_STANDBY_POLL_S", "5"))  # a standby asks this often
    # The goal of the whole effort: the share of dossiers received online (a province may set its own).
    ONLINE_TARGET_PCT = float(os.environ.get("ONLINE_TARGET_PCT", "80"))
    ONLINE_TARGET_DUE = os.environ.get("ONLINE_TARGET_DUE", "")  # YYYY-MM-DD, or empty: no date
    # Monthly activity reports: reminders from this day of the month (in-app, and SMS to who consented).
    ACTIVITY_REMINDER_DAY = int(os.environ.get("ACTIVITY_REMINDER_DAY", "25"))
    ACTIVITY_REMINDER_HOUR = int(os.environ.get("ACTIVITY_REMINDER_HOUR", "9"))

    # Personal data (Law 91/2025/QH15; README "Personal data"). How many days each kind of personal data
    # is kept before the retention job anonymises it (counts stay, people go); 0 keeps it for ever.
    RETENTION_DAYS = {
        "visit_notes": int(os.environ.get("RETAIN_VISIT_NOTES_DAYS", "365")),  # notes, "other obstacle"
        "sensitive_facts": int(os.environ.get("RETAIN_SENSITIVE_FACTS_DAYS", "365")),  # disability, with consent
        "withdrawn_phones": int(os.environ.get("RETAIN_WITHDRAWN_PHONES_DAYS", "30")),  # in SMS sent and received
        "resident_replies": int(os.environ.get("RETAIN_RESIDENT_REPLIES_DAYS", "180")),  # SMS replies' text
        "help_requests": int(os.environ.get("RETAIN_HELP_REQUESTS_DAYS", "365")),  # closed requests for help
        "reads": int(os.environ.get("RETAIN_READS_DAYS", "730")),  # who opened whose data
    }
    PRIVACY_RETENTION_HOUR = int(os.environ.get("PRIVACY_RETENTION_HOUR", "2"))  # local time, daily
    # Hours to answer a person's request, per right, from when it is received (72 h: the legal default).
    RIGHTS_DEADLINE_HOURS = {
        right: int(os.environ.get(f"RIGHTS_{right.upper()}_HOURS", "72"))
        for right in ("know", "access", "correct", "delete", "restrict", "object")
    }
    BREACH_NOTIFY_HOURS = int(os.environ.get("BREACH_NOTIFY_HOURS", "72"))  # to notify the authority
    # Who the breach notification goes to, and where the data is kept (the register says so).
    PRIVACY_AUTHORITY = os.environ.get(
        "PRIVACY_AUTHORITY", "Cục An ninh mạng và phòng, chống tội phạm sử dụng công nghệ cao (A05), Bộ Công an"
    )
    DATA_LOCATION = os.environ.get("DATA_LOCATION", "")  # e.g. "Máy chủ của UBND tỉnh, Trung tâm dữ liệu tỉnh"

    # Map tiles: the one thing a map may fetch from outside. Empty: no tiles, units on a plain background.
    MAP_TILES_URL = os.environ.get("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILES_ATTRIBUTION = os.environ.get(
        "MAP_TILES_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
    )

    # Security headers: HSTS only in production (a laptop serves plain HTTP).
    HSTS_SECONDS = 0

    @classmethod
    def prepare(cls, app) -> None:
        """Called by create_app (with an app context) once the settings are loaded: refuse what is
        unsafe, fill in what may be derived. Without SECRET_KEY, this installation's own key."""
        if not app.config["SECRET_KEY"]:
            app.config["SECRET_KEY"] = instance_secret_key(Path(app.config["SECRET_KEY_FILE"]))


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = secrets.token_hex(32)  # a new one every run
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'test.db'}", "TEST_DATABASE_URL")
    RATELIMIT_STORAGE_URI = "memory://"
    WTF_CSRF_ENABLED = True
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast for tests; production keeps scrypt
    MAP_TILES_URL = ""  # tests run with no network: units on a plain background
    SMS_GATEWAY = "console"
    PUBLIC_BASE_URL = "https://outreach.example.vn"
    TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    TWILIO_AUTH_TOKEN = "test-auth-token"
    TWILIO_FROM = "+15005550006"
    TWILIO_MESSAGING_SERVICE_SID = ""


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"
    LOG_JSON = _bool("LOG_JSON", True)
    # Errors and logs never carry the values of a statement (names, phone numbers).
    SQLALCHEMY_ENGINE_OPTIONS = {**Config.SQLALCHEMY_ENGINE_OPTIONS, "hide_parameters": True}
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600)))

    @classmethod
    def prepare(cls, app) -> None:
        problems = production_problems(app.config, workers=web_workers())
        if problems:
            raise ConfigError("\n- ".join([_("Outreach cannot start with these production settings:"), *problems]))
        if app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
            app.logger.warning(
                _(
                    "Login limits are counted in this process's memory (RATELIMIT_STORAGE_URI=memory://): "
                    "this assumes one web worker. With several, set RATELIMIT_STORAGE_URI=redis://…"
                )
            )


def production_problems(config, *, workers: int | None) -> list[str]:
    """What would make a production server unsafe, or fail silently in the field: one line each."""
    problems = []
    key = config.get("SECRET_KEY") or ""
    if not key:
        problems.append(
            _(
                "SECRET_KEY is not set. Set it to a long random string, for example the output of: %(command)s",
                command="python3 -c 'import secrets; print(secrets.token_hex(32))'",
            )
        )
    elif key in PUBLIC_KEYS:
        problems.append(_("SECRET_KEY is a value written in the source code. Set a long random string of your own."))
    elif len(key) < MIN_SECRET_KEY:
        problems.append(
            _(
                "SECRET_KEY has %(n)s characters: use at least %(min)s random characters.",
                n=len(key),
                min=MIN_SECRET_KEY,
            )
        )
    gateway = config.get("SMS_GATEWAY")
    if gateway == "console":
        problems.append(
            _(
                "SMS_GATEWAY is “console”: messages would only be written to the log and residents would receive "
                "nothing. Set SMS_GATEWAY=twilio and its TWILIO_ settings."
            )
        )
    elif gateway == "twilio":
        missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN") if not config.get(name)]
        if not (config.get("TWILIO_MESSAGING_SERVICE_SID") or config.get("TWILIO_FROM")):
            missing.append("TWILIO_MESSAGING_SERVICE_SID / TWILIO_FROM")
        if missing:
            problems.append(_("SMS_GATEWAY=twilio needs %(names)s.", names=", ".join(missing)))
    else:
        problems.append(_("SMS_GATEWAY must be twilio in production, not “%(value)s”.", value=gateway))
    base = urlsplit(config.get("PUBLIC_BASE_URL") or "")
    if base.scheme not in ("http", "https") or not base.hostname or _local_host(base.hostname):
        problems.append(
            _(
                "PUBLIC_BASE_URL is “%(url)s”: links in SMS, QR codes and Twilio's webhooks need the address "
                "residents reach. Set the server's public address (https://…).",
                url=config.get("PUBLIC_BASE_URL") or "",
            )
        )
    if config.get("RATELIMIT_STORAGE_URI", "").startswith("memory://") and (workers or 1) > 1:
        problems.append(
            _(
                "%(n)s web workers would each count login limits alone (RATELIMIT_STORAGE_URI=memory://). "
                "Set RATELIMIT_STORAGE_URI=redis://…",
                n=workers,
            )
        )
    return problems


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
