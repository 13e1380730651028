"""Recipient check-in (issue 12, DOMAIN.md "Recipient check-in", 003): enrolment, activation,
PIN sign-in, scoping, check-ins by sync with every flag on both sides of its threshold,
judging with a test clock, proxy check-in, follow-up and the periodic-review trigger."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import event, select

from backend import clock, events
from backend.audit.models import AuditEvent
from backend.cases.models import Case
from backend.checkins import identity, windows
from backend.checkins.models import CheckIn, CheckInFlag, FollowUp, ReviewTrigger
from backend.checkins.rules import CHINA
from backend.extensions import db
from backend.households.models import Household
from backend.jurisdictions import service as jurisdictions
from backend.privacy.service import CONSENT_TEXT_VERSION
from tests.api.query_plans import Statements, table_scans
from tests.checkin_factory import checkin, photo_bytes
from tests.device_keys import registered_key

ASSISTANT = "wenping_assistant"
PIN = "204815"
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=CHINA)  # inside the December window (1-20)


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def faces_match(app):
    """The real model (tests/unit/test_identity.py) takes a second a photo; here a stub says
    "same person" unless a test plugs in another."""
    identity.use("stub-same", StubFaces(0.3))
    app.config["IDENTITY_VERIFIER"] = "stub-same"
    yield
    app.config.pop("IDENTITY_VERIFIER", None)


def approved_households(db_session, township="530621100", count=2) -> list[Household]:
    # A recipient's household draws a monthly allowance: the seeded kinds rotate and ids are
    # random, so pick households with a dibao case (a periodic review never applies to
    # one-off temporary aid, and the order by id differs from one seeded database to the next).
    monthly = select(Case.household_id).where(Case.kind == "dibao")
    rows = db_session.scalars(select(Household).where(
        Household.jurisdiction_code.like(township + "%"), Household.home_lat.is_not(None),
        Household.id.in_(monthly)).order_by(Household.id)).all()[:count]
    for household in rows:
        for case in db_session.scalars(select(Case).where(Case.household_id == household.id)):
            case.status = "approved"
    db_session.commit()  # a savepoint: a later sign-in's rollback must not undo it
    return list(rows)


def upload(api, username, raw: bytes) -> str:
    sha = hashlib.sha256(raw).hexdigest()
    response = api.put(username, f"/api/photos/{sha}", data=raw,
                       headers={"Content-Type": "image/jpeg"})
    assert response.status_code in (200, 201), response.get_json()
    return sha


class Recipient:
    """An enrolled, activated, signed-in recipient with a device key."""

    def __init__(self, api, household, member, phone, body, seed):
        self.api, self.household, self.member, self.phone = api, household, member, phone
        self.id = body["recipient"]["id"]
        self.code = body["activation_code"]
        self.name = f"recipient-{phone}"  # the key in api's token cache
        self.seed = seed

    def sign_in(self, pin=PIN):
        response = self.api.client.post("/api/checkins/login", json={
            "phone": self.phone, "pin": pin, "device_id": "device-r" + self.phone[-7:]})
        assert response.status_code == 200, response.get_json()
        self.api._tokens[self.name] = response.get_json()
        self.pair, self.key_id = registered_key(self.api, self.name,
                                                "device-r" + self.phone[-7:])
        return self

    def photo(self, seed=None, raw=None) -> str:
        self.seed += 1
        return upload(self.api, self.name, raw or photo_bytes(seed or self.seed * 7919))

    def push(self, records, **extra):
        return self.api.post(self.name, "/api/sync/push", json={
            "device_id": "device-r" + self.phone[-7:], "records": records, **extra})

    def check_in(self, **kwargs):
        sent_at = kwargs.pop("sent_at", clock.now().isoformat())
        sha = kwargs.pop("sha", None) or self.photo()
        record = checkin(self.pair, self.key_id, sha, at=kwargs.pop("at", clock.now()),
                         lat=kwargs.pop("lat", self.household.home_lat),
                         lon=kwargs.pop("lon", self.household.home_lon), **kwargs)
        response = self.push([record], sent_at=sent_at)
        assert response.status_code == 200, response.get_json()
        return record, response.get_json()["results"][0]


def enrol(api, household, index=0, phone=None, category="monthly", **extra):
    member = household.members[0]
    phone = phone or f"139{index:04d}{abs(hash(household.id)) % 10000:04d}"
    reference = upload(api, ASSISTANT, photo_bytes(900_000 + index))
    return api.post(ASSISTANT, "/api/checkins/recipients", json={
        "household_id": household.id, "member_id": member.id, "phone": phone,
        "category": category, "reference_photo_sha256": reference, **extra}), member, phone


def activated(api, household, index=0, consents_to_faces=True, **extra) -> Recipient:
    response, member, phone = enrol(api, household, index, **extra)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    activation = api.client.post("/api/checkins/activate",
                                 json={"code": body["activation_code"], "pin": PIN})
    assert activation.status_code == 200, activation.get_json()
    signed_in = Recipient(api, household, member, phone, body, seed=index * 1000).sign_in()
    if consents_to_faces:  # face matching runs only after separate consent (issue 22)
        consent = api.post(signed_in.name, "/api/personal-data/biometric-consent",
                           json={"choice": "given", "text_version": CONSENT_TEXT_VERSION})
        assert consent.status_code == 200, consent.get_json()
    return signed_in


@pytest.fixture
def households(db_session):
    return approved_households(db_session)


@pytest.fixture
def recipient(api, households):
    return activated(api, households[0])


def flag_codes(result) -> set[str]:
    return {f["code"] for f in result.get("flags", [])}


# --- enrolment and activation ----------------------------------------------------------------


def test_enrolment_needs_staff_and_an_approved_household(api, db_session, households):
    response, _, _ = enrol(api, households[0])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert len(body["activation_code"]) == 10 and body["activation_url"].startswith("/checkin?")
    assert body["recipient"]["is_activated"] is False
    again, _, _ = enrol(api, households[0])
    assert again.get_json()["type"] == "recipient-already-enrolled"
    pending = db_session.scalars(select(Household).where(
        Household.jurisdiction_code.like("530621100%"), Household.id.not_in(
            [h.id for h in households]))).first()
    refused, _, _ = enrol(api, pending, index=5)
    assert refused.status_code == 409 and refused.get_json()["type"] == "household-not-approved"
    reference = upload(api, "wenping_fw1", photo_bytes(1))
    by_field_worker = api.post("wenping_fw1", "/api/checkins/recipients", json={
        "household_id": households[1].id, "member_id": households[1].members[0].id,
        "phone": "13900000001", "category": "monthly", "reference_photo_sha256": reference})
    assert by_field_worker.status_code == 403


def test_other_township_household_is_not_found(api, db_session):
    other = approved_households(db_session, township="530621101", count=1)[0]
    response, _, _ = enrol(api, other)
    assert response.status_code == 404


def test_slip_and_qr_are_printed_from_the_code(api, households):
    response, member, _ = enrol(api, households[0])
    code = response.get_json()["activation_code"]
    slip = api.client.get(f"/checkin/slip?code={code}")
    assert slip.status_code == 200 and member.name in slip.get_data(as_text=True)
    assert "<svg" in slip.get_data(as_text=True)
    # Issue 21: one language, and the address printed for who cannot scan the QR.
    import re

    html = slip.get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>|<head>.*?</head>", " ", html,
                                         flags=re.S))
    assert "http://localhost/checkin" in text
    shown = text.replace("http://localhost/checkin", "").replace(code[:5], "").replace(code[5:], "")
    assert re.findall(r"[A-Za-z]+", shown) == []
    qr = api.client.get(f"/checkin/qr.svg?code={code}")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert api.client.get("/checkin/slip?code=WRONGCODE2").status_code == 404
    assert api.client.get(f"/checkin?code={code}").status_code == 200


def test_activation_code_is_single_use_and_expires_in_7_days(api, households):
    response, _, phone = enrol(api, households[0])
    code = response.get_json()["activation_code"]
    weak = api.client.post("/api/checkins/activate", json={"code": code, "pin": "123456"})
    assert weak.status_code == 422
    ok = api.client.post("/api/checkins/activate", json={"code": code.lower(), "pin": PIN})
    assert ok.status_code == 200 and ok.get_json()["phone"] == phone
    reused = api.client.post("/api/checkins/activate", json={"code": code, "pin": PIN})
    assert reused.status_code == 410 and reused.get_json()["type"] == "activation-code-used"
    second, _, _ = enrol(api, households[1], index=1)
    late_code = second.get_json()["activation_code"]
    clock.freeze(clock.now() + timedelta(days=7))
    expired = api.client.post("/api/checkins/activate", json={"code": late_code, "pin": PIN})
    assert expired.status_code == 410 and expired.get_json()["type"] == "activation-code-expired"
    clock.freeze(clock.now() - timedelta(seconds=1))
    assert api.client.post("/api/checkins/activate",
                           json={"code": late_code, "pin": PIN}).status_code == 200


def test_guessing_activation_codes_is_rate_limited(app, api, households):
    from backend.auth.throttle import limiter

    app.config["CHECKIN_ACTIVATION_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        answers = [api.client.post("/api/checkins/activate",
                                   json={"code": f"GUESS{n:05d}", "pin": PIN}).status_code
                   for n in range(5)]
    finally:
        app.config.pop("CHECKIN_ACTIVATION_LIMIT")
        limiter.reset()
    assert answers[:3] == [404, 404, 404] and answers[3:] == [429, 429]


def test_the_three_activation_routes_share_one_budget(app, api, households):
    """Issue 20: each of the three routes that take a code counted its own 10 guesses (30 in
    all); the budget is one."""
    from backend.auth.throttle import limiter

    app.config["CHECKIN_ACTIVATION_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        answers = [
            api.client.post("/api/checkins/activate",
                            json={"code": "GUESS00001", "pin": PIN}).status_code,
            api.client.get("/checkin/slip?code=GUESS00002").status_code,
            api.client.get("/checkin/qr.svg?code=GUESS00003").status_code,
            api.client.get("/checkin/slip?code=GUESS00004").status_code,
            api.client.get("/checkin/qr.svg?code=GUESS00005").status_code,
            api.client.post("/api/checkins/activate",
                            json={"code": "GUESS00006", "pin": PIN}).status_code,
        ]
    finally:
        app.config.pop("CHECKIN_ACTIVATION_LIMIT")
        limiter.reset()
    assert answers == [404, 404, 404, 429, 429, 429]


def test_pin_sign_in_is_throttled_and_locks_like_staff(api, recipient):
    wrong = [api.client.post("/api/checkins/login", json={
        "phone": recipient.phone, "pin": "999999"}).status_code for _ in range(4)]
    assert wrong[:3] == [401, 401, 401] and wrong[3] == 429  # LOGIN_MAX_FAILURES=3 in tests
    locked = api.client.post("/api/checkins/login", json={"phone": recipient.phone, "pin": PIN})
    assert locked.status_code == 429 and locked.get_json()["type"] == "too-many-sign-ins"


def _strangers_guess(app, recipient, times=6):
    for n in range(times):
        app.test_client().post("/api/checkins/login",
                               json={"phone": recipient.phone, "pin": "999999"},
                               environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"})


def test_a_stranger_cannot_lock_a_recipient_out_of_their_own_phone(app, api, recipient,
                                                                  monkeypatch):
    """Issue 20: wrong PINs for a known phone number from many addresses made the right PIN
    a 429 for an hour, even on the recipient's own phone; staff had a known-device exemption,
    recipients did not. A missed check-in can lead to a periodic review."""
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "5 per hour")
    _strangers_guess(app, recipient)
    new_device = api.client.post("/api/checkins/login", json={
        "phone": recipient.phone, "pin": PIN, "device_id": "new-phone-123"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert new_device.status_code == 429
    own_phone = api.client.post("/api/checkins/login", json={
        "phone": recipient.phone, "pin": PIN, "device_id": "device-r" + recipient.phone[-7:]},
        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert own_phone.status_code == 200, own_phone.get_json()


def test_the_assistant_sees_and_lifts_a_sign_in_block(app, api, db_session, recipient,
                                                      monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT_PER_ACCOUNT", "5 per hour")
    path = f"/api/checkins/recipients/{recipient.id}/sign-in-block"
    clear = api.get(ASSISTANT, path)
    assert clear.status_code == 200, clear.get_json()
    assert clear.get_json()["is_blocked"] is False
    _strangers_guess(app, recipient)
    blocked = api.get(ASSISTANT, path).get_json()
    assert blocked["is_blocked"] is True and blocked["retry_after_seconds"] > 0
    assert blocked["failed_sign_ins"] >= 5
    # Only staff of the recipient's area, and not the recipient themself.
    assert api.get("longtoushan_assistant", path).status_code == 404
    assert api.get(recipient.name, path).status_code == 403
    assert api.client.delete(path, headers=api.headers("wenping_fw1")).status_code == 403
    lifted = api.client.delete(path, headers=api.headers(ASSISTANT))
    assert lifted.status_code == 204
    assert api.get(ASSISTANT, path).get_json()["is_blocked"] is False
    # Sign-ins on the staff route under the account's name (the phone number's blind index,
    # ADR 0020) count against the same account: that block is seen and lifted too.
    from backend.checkins.recipients import username_for

    with app.app_context():
        account_name = username_for(recipient.phone)
    for n in range(6):
        app.test_client().post("/api/auth/login", json={
            "username": account_name, "password": "999999"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"})
    assert api.get(ASSISTANT, path).get_json()["is_blocked"] is True
    assert api.client.delete(path, headers=api.headers(ASSISTANT)).status_code == 204
    new_device = api.client.post("/api/checkins/login", json={
        "phone": recipient.phone, "pin": PIN, "device_id": "new-phone-123"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert new_device.status_code == 200, new_device.get_json()
    events = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "checkin.sign_in_block_lifted")).all()
    assert len(events) == 2
    assert {(e.object_id, e.actor_id) for e in events} == {(recipient.id,
                                                             api.user_id(ASSISTANT))}
    assert events[0].before["is_blocked"] is True


def test_staff_reset_the_pin_with_a_new_code(api, recipient):
    reset = api.post(ASSISTANT, f"/api/checkins/recipients/{recipient.id}/pin-reset")
    assert reset.status_code == 200
    old = api.client.post("/api/checkins/login", json={"phone": recipient.phone, "pin": PIN})
    assert old.status_code == 401
    assert api.get(recipient.name, "/api/checkins/me").status_code == 401  # sessions ended
    activation = api.client.post("/api/checkins/activate", json={
        "code": reset.get_json()["activation_code"], "pin": "913572"})
    assert activation.status_code == 200
    assert api.client.post("/api/checkins/login", json={
        "phone": recipient.phone, "pin": "913572"}).status_code == 200


# --- scoping -----------------------------------------------------------------------------------


def test_recipient_sees_only_their_own_household(api, households, recipient):
    own = api.get(recipient.name, f"/api/checkins/households/{households[0].id}")
    assert own.status_code == 200 and own.get_json()["id"] == households[0].id
    other = api.get(recipient.name, f"/api/checkins/households/{households[1].id}")
    assert other.status_code == 404 and other.get_json()["type"] == "household-not-found"
    assert api.get(recipient.name, f"/api/households/{households[1].id}").status_code == 404
    assert api.get(recipient.name, f"/api/households/{households[0].id}").status_code == 404
    assert api.get(recipient.name, "/api/households").get_json()["total"] == 0
    assert api.get(recipient.name, "/api/cases").get_json()["total"] == 0
    assert api.get(recipient.name, "/api/checkins/recipients").status_code == 403
    assert api.get(recipient.name, "/api/checkins/follow-ups").status_code == 403
    assert api.get(ASSISTANT, "/api/checkins/me").status_code == 403


def test_recipient_status_shows_the_window_and_last_result(api, recipient):
    status = api.get(recipient.name, "/api/checkins/me").get_json()
    assert status["next_window"]["key"] == "2026-12" and status["is_done_this_window"] is False
    assert status["reminders"] == ["checkin-window-open"]
    recipient.check_in()
    status = api.get(recipient.name, "/api/checkins/me").get_json()
    assert status["is_done_this_window"] is True and status["last_outcome"] == "on_time"


# --- check-ins ---------------------------------------------------------------------------------


def test_check_in_is_accepted_once_and_replays_as_duplicate(api, db_session, recipient):
    record, result = recipient.check_in()
    assert result["status"] == "accepted", result
    again = recipient.push([record]).get_json()["results"][0]
    assert again["status"] == "duplicate"
    stored = db_session.get(CheckIn, record["id"])
    assert stored.outcome == "on_time" and stored.window_key == "2026-12"
    assert stored.received_at == clock.now()


def test_a_replay_answers_the_stored_flags_and_never_a_changed_or_borrowed_record(
        api, db_session, households, recipient):
    """Replays are answered from the id index (issue 23); what is not the same record from
    the same sender still reaches the handler and is refused as a conflict."""
    record, result = recipient.check_in(lat=recipient.household.home_lat + 0.05)
    assert result["status"] == "accepted" and result["flags"], result  # far from home
    again = recipient.push([record]).get_json()["results"][0]
    assert again == {**result, "status": "duplicate"}
    moved = {**record, "location": {**record["location"], "lat": record["location"]["lat"] + 0.001}}
    shouted = {**moved, "id": record["id"].upper()}  # the same id, as another client spells it
    other = activated(api, households[1], index=1)
    results = [push([sent]).get_json()["results"][0] for push, sent in (
        (recipient.push, moved), (recipient.push, shouted), (other.push, record))]
    assert [(r["status"], r["problem"]["type"]) for r in results] == [
        ("rejected", "conflict")] * 3, results
    stored = db_session.get(CheckIn, record["id"])
    assert stored.lat == record["location"]["lat"] and stored.recipient_id == recipient.id


def test_a_refused_record_in_a_batch_leaves_the_others_stored_and_audited(
        api, db_session, recipient):
    first, refused, last = (
        checkin(recipient.pair, recipient.key_id, recipient.photo(), at=clock.now(),
                source=source) for source in ("camera", "gallery", "camera"))
    results = recipient.push([first, refused, last]).get_json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["problem"]["type"] == "checkin-photo-not-camera"
    stored = set(db_session.scalars(select(CheckIn.id).where(
        CheckIn.id.in_([first["id"], refused["id"], last["id"]]))))
    assert stored == {first["id"], last["id"]}
    audited = db_session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "checkin.received",
        AuditEvent.object_id.in_([first["id"], refused["id"], last["id"]]))).all()
    assert sorted(audited) == sorted([first["id"], last["id"]])


def _statements_of(db_session, request) -> tuple[object, int]:
    """The answer of ``request()`` and the SQL statements it sent."""
    engine = db_session.get_bind()
    sent = []

    def count(*_args):
        sent.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = request()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return answer, len(sent)


# The statements one check-in push may send (issue 12's bench: every push is one round of
# these). Measured on the test session, whose commits are SAVEPOINTs and whose Huey runs the
# identity check at once (3 statements a server leaves to the worker): a SAVEPOINT for the
# request, the batch's loads, the check-in's flags and writes, and the audit rows inserted
# already linked at the commit (head and ids in one statement, the rows, the head moved).
# Raise it only with a reason. Issue 22: one more, the recipient's consent to face matching
# read before the identity check (PIPL Art. 29).
# Issue 23: two fewer; the recipient is read with their household's home, and the photo's
# reuse check (similar photos, the same bytes elsewhere, reference photos) is one statement;
# and one fewer again: sign-in reads no session (the caller comes from the token's claims).
# Then two fewer (18 to 16): a push of one record needs no SAVEPOINT pair (sync/service.py);
# and one fewer: the recipient's earlier check-ins come with their own row.
# Then three fewer (15 to 12): the first record's device key and photo, and the settings of
# the recipient's place, come with that row too; and one fewer (11): so do the photos like
# its photo. PostgreSQL, two fewer again (9): it stores the check-in and its window's result
# in one statement, and inserts the audit row in the statement that moves the chain's head.
# SQLite, two more (13): the replay lookup reads beside the writers, then the push ends that
# read and begins writing (dbtypes.reads_first; here a SAVEPOINT's release and a new one).
NEW_CHECKIN_STATEMENT_BUDGET = {"sqlite": 13, "postgresql": 9}
# Issue 23: a replay is answered from the id index alone (checkins/replays.py): one lookup
# of the ids with their flags, and the test session's SAVEPOINT pair; it was 10, then 4.
REPLAYED_CHECKIN_STATEMENT_BUDGET = 3


def test_a_check_in_push_stays_within_its_statement_budget(api, db_session, recipient):
    recipient.check_in()  # not the first: the recipient has a history to compare with
    record = checkin(recipient.pair, recipient.key_id, recipient.photo(), at=clock.now(),
                     lat=recipient.household.home_lat, lon=recipient.household.home_lon)
    answer, statements = _statements_of(db_session, lambda: recipient.push([record]))
    assert answer.get_json()["results"][0]["status"] == "accepted"
    assert statements <= NEW_CHECKIN_STATEMENT_BUDGET[db_session.get_bind().dialect.name], \
        statements
    answer, statements = _statements_of(db_session, lambda: recipient.push([record]))
    assert answer.get_json()["results"][0]["status"] == "duplicate"
    assert statements <= REPLAYED_CHECKIN_STATEMENT_BUDGET, statements


def test_a_check_in_push_reads_no_check_in_or_photo_table_whole(api, db_session, recipient):
    """Flat as the county grows (issue 23): every statement of a push, the photo-reuse check
    against every check-in and reference photo included, is answered from an index."""
    recipient.check_in()
    record = checkin(recipient.pair, recipient.key_id, recipient.photo(), at=clock.now(),
                     lat=recipient.household.home_lat, lon=recipient.household.home_lon)
    with Statements() as push:
        answer = recipient.push([record])
    assert answer.get_json()["results"][0]["status"] == "accepted"
    # The photo-reuse check is read with the recipient's row, before the check-in is stored.
    assert any("photos_like_the_stored" in statement for statement in push.texts)
    assert table_scans(db_session, push.seen,
                       r"checkin\w*|photo|photo_hash_band|device_key|jurisdiction_setting") == []


def test_gallery_photo_and_stale_capture_are_problems(api, db_session, recipient):
    _, gallery = recipient.check_in(source="gallery")
    assert gallery["status"] == "rejected"
    assert gallery["problem"]["type"] == "checkin-photo-not-camera"
    _, stale = recipient.check_in(photo_at=clock.now() - timedelta(minutes=11))
    assert stale["problem"]["type"] == "checkin-capture-stale"
    _, fresh = recipient.check_in(photo_at=clock.now() - timedelta(minutes=9))
    assert fresh["status"] == "accepted"


def test_another_recipients_key_or_photo_is_a_problem(api, households, recipient):
    other = activated(api, households[1], index=1)
    sha = recipient.photo()
    record = checkin(other.pair, other.key_id, sha, at=clock.now())
    signed_by_other = recipient.push([record]).get_json()["results"][0]
    assert signed_by_other["problem"]["type"] == "checkin-signature-invalid"
    foreign_photo = checkin(other.pair, other.key_id, sha, at=clock.now())
    answer = other.push([foreign_photo]).get_json()["results"][0]
    assert answer["problem"]["type"] == "checkin-photo-not-yours"
    tampered = checkin(recipient.pair, recipient.key_id, recipient.photo(), at=clock.now())
    tampered["location"]["lat"] += 0.01
    assert recipient.push([tampered]).get_json()["results"][0]["problem"]["type"] == \
        "checkin-signature-invalid"
    for_other = checkin(recipient.pair, recipient.key_id, recipient.photo(), at=clock.now(),
                        recipient_id=other.id)
    assert recipient.push([for_other]).get_json()["results"][0]["problem"]["type"] == \
        "recipient-not-found"


def test_every_record_of_a_batch_is_checked_with_its_own_key_and_photo(api, households,
                                                                       recipient):
    """The first record's key and photo are read with the recipient's row (one statement,
    issue 23); the others' are read apart, so each record is judged on its own."""
    earlier, _ = recipient.check_in(at=clock.now() - timedelta(minutes=30))
    second_pair, second_key = registered_key(api, recipient.name, "device-" + "b" * 8)
    home = {"lat": recipient.household.home_lat, "lon": recipient.household.home_lon}
    first = checkin(recipient.pair, recipient.key_id, recipient.photo(),
                    at=clock.now() - timedelta(minutes=2), **home)
    # From a second device, with the earlier check-in's picture sent again.
    reused = checkin(second_pair, second_key, earlier["photo"]["sha256"],
                     at=clock.now() - timedelta(minutes=1), **home)
    results = recipient.push([first, reused]).get_json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted"], results
    assert "photo-reused" not in flag_codes(results[0])
    assert {"new-device", "photo-reused"} <= flag_codes(results[1]), results[1]
    # Led by a photo another recipient uploaded, the batch refuses that one, not the next.
    other = activated(api, households[1], index=1)
    led_by_foreign = checkin(recipient.pair, recipient.key_id, other.photo(), at=clock.now(),
                             **home)
    then_own = checkin(second_pair, second_key, recipient.photo(), at=clock.now(), **home)
    results = recipient.push([led_by_foreign, then_own]).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected", "accepted"], results
    assert results[0]["problem"]["type"] == "checkin-photo-not-yours"


