"""Sync: pull what the device needs; push visits exactly once with revisions and attestations."""

import copy
import json
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from backend.attestation import canonical
from backend.audit.models import AuditEvent
from backend.demo import resident_id
from backend.visits import queries as visit_queries
from backend.visits.models import VisitAttestation, VisitFlag, VisitRevision, VisitSubmission
from tests.api.query_plans import Statements
from tests.device_keys import registered_key
from tests.visit_factory import attest, member, submission, survey_answers


def assigned_case(api, username="wenping_fw1", kind=None):
    query = "/api/cases?assigned_to_me=true&page_size=100" + (f"&kind={kind}" if kind else "")
    items = api.get(username, query).get_json()["items"]
    return next(c for c in items if c["household"]["home_lat"] is not None)


def register_key(api, username, device="device-" + "a" * 8):
    return registered_key(api, username, device)


def push(api, records, username="wenping_fw1", **extra):
    return api.post(username, "/api/sync/push", json={"device_id": "device-aaaaaaaa",
                                                      "records": records, **extra})


def count(db_session, model, **where):
    return db_session.scalar(select(func.count()).select_from(model).filter_by(**where))


def attested_visit(api, case):
    pair1, key1 = register_key(api, "wenping_fw1")
    pair2, key2 = register_key(api, "wenping_fw2", device="device-bbbbbbbb")
    record = submission(case)
    attest(record, api.user_id("wenping_fw1"), key1, pair1)
    attest(record, api.user_id("wenping_fw2"), key2, pair2)
    return record


# --- pull ---------------------------------------------------------------------------------

def test_first_pull_brings_assignments_forms_and_settings(api):
    body = api.get("wenping_fw1", "/api/sync/pull").get_json()
    assert body["has_more"] is False
    assert body["cases"] and body["forms"][0]["form_id"] == "household_survey"
    assert set(body["settings"]) == {c["jurisdiction_code"] for c in body["cases"]}
    assert sorted(body["case_ids"]) == sorted(c["id"] for c in body["cases"])
    fw1 = api.user_id("wenping_fw1")
    assert all(fw1 in [m["user_id"] for m in c["team"]] for c in body["cases"])


def test_no_change_pull_is_tiny(api):
    cursor = api.get("wenping_fw1", "/api/sync/pull").get_json()["cursor"]
    again = api.get("wenping_fw1", f"/api/sync/pull?cursor={cursor}")
    assert json.loads(again.data) == {"cursor": cursor, "has_more": False}
    assert len(again.data) <= 512


def test_pull_pages_with_has_more(app, api):
    app.config["SYNC_PAGE_SIZE"] = 4
    try:
        seen, cursor, pages, assigned = [], "", 0, None
        while True:
            body = api.get("wenping_fw1", f"/api/sync/pull?cursor={cursor}").get_json()
            assigned = assigned or body.get("case_ids")
            seen += [c["id"] for c in body.get("cases", [])]
            cursor, pages = body["cursor"], pages + 1
            if not body["has_more"]:
                break
        # Every assigned case arrives exactly once across the pages.
        assert pages > 1 and len(assigned) > 4
        assert sorted(seen) == sorted(assigned)
    finally:
        app.config["SYNC_PAGE_SIZE"] = 200


def test_edited_case_comes_again_and_unassigned_case_is_removed(api):
    first = api.get("wenping_fw1", "/api/sync/pull").get_json()
    case = first["cases"][0]
    api.patch("wenping_reviewer", f"/api/cases/{case['id']}", json={"note": "带上复核表"},
              headers={"If-Match": f'"{case["version"]}"'})
    second = api.get("wenping_fw1", f"/api/sync/pull?cursor={first['cursor']}").get_json()
    assert [c["id"] for c in second["cases"]] == [case["id"]]
    assert second["cases"][0]["note"] == "带上复核表"
    current = api.get("wenping_intake", f"/api/cases/{case['id']}").get_json()
    api.put("wenping_intake", f"/api/cases/{case['id']}/team",
            json={"user_ids": [api.user_id("wenping_fw2"), api.user_id("wenping_fw3")]},
            headers={"If-Match": f'"{current["version"]}"'})
    third = api.get("wenping_fw1", f"/api/sync/pull?cursor={second['cursor']}").get_json()
    assert case["id"] not in third["case_ids"]


def test_bad_cursor_is_a_problem(api):
    response = api.get("wenping_fw1", "/api/sync/pull?cursor=%%%garbage")
    assert response.status_code == 422
    assert response.get_json()["type"] == "validation-failed"


# --- push ---------------------------------------------------------------------------------

