"""The migration chain builds the whole schema from an empty database, with no drift."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def flask(*args, env):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "backend", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def empty_database(tmp_path):
    url = os.environ.get("DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
        return
    # A separate schema on the same PostgreSQL database, so the suite's data is untouched.
    from backend.config import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(url))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        connection.execute(text("CREATE SCHEMA migration_check"))
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}options=-csearch_path%3Dmigration_check"
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
    engine.dispose()


def test_upgrade_from_empty_then_check(empty_database):
    env = {**os.environ, "DATABASE_URL": empty_database}
    upgraded = flask("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    checked = flask("db", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
