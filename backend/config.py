"""Settings from the environment, with embedded SQLite defaults under instance/."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

# Chrome and Android (FCM), Firefox (Mozilla autopush), Safari (Apple), Edge (Windows Push
# Notification Services, one host per region).
DEFAULT_PUSH_SERVICE_HOSTS = ("fcm.googleapis.com,updates.push.services.mozilla.com,"
                              "web.push.apple.com,*.notify.windows.com")


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_distance(name: str, default: float) -> float:
    """A face-embedding distance: refused at start-up unless 0 < value < 2 (a typo would
    otherwise verify everyone, or no one)."""
    value = float(os.environ.get(name, default))
    if not 0 < value < 2:
        raise ValueError(f"{name} must be between 0 and 2 (dlib's scale), not {value}")
    return value


def load_config(instance_path: str) -> dict:
    """Build the Flask config from environment variables.

    Every value has a default that works on a fresh clone: SQLite under instance/,
    a secret generated once and kept in instance/secret_key.
    """
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + os.path.join(instance_path, "doorstep.sqlite3")
    )
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance_path),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_env_int("ACCESS_TOKEN_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=_env_int("REFRESH_TOKEN_DAYS", 7)),
        "JWT_TOKEN_LOCATION": ["headers"],
        # Whole request bodies are bounded; photos have their own, smaller limit.
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024),
        # Failed sign-ins lock one (account, client) pair, never the account; see
        # docs/decisions/0004-sign-in-throttling.md.
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _env_int("LOGIN_LOCK_MINUTES", 15),
        "LOGIN_LIMIT_PER_CLIENT": os.environ.get("LOGIN_LIMIT_PER_CLIENT", "30 per 10 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "50 per hour"),
        # Flask-Limiter's counters: in memory for one embedded process, Redis in production.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI")
        or os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_HEADERS_ENABLED": False,
        # If Redis is down, count in this process rather than refuse every sign-in: the
        # per-(account, client) lock in SQL still holds.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # Behind a reverse proxy: how many proxies set X-Forwarded-* (0 trusts none).
        "PROXY_FIX_HOPS": _env_int("PROXY_FIX_HOPS", 0),
        "PHOTO_MAX_BYTES": _env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _env_int("PHOTO_MAX_PIXELS", 40_000_000),
        # Names as backend.evidence.storage.make_blob_store reads them.
        "PHOTO_DATA_DIR": os.environ.get("PHOTO_DATA_DIR"),
        "PHOTO_S3_BUCKET": os.environ.get("PHOTO_S3_BUCKET"),
        "PHOTO_S3_ENDPOINT_URL": os.environ.get("PHOTO_S3_ENDPOINT_URL"),
        "PHOTO_S3_PREFIX": os.environ.get("PHOTO_S3_PREFIX", ""),
        "PHOTO_S3_REGION": os.environ.get("PHOTO_S3_REGION"),
        # A device-key challenge (nonce) lives this long; wrong PINs before the phone
        # destroys its signing key (docs/decisions/0002-offline-attestation.md).
        "DEVICE_KEY_CHALLENGE_SECONDS": _env_int("DEVICE_KEY_CHALLENGE_SECONDS", 300),
        "PIN_MAX_ATTEMPTS": _env_int("PIN_MAX_ATTEMPTS", 5),
        "SYNC_PAGE_SIZE": _env_int("SYNC_PAGE_SIZE", 200),
        # Map tiles of the reviewers' evidence map: an XYZ template such as
        # "https://t{s}.example.gov.cn/vec_w/wmts?...&TILECOL={x}&TILEROW={y}&TILEMATRIX={z}&tk=KEY"
        # (a provincial or Tianditu server, with its key). Empty: the map draws its points,
        # rings and scale on a plain background (tests, offline, no tile server).
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", ""),
        "MAP_TILE_ATTRIBUTION": os.environ.get("MAP_TILE_ATTRIBUTION", ""),
        # Optional in the embedded default; production uses it (sign-in throttling), and
        # /readyz checks it when set.
        "REDIS_URL": os.environ.get("REDIS_URL"),
        # Web Push to recipients (RFC 8292 VAPID): all three set, or no push (SMS only).
        # `flask --app backend checkins vapid-keys` prints a fresh pair in this format.
        "VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY", ""),
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY", ""),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", ""),  # mailto:who-runs-this@...
        # The only hosts the server POSTs push messages to (a subscription names its own
        # endpoint, so this is the SSRF guard): `host`, `host:port` or `*.suffix`, https only.
        "PUSH_SERVICE_HOSTS": os.environ.get("PUSH_SERVICE_HOSTS", DEFAULT_PUSH_SERVICE_HOSTS),
        # The check-in face check (backend/checkins/identity.py, ADR 0009): `dlib` or `none`,
        # and dlib's same-person distance (lower is stricter; flags never block a check-in).
        "IDENTITY_VERIFIER": os.environ.get("IDENTITY_VERIFIER", "dlib"),
        "IDENTITY_MAX_DISTANCE": _env_distance("IDENTITY_MAX_DISTANCE", 0.55),
        # Check-in jobs (backend/checkins/jobs.py): unset, RedisHuey with REDIS_URL, else
        # SqliteHuey in instance/huey.sqlite3.
        "HUEY_BACKEND": os.environ.get("HUEY_BACKEND"),
        "HUEY_SQLITE_PATH": os.environ.get("HUEY_SQLITE_PATH"),
        "HUEY_NAME": os.environ.get("HUEY_NAME", "doorstep"),
        # "json" (gunicorn.conf.py sets it): JSON lines with the request id; else plain text.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "API_TITLE": "Doorstep API",
        "API_VERSION": "1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": None,  # we serve our own docs page from pwa/static
    }


def sqlalchemy_url(database_url: str) -> str:
    """psycopg 3 is the driver we ship; plain postgresql:// URLs would pick psycopg2."""
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    return database_url


def _instance_secret(instance_path: str) -> str:
    """A random key kept in instance/ so tokens survive restarts of `make run`."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(os.urandom(32).hex())
        key_file.chmod(0o600)
    return key_file.read_text().strip()
