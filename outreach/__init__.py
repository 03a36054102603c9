"""Outreach: the field app of Vietnam's community digital technology teams."""

import os
from pathlib import Path

from flask import Flask

from config import CONFIGS, Config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, CLI and error handlers."""
    if config_class is None:
        # Unset, it is development, even under gunicorn: a key of this installation's own, never a
        # published one (config.DevelopmentConfig). A server sets FLASK_CONFIG=production.
        config_class = CONFIGS[os.environ.get("FLASK_CONFIG", "development")]
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config_class)
    Path(app.instance_path).mkdir(exist_ok=True)
    _init_extensions(app)
    with app.app_context():  # the refusals are translated
        config_class.prepare(app)
    _register_areas(app)
    return app


def _init_extensions(app: Flask) -> None:
    from outreach import web
    from outreach.auth import login
    from outreach.extensions import babel, configure_sqlite, csrf, db, limiter, migrate, select_locale
    from outreach.geo.phone import redact_phones_in_logs

    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login.init_app(app)
    web.init_app(app)
    redact_phones_in_logs()


def _register_areas(app: Flask) -> None:
    """Each area is imported when it is registered, so that importing one module of the package
    (``outreach.text``, a model) does not load every area's libraries (scipy, folium, openpyxl)."""
    from outreach.activity.cli import activity_cli
    from outreach.activity.routes import activity_bp
    from outreach.api import api_bp
    from outreach.audit.routes import audit_bp
    from outreach.auth.cli import users_cli
    from outreach.auth.routes import admin_bp, auth_bp
    from outreach.demo.cli import demo_cli
    from outreach.geo import api as geo_api  # noqa: F401 - adds its routes to api_bp
    from outreach.geo.cli import geo_cli, households_cli
    from outreach.geo.routes import geo_bp
    from outreach.home.routes import home_bp
    from outreach.maps.assets import serve_folium_locally
    from outreach.maps.routes import maps_bp
    from outreach.openapi import openapi_json  # noqa: F401 - adds the API's description to api_bp
    from outreach.ops import setup as ops_setup
    from outreach.ops.cli import ops_cli
    from outreach.planning import api as planning_api  # noqa: F401 - adds its routes to api_bp
    from outreach.planning.routes import planning_bp
    from outreach.privacy.cli import privacy_cli
    from outreach.privacy.routes import privacy_bp, privacy_public_bp
    from outreach.reports.cli import report_cli, stats_cli
    from outreach.reports.routes import reports_bp
    from outreach.requests.routes import requests_bp
    from outreach.scheduler import scheduler_command
    from outreach.sms.cli import sms_cli
    from outreach.sms.routes import sms_bp
    from outreach.visits import api as visits_api  # noqa: F401 - adds its routes to api_bp
    from outreach.visits.routes import visits_bp

    serve_folium_locally(app)
    ops_setup.init_app(app)  # first: every request gets its id, its metrics and its log line
    for blueprint in (
        home_bp, auth_bp, admin_bp, audit_bp, geo_bp, planning_bp, visits_bp, maps_bp, reports_bp, sms_bp,
        requests_bp, activity_bp, privacy_bp, privacy_public_bp, api_bp,
    ):  # fmt: skip
        app.register_blueprint(blueprint)
    for group in (
        users_cli, geo_cli, households_cli, demo_cli, stats_cli, report_cli, sms_cli, activity_cli, privacy_cli,
        ops_cli, scheduler_command,
    ):  # fmt: skip
        app.cli.add_command(group)
