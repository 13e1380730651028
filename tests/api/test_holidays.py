"""The holiday table: county administrators enter holidays and make-up workdays, audited."""

import logging
from datetime import UTC, datetime

from backend import clock
from backend.audit.models import AuditEvent


def test_county_admin_adds_lists_and_removes_days(api, db_session):
    added = api.put("county_admin", "/api/holidays/2027-02-06",
                    json={"is_working_day": False, "note": "2027 春节"})
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["day_on"] == "2027-02-06"
    changed = api.put("county_admin", "/api/holidays/2027-02-06",
                      json={"is_working_day": False, "note": "春节（国务院通知）"})
    assert changed.status_code == 200
    api.put("county_admin", "/api/holidays/2027-02-20", json={"is_working_day": True})
    listed = api.get("county_admin", "/api/holidays?year=2027").get_json()
    assert [(d["day_on"], d["is_working_day"]) for d in listed] == [
        ("2027-02-06", False), ("2027-02-20", True)]
    assert api.get("wenping_admin", "/api/holidays?year=2026").get_json() == []
    removed = api.client.delete("/api/holidays/2027-02-20",
                                headers=api.headers("county_admin"))
    assert removed.status_code == 204
    again = api.client.delete("/api/holidays/2027-02-20", headers=api.headers("county_admin"))
    assert again.status_code == 404
    actions = [e.action for e in db_session.query(AuditEvent).filter(
        AuditEvent.object_type == "holiday_override").order_by(AuditEvent.id)]
    assert actions == ["holiday.set", "holiday.set", "holiday.set", "holiday.removed"]


def test_only_administrators_read_and_only_the_county_edits(api, db_session):
    assert api.get("wenping_reviewer", "/api/holidays").status_code == 403
    township = api.put("wenping_admin", "/api/holidays/2027-02-06",
                       json={"is_working_day": False})
    assert township.status_code == 403
    assert township.get_json()["type"] == "county-level-only"
    supervisor = api.put("county_supervisor", "/api/holidays/2027-02-06",
                         json={"is_working_day": False})
    assert supervisor.status_code == 403 and supervisor.get_json()["type"] == "forbidden"
    bad = api.put("county_admin", "/api/holidays/2027-02-30", json={"is_working_day": False})
    assert bad.status_code == 422


def test_healthz_shows_the_years_the_calendar_does_not_cover(api, db_session):
    last = clock.calendar_covered_through()
    clock.freeze(datetime(last, 6, 1, tzinfo=UTC))
    try:
        calendar = api.client.get("/healthz").get_json()["calendar"]
        assert calendar == {"covered_through": last, "missing_years": [last + 1]}
        api.put("county_admin", f"/api/holidays/{last + 1}-01-01", json={"is_working_day": False})
        assert api.client.get("/healthz").get_json()["calendar"]["missing_years"] == []
    finally:
        clock.freeze(None)


def test_start_up_logs_a_year_the_calendar_does_not_cover(caplog, tmp_path):
    from backend import create_app

    last = clock.calendar_covered_through()
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3", "TESTING": True}
    try:
        clock.freeze(datetime(last, 6, 1, tzinfo=UTC))
        with caplog.at_level(logging.WARNING):
            create_app(config)
        assert any("chinese-calendar" in r.getMessage() and str(last + 1) in r.getMessage()
                   for r in caplog.records)
        caplog.clear()
        clock.freeze(datetime(last - 1, 6, 1, tzinfo=UTC))
        with caplog.at_level(logging.WARNING):
            create_app(config)
        assert not [r for r in caplog.records if "chinese-calendar" in r.getMessage()]
    finally:
        clock.freeze(None)
