"""The PWA's pages, its service worker, the API docs page and the health check."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, render_template
from sqlalchemy import text

from backend.errors import problem_response
from backend.extensions import db
from backend.holidays import service as holidays

PWA_ROOT = Path(__file__).resolve().parents[2] / "pwa"

bp = Blueprint("web", __name__, template_folder=str(PWA_ROOT / "templates"),
               static_folder=str(PWA_ROOT / "static"), static_url_path="/static")


def _app_version() -> str:
    """The release as people quote it (settings shows it; the asset hash keys the caches)."""
    from importlib import metadata

    try:
        return metadata.version("doorstep")
    except metadata.PackageNotFoundError:
        return "dev"


@bp.get("/")
def app_shell():
    return render_template("app.html", asset_version=current_app.config["ASSET_VERSION"],
                           app_version=_app_version(),
                           map_tile_url=current_app.config.get("MAP_TILE_URL", ""),
                           map_tile_attribution=current_app.config.get("MAP_TILE_ATTRIBUTION", ""))


@bp.get("/sw.js")
def service_worker():
    # Served from the root so its scope is the whole app.
    # Read whole (it is small) rather than streamed, and never cached by HTTP, so a
    # deploy reaches phones on their next check for updates.
    body = (PWA_ROOT / "static" / "sw.js").read_bytes()
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = current_app.response_class(
        render_template("manifest.webmanifest"), mimetype="application/manifest+json")
    return response


@bp.get("/api/docs")
def api_docs():
    """Interactive API docs served from our own static files (no CDN)."""
    return render_template("api-docs.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means the database is unreachable
        db.session.rollback()
        return problem_response("service-unavailable", "The database is not reachable.")
    return {"status": "ok", "database": "reachable", "calendar": holidays.coverage()}


@bp.get("/readyz")
def readyz():
    """Ready to serve: database, photo storage and (when configured) Redis all answer.

    200 with each check's outcome, or 503 problem+json naming the check that failed, so a
    load balancer stops sending traffic here until it recovers.
    """
    from backend.web.readiness import for_caller, run_checks

    ready, checks = run_checks()
    checks = for_caller(checks, _is_operator())
    if not ready:
        failed = ", ".join(name for name, result in checks.items() if not result["ok"])
        return problem_response("service-unavailable", f"Not ready: {failed} failed.",
                                extra={"checks": checks})
    return {"status": "ready", "checks": checks}


def _is_operator() -> bool:
    """A signed-in administrator (a valid access token is optional here: load balancers
    ask without one)."""
    from flask_jwt_extended import verify_jwt_in_request

    from backend.auth import rules as roles
    from backend.auth.guard import current_caller

    try:
        if verify_jwt_in_request(optional=True) is None:
            return False
        return current_caller().has(roles.ADMIN)
    except Exception:  # noqa: BLE001 - any bad token reads as anonymous here
        return False