def test_each_level_of_settings_reaches_a_recipients_check_in(api, db_session, recipient):
    """The check-in reads the recipient's settings with their own row (issue 23): the county's,
    the township's and the village's overrides, the nearest one winning."""
    village = recipient.household.jurisdiction_code
    township, county = village[:9], village[:6]
    jurisdictions.update_settings(county, {"checkin_max_capture_age_minutes": 30})
    jurisdictions.update_settings(township, {"checkin_max_capture_age_minutes": 5})
    db_session.commit()
    _, refused = recipient.check_in(photo_at=clock.now() - timedelta(minutes=6))
    assert refused["problem"]["type"] == "checkin-capture-stale", refused
    jurisdictions.update_settings(village, {"checkin_max_capture_age_minutes": 20})
    db_session.commit()
    _, accepted = recipient.check_in(photo_at=clock.now() - timedelta(minutes=19))
    assert accepted["status"] == "accepted", accepted
    _, refused = recipient.check_in(photo_at=clock.now() - timedelta(minutes=21))
    assert refused["problem"]["type"] == "checkin-capture-stale", refused


def test_outside_every_window_is_recorded_late_and_flagged(api, db_session, recipient):
    clock.freeze(datetime(2026, 12, 27, 10, tzinfo=CHINA))
    record, result = recipient.check_in()
    assert result["status"] == "accepted" and "outside-window" in flag_codes(result)
    assert db_session.get(CheckIn, record["id"]).outcome == "late"


