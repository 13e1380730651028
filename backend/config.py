"""Settings from the environment, with embedded SQLite defaults under instance/."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


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
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _env_int("LOGIN_LOCK_MINUTES", 15),
        "PHOTO_MAX_BYTES": _env_int("PHOTO_MAX_BYTES", 15 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _env_int("PHOTO_MAX_PIXELS", 40_000_000),
        # Names as backend.evidence.storage.make_blob_store reads them.
        "PHOTO_DATA_DIR": os.environ.get("PHOTO_DATA_DIR"),
        "PHOTO_S3_BUCKET": os.environ.get("PHOTO_S3_BUCKET"),
        "PHOTO_S3_ENDPOINT_URL": os.environ.get("PHOTO_S3_ENDPOINT_URL"),
        "PHOTO_S3_PREFIX": os.environ.get("PHOTO_S3_PREFIX", ""),
        "PHOTO_S3_REGION": os.environ.get("PHOTO_S3_REGION"),
        "SYNC_PAGE_SIZE": _env_int("SYNC_PAGE_SIZE", 200),
        # Optional in the embedded default; production uses it (sign-in throttling), and
        # /readyz checks it when set.
        "REDIS_URL": os.environ.get("REDIS_URL"),
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
