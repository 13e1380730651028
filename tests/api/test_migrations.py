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


def _place_and_home_tables():
    """The jurisdiction and household tables as the early revisions had them, for rows a
    data migration is tested on."""
    import sqlalchemy as sa

    from backend.dbtypes import UtcDateTime

    def stamps():  # a column belongs to one table: each table gets its own
        return sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime)

    place = sa.table("jurisdiction", *(sa.column(c) for c in ("code", "name", "level")),
                     *stamps())
    home = sa.table("household", *(sa.column(c) for c in (
        "id", "jurisdiction_code", "address", "is_relative_of_staff", "version")), *stamps())
    return place, home


def test_emergency_cases_get_a_24_hour_due_instant_on_upgrade(empty_database):
    """Existing emergency cases had the next calendar date; the upgrade gives them the
    instant 24 hours after intake (002), and a downgrade gives a date back."""
    from datetime import UTC, date, datetime

    import sqlalchemy as sa

    from backend.config import sqlalchemy_url
    from backend.dbtypes import UtcDateTime

    env = {**os.environ, "DATABASE_URL": empty_database}
    assert flask("db", "upgrade", "2642acaa0edc", env=env).returncode == 0
    now = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    stamp = {"created_at": now, "updated_at": now}
    place, home = _place_and_home_tables()
    cases = sa.table("assistance_case", *(sa.column(c) for c in (
        "id", "household_id", "jurisdiction_code", "kind", "temporary_subtype", "status",
        "channel", "is_economic_check_authorized", "has_honesty_pledge", "version")),
        sa.column("deadline_on", sa.Date), sa.column("applied_at", UtcDateTime),
        sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime))
    engine = create_engine(sqlalchemy_url(empty_database))
    case = {"household_id": "h1", "jurisdiction_code": "530621", "status": "accepted",
            "channel": "window", "is_economic_check_authorized": True,
            "has_honesty_pledge": True, "version": 1, "applied_at": now, **stamp}
    with engine.begin() as connection:
        connection.execute(place.insert().values(code="530621", name="鲁甸县", level="county",
                                                 **stamp))
        connection.execute(home.insert().values(id="h1", jurisdiction_code="530621",
                                                address="x", is_relative_of_staff=False,
                                                version=1, **stamp))
        connection.execute(cases.insert(), [
            {**case, "id": "emergency", "kind": "temporary", "temporary_subtype": "emergency",
             "deadline_on": date(2026, 11, 25)},
            {**case, "id": "dibao", "kind": "dibao", "temporary_subtype": None,
             "deadline_on": date(2026, 12, 22)}])
    upgraded = flask("db", "upgrade", "d1d781931d1e", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    due = sa.table("assistance_case", sa.column("id"), sa.column("deadline_on", sa.Date),
                   sa.column("deadline_at", UtcDateTime))
    with engine.connect() as connection:
        rows = {r.id: r for r in connection.execute(sa.select(due))}
    assert rows["emergency"].deadline_at == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
    assert rows["emergency"].deadline_on is None
    assert rows["dibao"].deadline_at is None and rows["dibao"].deadline_on == date(2026, 12, 22)
    downgraded = flask("db", "downgrade", "2642acaa0edc", env=env)
    assert downgraded.returncode == 0, downgraded.stderr
    with engine.connect() as connection:
        restored = connection.execute(sa.text(
            "SELECT deadline_on FROM assistance_case WHERE id = 'emergency'")).scalar()
    engine.dispose()
    assert str(restored) == "2026-11-25"  # 23:30 in Shanghai on the 25th


def test_existing_cases_get_case_numbers_in_order_of_intake(empty_database):
    """Issue 21: cases made before case numbers get them on upgrade, counted per township,
    year (Beijing) and kind in order of intake; new cases continue the count."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from backend.config import sqlalchemy_url
    from backend.dbtypes import UtcDateTime

    env = {**os.environ, "DATABASE_URL": empty_database}
    assert flask("db", "upgrade", "28ceecca2324", env=env).returncode == 0
    now = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
    stamp = {"created_at": now, "updated_at": now}
    place, home = _place_and_home_tables()
    cases = sa.table("assistance_case", *(sa.column(c) for c in (
        "id", "household_id", "jurisdiction_code", "kind", "status", "channel",
        "is_economic_check_authorized", "has_honesty_pledge", "version")),
        sa.column("applied_at", UtcDateTime),
        sa.column("created_at", UtcDateTime), sa.column("updated_at", UtcDateTime))
    engine = create_engine(sqlalchemy_url(empty_database))
    case = {"household_id": "h1", "jurisdiction_code": "530621100201", "status": "accepted",
            "channel": "window", "is_economic_check_authorized": True,
            "has_honesty_pledge": True, "version": 1, **stamp}
    with engine.begin() as connection:
        connection.execute(place.insert(), [
            {"code": "530621", "name": "鲁甸县", "level": "county", **stamp},
            {"code": "530621100", "name": "文屏镇", "level": "township", **stamp},
            {"code": "530621100201", "name": "砚池社区", "level": "village", **stamp}])
        connection.execute(home.insert().values(id="h1", jurisdiction_code="530621100201",
                                                address="x", is_relative_of_staff=False,
                                                version=1, **stamp))
        connection.execute(cases.insert(), [
            {**case, "id": "second", "kind": "dibao",
             "applied_at": datetime(2026, 3, 1, 2, 0, tzinfo=UTC)},
            {**case, "id": "first", "kind": "dibao",
             "applied_at": datetime(2026, 2, 1, 2, 0, tzinfo=UTC)},
            # 20:00 UTC on 31 December is 1 January in Beijing: next year's count.
            {**case, "id": "new-year", "kind": "dibao",
             "applied_at": datetime(2026, 12, 31, 20, 0, tzinfo=UTC)},
            {**case, "id": "aid", "kind": "temporary",
             "applied_at": datetime(2026, 3, 2, 2, 0, tzinfo=UTC)}])
    upgraded = flask("db", "upgrade", "words01a", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    with engine.connect() as connection:
        numbers = dict(connection.execute(sa.text("SELECT id, case_no FROM assistance_case")).all())
        last = connection.execute(sa.text(
            "SELECT last_seq FROM case_number_counter WHERE township_code = '530621100' "
            "AND year = 2026 AND kind = 'dibao'")).scalar()
    engine.dispose()
    assert numbers == {"first": "文屏〔2026〕低保第 0001 号",
                       "second": "文屏〔2026〕低保第 0002 号",
                       "new-year": "文屏〔2027〕低保第 0001 号",
                       "aid": "文屏〔2026〕临救第 0001 号"}
    assert last == 2