def test_late_within_tolerance_and_received_late(api, db_session, recipient):
    clock.freeze(datetime(2026, 12, 22, 10, tzinfo=CHINA))
    late, result = recipient.check_in()
    assert db_session.get(CheckIn, late["id"]).outcome == "late"
    assert db_session.get(CheckIn, late["id"]).window_key == "2026-12"


def test_a_window_keeps_its_best_outcome_and_a_late_arrival_replaces_a_miss(
        app, api, db_session, recipient):
    """Nothing accepted is lost: a check-in made in time but sent after the window was judged
    missed replaces the miss; a worse or equal one never replaces what the window holds."""
    def window():
        history = api.get(ASSISTANT, f"/api/checkins/recipients/{recipient.id}/history")
        return next(w for w in history.get_json()["windows"] if w["key"] == "2026-12")

    clock.freeze(datetime(2026, 12, 24, 1, tzinfo=CHINA))
    with app.test_request_context():
        windows.judge_closed_windows()
        db.session.commit()
    assert window() == {"key": "2026-12", "outcome": "missed", "checkin_id": None}
    made_in_time, answer = recipient.check_in(at=datetime(2026, 12, 15, 10, tzinfo=CHINA))
    assert answer["status"] == "accepted", answer
    assert db_session.get(CheckIn, made_in_time["id"]).outcome == "late"  # received late
    assert window() == {"key": "2026-12", "outcome": "late", "checkin_id": made_in_time["id"]}
    later, answer = recipient.check_in(at=datetime(2026, 12, 22, 10, tzinfo=CHINA))
    assert answer["status"] == "accepted", answer
    assert db_session.get(CheckIn, later["id"]).outcome == "late"
    assert window()["checkin_id"] == made_in_time["id"]  # no better: the window keeps its own