def test_push_accepts_and_replay_is_a_duplicate(api, db_session, monkeypatch):
    case = assigned_case(api)
    record = attested_visit(api, case)
    first = push(api, [record]).get_json()["results"][0]
    assert first["status"] == "accepted", first
    assert first["is_complete"] is True

    def full_canonical_form(_value):
        raise AssertionError("a replay as the phone sent it needs no full canonical form")

    # The replay is matched by the C encoder's text alone (canonical.parsed_submission_digest_in).
    monkeypatch.setattr(canonical, "canonical_json", full_canonical_form)
    replay = push(api, [copy.deepcopy(record)]).get_json()["results"][0]
    assert replay["status"] == "duplicate"
    assert replay["revision"] == first["revision"]
    assert replay["is_complete"] is True
    assert count(db_session, VisitSubmission, id=record["id"]) == 1
    assert count(db_session, VisitRevision, submission_id=record["id"]) == 1
    assert count(db_session, AuditEvent, object_id=record["id"], action="visit.accepted") == 1


def test_replayed_batch_stores_nothing_twice(api, db_session):
    cases = api.get("wenping_fw1", "/api/cases?assigned_to_me=true").get_json()["items"][:3]
    records = [submission(c) for c in cases]
    assert [r["status"] for r in push(api, records).get_json()["results"]] == ["accepted"] * 3
    again = push(api, copy.deepcopy(records)).get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 3
    assert count(db_session, VisitSubmission) == 3


@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_visit_stored_by_a_racing_request_is_a_duplicate_and_the_rest_are_stored(
        api, db_session, monkeypatch, batch_size):
    """Between the replay lookup and the insert another request stores one of the visits
    (here: the lookup is made blind, so the stored visit looks new). That visit is answered
    `duplicate` and stored once; the others of the batch are accepted and stored with their
    attestations. A batch inserts without RETURNING and, on the shortfall, is handled again
    one record at a time (visits/service.StoredMeanwhile)."""
    pair1, key1 = register_key(api, "wenping_fw1")
    pair2, key2 = register_key(api, "wenping_fw2", device="device-bbbbbbbb")

    def attested(case):
        record = submission(case)
        attest(record, api.user_id("wenping_fw1"), key1, pair1)
        attest(record, api.user_id("wenping_fw2"), key2, pair2)
        return record

    cases = api.get("wenping_fw1", "/api/cases?assigned_to_me=true").get_json()["items"][:3]
    first = attested(cases[0])
    assert push(api, [first]).get_json()["results"][0]["status"] == "accepted"
    others = [attested(c) for c in cases[1:batch_size]]
    monkeypatch.setattr(visit_queries, "stored_digests", lambda ids: {})
    with Statements() as sent:
        results = push(api, [copy.deepcopy(first), *others]).get_json()["results"]
    assert [r["status"] for r in results] == ["duplicate"] + ["accepted"] * len(others)
    # The shortfall is caught at the visits' own insert: the batch never reaches its
    # revisions (whose key would refuse the raced one later); each other visit writes its own.
    assert sum(text.startswith("INSERT INTO visit_revision") for text in sent.texts) \
        == len(others)
    assert results[0]["revision"] == 1
    for record in [first, *others]:
        assert count(db_session, VisitSubmission, id=record["id"]) == 1
        assert count(db_session, VisitRevision, submission_id=record["id"]) == 1
        assert count(db_session, AuditEvent, object_id=record["id"],
                     action="visit.accepted") == 1
    assert count(db_session, VisitAttestation) == 2 * (1 + len(others))


def test_two_versions_of_one_visit_in_one_push_keep_the_second_for_the_next(api, db_session):
    """A client that sends a visit and its edit in one push: the first is stored, the edit is
    refused as a conflict (not answered `duplicate`, which would lose it), and the next
    push stores it as revision 2. The same record sent twice is still a duplicate."""
    case = assigned_case(api, kind="dibao")
    first = submission(case)
    edited = copy.deepcopy(first)
    edited["base_revision"] = 1
    edited["data"]["housing_area"] = 61.5
    results = push(api, [first, edited, copy.deepcopy(first)]).get_json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "duplicate"], results
    assert results[1]["problem"]["type"] == "conflict"
    assert count(db_session, VisitRevision, submission_id=first["id"]) == 1
    later = push(api, [edited]).get_json()["results"][0]
    assert (later["status"], later["revision"]) == ("accepted", 2), later
    assert count(db_session, VisitRevision, submission_id=first["id"]) == 2


