"""Web Push to recipients (issue 12): the public key, subscribe and unsubscribe (owned by the
caller, idempotent by endpoint, audited), the SSRF guard on endpoints, and the reminders job
against a REAL push service on loopback: an HTTPS server that answers like one, whose
received body is decrypted here with the subscription's own keys (RFC 8291 aes128gcm)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from py_vapid import Vapid, Vapid02
from py_vapid.utils import b64urlencode
from sqlalchemy import select

from backend import clock
from backend.audit.models import AuditEvent
from backend.checkins import jobs
from backend.checkins.models import PushSubscription
from backend.checkins.rules import CHINA
from tests.api.test_checkins import activated, approved_households

REMINDER_DAY = dt.datetime(2026, 12, 17, 9, tzinfo=CHINA)  # three days before the 20th
FCM = "https://fcm.googleapis.com/fcm/send/"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class Browser:
    """What a browser's pushManager.subscribe() makes: a P-256 key pair and an auth secret."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.auth_secret = os.urandom(16)

    def subscription(self) -> dict:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint,
                "keys": {"p256dh": b64url(point), "auth": b64url(self.auth_secret)}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.private_key,
                                           auth_secret=self.auth_secret, version="aes128gcm"))


class RecordingSms:
    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        self.sent.append((phone, message))


@pytest.fixture
def vapid(app):
    """A key pair as `flask checkins vapid-keys` prints it, configured for this test."""
    key = Vapid()
    key.generate_keys()
    public = b64urlencode(key.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    private = b64urlencode(key.private_key.private_numbers().private_value.to_bytes(32, "big"))
    saved = {name: app.config[name] for name in
             ("VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT", "PUSH_SERVICE_HOSTS")}
    app.config.update(VAPID_PUBLIC_KEY=public, VAPID_PRIVATE_KEY=private,
                      VAPID_SUBJECT="mailto:ops@example.gov.cn")
    yield public
    app.config.update(saved)


@pytest.fixture
def sms(app):
    recorder = RecordingSms()
    app.extensions["doorstep.sms"] = recorder
    yield recorder
    app.extensions.pop("doorstep.sms", None)


@pytest.fixture
def recipient(api, db_session):
    clock.freeze(dt.datetime(2026, 12, 5, 10, tzinfo=CHINA))
    try:
        yield activated(api, approved_households(db_session)[0])
    finally:
        clock.freeze(None)


def subscribe(recipient, subscription):
    return recipient.api.post(recipient.name, "/api/checkins/push/subscriptions",
                              json=subscription)


# --- the API ---------------------------------------------------------------------------------


def test_nothing_is_pushed_until_vapid_keys_are_configured(api, recipient):
    key = api.get(recipient.name, "/api/checkins/push/key")
    assert key.status_code == 404 and key.mimetype == "application/problem+json"
    assert key.get_json()["type"] == "push-not-configured"
    refused = subscribe(recipient, Browser(FCM + "abc").subscription())
    assert refused.status_code == 404 and refused.get_json()["type"] == "push-not-configured"


def test_the_browser_gets_the_public_key(api, recipient, vapid):
    answer = api.get(recipient.name, "/api/checkins/push/key")
    assert answer.status_code == 200 and answer.get_json() == {"public_key": vapid}
    assert api.client.get("/api/checkins/push/key").status_code == 401


def test_subscribing_is_idempotent_by_endpoint_and_audited(db_session, recipient, vapid):
    browser = Browser(FCM + "dQw4w9WgXcQ:APA91b")
    first = subscribe(recipient, browser.subscription())
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["endpoint_host"] == "fcm.googleapis.com" and "endpoint" not in body
    replay = subscribe(recipient, browser.subscription())
    assert replay.status_code == 200 and replay.get_json()["id"] == body["id"]
    renewed = Browser(browser.endpoint)  # the browser made new keys for the same endpoint
    again = subscribe(recipient, renewed.subscription())
    assert again.status_code == 200 and again.get_json()["id"] == body["id"]
    rows = db_session.scalars(select(PushSubscription)).all()
    assert len(rows) == 1 and rows[0].p256dh == renewed.subscription()["keys"]["p256dh"]
    actions = db_session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_id == body["id"]).order_by(AuditEvent.id)).all()
    assert actions == ["checkin.push_subscribed", "checkin.push_keys_renewed"]
    audited = db_session.scalars(select(AuditEvent.after).where(
        AuditEvent.object_id == body["id"])).all()
    assert all("dQw4w9WgXcQ" not in json.dumps(after) for after in audited)