def _north(lat, metres):
    return lat + metres / 111_195


def test_far_from_residence_on_both_sides(api, db_session, households, recipient):
    home = households[0]
    _, near = recipient.check_in(lat=_north(home.home_lat, 1990))
    assert "far-from-residence" not in flag_codes(near)
    clock.freeze(clock.now() + timedelta(hours=2))
    _, far = recipient.check_in(lat=_north(home.home_lat, 2010))
    assert "far-from-residence" in flag_codes(far)


def test_declared_residence_of_someone_living_away(api, households):
    shanghai = {"address": "上海市浦东新区", "lat": 31.2304, "lon": 121.4737}
    away = activated(api, households[1], index=2, declared_residence=shanghai)
    _, there = away.check_in(lat=31.2310, lon=121.4740)
    assert "far-from-residence" not in flag_codes(there)


def test_photo_reuse_on_both_sides(api, db_session, households, recipient):
    first_raw = photo_bytes(4242, quality=90)
    _, first = recipient.check_in(sha=recipient.photo(raw=first_raw))
    assert "photo-reused" not in flag_codes(first)
    clock.freeze(clock.now() + timedelta(days=31))  # the next month's window
    again = io.BytesIO()
    Image.open(io.BytesIO(first_raw)).save(again, "JPEG", quality=60)  # same picture
    _, reused = recipient.check_in(sha=recipient.photo(raw=again.getvalue()))
    assert "photo-reused" in flag_codes(reused)
    _, fresh = recipient.check_in(sha=recipient.photo(raw=photo_bytes(777)))
    assert "photo-reused" not in flag_codes(fresh)