def test_bad_items_do_not_reject_good_ones(api, db_session):
    case = assigned_case(api, kind="dibao")
    good = submission(case)
    bad_form = submission(case, data=survey_answers(housing_area=-5))
    bad_shape = {"type": "visit_submission", "id": "not-a-uuid"}
    unknown = {"type": "mystery", "id": str(uuid.uuid4())}
    other_case = submission({**case, "id": str(uuid.uuid4())})
    results = push(api, [bad_form, good, bad_shape, unknown, other_case, 7]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted", "rejected", "rejected",
                                              "rejected", "rejected"]
    assert results[0]["problem"]["type"] == "form-invalid"
    assert "housing_area" in results[0]["problem"]["errors"]
    assert results[2]["problem"]["type"] == "validation-failed"
    assert results[4]["problem"]["type"] == "case-not-found"
    assert count(db_session, VisitSubmission) == 1


def test_a_change_becomes_a_new_revision_and_stale_edit_conflicts(api, db_session):
    case = assigned_case(api)
    record = submission(case)
    push(api, [record])
    edited = copy.deepcopy(record)
    edited["data"]["housing_area"] = 60
    edited["base_revision"] = 1
    result = push(api, [edited]).get_json()["results"][0]
    assert (result["status"], result["revision"]) == ("accepted", 2)
    stale = copy.deepcopy(record)
    stale["data"]["housing_area"] = 75
    stale["base_revision"] = 1
    conflict = push(api, [stale], username="wenping_fw2").get_json()["results"][0]
    assert conflict["status"] == "rejected"
    problem = conflict["problem"]
    assert problem["type"] == "submission-conflict" and problem["status"] == 409
    assert problem["server_version"]["content"]["data"]["housing_area"] == 60
    assert problem["your_version"]["content"]["data"]["housing_area"] == 75
    revisions = db_session.scalars(select(VisitRevision).where(
        VisitRevision.submission_id == record["id"]).order_by(VisitRevision.revision)).all()
    assert [r.content["data"]["housing_area"] for r in revisions] == [45.5, 60]
    assert revisions[1].author_id == api.user_id("wenping_fw1")


def test_field_worker_pushes_only_to_assigned_cases(api, db_session):
    fw3_case = assigned_case(api)  # fw3 is on no team
    result = push(api, [submission(fw3_case)], username="wenping_fw3").get_json()["results"][0]
    assert result["problem"]["type"] == "case-not-assigned"
    other = api.get("longtoushan_fw1", "/api/cases?assigned_to_me=true").get_json()["items"][0]
    result = push(api, [submission(other)]).get_json()["results"][0]
    assert result["problem"]["type"] == "case-not-found"
    assert count(db_session, VisitSubmission) == 0


def test_server_recomputes_calculations(api, db_session):
    case = assigned_case(api, kind="dibao")
    members = [member(income_wages=900, income_transfer=0),
               member(name="王建国", relation="child", age=46,
                      id_number=resident_id("530621", date(1980, 1, 1), 13),
                      income_wages=600, income_transfer=0)]
    record = submission(case, data=survey_answers(members=members,
                                                  per_capita_monthly_income=1))
    assert push(api, [record]).get_json()["results"][0]["status"] == "accepted"
    revision = db_session.get(VisitRevision, (record["id"], 1))
    assert revision.computed["per_capita_monthly_income"] == 750


# --- attestation --------------------------------------------------------------------------

def test_single_attestation_does_not_complete(api):
    case = assigned_case(api)
    pair, key = register_key(api, "wenping_fw1")
    record = attest(submission(case), api.user_id("wenping_fw1"), key, pair)
    result = push(api, [record]).get_json()["results"][0]
    assert result["status"] == "accepted" and result["is_complete"] is False


def test_one_person_signing_twice_does_not_complete(api):
    case = assigned_case(api)
    pair, key = register_key(api, "wenping_fw1")
    record = submission(case)
    attest(record, api.user_id("wenping_fw1"), key, pair)
    attest(record, api.user_id("wenping_fw1"), key, pair)
    result = push(api, [record]).get_json()["results"][0]
    assert result["is_complete"] is False


def test_forged_attestation_does_not_complete(api, db_session):
    """fw1 holds fw2's name but not fw2's key: signing with fw1's key in fw2's name fails."""
    case = assigned_case(api)
    pair1, key1 = register_key(api, "wenping_fw1")
    register_key(api, "wenping_fw2", device="device-bbbbbbbb")
    record = submission(case)
    attest(record, api.user_id("wenping_fw1"), key1, pair1)
    attest(record, api.user_id("wenping_fw2"), key1, pair1)  # forged: fw1's key for fw2
    result = push(api, [record]).get_json()["results"][0]
    assert result["is_complete"] is False
    assert "attestation-key-not-owned" in result["attestation_problems"]


