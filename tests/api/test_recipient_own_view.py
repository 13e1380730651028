"""The recipient's own view (issue 22, PIPL Art. 44-46) and consent to face matching
(Art. 28-29): a recipient sees what is held about their household (members, decisions with
reasons, check-ins, which staff saw a full ID number and when), asks for a correction that
lands on the assistant's desk and sees its outcome; face matching runs only after separate,
versioned, revocable consent; declining is never flagged; revoking deletes the results."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from backend.audit.models import AuditEvent
from backend.checkins.models import CheckIn, CheckInFlag, FollowUp
from backend.privacy.service import CONSENT_TEXT_VERSION
from tests.api.test_checkins import (  # noqa: F401 - fixtures
    StubFaces,
    activated,
    approved_households,
    faces_match,
    frozen_clock,
)

OWN = "/api/personal-data/own"
CONSENT = "/api/personal-data/biometric-consent"


@pytest.fixture
def households(db_session):
    return approved_households(db_session)


def test_the_recipient_sees_members_decisions_checkins_and_who_saw_their_id(
        api, households):
    household = households[0]
    recipient = activated(api, household)
    _, result = recipient.check_in()
    assert result["status"] == "accepted"
    revealed = api.post("wenping_reviewer", "/api/personal-data/reveals", json={
        "household_id": household.id, "member_id": household.members[0].id,
        "field": "id_number", "purpose": "verify_household_register"})
    assert revealed.status_code == 200
    response = api.get(recipient.name, f"{OWN}/{household.id}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [m["name"] for m in body["members"]] == [m.name for m in household.members]
    # the catalogue's own_view: a lost phone does not hand over every member's ID number
    assert all("*" in m["id_number"] for m in body["members"] if m["id_number"])
    assert household.members[0].id_number not in response.get_data(as_text=True)
    assert len(body["checkins"]) == 1 and body["checkins"][0]["outcome"] == "on_time"
    assert all(d["reasons"] is not None for d in body["decisions"])
    views = body["id_number_views"]
    assert len(views) == 1
    assert views[0]["staff_name"] and views[0]["purpose"] == "verify_household_register"
    assert views[0]["member_name"] == household.members[0].name and views[0]["viewed_at"]
    assert body["biometric_consent"]["choice"] == "given"


def test_a_recipient_asking_for_another_household_gets_404_and_nothing(api, households):
    recipient = activated(api, households[0])
    response = api.get(recipient.name, f"{OWN}/{households[1].id}")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert all(m.name not in text for m in households[1].members)


@pytest.mark.parametrize("username", ["wenping_reviewer", "wenping_assistant"])
def test_staff_do_not_use_the_recipients_own_view(api, households, username):
    assert api.get(username, f"{OWN}/{households[0].id}").status_code == 403


def test_a_correction_request_reaches_the_assistants_desk_and_its_outcome_comes_back(
        api, db_session, households):
    household = households[0]
    recipient = activated(api, household)
    request_id = str(uuid.uuid4())
    body = {"id": request_id, "household_id": household.id, "subject": "member",
            "text": "我的出生日期登记错了"}
    created = api.post(recipient.name, "/api/personal-data/corrections", json=body)
    assert created.status_code == 201, created.get_json()
    assert api.post(recipient.name, "/api/personal-data/corrections",
                    json=body).get_json()["id"] == request_id  # a retry is safe
    desk = api.get("wenping_assistant", "/api/personal-data/corrections").get_json()
    assert [c["id"] for c in desk] == [request_id] and desk[0]["state"] == "open"
    assert api.get("longtoushan_assistant", "/api/personal-data/corrections").get_json() == []
    assert api.get(recipient.name, "/api/personal-data/corrections").status_code == 403
    decided = api.post("wenping_assistant",
                       f"/api/personal-data/corrections/{request_id}/decision",
                       json={"outcome": "corrected", "note": "已按户口簿更正"})
    assert decided.status_code == 200
    mine = api.get(recipient.name, f"{OWN}/{household.id}").get_json()["corrections"]
    assert [(c["state"], c["outcome_note"]) for c in mine] == [("corrected", "已按户口簿更正")]
    again = api.post("wenping_assistant", f"/api/personal-data/corrections/{request_id}/decision",
                     json={"outcome": "refused", "note": "x"})
    assert again.status_code == 409
    other = {**body, "id": str(uuid.uuid4()), "household_id": households[1].id}
    assert api.post(recipient.name, "/api/personal-data/corrections",
                    json=other).status_code == 404


def test_face_matching_waits_for_separate_consent_and_declining_is_never_flagged(
        app, api, db_session, households):
    from backend.checkins import identity

    identity.use("stub-other", StubFaces(0.9))  # would be a mismatch if compared
    app.config["IDENTITY_VERIFIER"] = "stub-other"
    recipient = activated(api, households[0], consents_to_faces=False)
    assert api.get(recipient.name, CONSENT).get_json() == {
        "text_version": CONSENT_TEXT_VERSION, "choice": None, "decided_at": None,
        "revoked_at": None}
    declined = api.post(recipient.name, CONSENT, json={
        "choice": "declined", "text_version": CONSENT_TEXT_VERSION})
    assert declined.status_code == 200 and declined.get_json()["choice"] == "declined"
    record, result = recipient.check_in()
    assert result["status"] == "accepted"
    row = db_session.get(CheckIn, record["id"])
    db_session.refresh(row)
    assert row.identity_status == "no-consent" and row.identity_distance is None
    codes = set(db_session.scalars(select(CheckInFlag.code).where(
        CheckInFlag.checkin_id == record["id"])))
    assert not codes & {"face-mismatch", "face-not-found", "identity-unverified"}
    assert not any("consent" in code for code in codes)
    assert db_session.scalars(select(FollowUp).where(
        FollowUp.checkin_id == record["id"])).all() == []


def test_an_outdated_consent_text_is_refused(api, households):
    recipient = activated(api, households[0], consents_to_faces=False)
    response = api.post(recipient.name, CONSENT, json={"choice": "given",
                                                       "text_version": "face-2020-01"})
    assert response.status_code == 409
    assert response.get_json()["type"] == "consent-text-outdated"


def test_revoking_consent_stops_matching_and_deletes_the_face_results(
        api, db_session, households):
    recipient = activated(api, households[0])
    record, _ = recipient.check_in()
    row = db_session.get(CheckIn, record["id"])
    db_session.refresh(row)
    assert row.identity_status == "verified" and row.identity_distance is not None
    revoked = api.delete(recipient.name, CONSENT) if hasattr(api, "delete") else \
        api.client.delete(CONSENT, headers=api.headers(recipient.name))
    assert revoked.status_code == 200 and revoked.get_json()["choice"] == "revoked"
    db_session.refresh(row)
    assert row.identity_distance is None and row.identity_checked_by is None
    assert db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "privacy.biometric_revoked")).one()
    later, _ = recipient.check_in()
    after = db_session.get(CheckIn, later["id"])
    db_session.refresh(after)
    assert after.identity_status == "no-consent"