def test_the_same_photo_in_a_second_check_in_is_reuse(api, recipient):
    sha = recipient.photo()
    _, first = recipient.check_in(sha=sha)
    assert "photo-reused" not in flag_codes(first)
    _, second = recipient.check_in(sha=sha)
    assert "photo-reused" in flag_codes(second)


def test_photo_reused_across_households(api, db_session, households, recipient):
    other = activated(api, households[1], index=3)
    raw = photo_bytes(5151, quality=90)
    recipient.check_in(sha=recipient.photo(raw=raw))
    copy = io.BytesIO()
    Image.open(io.BytesIO(raw)).save(copy, "JPEG", quality=70)
    _, reused = other.check_in(sha=other.photo(raw=copy.getvalue()))
    flag = next(f for f in db_session.scalars(select(CheckInFlag).where(
        CheckInFlag.code == "photo-reused")))
    assert "photo-reused" in flag_codes(reused) and flag.data["scope"] == "other-household"


def test_clock_skew_and_future_capture_on_both_sides(api, recipient):
    now = clock.now()
    _, ok = recipient.check_in(at=now - timedelta(minutes=9),
                               sent_at=(now - timedelta(minutes=9)).isoformat())
    assert "device-clock-skew" not in flag_codes(ok)
    _, skewed = recipient.check_in(at=now - timedelta(minutes=11),
                                   sent_at=(now - timedelta(minutes=11)).isoformat())
    assert "device-clock-skew" in flag_codes(skewed)
    _, future = recipient.check_in(at=now + timedelta(minutes=11))
    assert "captured-in-future" in flag_codes(future)


