"""Per-request plumbing: request ids, the actor context, one commit per request, errors."""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Request, current_app, g, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from backend.audit.actor import bind_actor
from backend.audit.context import REQUEST_ID_PATTERN, reset_actor
from backend.dbtypes import nul_paths, reads_only
from backend.errors import ProblemError, problem_response, response_for
from backend.extensions import db, jwt
from backend.web.strict_json import JsonBodyError, loads_strict

log = logging.getLogger(__name__)

JSON_BODY_METHODS = {"POST", "PUT", "PATCH"}
# Requests that read only (unless their route is marked dbtypes.writes_on_read): on SQLite
# their transaction reads beside a writer instead of queueing for the write lock.
READ_METHODS = {"GET", "HEAD"}
# Not JSON: photos are raw bytes, an XLSForm import a multipart upload.
RAW_BODY_PREFIXES = ("/api/photos/", "/api/forms/import")
# Batches whose records are judged one by one: a NUL refuses its record, not the batch.
PER_RECORD_BODY_PATHS = frozenset({"/api/sync/push"})

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)

# No inline script anywhere: the pages load only their own files. Photos are shown from
# blob: URLs (IndexedDB) and data: thumbnails; the service worker comes from our origin.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


def request_id_from(value: str | None) -> str:
    """The client's X-Request-Id if well-formed, else a fresh one (the bad one is dropped)."""
    return value if value and _REQUEST_ID.fullmatch(value) else str(uuid.uuid4())


class StrictJsonProvider(DefaultJSONProvider):
    """`app.json`: Flask gives it to every request, so `request.get_json` parses within limits."""

    def loads(self, s, **_kwargs):
        return loads_strict(s)


class StrictJsonRequest(Request):
    """A request whose refused JSON body is a 400 `malformed-json` problem saying why."""

    def on_json_loading_failed(self, e: ValueError | None):
        if isinstance(e, JsonBodyError):
            raise ProblemError("malformed-json", str(e))
        return super().on_json_loading_failed(e)


def check_url_for_nul() -> None:
    """Refuse a NUL (%00) in the path or a query parameter before any route sees it.

    PostgreSQL cannot store or compare text holding NUL, so one guard here keeps it out of
    every query, as `check_json_body` keeps it out of JSON bodies."""
    errors: dict[str, list[str]] = {}
    if "\x00" in request.path:
        errors["path"] = ["NUL characters are not allowed."]
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            errors[name.replace("\x00", "\\u0000")] = ["NUL characters are not allowed."]
    if errors:
        raise ProblemError(
            "validation-failed", "The address holds a NUL (%00) character; remove it.", errors)


def check_json_body() -> None:
    """Parse a JSON body once, within limits, before any route or webargs sees it.

    The request caches the value; webargs (under flask-smorest's `@blp.arguments`) reads
    that cached value instead of parsing the bytes again (`backend.blueprint`).
    """
    if not request.is_json or request.path.startswith(RAW_BODY_PREFIXES):
        return
    if request.get_data(cache=True):
        body = request.get_json()  # raises ProblemError("malformed-json") through the request class
        if request.path not in PER_RECORD_BODY_PATHS and (paths := nul_paths(body)):
            raise ProblemError(
                "validation-failed", "A field holds a NUL (\\u0000) character; remove it.",
                {path: ["NUL characters are not allowed."] for path in paths})


