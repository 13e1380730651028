"""Shared fixtures: one migrated, seeded database per session; each API test in a
transaction that is rolled back, so tests never see each other's changes.

DATABASE_URL selects PostgreSQL (CI runs the suite on both); without it a SQLite
file in a temporary directory is used.
"""

from __future__ import annotations

import base64
import os

import pytest
from sqlalchemy import create_engine, text

DEMO_PASSWORD = "demo-pass-2026"

# The app will not start without its data keys (ADR 0020). Fixed test keys, set in the
# environment so that apps the tests start in subprocesses (`flask db upgrade`, gunicorn)
# have them too; they are not the `make run` keys under instance/.
TEST_DATA_KEY = "test1:" + base64.b64encode(b"doorstep-test-data-key-32-bytes!").decode()
TEST_INDEX_KEY = base64.b64encode(b"doorstep-test-index-key-32bytes!").decode()
os.environ["DOORSTEP_DATA_KEY"] = TEST_DATA_KEY
os.environ["DOORSTEP_INDEX_KEY"] = TEST_INDEX_KEY
os.environ.pop("DOORSTEP_DATA_KEYS_RETIRED", None)

# Test files that share outside state (Redis databases, a fixed schema on PostgreSQL) run
# whole on one xdist worker; every other test is spread over the workers one by one.
SHARED_STATE_FILES = {"test_sign_in_throttle.py", "test_checkin_jobs.py", "test_production.py",
                      "test_migrations.py", "test_audit_chain.py", "test_concurrency.py",
                      "test_household_concurrency.py", "test_photo_concurrency.py",
                      "test_edit_concurrency.py"}


def pytest_configure(config):
    """Under xdist (`make test` runs `-n 2`), each worker gets its own PostgreSQL database
    (`<name>_gw0`, …), created on first use; SQLite files are per worker already."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get("DATABASE_URL")
    if worker and url and url.startswith("postgres"):
        os.environ["DATABASE_URL"] = _worker_database(url, worker)


def _worker_database(url: str, worker: str) -> str:
    from sqlalchemy.engine import make_url

    from backend.config import sqlalchemy_url

    base = make_url(sqlalchemy_url(url))
    name = f"{base.database}_{worker}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                    {"n": name}).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def pytest_collection_modifyitems(config, items):
    # One browser test module (its live server, its signed-in phone) stays on one worker.
    for item in items:
        if "e2e" in item.keywords or item.path.name in SHARED_STATE_FILES:
            item.add_marker(pytest.mark.xdist_group(item.path.name))


def database_url(tmp_dir) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_dir}/doorstep-test.sqlite3"


def reset_postgres(url: str) -> None:
    from backend.config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def seeded_app(data_dir, url: str):
    """A migrated, demo-seeded app on ``url`` (files under ``data_dir``); yields it, then
    closes its connections. The session's app, and a module's own where it needs one."""
    from flask_migrate import upgrade

    from backend import create_app
    from backend.demo import seed
    from backend.extensions import db

    if url.startswith("postgres"):
        reset_postgres(url)
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                              "LOGIN_MAX_FAILURES": 3,
                              # argon2-cffi's test profile: thousands of sign-ins (production
                              # keeps RFC 9106; tests/unit/test_password_profiles.py).
                              "PASSWORD_HASH_PROFILE": "CHEAPEST",
                              # The suite's clock jumps months and years ahead (deadlines,
                              # reviews): demo approvers, supervisors and administrators stay
                              # within their two-step enrolment grace. The requirement itself
                              # is tested with the default grace (tests/api/test_second_factor.py).
                              "SECOND_FACTOR_GRACE_DAYS": 36500,
                              # One process: every sign-in ended here counts at once, so the
                              # re-read of ended sign-ins (made for other worker processes)
                              # runs once, at the first request: else it would add a statement
                              # to whichever request came after a slow step (seeding 8,000
                              # visits), and the statement counts compare steady requests.
                              # tests/api/test_auth.py tests the re-read on its own.
                              "REVOCATION_POLL_SECONDS": 86400,
                              "PHOTO_DATA_DIR": str(data_dir)})
    with application.app_context():
        upgrade()
        seed(DEMO_PASSWORD)
        db.session.commit()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _the_clock_runs_after_each_test():
    """Every test ends with the clock running: one that froze it (``later()`` in the workflow
    tests) and left it would move every later test on its worker to that day."""
    from backend import clock

    yield
    clock.freeze(None)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("db")
    yield from seeded_app(data_dir, database_url(data_dir))


@pytest.fixture
def db_session(app):
    """Run the test inside one outer transaction; the app's commits become savepoints.

    Flask-SQLAlchemy's session picks its engine itself and ignores a `bind`, so the
    test swaps in a plain scoped session bound to the one connection.
    """
    from sqlalchemy.orm import scoped_session, sessionmaker

    from backend.auth.throttle import limiter
    from backend.extensions import db

    with app.app_context():
        limiter.reset()  # sign-in limits count per test, not per session
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint"))
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app, db_session):
    return app.test_client()


class Api:
    """A tiny helper for signed-in requests through the Flask test client."""

    def __init__(self, client):
        self.client = client
        self._tokens: dict[str, dict] = {}

    def login(self, username: str, password: str = DEMO_PASSWORD, device_id=None):
        return self.client.post("/api/auth/login", json={
            "username": username, "password": password, "device_id": device_id})

    def tokens(self, username: str) -> dict:
        if username not in self._tokens:
            response = self.login(username)
            assert response.status_code == 200, response.get_json()
            self._tokens[username] = response.get_json()
        return self._tokens[username]

    def headers(self, username: str, **extra) -> dict:
        return {"Authorization": f"Bearer {self.tokens(username)['access_token']}", **extra}

    def get(self, username, path, **kwargs):
        return self.client.get(path, headers=self.headers(username, **kwargs.pop("headers", {})),
                               **kwargs)

    def post(self, username, path, **kwargs):
        return self.client.post(path, headers=self.headers(username, **kwargs.pop("headers", {})),
                                **kwargs)

    def put(self, username, path, **kwargs):
        return self.client.put(path, headers=self.headers(username, **kwargs.pop("headers", {})),
                               **kwargs)

    def patch(self, username, path, **kwargs):
        return self.client.patch(path, headers=self.headers(username, **kwargs.pop("headers", {})),
                                 **kwargs)

    def user_id(self, username: str) -> str:
        return self.tokens(username)["user"]["id"]


@pytest.fixture
def api(client):
    return Api(client)
