"""The webhooks' pure rules: Standard Webhooks signing (checked against the independent
`standardwebhooks` package), the retry schedule, the URL and address policy, masking by
purpose."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from backend.webhooks import rules

ID_NUMBER = "530621196203090317"
AT = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


# --- signing -----------------------------------------------------------------------------------

def test_a_new_secret_is_whsec_and_32_random_bytes():
    secret = rules.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert rules.new_secret() != secret


def test_the_headers_verify_with_the_independent_implementation():
    secret = rules.new_secret()
    body = json.dumps({"type": "case.decided", "data": {"case_id": "c1"}}).encode()
    timestamp = int(datetime.now(UTC).timestamp())
    headers = rules.delivery_headers([secret], "msg_1", timestamp, body)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "case.decided",
                                                    "data": {"case_id": "c1"}}
    # The body changed by one byte, or another secret: refused.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(body, headers)


def test_during_a_rotation_both_secrets_sign_and_either_verifies():
    old, new = rules.new_secret(), rules.new_secret()
    in_force = rules.secrets_in_force(new, old, AT + timedelta(hours=24), AT)
    assert in_force == [new, old]
    body = b'{"a":1}'
    timestamp = int(datetime.now(UTC).timestamp())
    headers = rules.delivery_headers(in_force, "msg_2", timestamp, body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)
    # After the overlap only the new one signs.
    assert rules.secrets_in_force(new, old, AT + timedelta(hours=24),
                                  AT + timedelta(hours=24)) == [new]


def test_the_signed_content_is_id_dot_timestamp_dot_body():
    # A value computed by hand from the specification's text (HMAC-SHA256, base64).
    import hashlib
    import hmac

    key = bytes(range(32))
    secret = "whsec_" + base64.b64encode(key).decode()
    expected = base64.b64encode(hmac.new(key, b"msg_x.1700000000.{}", hashlib.sha256)
                                .digest()).decode()
    assert rules.sign(secret, "msg_x", 1700000000, b"{}") == f"v1,{expected}"


# --- retries -----------------------------------------------------------------------------------

def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    assert rules.backoff(1, lambda: 0.0) == timedelta(seconds=15)
    assert rules.backoff(1, lambda: 1.0) == timedelta(seconds=30)
    assert rules.backoff(4, lambda: 1.0) == timedelta(seconds=240)
    assert rules.backoff(30, lambda: 1.0) == rules.RETRY_CAP
    assert rules.backoff(30, lambda: 0.0) == rules.RETRY_CAP / 2


@pytest.mark.parametrize("jitter", [0.0, 0.5, 1.0])
def test_retries_go_on_for_at_least_24_hours_then_dead_letter(jitter):
    started = now = AT
    failures = 0
    while True:
        failures += 1
        retry_at = rules.next_attempt_at(failures, started, now, lambda: jitter)
        if retry_at is None:
            break
        assert retry_at > now
        now = retry_at
    assert now - started >= timedelta(hours=24)
    assert now - started < timedelta(hours=24) + rules.RETRY_CAP
    assert 8 <= failures <= 40


# --- where deliveries may go -------------------------------------------------------------------

PRODUCTION = rules.UrlPolicy()
TESTS = rules.UrlPolicy(allow_http_loopback=True)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.8", "172.16.3.4", "192.168.1.1", "169.254.169.254", "::1",
    "fe80::1", "fc00::1", "0.0.0.0", "100.64.0.1", "224.0.0.1", "::ffff:10.0.0.1",
    "::ffff:169.254.169.254", "198.18.0.1", "240.0.0.1"])
def test_non_global_addresses_are_refused(address):
    assert rules.address_refusal(address, PRODUCTION) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                                     "114.114.114.114"])
def test_public_addresses_are_allowed(address):
    assert rules.address_refusal(address, PRODUCTION) is None


def test_the_test_setting_allows_127_0_0_1_only():
    assert rules.address_refusal("127.0.0.1", TESTS) is None
    assert rules.address_refusal("127.0.0.2", TESTS) is not None
    assert rules.address_refusal("10.0.0.1", TESTS) is not None


@pytest.mark.parametrize("url,why", [
    ("http://hooks.example.org/x", "https"),
    ("ftp://hooks.example.org/x", "https"),
    ("https://user:pw@hooks.example.org/x", "credentials"),
    ("https:///x", "no host"),
    ("https://localhost/x", "internal"),
    ("https://metadata.google.internal/computeMetadata", "internal"),
    ("https://10.1.2.3/x", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[::1]/x", "loopback"),
    ("https://hooks.example.org/" + "a" * 2048, "longer"),
    ("https://hooks.example.org:99999/", "valid"),
])
def test_urls_refused_on_their_face(url, why):
    with pytest.raises(rules.RefusedUrl, match=why):
        rules.parse_url(url, PRODUCTION)


def test_http_to_loopback_only_with_the_test_setting():
    with pytest.raises(rules.RefusedUrl):
        rules.parse_url("http://127.0.0.1:8080/hook", PRODUCTION)
    target = rules.parse_url("http://127.0.0.1:8080/hook?x=1", TESTS)
    assert (target.scheme, target.host, target.port, target.path) == (
        "http", "127.0.0.1", 8080, "/hook?x=1")
    with pytest.raises(rules.RefusedUrl):
        rules.parse_url("http://hooks.example.org/hook", TESTS)


def test_an_https_url_is_parsed():
    target = rules.parse_url("https://Hooks.Example.org/in", PRODUCTION)
    assert (target.host, target.port, target.path) == ("hooks.example.org", 443, "/in")


# --- masking by purpose ------------------------------------------------------------------------

EVENT = {"case_id": "c1", "applicant_name": "罗德明", "id_number": ID_NUMBER,
         "members": [{"name": "杨春梅", "id_number": ID_NUMBER, "phone": "13812345678"}],
         "note": f"身份证 {ID_NUMBER}，电话 13812345678", "amount_yuan": "1350.00"}


def test_joint_handling_keeps_names_and_full_id_numbers_never_phones():
    shown = rules.mask_payload(EVENT, rules.PURPOSES["joint_handling"])
    assert shown["applicant_name"] == "罗德明" and shown["id_number"] == ID_NUMBER
    assert shown["members"][0]["phone"] == "138****5678"
    assert rules.discloses_full_id(shown)


@pytest.mark.parametrize("purpose", ["reporting", "dashboard"])
def test_other_purposes_mask_every_id_number(purpose):
    shown = rules.mask_payload(EVENT, rules.PURPOSES[purpose])
    text = json.dumps(shown, ensure_ascii=False)
    assert ID_NUMBER not in text and "13812345678" not in text
    assert shown["id_number"] == "5306**********0317"
    assert not rules.discloses_full_id(shown)
    assert shown["amount_yuan"] == "1350.00" and shown["case_id"] == "c1"


def test_the_dashboard_gets_no_names():
    shown = rules.mask_payload(EVENT, rules.PURPOSES["dashboard"])
    # Emptied, not removed: the data still matches its event type's schema.
    assert shown["applicant_name"] is None and shown["members"][0]["name"] is None
    assert "罗德明" not in json.dumps(shown, ensure_ascii=False)


def test_a_run_of_failures_disables():
    assert not rules.should_disable(29, 30)
    assert rules.should_disable(30, 30)