def test_another_recipients_subscription_cannot_be_deleted(api, db_session, recipient, vapid):
    other = activated(api, approved_households(db_session)[1], index=1)
    mine = subscribe(recipient, Browser(FCM + "mine").subscription()).get_json()["id"]
    path = f"/api/checkins/push/subscriptions/{mine}"
    refused = api.client.delete(path, headers=api.headers(other.name))
    assert refused.status_code == 404
    assert refused.get_json()["type"] == "push-subscription-not-found"
    assert api.client.delete(path, headers=api.headers("wenping_assistant")).status_code == 404
    assert db_session.get(PushSubscription, mine) is not None
    assert api.client.delete(path, headers=api.headers(recipient.name)).status_code == 204
    assert db_session.get(PushSubscription, mine) is None
    assert db_session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_id == mine, AuditEvent.action == "checkin.push_unsubscribed"))
    assert api.client.delete(path, headers=api.headers(recipient.name)).status_code == 404


def test_two_recipients_sharing_a_phone_each_keep_their_subscription(api, db_session,
                                                                     recipient, vapid):
    other = activated(api, approved_households(db_session)[1], index=1)
    shared = Browser(FCM + "family-phone").subscription()
    a, b = subscribe(recipient, shared), subscribe(other, shared)
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.get_json()["id"] != b.get_json()["id"]


def test_staff_may_subscribe_too(api, vapid):
    answer = api.post("wenping_assistant", "/api/checkins/push/subscriptions",
                      json=Browser(FCM + "staff").subscription())
    assert answer.status_code == 201


@pytest.mark.parametrize("endpoint", [
    "http://fcm.googleapis.com/fcm/send/abc",  # not https
    "https://internal.example.gov.cn/admin",  # not a push service
    "https://127.0.0.1:6379/",  # an IP literal (and the local Redis)
    "https://[::1]/push",
    "https://169.254.169.254/latest/meta-data/",
    "https://user:pw@fcm.googleapis.com/fcm/send/abc",
    # Issue 20: passed the allowlist; the sender then POSTed to https://127.0.0.1/.
    "https://127.0.0.1\\.notify.windows.com/x",
    "https://169.254.169.254\\.notify.windows.com/latest/meta-data",
    "https://fcm.googleapis.com./fcm/send/abc",
    "https://fcm.googleapis.com/fcm/send/a%2Fb",
    "https://fcm.googleapis.com/fcm/send/a b",
])
def test_endpoints_off_the_allowlist_are_refused(db_session, recipient, vapid, endpoint):
    answer = subscribe(recipient, {**Browser(FCM).subscription(), "endpoint": endpoint})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    body = answer.get_json()
    assert body["type"] == "push-endpoint-not-allowed" and "endpoint" in body["errors"]
    assert db_session.scalars(select(PushSubscription)).all() == []


@pytest.mark.parametrize(("keys", "field"), [
    ({"p256dh": b64url(b"\x04" + b"\x01" * 64), "auth": b64url(os.urandom(16))},
     "keys.p256dh"),
    ({"p256dh": "not base64!", "auth": b64url(os.urandom(16))}, "keys.p256dh"),
    ({"auth": b64url(os.urandom(8))}, "keys.auth"),
])
def test_bad_keys_are_a_validation_problem(recipient, vapid, keys, field):
    subscription = Browser(FCM + "k").subscription()
    subscription["keys"] = {**subscription["keys"], **keys}
    answer = subscribe(recipient, subscription)
    assert answer.status_code == 422
    assert answer.get_json()["type"] == "validation-failed"
    assert field in answer.get_json()["errors"]


