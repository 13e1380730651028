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
        # Encryption at rest (ADR 0020): "<key id>:<base64 32 bytes>" seals new values, the
        # retired keys (comma-separated, same form) still open old ones while
        # `flask rotate-data-key` runs, the index key makes the blind indexes. Never in the
        # database; no default: without them the app does not start. `make run` keeps a
        # development pair in instance/data_key and instance/index_key.
        "DATA_KEY": os.environ.get("DOORSTEP_DATA_KEY") or _instance_file(instance_path,
                                                                          "data_key"),
        "DATA_KEYS_RETIRED": os.environ.get("DOORSTEP_DATA_KEYS_RETIRED", ""),
        "DATA_INDEX_KEY": os.environ.get("DOORSTEP_INDEX_KEY") or _instance_file(instance_path,
                                                                                 "index_key"),
        # Signs the audit chain's purge checkpoints (ADR 0022); SECRET_KEY when unset.
        "AUDIT_CHECKPOINT_KEY": os.environ.get("AUDIT_CHECKPOINT_KEY"),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_env_int("ACCESS_TOKEN_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=_env_int("REFRESH_TOKEN_DAYS", 7)),
        # A sign-in ends this long after it began, however often its tokens are refreshed.
        "SESSION_MAX_AGE": timedelta(days=_env_int("SESSION_MAX_DAYS", 30)),
        # A refresh token just rotated away still answers, with the same new pair, this long
        # (two tabs refreshing at once); after it, presenting it again ends the sign-in.
        "REFRESH_REUSE_GRACE_SECONDS": _env_int("REFRESH_REUSE_GRACE_SECONDS", 30),
        # A sign-in ended in another worker process stops its access token here within this
        # long (backend/auth/revocations.py); one ended in this process, at once.
        "REVOCATION_POLL_SECONDS": _env_int("REVOCATION_POLL_SECONDS", 1),
        # A desk sign-in idle this long ends: the desk signs out on its own timer, and the
        # server refuses the refresh (allowing one access-token lifetime more, the most a
        # busy user goes between refreshes). 0: no idle timeout. Phone roles are exempt.
        "SESSION_IDLE_MINUTES": _env_int("SESSION_IDLE_MINUTES", 30),
        # Approvers, county supervisors and administrators sign in with a TOTP code too; one
        # not yet enrolled may sign in without it this many days from the first sign-in that
        # noticed, then must enrol before signing in (0: at once).
        "SECOND_FACTOR_GRACE_DAYS": _env_int("SECOND_FACTOR_GRACE_DAYS", 7),
        # The name an authenticator app shows beside the code.
        "SECOND_FACTOR_ISSUER": os.environ.get("SECOND_FACTOR_ISSUER", "Doorstep"),
        # The daily audit anchor (backend/audit/anchor.py, ADR 0023): an Ed25519 private key
        # (base64 of its 32 raw bytes) signs the chain's head; the anchors are written under
        # AUDIT_ANCHOR_DIR (a directory on another disk or a mount the database host cannot
        # rewrite) or, unset, to the blob store (the photos' S3 bucket or directory) under
        # audit-anchors/. Without a key no anchor is written (and the worker logs why).
        "AUDIT_ANCHOR_SIGNING_KEY": os.environ.get("AUDIT_ANCHOR_SIGNING_KEY", ""),
        "AUDIT_ANCHOR_DIR": os.environ.get("AUDIT_ANCHOR_DIR"),
        # What `verify-audit --anchor` checks signatures with where the signing key is not
        # (an auditor's machine); by default the signing key's own public half.
        "AUDIT_ANCHOR_PUBLIC_KEY": os.environ.get("AUDIT_ANCHOR_PUBLIC_KEY", ""),
        "JWT_TOKEN_LOCATION": ["headers"],
        # Whole request bodies are bounded; photos have their own, smaller limit.
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 20 * 1024 * 1024),
        # Failed sign-ins lock one (account, client) pair, never the account; see
        # docs/decisions/0004-sign-in-throttling.md.
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _env_int("LOGIN_LOCK_MINUTES", 15),
        # argon2-cffi's profile by name; unset, backend/auth/passwords.py's default.
        **({"PASSWORD_HASH_PROFILE": os.environ["PASSWORD_HASH_PROFILE"]}
           if os.environ.get("PASSWORD_HASH_PROFILE") else {}),
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
        # Push only to public addresses (checked when connecting) unless this is "1": for a
        # push service of one's own on a private network.
        "PUSH_PRIVATE_ADDRESSES_ALLOWED": os.environ.get("PUSH_PRIVATE_ADDRESSES_ALLOWED")
        == "1",
        # The check-in face check (backend/checkins/identity.py, ADR 0009): `dlib` or `none`,
        # and dlib's same-person distance (lower is stricter; flags never block a check-in).
        "IDENTITY_VERIFIER": os.environ.get("IDENTITY_VERIFIER", "dlib"),
        "IDENTITY_MAX_DISTANCE": _env_distance("IDENTITY_MAX_DISTANCE", 0.55),
        # The job kernel's queue (backend/jobs.py): unset, RedisHuey with REDIS_URL, else
        # SqliteHuey in instance/huey.sqlite3.
        "HUEY_BACKEND": os.environ.get("HUEY_BACKEND"),
        "HUEY_SQLITE_PATH": os.environ.get("HUEY_SQLITE_PATH"),
        "HUEY_NAME": os.environ.get("HUEY_NAME", "doorstep"),
        # Webhooks (backend/webhooks): https to public addresses only. WEBHOOK_ALLOW_HTTP_LOOPBACK
        # is for tests and local development alone: it also lets http://127.0.0.1 receive.
        "WEBHOOK_ALLOW_HTTP_LOOPBACK": os.environ.get("WEBHOOK_ALLOW_HTTP_LOOPBACK") == "1",
        "WEBHOOK_CONNECT_TIMEOUT": float(os.environ.get("WEBHOOK_CONNECT_TIMEOUT", 3)),
        "WEBHOOK_READ_TIMEOUT": float(os.environ.get("WEBHOOK_READ_TIMEOUT", 5)),
        "WEBHOOK_TOTAL_TIMEOUT": float(os.environ.get("WEBHOOK_TOTAL_TIMEOUT", 10)),
        "WEBHOOK_MAX_RESPONSE_BYTES": _env_int("WEBHOOK_MAX_RESPONSE_BYTES", 4096),
        "WEBHOOK_SEND_THREADS": _env_int("WEBHOOK_SEND_THREADS", 8),
        # Attempts failing in a row (over all of one subscription's deliveries) before it is
        # disabled and its administrators get a notice.
        "WEBHOOK_DISABLE_AFTER_FAILURES": _env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 30),
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


def _instance_file(instance_path: str, name: str) -> str | None:
    """A key file `make run` wrote under instance/ (never written here: a server without
    its keys must not start with new ones)."""
    path = Path(instance_path) / name
    return path.read_text().strip() if path.exists() else None


def _instance_secret(instance_path: str) -> str:
    """A random key kept in instance/ so tokens survive restarts of `make run`."""
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(os.urandom(32).hex())
        key_file.chmod(0o600)
    return key_file.read_text().strip()