def test_mocked_location_zero_accuracy_and_impossible_speed(api, households, recipient):
    home = households[0]
    _, zero = recipient.check_in(accuracy_m=0)
    assert "location-possibly-mocked" in flag_codes(zero)
    clock.freeze(clock.now() + timedelta(hours=1))
    _, slow = recipient.check_in(accuracy_m=0.5, lat=_north(home.home_lat, 1000))
    assert "location-possibly-mocked" not in flag_codes(slow)
    clock.freeze(clock.now() + timedelta(hours=1))
    _, fast = recipient.check_in(lat=_north(home.home_lat, 160_000))
    assert "location-possibly-mocked" in flag_codes(fast)


def test_check_ins_sent_together_are_compared_with_each_other(api, households, recipient):
    """A phone back in coverage sends a day's check-ins in one push: each is compared with
    those before it, the earlier ones of the same push included (the push reads the history
    once and adds each check-in it stores)."""
    home = households[0]
    start = clock.now()
    first = checkin(recipient.pair, recipient.key_id, recipient.photo(), at=start,
                    lat=home.home_lat, lon=home.home_lon)
    far = checkin(recipient.pair, recipient.key_id, recipient.photo(),
                  at=start + timedelta(minutes=30), lat=_north(home.home_lat, 160_000),
                  lon=home.home_lon)
    pair, key_id = registered_key(api, recipient.name, "device-newphone2")
    other_phone = checkin(pair, key_id, recipient.photo(), at=start + timedelta(minutes=40),
                          lat=_north(home.home_lat, 160_000), lon=home.home_lon)
    clock.freeze(start + timedelta(hours=1))
    results = recipient.push([first, far, other_phone]).get_json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 3, results
    assert "location-possibly-mocked" not in flag_codes(results[0])
    assert "location-possibly-mocked" in flag_codes(results[1])
    assert "new-device" not in flag_codes(results[1])
    assert "new-device" in flag_codes(results[2])