def test_a_subscription_without_keys_is_refused(recipient, vapid):
    answer = subscribe(recipient, {"endpoint": FCM + "x"})
    assert answer.status_code == 422 and "keys" in answer.get_json()["errors"]


# --- the reminders job against a push service on loopback ------------------------------------


class PushService:
    """A push service on https://localhost:PORT: keeps each POST, answers 201 or what a test
    set for a path (410 for an expired subscription)."""

    def __init__(self, tmp_path):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(hours=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                .sign(key, hashes.SHA256()))
        self.cert_file = tmp_path / "push-service.pem"
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file = tmp_path / "push-service.key"
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        self.received: list[dict] = []
        self.answers: dict[str, int] = {}
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                service.received.append({"path": self.path, "headers": {
                    name.lower(): value for name, value in self.headers.items()},
                                         "body": body})
                status = service.answers.get(self.path, 201)
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "/push/redirected")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def endpoint(self, name: str) -> str:
        return f"https://localhost:{self.port}/push/{name}"


@pytest.fixture
def push_service(app, tmp_path, monkeypatch, vapid):
    service = PushService(tmp_path)
    service.thread.start()
    # The test service's own certificate is trusted for this test only (requests reads it);
    # the allowlist names it, and nothing else.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(service.cert_file))
    app.config["PUSH_SERVICE_HOSTS"] = f"localhost:{service.port}"
    # It listens on localhost: a private address the sender refuses unless told otherwise.
    monkeypatch.setitem(app.config, "PUSH_PRIVATE_ADDRESSES_ALLOWED", True)
    yield service
    service.server.shutdown()
    service.server.server_close()


def run_reminders() -> int:
    clock.freeze(REMINDER_DAY)
    try:
        return jobs.reminders.run()
    finally:
        clock.freeze(None)


def test_a_push_service_that_resolves_to_a_private_address_is_never_connected_to(
        app, recipient, push_service, sms, vapid, monkeypatch):
    """Issue 20: the resolved address is checked when the sender connects, so a name on the
    allowlist that resolves (or is rebound) to 127.0.0.1 or 169.254.169.254 gets nothing."""
    browser = Browser(push_service.endpoint("phone-1"))
    assert subscribe(recipient, browser.subscription()).status_code == 201
    monkeypatch.setitem(app.config, "PUSH_PRIVATE_ADDRESSES_ALLOWED", False)
    run_reminders()
    assert push_service.received == []


def test_a_reminder_is_pushed_encrypted_and_signed(recipient, push_service, sms, vapid):
    browser = Browser(push_service.endpoint("phone-1"))
    assert subscribe(recipient, browser.subscription()).status_code == 201

    assert run_reminders() == 1
    (message,) = push_service.received
    assert message["path"] == "/push/phone-1"
    assert message["headers"]["content-encoding"] == "aes128gcm"
    assert int(message["headers"]["ttl"]) > 0
    assert browser.decrypt(message["body"]) == {
        "title": "低保签到提醒", "body": "请在12月20日前用手机完成本期签到。",
        "url": "/#/checkin", "tag": "checkin-reminder"}
    # Signed with the server's VAPID key (RFC 8292), for this push service's origin.
    authorization = message["headers"]["authorization"]
    assert Vapid02.verify(authorization) and f"k={vapid}" in authorization
    token = authorization.split("t=")[1].split(",")[0]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == f"https://localhost:{push_service.port}"
    assert claims["sub"] == "mailto:ops@example.gov.cn"
    assert sms.sent == []  # pushed, so no SMS