def install(app: Flask) -> None:
    app.json = StrictJsonProvider(app)
    app.request_class = StrictJsonRequest
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    @app.before_request
    def start_request():
        # `g` lives as long as the app context, which a test (or a CLI command) may
        # hold across several requests: clear what belongs to a single request.
        for key in ("doorstep_caller", "doorstep_user", "doorstep_rolled_back",
                    "doorstep_actor_token"):
            g.pop(key, None)
        g.request_id = request_id_from(request.headers.get("X-Request-Id"))
        bind_actor(None)
        view = current_app.view_functions.get(request.endpoint or "")
        g.doorstep_reads_only_token = reads_only.set(
            (request.method in READ_METHODS
             and not getattr(view, "doorstep_writes_on_read", False))
            or getattr(view, "doorstep_reads_first", False))
        if (request.method in JSON_BODY_METHODS and request.path.startswith("/api/")
                and not request.path.startswith(RAW_BODY_PREFIXES)
                and request.content_length and not request.is_json):
            return problem_response(
                "unsupported-media-type",
                "Send the body as JSON with Content-Type: application/json.")
        check_url_for_nul()
        check_json_body()
        return None

    @app.after_request
    def finish_request(response):
        if not g.get("doorstep_rolled_back"):
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                log.warning("commit conflict on %s %s", request.method, request.path)
                response = problem_response(
                    "conflict", "Another change reached the server at the same time; retry.")
            except StaleDataError:
                db.session.rollback()
                response = _lost_race()
        response.headers["X-Request-Id"] = g.get("request_id", "")
        add_security_headers(response)
        return response

    @app.teardown_request
    def end_request(_exc):
        token = g.pop("doorstep_actor_token", None)
        if token is not None:
            reset_actor(token)
        reads = g.pop("doorstep_reads_only_token", None)
        if reads is not None:
            reads_only.reset(reads)

    @app.errorhandler(ProblemError)
    def on_problem(error: ProblemError):
        if error.keep_changes:
            db.session.commit()
        else:
            db.session.rollback()
        g.doorstep_rolled_back = True
        return response_for(error)

    @app.errorhandler(StaleDataError)
    def on_lost_race(_error):
        """Two edits sent the same If-Match and both passed its check; the row's version
        column let only one UPDATE through (PostgreSQL runs them truly at once)."""
        db.session.rollback()
        g.doorstep_rolled_back = True
        return _lost_race()

    @app.errorhandler(OperationalError)
    def on_database_down(error):
        db.session.rollback()
        g.doorstep_rolled_back = True
        log.error("database error: %s", error)
        return problem_response("service-unavailable",
                                "The database is not reachable. Try again in a minute.")

    @app.errorhandler(Exception)
    def on_unexpected(error):
        if isinstance(error, HTTPException):
            from backend.extensions import api

            g.doorstep_rolled_back = True
            return api.handle_http_exception(error)
        db.session.rollback()
        g.doorstep_rolled_back = True
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response("internal-error",
                                "The server failed; nothing was saved. Try again later.")

    _install_jwt_callbacks()

    from backend.auth.throttle import limiter

    limiter.init_app(app)


def _lost_race():
    log.info("stale version on %s %s (a parallel edit won)", request.method, request.path)
    return problem_response(
        "stale-version", "Someone changed this record at the same moment. Reload it, check "
        "their change, then apply yours again.")


def tile_origin(template: str | None) -> str | None:
    """The origin pattern of a map tile URL template for CSP img-src ("{s}" subdomains become
    a wildcard): "https://t{s}.tiles.example/{z}/{x}/{y}.png" -> "https://*.tiles.example"."""
    match = re.match(r"^(https?)://([^/?#]+)", template or "")
    if match is None:
        return None
    host = re.sub(r"^[^.]*\{s\}[^.]*\.", "*.", match.group(2))
    if not re.fullmatch(r"[A-Za-z0-9*.:-]+", host):
        return None
    return f"{match.group(1)}://{host}"


def add_security_headers(response) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    tiles = tile_origin(current_app.config.get("MAP_TILE_URL"))
    if tiles and response.headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "img-src 'self' blob: data:", f"img-src 'self' blob: data: {tiles}")
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    if request.path.startswith("/api/"):
        # Personal data (and photos) must not stay in the phone's HTTP cache after sign-out.
        response.headers["Cache-Control"] = "no-store"


def _install_jwt_callbacks() -> None:
    from backend.auth import service as auth

    @jwt.token_in_blocklist_loader
    def is_revoked(_header, payload):
        # From this worker's memory of ended sign-ins, not a query per request (issue 23;
        # backend/auth/revocations.py says how fast another worker's revocation counts).
        return auth.is_session_revoked(payload.get("sid"))

    @jwt.unauthorized_loader
    def missing(reason):
        return problem_response("not-authenticated", "Sign in first (Authorization: Bearer).")

    @jwt.invalid_token_loader
    def invalid(reason):
        return problem_response("token-invalid", "The token is not valid; sign in again.")

    @jwt.expired_token_loader
    def expired(_header, _payload):
        return problem_response("token-expired", "The access token expired; refresh it.")

    @jwt.revoked_token_loader
    def revoked(_header, _payload):
        return problem_response("token-revoked", "You signed out on this session; sign in again.")
