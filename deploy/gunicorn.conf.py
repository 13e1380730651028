"""gunicorn settings for `make serve` (production). Everything else comes from the
environment the app reads: DATABASE_URL, PHOTO_S3_*, REDIS_URL, SECRET_KEY (README)."""

import os
import sys
from pathlib import Path

# The project root, so the logging config below can import the app's JSON formatter.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The worker app (backend/wsgi.py) leaves Flask-Migrate and Alembic out; preloaded, the master
# imports it once and the forked workers share those pages: per worker after warm-up, PSS
# 103 -> 76 MB and RSS 128 -> 104 MB (bench/bench_memory.py, issue 23); with the app frozen
# before the fork (gc.freeze in backend/wsgi.py), PSS 52.7 MB. backend/wsgi.py gives each
# child a fresh connection pool.
wsgi_app = "backend.wsgi:app"
preload_app = True
bind = os.environ.get("BIND", "127.0.0.1:8000")


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on (containers)
    except AttributeError:
        return os.cpu_count() or 1


# Sync workers, sized to the CPU as gunicorn recommends; WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)
worker_class = "sync"
# A push of 2,000 visits or a 15 MiB photo on a slow uplink stays under this.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = 2000
max_requests_jitter = 200
# No runtime control socket: nothing here uses it, and two instances on one host would
# share its default path (older gunicorn versions ignore this setting).
control_socket_disable = True
# nginx in front terminates TLS; trust its X-Forwarded-* only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app writes one JSON line per request (with its request id); gunicorn's own
# access log would only repeat it without the id. gunicorn writes its access log whenever a
# logging config is given, whatever `accesslog` says, so the config below sends the
# gunicorn.access logger nowhere.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
os.environ.setdefault("LOG_FORMAT", "json")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "backend.web.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"},
                 "discard": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["stderr"], "level": loglevel.upper()},
    "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(),
                                   "propagate": False, "qualname": "gunicorn.error"},
                "gunicorn.access": {"handlers": ["discard"], "level": "CRITICAL",
                                    "propagate": False, "qualname": "gunicorn.access"}},
}
