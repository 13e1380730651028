"""Doorstep: field surveys for minimum-living-allowance casework."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask


def _asset_version() -> str:
    """A hash of the PWA's static files: changes exactly when a deploy changes them."""
    digest = hashlib.sha256()
    static = Path(__file__).resolve().parents[1] / "pwa" / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(static).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, static_folder=None,
                instance_path=str(Path(__file__).resolve().parents[1] / "instance"))
    from backend.config import load_config

    app.config.update(load_config(app.instance_path))
    app.config["ASSET_VERSION"] = _asset_version()
    if config:
        app.config.update(config)
    from backend.config import sqlalchemy_url

    app.config["SQLALCHEMY_DATABASE_URI"] = sqlalchemy_url(app.config["SQLALCHEMY_DATABASE_URI"])
    from backend.auth.passwords import check_profile

    check_profile(app.config)  # the tests' cheap argon2 profile never reaches a real server

    from backend import models  # noqa: F401 - registers every table with the metadata
    from backend.extensions import api, db, jwt

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from backend.sqlite_writers import engine_options

        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from backend.dbtypes import make_sqlite_transactional

            make_sqlite_transactional(db.engine, strict=app.testing)
    from backend.encryption.startup import install as install_keyring

    install_keyring(app)  # no keys, or the wrong ones: the start stops here (ADR 0020)
    if not app.config.get("WEB_WORKER"):
        # `flask db …` needs Flask-Migrate; a gunicorn worker (backend.wsgi) never migrates,
        # and Alembic with Mako costs each worker about 11 MB (issue 23, memory).
        from flask_migrate import Migrate

        Migrate(app, db, directory=str(Path(__file__).resolve().parents[1] / "migrations"),
                render_as_batch=True, compare_type=True)
    jwt.init_app(app)
    api.init_app(app)

    from backend.web import hooks
    from backend.web.logs import configure_logging

    configure_logging(app)
    hooks.install(app)
    _register_concepts(app)
    _register_blueprints(app, api)

    from backend.cli import register_commands

    register_commands(app)
    _log_calendar_gaps(app)
    return app


def _register_concepts(app: Flask) -> None:
    """Each package registers what it offers sync (record types, pull slices), the events it
    handles and the hooks other packages ask through; sync imports none of them."""
    from backend.cases import registration as cases
    from backend.checkins import registration as checkins
    from backend.complaints import retention as _complaints  # noqa: F401 - its purgeable kind
    from backend.forms import registration as forms
    from backend.households import registration as households
    from backend.jurisdictions import registration as jurisdictions
    from backend.retention import registration as retention  # noqa: F401 - its nightly task
    from backend.reviews import registration as reviews
    from backend.sync.registry import SyncRegistry
    from backend.visits import registration as visits
    from backend.workflow import registration as workflow

    sync = SyncRegistry()
    for package in (jurisdictions, cases, forms, households, visits, reviews, workflow,
                    checkins):
        package.register(sync)
    app.extensions["doorstep.sync"] = sync
    from backend.webhooks import registration as webhooks

    webhooks.register(app)  # its outbox subscriber, its tasks (declared on import), schemas
    # anchoring declares the daily audit anchor task on import; dossiers its build job.
    from backend import anchoring, jobs  # noqa: F401
    from backend.dossiers import service as dossiers  # noqa: F401

    jobs.init_app(app)  # every package's tasks are declared by now (their modules imported)


def _log_calendar_gaps(app: Flask) -> None:
    """Say at start-up when this year or next is beyond the holiday package's schedule.

    Logged, not warnings.warn: it is an operator's to-do, not a code problem.
    """
    from backend import clock

    this_year = clock.today_in_china().year
    missing = clock.years_not_covered([this_year, this_year + 1])
    if missing:
        app.logger.warning(
            "chinese-calendar knows public holidays only through %s; deadlines in %s count "
            "Monday-Friday until the holidays are entered in the holiday table "
            "(/api/holidays) or the package is upgraded", clock.calendar_covered_through(),
            ", ".join(map(str, missing)))


def _register_blueprints(app: Flask, api) -> None:
    from backend.auth.routes import blp as auth_blp
    from backend.cases.routes import blp as cases_blp
    from backend.checkins.routes import blp as checkins_blp
    from backend.checkins.routes import pages as checkin_pages
    from backend.complaints.routes import blp as complaints_blp
    from backend.complaints.routes import pages as complaint_pages
    from backend.devices.routes import blp as devices_blp
    from backend.dossiers.routes import blp as dossiers_blp
    from backend.dossiers.routes import watermarks as watermarks_blp
    from backend.evidence.routes import blp as photos_blp
    from backend.feeds.routes import blp as feeds_blp
    from backend.forms.routes import blp as forms_blp
    from backend.holidays.routes import blp as holidays_blp
    from backend.households.routes import blp as households_blp
    from backend.jurisdictions.routes import blp as jurisdictions_blp
    from backend.personal_data.routes import blp as personal_data_blp
    from backend.retention.routes import blp as retention_blp
    from backend.reviews.routes import blp as reviews_blp
    from backend.sync.routes import make_blueprint as make_sync_blueprint
    from backend.visits.routes import blp as visits_blp
    from backend.web.routes import bp as web_bp
    from backend.webhooks.routes import blp as webhooks_blp
    from backend.workflow.routes import blp as workflow_blp

    sync_blp = make_sync_blueprint(app.extensions["doorstep.sync"])
    for blueprint in (auth_blp, jurisdictions_blp, households_blp, cases_blp, forms_blp,
                      sync_blp, photos_blp, visits_blp, reviews_blp, holidays_blp, devices_blp,
                      workflow_blp, checkins_blp, feeds_blp, webhooks_blp, dossiers_blp,
                      watermarks_blp, complaints_blp, retention_blp, personal_data_blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(web_bp)
    app.register_blueprint(checkin_pages)
    app.register_blueprint(complaint_pages)
    from backend.outbox import registration as outbox

    outbox.register(app, api)
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    api.spec.components.security_scheme(
        "feedToken", {"type": "http", "scheme": "bearer", "bearerFormat": "dsf_<id>.<secret>",
                      "description": "a service token a county administrator issued"})
    # Every operation needs a bearer token unless it says otherwise (sign-in does).
    api.spec.options["security"] = [{"bearer": []}]
