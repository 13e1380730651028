"""Web Push rules (backend/checkins/push_rules.py): which endpoints the server may POST to
(the SSRF guard), the subscription keys RFC 8291 needs, what a reminder says, and which push
service answers end a subscription (RFC 8030 section 7.3)."""

from __future__ import annotations

import base64
import json
import os
from datetime import date

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.checkins import push_rules
from backend.config import DEFAULT_PUSH_SERVICE_HOSTS

HOSTS = push_rules.parse_host_patterns(DEFAULT_PUSH_SERVICE_HOSTS)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_keys() -> tuple[str, str]:
    point = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(point), b64url(os.urandom(16))


@pytest.mark.parametrize("endpoint", [
    "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91b",
    "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
    "https://web.push.apple.com/QGuQyavXutnMH",
    "https://db5p.notify.windows.com/w/?token=BQYAAAD",
    "https://FCM.googleapis.com:443/fcm/send/x",
])
def test_the_real_push_services_are_allowed(endpoint):
    assert push_rules.endpoint_problem(endpoint, HOSTS) is None


@pytest.mark.parametrize(("endpoint", "why"), [
    ("http://fcm.googleapis.com/fcm/send/x", "must be https"),
    ("https://evil.example/fcm/send/x", "not a known push service"),
    ("https://fcm.googleapis.com.evil.example/x", "not a known push service"),
    ("https://notify.windows.com/w/", "not a known push service"),  # the wildcard's own suffix
    ("https://evilnotify.windows.com/w/", "not a known push service"),
    ("https://fcm.googleapis.com:8443/fcm/send/x", "not a known push service"),
    ("https://127.0.0.1/push", "must name a push service, not an IP address"),
    ("https://[::1]/push", "must name a push service, not an IP address"),
    ("https://169.254.169.254/latest/meta-data", "must name a push service, not an IP address"),
    ("https://2130706433/push", "must name a push service, not an IP address"),
    ("https://user:pw@fcm.googleapis.com/fcm/send/x", "must not hold credentials"),
    ("https://fcm.googleapis.com@127.0.0.1/x", "must not hold credentials"),
    ("https:///nohost", "not a URL"),
    ("https://fcm.googleapis.com:99999/x", "not a URL"),
    ("file:///etc/passwd", "must be https"),
    ("https://fcm.googleapis.com/" + "x" * 1024, "too long"),
])
def test_other_endpoints_are_refused(endpoint, why):
    assert push_rules.endpoint_problem(endpoint, HOSTS) == why


PLAIN = "must be a plain https://host/path URL"


@pytest.mark.parametrize("endpoint", [
    # Issue 20: each passed the allowlist, and the sender's parser (urllib3, under requests)
    # read another host, or another path, than the check did.
    "https://127.0.0.1\\.notify.windows.com/x",
    "https://169.254.169.254\\.notify.windows.com/latest/meta-data",
    "https://fcm.googleapis.com\\@127.0.0.1/x",
    "https://evil.example%2F.notify.windows.com/x",
    "https://fcm.googleapis.com%2F@evil.example/x",
    "https://fcm.googleapis.com/fcm/send/..%2F..%2Fadmin",
    "https://fcm.googleapis.com/fcm/send/a%2fb",
    "https://fcm.googleapis.com/fcm/send/a%5Cb",
    "https://fcm.googleapis.com/fcm/send/a b",
    "https://fcm.googleapis.com /fcm/send/x",
    "https://fcm.googleapis.com./fcm/send/x",
    "https://db5p.notify.windows.com./w/?token=x",
    "https://fcm.googleapis.com/fcm/send/../../admin",
    "https://fcm.googleapis.com/fcm/send/x\\y",
    "https://fcm.googleapis.com/fcm/send/x\ty",
    "https://fcm.googleapis.com",
    "https://fcm.googleapis.com?x=1",
    "https://fcm.googleapis.com/fcm/send/x#frag",
    "https://fcm.googleapis.com:0443/fcm/send/x",
    "https://xn--fcm.googleapis.com\u3002evil.example/x",
])
def test_endpoints_that_do_not_round_trip_are_refused(endpoint):
    assert push_rules.endpoint_problem(endpoint, HOSTS) in (PLAIN, "must not have a fragment",
                                                            "must not hold credentials",
                                                            "not a URL"), endpoint
    assert push_rules.endpoint_problem(endpoint, HOSTS) is not None


def test_a_windows_token_keeps_its_escapes_in_the_query():
    """WNS channel URIs carry a base64 token, escaped, in the query: the query cannot change
    where the request goes once host and path round-trip."""
    endpoint = "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAC%2bxYz%2fLw%3d%3d"
    assert push_rules.endpoint_problem(endpoint, HOSTS) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "10.0.0.8",
                                     "192.168.1.1", "::1", "fd00::1", "0.0.0.0",
                                     "100.64.0.1"])
def test_addresses_that_are_not_public_are_refused_at_connect_time(address):
    assert not push_rules.is_public_address(address)


def test_public_addresses_may_be_connected_to():
    assert push_rules.is_public_address("142.250.72.138")
    assert push_rules.is_public_address("2607:f8b0:4005:80b::200a")


def test_host_patterns():
    assert push_rules.parse_host_patterns(" A.example , *.b.example,,") == ("a.example",
                                                                            "*.b.example")
    # A lone "*" would allow every host: it names none.
    assert not push_rules.host_allowed("anything.example", None, ("*",))
    # A test push service on its own port is named with the port.
    assert push_rules.host_allowed("localhost", 8443, ("localhost:8443",))
    assert not push_rules.host_allowed("localhost", 8444, ("localhost:8443",))
    assert not push_rules.host_allowed("localhost", None, ("localhost:8443",))


def test_subscription_keys_are_a_p256_point_and_a_16_byte_secret():
    p256dh, auth = browser_keys()
    assert push_rules.key_problems(p256dh, auth) == {}
    assert push_rules.key_problems(p256dh + "==", auth + "==") == {}  # padding is tolerated
    off_curve = b64url(b"\x04" + b"\x01" * 64)
    assert "keys.p256dh" in push_rules.key_problems(off_curve, auth)
    assert "keys.p256dh" in push_rules.key_problems(p256dh[:-2], auth)  # 64 bytes
    assert "keys.p256dh" in push_rules.key_problems("not/base64+url", auth)
    compressed = b64url(b"\x02" + base64.urlsafe_b64decode(p256dh + "=")[1:33])
    assert "keys.p256dh" in push_rules.key_problems(compressed, auth)
    assert "keys.auth" in push_rules.key_problems(p256dh, b64url(os.urandom(15)))
    assert "keys.auth" in push_rules.key_problems(p256dh, "")


def test_only_404_and_410_end_a_subscription():
    assert push_rules.is_gone(404) and push_rules.is_gone(410)
    assert not any(push_rules.is_gone(s) for s in (None, 201, 400, 413, 429, 500, 503))


def test_the_reminder_says_when_in_plain_chinese_and_names_no_one():
    notice = push_rules.reminder_notice(date(2026, 12, 20))
    payload = json.loads(notice.payload())
    assert payload == {"title": "低保签到提醒", "body": "请在12月20日前用手机完成本期签到。",
                       "url": "/#/checkin", "tag": "checkin-reminder"}
    assert len(notice.payload().encode()) < 200  # small: one encrypted record
    assert notice.sms() == "【低保签到提醒】请在12月20日前用手机完成本期签到。"