def test_new_device_is_flagged_after_the_first(api, recipient):
    _, first = recipient.check_in()
    assert "new-device" not in flag_codes(first)
    _, same = recipient.check_in()
    assert "new-device" not in flag_codes(same)
    recipient.pair, recipient.key_id = registered_key(api, recipient.name, "device-newphone1")
    _, other = recipient.check_in()
    assert "new-device" in flag_codes(other)


class StubFaces:
    name = "stub"

    def __init__(self, distance):
        self.distance = distance

    def compare(self, reference, probe):
        status = "verified" if self.distance <= identity.SAME_PERSON_MAX_DISTANCE else "mismatch"
        return identity.IdentityResult(status, self.distance, self.name)


@pytest.mark.parametrize("distance, flagged", [(0.54, False), (0.56, True)])
def test_face_mismatch_on_both_sides(app, api, db_session, recipient, distance, flagged):
    identity.use("stub", StubFaces(distance))
    app.config["IDENTITY_VERIFIER"] = "stub"
    try:
        record, _ = recipient.check_in()
    finally:
        app.config["IDENTITY_VERIFIER"] = "stub-same"
    row = db_session.get(CheckIn, record["id"])
    assert row.identity_status == ("mismatch" if flagged else "verified")
    codes = set(db_session.scalars(select(CheckInFlag.code).where(
        CheckInFlag.checkin_id == record["id"])))
    assert ("face-mismatch" in codes) is flagged


def test_without_a_model_identity_is_unverified_and_goes_to_a_person(app, api, db_session,
                                                                     recipient):
    app.config["IDENTITY_VERIFIER"] = "none"
    try:
        record, _ = recipient.check_in()
    finally:
        app.config["IDENTITY_VERIFIER"] = "stub-same"
    assert db_session.get(CheckIn, record["id"]).identity_status == "unverified"
    follow_ups = api.get(ASSISTANT, "/api/checkins/follow-ups").get_json()["items"]
    assert any(f["checkin_id"] == record["id"] for f in follow_ups)


# --- proxy, judging, follow-up ------------------------------------------------------------------


def test_proxy_check_in_by_the_village_assistant(api, db_session, recipient):
    pair, key_id = registered_key(api, ASSISTANT, "device-assist01")
    sha = upload(api, ASSISTANT, photo_bytes(31337))
    record = checkin(pair, key_id, sha, at=clock.now(), recipient_id=recipient.id,
                     proxy={"reason": "行动不便，卧床"})
    result = api.post(ASSISTANT, "/api/sync/push", json={
        "device_id": "device-assist01", "records": [record]}).get_json()["results"][0]
    assert result["status"] == "accepted" and "proxy-check-in" in flag_codes(result)
    row = db_session.get(CheckIn, record["id"])
    assert row.is_proxy and row.submitted_by_id == api.user_id(ASSISTANT)
    no_reason = checkin(pair, key_id, sha, at=clock.now(), recipient_id=recipient.id)
    assert api.post(ASSISTANT, "/api/sync/push", json={"records": [no_reason]}).get_json()[
        "results"][0]["problem"]["type"] == "forbidden"
    by_recipient = checkin(recipient.pair, recipient.key_id, recipient.photo(), at=clock.now(),
                           recipient_id=recipient.id, proxy={"reason": "自己代签"})
    assert recipient.push([by_recipient]).get_json()["results"][0]["problem"]["type"] == \
        "forbidden"


def test_a_proxy_check_in_sending_the_reference_photo_back_is_reuse(api, db_session, recipient):
    """The assistant holds the reference photo (they uploaded it at enrolment): a proxy
    check-in with those very bytes proves nothing about today and is flagged."""
    from backend.checkins.models import Recipient as RecipientRow

    pair, key_id = registered_key(api, ASSISTANT, "device-assist02")
    reference = db_session.get(RecipientRow, recipient.id).reference_photo_sha256
    record = checkin(pair, key_id, reference, at=clock.now(), recipient_id=recipient.id,
                     proxy={"reason": "行动不便，卧床"})
    result = api.post(ASSISTANT, "/api/sync/push", json={
        "device_id": "device-assist02", "records": [record]}).get_json()["results"][0]
    assert result["status"] == "accepted" and "photo-reused" in flag_codes(result)
    flag = db_session.scalar(select(CheckInFlag).where(
        CheckInFlag.checkin_id == record["id"], CheckInFlag.code == "photo-reused"))
    assert flag.data["scope"] == "same-recipient" and flag.data["bits"] == 0
    fresh = checkin(pair, key_id, upload(api, ASSISTANT, photo_bytes(31338)), at=clock.now(),
                    recipient_id=recipient.id, proxy={"reason": "行动不便，卧床"})
    answer = api.post(ASSISTANT, "/api/sync/push", json={
        "device_id": "device-assist02", "records": [fresh]}).get_json()["results"][0]
    assert answer["status"] == "accepted" and "photo-reused" not in flag_codes(answer)


