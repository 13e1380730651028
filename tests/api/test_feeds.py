"""The decisions feed for other departments (一件事联办, issue 18): service tokens a county
administrator issues (shown once, stored hashed, revocable), decisions in commit order after
an opaque signed cursor, masked for the token's purpose, every use audited; and the denials:
no token, a wrong or revoked one, a forged cursor, another jurisdiction's cursor."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from backend import clock
from backend.audit.models import AuditEvent
from backend.extensions import db
from backend.feeds.models import FeedToken
from backend.households import service as households
from tests.api.test_periodic_review import START, approved
from tests.api.test_workflow import ok, problem

COUNTY, WENPING, LONGTOU = "530621", "530621100", "530621101"


@pytest.fixture(autouse=True)
def _clock():
    """The workflow's helpers move the clock on (notices, spot checks): start each test at
    the same instant and leave it unfrozen."""
    clock.freeze(START)
    yield
    clock.freeze(None)


def issue(api, jurisdiction_code=COUNTY, purpose="statistics", username="county_admin",
          **extra):
    return api.post(username, "/api/feeds/tokens", json={
        "feed": "decisions", "jurisdiction_code": jurisdiction_code, "purpose": purpose,
        "label": "县医保局 一件事联办", **extra})


def read(client, token, cursor=None, limit=None):
    query = {k: v for k, v in (("cursor", cursor), ("limit", limit)) if v is not None}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/api/feeds/decisions", query_string=query, headers=headers)


def everything(client, token, limit=50):
    items, cursor = [], None
    while True:
        page = ok(read(client, token, cursor, limit))
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def revoke(api, token_id, username="county_admin"):
    return api.client.delete(f"/api/feeds/tokens/{token_id}", headers=api.headers(username))


def audit_rows(action, token_id):
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == token_id)
        .order_by(AuditEvent.id)))


@pytest.fixture
def decided(api, db_session):
    """A Wenping case approved on the desk, and its household head in full."""
    case = approved(api, db_session)
    members = households.facts([case["household_id"]])[case["household_id"]]
    return case, members.head


def test_a_county_administrator_issues_a_token_shown_once_and_stored_hashed(api, db_session):
    issued = ok(issue(api), 201)
    assert issued["token"].startswith("dsf_" + issued["id"] + ".")
    secret = issued["token"].split(".", 1)[1]
    row = db_session.get(FeedToken, issued["id"])
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(row.__dict__)
    listed = ok(api.get("county_admin", "/api/feeds/tokens"))
    mine = next(t for t in listed if t["id"] == issued["id"])
    assert "token" not in mine and mine["purpose"] == "statistics"
    assert mine["jurisdiction_code"] == COUNTY and mine["revoked_at"] is None
    (audited,) = audit_rows("feed_token.issued", issued["id"])
    assert secret not in str(audited.after)


def test_only_county_administrators_issue_within_their_area(api, db_session):
    problem(issue(api, username="wenping_reviewer"), 403, "forbidden")
    problem(issue(api, username="wenping_admin", jurisdiction_code=WENPING), 403,
            "county-level-only")
    body = problem(issue(api, jurisdiction_code="530622"), 422, "outside-jurisdiction")
    assert "jurisdiction_code" in body["errors"]
    body = problem(issue(api, purpose="marketing"), 422, "validation-failed")
    assert "purpose" in body["errors"]
    body = problem(issue(api, feed="payments"), 422, "validation-failed")
    assert "feed" in body["errors"]
    body = problem(issue(api, label="x" * 101), 422, "validation-failed")
    assert "label" in body["errors"]


def test_decisions_come_in_order_masked_for_statistics(api, client, decided):
    case, head = decided
    token = ok(issue(api), 201)
    items, _ = everything(client, token["token"], limit=2)
    sequences = [item["sequence"] for item in items]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    mine = [item for item in items if item["case_id"] == case["id"]]
    assert [item["decision"] for item in mine] == ["approve"]
    shown = mine[0]["head"]
    assert shown["name"] == head.name
    assert shown["id_number"] != head.id_number and "*" in shown["id_number"]
    assert shown["id_number"][-4:] == head.id_number[-4:]
    assert mine[0]["monthly_amount_yuan"] and mine[0]["jurisdiction_code"].startswith(WENPING)
    reads = audit_rows("feed.read", token["id"])
    assert reads and all(r.after["full_id_disclosed"] is False for r in reads)
    assert case["id"] in {c for r in reads for c in r.after["cases"]}


def test_a_purpose_that_matches_people_reads_the_full_id_and_that_is_audited(api, client,
                                                                             db_session,
                                                                             decided):
    case, head = decided
    token = ok(issue(api, purpose="medical_assistance"), 201)
    items, _ = everything(client, token["token"])
    mine = next(item for item in items if item["case_id"] == case["id"])
    assert mine["head"]["id_number"] == head.id_number
    reads = audit_rows("feed.read", token["id"])
    assert any(r.after["full_id_disclosed"] for r in reads)
    assert db_session.get(FeedToken, token["id"]).last_used_at is not None


def test_the_cursor_pages_on_and_a_stop_comes_after_its_approval(api, client, decided):
    case, _ = decided
    token = ok(issue(api), 201)["token"]
    _, cursor = everything(client, token)
    page = ok(read(client, token, cursor))
    assert page["items"] == [] and page["has_more"] is False
    assert page["next_cursor"] == cursor or ok(read(client, token, page["next_cursor"]))[
        "items"] == []
    first = ok(read(client, token, limit=1))
    assert len(first["items"]) == 1 and first["has_more"] is True
    second = ok(read(client, token, first["next_cursor"], limit=1))
    assert second["items"][0]["sequence"] > first["items"][0]["sequence"]


def test_a_township_token_never_reads_another_townships_decisions(api, client, decided):
    case, _ = decided
    longtou = ok(issue(api, jurisdiction_code=LONGTOU), 201)["token"]
    items, _ = everything(client, longtou)
    assert all(item["jurisdiction_code"].startswith(LONGTOU) for item in items)
    assert case["id"] not in {item["case_id"] for item in items}
    wenping = ok(issue(api, jurisdiction_code=WENPING), 201)["token"]
    assert case["id"] in {item["case_id"] for item in everything(client, wenping)[0]}


def test_a_forged_cursor_is_400_and_another_jurisdictions_is_403(api, client, decided):
    county = ok(issue(api), 201)
    longtou = ok(issue(api, jurisdiction_code=LONGTOU), 201)
    cursor = ok(read(client, county["token"], limit=1))["next_cursor"]
    payload, _, signature = cursor.rpartition(".")
    for forged in ("not-a-cursor", payload + "." + signature[::-1], "x" * 400,
                   payload + ".", "WzEsMiwzXQ.AAAA"):
        body = problem(read(client, county["token"], forged), 400, "feed-cursor-invalid")
        assert "cursor" in body["errors"]
    body = problem(read(client, longtou["token"], cursor), 403,
                   "feed-cursor-other-jurisdiction")
    assert "cursor" in body["errors"]
    (refused,) = audit_rows("feed.refused", longtou["id"])
    assert refused.after["cursor_jurisdiction"] == COUNTY


def test_no_token_a_wrong_one_a_users_login_or_a_revoked_one_reads_nothing(api, client,
                                                                         db_session):
    token = ok(issue(api), 201)
    problem(read(client, None), 401, "feed-token-invalid")
    problem(read(client, token["token"] + "x"), 401, "feed-token-invalid")
    problem(read(client, "dsf_" + "0" * 36 + ".secret"), 401, "feed-token-invalid")
    user_login = api.tokens("county_admin")["access_token"]
    problem(read(client, user_login), 401, "feed-token-invalid")
    assert ok(read(client, token["token"]))["items"] is not None
    revoked = ok(revoke(api, token["id"]))
    assert revoked["revoked_at"] is not None
    problem(read(client, token["token"]), 401, "feed-token-invalid")
    assert audit_rows("feed_token.revoked", token["id"])
    assert audit_rows("feed.refused", token["id"])[0].after["reason"] == "revoked"
    problem(revoke(api, token["id"], "wenping_admin"), 403, "county-level-only")
    problem(revoke(api, "nope"), 404, "feed-token-not-found")