def test_tampered_content_invalidates_signatures(api):
    case = assigned_case(api)
    record = attested_visit(api, case)
    record["data"]["deposits"] = 99999  # changed after both signed
    result = push(api, [record]).get_json()["results"][0]
    assert result["is_complete"] is False
    assert "attestation-signature-invalid" in result["attestation_problems"]


def test_second_investigator_attests_later_from_own_phone(api, db_session):
    from backend.attestation.canonical import submission_digest

    case = assigned_case(api)
    pair1, key1 = register_key(api, "wenping_fw1")
    pair2, key2 = register_key(api, "wenping_fw2", device="device-bbbbbbbb")
    record = attest(submission(case), api.user_id("wenping_fw1"), key1, pair1)
    assert push(api, [record]).get_json()["results"][0]["is_complete"] is False
    digest = submission_digest(record)
    later = {"type": "visit_attestation", "id": str(uuid.uuid4()), "submission_id": record["id"],
             "user_id": api.user_id("wenping_fw2"), "key_id": key2, "digest": digest,
             "signature": pair2.sign(digest)}
    result = push(api, [later], username="wenping_fw2").get_json()["results"][0]
    assert result["status"] == "accepted" and result["is_complete"] is True
    again = push(api, [later], username="wenping_fw2").get_json()["results"][0]
    assert again["status"] == "duplicate"
    assert count(db_session, VisitAttestation, submission_id=record["id"]) == 2


# --- flags --------------------------------------------------------------------------------

def flags_of(db_session, submission_id):
    return {f.code for f in db_session.scalars(select(VisitFlag).where(
        VisitFlag.submission_id == submission_id))}


def test_flags_are_raised_and_do_not_block(api, db_session):
    case = assigned_case(api)
    far = submission(case, offset_m=2000, minutes=3)
    result = push(api, [far]).get_json()["results"][0]
    assert result["status"] == "accepted"
    assert {"stamp-far-from-home", "visit-too-short"} <= flags_of(db_session, far["id"])


def test_a_proper_visit_raises_no_location_flags(api, db_session):
    case = assigned_case(api)
    near = submission(case, offset_m=50, minutes=30)
    push(api, [near], sent_at=near["ended_at"])
    flags = flags_of(db_session, near["id"])
    assert not flags & {"stamp-far-from-home", "visit-too-short", "stamp-accuracy-poor",
                        "location-possibly-mocked"}


def test_device_clock_skew_is_flagged(api, db_session):
    case = assigned_case(api)
    record = submission(case)
    push(api, [record], sent_at="2026-01-01T00:00:00+08:00")
    assert "device-clock-skew" in flags_of(db_session, record["id"])


def test_first_visit_sets_the_home_location(api, db_session):
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    case = next(c for c in items["items"] if c["household"]["home_lat"] is None)
    record = submission(case)
    push(api, [record])
    household = api.get("wenping_reviewer", f"/api/households/{case['household_id']}").get_json()
    assert household["home_lat"] == record["stamps"][0]["lat"]


def test_reviewer_reads_the_visit_with_flags_and_attestations(api):
    case = assigned_case(api)
    record = attested_visit(api, case)
    push(api, [record])
    detail = api.get("wenping_reviewer", f"/api/visits/{record['id']}").get_json()
    assert detail["is_complete"] and len(detail["attestations"]) == 2
    assert detail["revisions"][0]["content"]["data"]["housing_area"] == 45.5
    other = api.get("longtoushan_reviewer", f"/api/visits/{record['id']}")
    assert other.status_code == 404


def test_flag_rows_store_parameters_and_the_api_renders_the_words(api, db_session):
    case = assigned_case(api)
    record = submission(case)
    push(api, [record], sent_at="2026-01-01T00:00:00+08:00")
    columns = {c.name for c in VisitFlag.__table__.columns}
    assert not columns & {"detail_zh", "detail_en"}  # no prose in storage (issue 9)
    detail = api.get("wenping_reviewer", f"/api/visits/{record['id']}").get_json()
    skew = next(f for f in detail["flags"] if f["code"] == "device-clock-skew")
    minutes = abs(skew["data"]["skew_seconds"]) / 60
    assert skew["detail_en"] == (f"The device clock is {minutes:.1f} min off the server's, "
                                 f"over {skew['data']['threshold_minutes']:g} min.")
    assert skew["detail_zh"].startswith("设备时钟与服务器相差")