def test_missed_windows_follow_up_and_periodic_review_trigger(api, db_session, recipient):
    from backend.checkins import windows

    raised = []
    events.subscribe(events.PeriodicReviewDue, raised.append)
    try:
        assert windows.judge_closed_windows(datetime(2026, 12, 23, 23, tzinfo=CHINA)) == 0
        assert windows.judge_closed_windows(datetime(2026, 12, 24, 0, 1, tzinfo=CHINA)) == 1
        assert windows.judge_closed_windows(datetime(2026, 12, 24, 0, 2, tzinfo=CHINA)) == 0
        assert not db_session.scalars(select(ReviewTrigger)).all()
        assert windows.judge_closed_windows(datetime(2027, 1, 24, 1, tzinfo=CHINA)) == 1
        events.dispatch()
    finally:
        events._handlers[events.PeriodicReviewDue].remove(raised.append)
    trigger, = db_session.scalars(select(ReviewTrigger)).all()
    assert trigger.consecutive_misses == 2 and trigger.household_id == recipient.household.id
    assert raised and raised[0].consecutive_misses == 2
    # The case workflow took the trigger (tests/api/test_periodic_review.py): handled.
    assert trigger.window_key == "2027-01" and trigger.handled_at is not None
    assert windows.periodic_review_triggers([recipient.household.id]) == {}
    missed = [f for f in db_session.scalars(select(FollowUp)) if f.reason == "missed"]
    assert {f.window_key for f in missed} == {"2026-12", "2027-01"}
    assert {f.action for f in missed} == {"home_visit"}


def test_a_check_in_in_time_is_not_missed(api, recipient):
    from backend.checkins import windows

    recipient.check_in()
    assert windows.judge_closed_windows(datetime(2026, 12, 24, 1, tzinfo=CHINA)) == 0


def test_assistant_closes_a_follow_up_with_if_match(api, recipient):
    recipient.check_in(accuracy_m=0)  # a flagged check-in
    items = api.get(ASSISTANT, "/api/checkins/follow-ups?village=530621100").get_json()["items"]
    follow_up = next(f for f in items if f["reason"] == "flagged")
    assert "location-possibly-mocked" in {f["code"] for f in follow_up["flags"]}
    path = f"/api/checkins/follow-ups/{follow_up['id']}/close"
    body = {"action": "call", "outcome": "电话联系本人，确认在家。"}
    assert api.post(ASSISTANT, path, json=body).status_code == 428
    assert api.post(ASSISTANT, path, json=body, headers={"If-Match": '"9"'}).status_code == 412
    closed = api.post(ASSISTANT, path, json=body, headers={"If-Match": '"1"'})
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["closed_by_id"] == api.user_id(ASSISTANT)
    assert closed.headers["ETag"] == '"2"'
    assert api.post(ASSISTANT, path, json=body, headers={"If-Match": '"2"'}).status_code == 409
    other = api.get("longtoushan_assistant", "/api/checkins/follow-ups").get_json()["items"]
    assert other == []
    assert api.post("longtoushan_assistant", path, json=body,
                    headers={"If-Match": '"2"'}).status_code == 404


def test_history_is_a_timeline_of_photos_and_places(api, recipient):
    record, _ = recipient.check_in()
    history = api.get(ASSISTANT, f"/api/checkins/recipients/{recipient.id}/history")
    assert history.status_code == 200
    body = history.get_json()
    assert body["checkins"][0]["id"] == record["id"]
    assert body["windows"] == [{"key": "2026-12", "outcome": "on_time",
                                "checkin_id": record["id"]}]
    photo = api.get(ASSISTANT, f"/api/photos/{record['photo']['sha256']}")
    assert photo.status_code == 200
    assert api.get("longtoushan_assistant",
                   f"/api/checkins/recipients/{recipient.id}/history").status_code == 404


def test_a_follow_up_card_tells_its_check_in_apart(api, recipient):
    """Issue 21: the cards read alike ("杨春梅 · 有疑点 · 2026-12"). Each carries the check-in's
    time and selfie, the reference photo, and the phone as the caller's role may see it."""
    record, _ = recipient.check_in(accuracy_m=0)
    items = api.get(ASSISTANT, "/api/checkins/follow-ups").get_json()["items"]
    card = next(f for f in items if f["checkin_id"] == record["id"])
    assert card["checkin_photo_sha256"] == record["photo"]["sha256"]
    assert datetime.fromisoformat(card["checkin_captured_at"]) == \
        datetime.fromisoformat(record["captured_at"])
    assert card["reference_photo_sha256"] and card["phone"] == recipient.phone
    assert all(flag["detail_zh"] for flag in card["flags"])
    seen = api.get("county_supervisor", "/api/checkins/follow-ups").get_json()["items"]
    masked = next(f for f in seen if f["id"] == card["id"])["phone"]
    assert masked != recipient.phone and masked[:3] == recipient.phone[:3] and "*" in masked
