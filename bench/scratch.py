"""A fresh, migrated, demo-seeded app for a bench: on BENCH_DATABASE_URL (a scratch PostgreSQL
database whose schema is DROPPED and rebuilt) or, unset, on a new SQLite file.

Benches never read DATABASE_URL: pointed at a real database by habit, they would wipe it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def scratch_url(workdir: str) -> str:
    return os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3"


def fresh_app(prefix: str = "doorstep-bench-", config: dict | None = None):
    """(app, url, workdir): the schema migrated to head and the demo seeded and committed."""
    from flask_migrate import upgrade

    from backend import create_app
    from backend.demo import seed
    from backend.extensions import db
    from tests.conftest import DEMO_PASSWORD, reset_postgres

    workdir = tempfile.mkdtemp(prefix=prefix)
    url = scratch_url(workdir)
    if url.startswith("postgres"):
        reset_postgres(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "PHOTO_DATA_DIR": workdir,
                      **(config or {})})
    with app.app_context():
        upgrade()
        seed(DEMO_PASSWORD)
        db.session.commit()
    return app, url, workdir


def database_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"