def test_a_410_forgets_the_subscription_and_the_reminder_goes_by_sms(
        db_session, recipient, push_service, sms):
    browser = Browser(push_service.endpoint("expired"))
    subscription_id = subscribe(recipient, browser.subscription()).get_json()["id"]
    push_service.answers["/push/expired"] = 410

    assert run_reminders() == 1
    assert len(push_service.received) == 1
    assert db_session.get(PushSubscription, subscription_id) is None
    db_session.commit()  # audit rows go in, chained, at the job's commit (ADR 0005)
    assert db_session.scalar(select(AuditEvent.action).where(
        AuditEvent.object_id == subscription_id).order_by(AuditEvent.id.desc()).limit(1)) \
        == "checkin.push_subscription_gone"
    assert sms.sent == [(recipient.phone, "【低保签到提醒】请在12月20日前用手机完成本期签到。")]


def test_other_failures_keep_the_subscription_and_fall_back_to_sms(
        app, db_session, recipient, push_service, sms, caplog):
    busy = subscribe(recipient, Browser(push_service.endpoint("busy")).subscription())
    push_service.answers["/push/busy"] = 503
    # A second phone whose push service does not answer at all: nothing listens there.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        silent_port = probe.getsockname()[1]
    app.config["PUSH_SERVICE_HOSTS"] += f",localhost:{silent_port}"
    silent = subscribe(recipient, Browser(
        f"https://localhost:{silent_port}/push/silent").subscription())
    with caplog.at_level("WARNING", logger="backend.checkins.webpush"):
        assert run_reminders() == 1
    for kept in (busy, silent):
        assert db_session.get(PushSubscription, kept.get_json()["id"]) is not None
    assert "ConnectionError" in caplog.text and "503" in caplog.text
    assert [phone for phone, _ in sms.sent] == [recipient.phone]
    assert "the next run tries again" in caplog.text
    assert "/push/busy" not in caplog.text  # the endpoint is a capability: never logged


def test_one_sent_push_is_enough(db_session, recipient, push_service, sms):
    subscribe(recipient, Browser(push_service.endpoint("old-tablet")).subscription())
    subscribe(recipient, Browser(push_service.endpoint("phone")).subscription())
    push_service.answers["/push/old-tablet"] = 500
    assert run_reminders() == 1
    assert sorted(m["path"] for m in push_service.received) == ["/push/old-tablet",
                                                                "/push/phone"]
    assert sms.sent == []


def test_no_subscription_means_sms(recipient, push_service, sms):
    assert run_reminders() == 1
    assert push_service.received == []
    assert sms.sent == [(recipient.phone, "【低保签到提醒】请在12月20日前用手机完成本期签到。")]


def test_without_vapid_keys_subscriptions_stay_unused_and_sms_goes(app, recipient,
                                                                   push_service, sms):
    subscribe(recipient, Browser(push_service.endpoint("phone")).subscription())
    app.config["VAPID_PRIVATE_KEY"] = ""
    assert run_reminders() == 1
    assert push_service.received == [] and [p for p, _ in sms.sent] == [recipient.phone]


def test_an_unreadable_vapid_key_never_stops_the_sms(app, recipient, push_service, sms,
                                                     caplog):
    subscribe(recipient, Browser(push_service.endpoint("phone")).subscription())
    app.config["VAPID_PRIVATE_KEY"] = "not-a-key"
    assert run_reminders() == 1
    assert push_service.received == [] and len(sms.sent) == 1
    assert "VAPID private key cannot be read" in caplog.text


def test_the_allowlist_is_checked_again_before_each_post(app, recipient, push_service, sms):
    """A subscription stored under an older, wider allowlist is not posted to."""
    subscribe(recipient, Browser(push_service.endpoint("phone")).subscription())
    app.config["PUSH_SERVICE_HOSTS"] = "fcm.googleapis.com"
    assert run_reminders() == 1
    assert push_service.received == [] and len(sms.sent) == 1


def test_a_redirect_is_not_followed(db_session, recipient, push_service, sms):
    """A push service may not send the server elsewhere (SSRF by redirect)."""
    kept = subscribe(recipient, Browser(push_service.endpoint("moved")).subscription())
    push_service.answers["/push/moved"] = 307
    assert run_reminders() == 1
    assert [m["path"] for m in push_service.received] == ["/push/moved"]
    assert db_session.get(PushSubscription, kept.get_json()["id"]) is not None
    assert len(sms.sent) == 1
