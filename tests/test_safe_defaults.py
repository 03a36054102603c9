"""Safe by default: no server but the development one runs with a key anyone knows, and the
production settings refuse what would fail silently in the field."""

import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_login.utils import encode_cookie

import config
from config import ConfigError, DevelopmentConfig, ProductionConfig
from outreach import create_app

ROOT = Path(__file__).resolve().parents[1]
OLD_PUBLIC_KEY = "dev-only-not-secret"  # the development key this repository used to ship


def _development(app, key_file: Path) -> type[DevelopmentConfig]:
    """The development settings as gunicorn would get them with neither FLASK_CONFIG nor SECRET_KEY."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "",
        "SECRET_KEY_FILE": str(key_file),
    }
    return type("Development", (DevelopmentConfig,), settings)


def _forged(key: str, user_id: str) -> tuple[str, str]:
    """A session cookie and a remember cookie for ``user_id``, signed with ``key``."""
    forger = Flask("forger")
    forger.secret_key = key
    session = SecureCookieSessionInterface().get_signing_serializer(forger).dumps({"_user_id": user_id, "_fresh": True})
    with forger.app_context():
        remember = encode_cookie(user_id)
    return session, remember


def test_gunicorn_without_flask_config_gets_a_key_of_its_own_not_the_public_one(app, users, tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_CONFIG", raising=False)
    monkeypatch.setitem(config.CONFIGS, "development", _development(app, tmp_path / "secret_key"))
    served = create_app()  # what `gunicorn 'outreach:create_app()'` calls
    assert served.secret_key not in config.PUBLIC_KEYS and len(served.secret_key) >= 32

    admin = users["admin"]
    for user_id in (str(admin.id), f"{admin.id}:forged"):
        session, remember = _forged(OLD_PUBLIC_KEY, user_id)
        for cookie in ("session", "remember_token"):
            client = served.test_client()
            client.set_cookie(cookie, session if cookie == "session" else remember)
            response = client.get("/admin/users")
            assert response.status_code == 302 and response.location.startswith("/login"), (cookie, user_id)


def test_the_development_key_is_made_once_and_kept_private(app, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = create_app(_development(app, key_file))
    again = create_app(_development(app, key_file))
    assert first.secret_key == again.secret_key == key_file.read_text().strip()
    assert first.secret_key != OLD_PUBLIC_KEY and len(first.secret_key) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no candidate left behind

    other = tmp_path / "elsewhere" / "secret_key"
    assert create_app(_development(app, other)).secret_key != first.secret_key  # one per installation


def test_a_secret_key_in_the_environment_wins_in_development(app, tmp_path):
    settings = {**vars(_development(app, tmp_path / "secret_key")), "SECRET_KEY": "x" * 40}
    served = create_app(type("Development", (DevelopmentConfig,), settings))
    assert served.secret_key == "x" * 40 and not (tmp_path / "secret_key").exists()


def test_the_test_settings_have_no_published_key(app):
    assert app.secret_key not in config.PUBLIC_KEYS and len(app.secret_key) >= 32


# --- production -------------------------------------------------------------------------------

GOOD = {
    "SECRET_KEY": "k" * 64,
    "SMS_GATEWAY": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM": "+15005550006",
    "PUBLIC_BASE_URL": "https://outreach.example.vn",
    "RATELIMIT_STORAGE_URI": "memory://",
}


@pytest.fixture
def production(app, monkeypatch):
    """Build a production app with some settings changed; gunicorn's workers are as the test says."""
    monkeypatch.setattr(config.sys, "argv", ["pytest"])
    for name in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)

    def build(**changes):
        settings = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **GOOD, **changes}
        return create_app(type("Production", (ProductionConfig,), settings))

    return build


def _refusal(build, **changes) -> str:
    with pytest.raises(ConfigError) as refused:
        build(**changes)
    return str(refused.value)


def test_production_refuses_to_start_without_a_key_of_its_own(production):
    assert "SECRET_KEY" in _refusal(production, SECRET_KEY="")
    assert "SECRET_KEY" in _refusal(production, SECRET_KEY=OLD_PUBLIC_KEY)
    assert "SECRET_KEY" in _refusal(production, SECRET_KEY="short-key")


def test_production_refuses_settings_that_would_fail_silently_in_the_field(production, monkeypatch):
    message = _refusal(production, SMS_GATEWAY="console")
    assert "SMS_GATEWAY" in message and message.startswith("Outreach không thể chạy")  # Vietnamese first
    assert "TWILIO_AUTH_TOKEN" in _refusal(production, TWILIO_AUTH_TOKEN="")
    assert "TWILIO_FROM" in _refusal(production, TWILIO_FROM="", TWILIO_MESSAGING_SERVICE_SID="")
    for url in ("http://127.0.0.1:5000", "http://localhost:5101", "https://[::1]/", "http://0.0.0.0:8000", ""):
        assert "PUBLIC_BASE_URL" in _refusal(production, PUBLIC_BASE_URL=url), url
    # All at once: one line each, so the operator fixes everything in one go.
    assert len(_refusal(production, SECRET_KEY="", SMS_GATEWAY="console").splitlines()) == 3

    monkeypatch.setattr(config.sys, "argv", ["/srv/.venv/bin/gunicorn", "-w", "4", "outreach:create_app()"])
    assert "RATELIMIT_STORAGE_URI" in _refusal(production)
    production(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379")  # shared counts: fine with 4 workers
    monkeypatch.setattr(config.sys, "argv", ["gunicorn", "outreach:create_app()"])
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert "RATELIMIT_STORAGE_URI" in _refusal(production)


def test_production_says_what_it_assumes_of_in_memory_limits(production, caplog):
    with caplog.at_level(logging.WARNING):
        served = production()
    lines = [r.getMessage() for r in caplog.records if "RATELIMIT_STORAGE_URI" in r.getMessage()]
    assert len(lines) == 1 and "memory://" in lines[0]
    response = served.test_client().get("/login", base_url="https://outreach.example.vn")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_run_points_links_where_it_listens():
    def dry_run(*args: str, **env: str) -> str:
        environment = {k: v for k, v in os.environ.items() if k != "PUBLIC_BASE_URL"} | env
        done = subprocess.run(
            ["make", "-n", "run", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
        )
        return done.stdout

    assert "PUBLIC_BASE_URL='http://127.0.0.1:5101'" in dry_run("PORT=5101")
    assert "PUBLIC_BASE_URL='http://192.168.1.20:8080'" in dry_run("HOST=192.168.1.20", "PORT=8080")
    assert "PUBLIC_BASE_URL='https://outreach.example.vn'" in dry_run(PUBLIC_BASE_URL="https://outreach.example.vn")
    readme = (ROOT / "README.md").read_text()
    assert "PORT=" in readme and "HOST=" in readme
