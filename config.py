"""Settings, all read from environment variables with safe defaults.

Pick a class with ``FLASK_CONFIG`` (development, test, production) or pass it to
``create_app``. Nothing here talks to the network.
"""

import os
from datetime import timedelta
from pathlib import Path

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


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
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
    FOLLOW_UP_REMINDER_HOUR = int(os.environ.get("FOLLOW_UP_REMINDER_HOUR", "8"))
    DAILY_SUMMARY_HOUR = int(os.environ.get("DAILY_SUMMARY_HOUR", "6"))

    # The goal of the whole effort: the share of dossiers received online (a province may set its own).
    ONLINE_TARGET_PCT = float(os.environ.get("ONLINE_TARGET_PCT", "80"))
    ONLINE_TARGET_DUE = os.environ.get("ONLINE_TARGET_DUE", "")  # YYYY-MM-DD, or empty: no date
    # Monthly activity reports: reminders from this day of the month (in-app, and SMS to who consented).
    ACTIVITY_REMINDER_DAY = int(os.environ.get("ACTIVITY_REMINDER_DAY", "25"))
    ACTIVITY_REMINDER_HOUR = int(os.environ.get("ACTIVITY_REMINDER_HOUR", "9"))

    # Map tiles: the one thing a map may fetch from outside. Empty: no tiles, units on a plain background.
    MAP_TILES_URL = os.environ.get("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILES_ATTRIBUTION = os.environ.get(
        "MAP_TILES_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
    )


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
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

    @classmethod
    def check(cls) -> None:
        if not os.environ.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY must be set in production (a long random string).")


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
