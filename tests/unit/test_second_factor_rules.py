"""Pure rules of the second factor and the idle timeout (backend/auth/rules.py) and the audit
anchor's statement (backend/audit/rules.py): no Flask, no database.

Sources: RFC 6238 (TOTP: 30-second steps, 6 digits, §5.2 a code is accepted once, a little
clock drift allowed); GB/T 22239-2019 8.1.4.1 (level 3: two or more authentication
techniques for administrators and those who decide); 8.1.4.1 d) (idle sessions end).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pyotp

from backend.audit import rules as audit_rules
from backend.auth import rules

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # 160 bits, as pyotp.random_base32() makes
NOW = datetime(2026, 12, 7, 2, 0, 10, tzinfo=UTC)


def test_the_roles_that_decide_need_a_second_factor_others_only_once_enrolled():
    for role in (rules.APPROVER, rules.COUNTY_SUPERVISOR, rules.ADMIN):
        assert rules.needs_second_factor({role}, is_enrolled=False)
    for role in (rules.FIELD_WORKER, rules.VILLAGE_ASSISTANT, rules.INTAKE_CLERK, rules.REVIEWER):
        assert not rules.needs_second_factor({role}, is_enrolled=False)
        assert rules.needs_second_factor({role}, is_enrolled=True)


def test_the_step_is_rfc_6238s_thirty_seconds_since_the_epoch():
    assert rules.totp_step(datetime(1970, 1, 1, 0, 0, 59, tzinfo=UTC)) == 1
    # RFC 6238 Appendix B: T = 0x23523EC at 2005-03-18 01:58:29 UTC.
    assert rules.totp_step(datetime(2005, 3, 18, 1, 58, 29, tzinfo=UTC)) == 0x23523EC


def test_a_code_matches_its_step_and_one_step_of_drift_either_side():
    totp = pyotp.TOTP(SECRET)
    step = rules.totp_step(NOW)
    assert rules.matching_totp_step(SECRET, totp.at(NOW), NOW) == step
    assert rules.matching_totp_step(SECRET, totp.at(NOW - timedelta(seconds=30)), NOW) == step - 1
    assert rules.matching_totp_step(SECRET, totp.at(NOW + timedelta(seconds=30)), NOW) == step + 1
    assert rules.matching_totp_step(SECRET, totp.at(NOW + timedelta(seconds=90)), NOW) is None
    spaced = totp.at(NOW)[:3] + " " + totp.at(NOW)[3:]
    assert rules.matching_totp_step(SECRET, spaced, NOW) == step
    assert rules.matching_totp_step(SECRET, "12345", NOW) is None
    assert rules.matching_totp_step(SECRET, "abcdef", NOW) is None


def test_a_used_step_and_every_older_one_are_replays():
    assert not rules.is_replay(100, None)
    assert rules.is_replay(100, 100)
    assert rules.is_replay(99, 100)
    assert not rules.is_replay(101, 100)


def test_recovery_codes_are_ten_distinct_fifty_bit_codes():
    codes = rules.new_recovery_codes(random.Random(7).choice)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" and rules.is_recovery_shaped(code)
               for code in codes)
    assert rules.is_recovery_shaped(codes[0].lower().replace("-", " "))
    assert not rules.is_recovery_shaped("123456")
    assert rules.normalise_code(" AbCdE-fGhIj ") == "abcdefghij"


def test_the_otpauth_uri_names_the_issuer_and_the_user():
    uri = rules.otpauth_uri(SECRET, "wenping_approver", "Doorstep")
    assert uri.startswith("otpauth://totp/Doorstep:wenping_approver?")
    assert f"secret={SECRET}" in uri and "issuer=Doorstep" in uri


def test_idle_allows_the_setting_plus_one_access_token_lifetime():
    idle, access = timedelta(minutes=30), timedelta(minutes=15)
    assert not rules.is_idle_too_long(NOW, NOW + idle + access, idle, access)
    assert rules.is_idle_too_long(NOW, NOW + idle + access + timedelta(seconds=1), idle, access)
    assert not rules.is_idle_too_long(NOW, NOW + timedelta(days=9), timedelta(0), access)


def test_phone_roles_have_no_idle_timeout():
    assert not rules.has_idle_timeout({rules.FIELD_WORKER})
    assert not rules.has_idle_timeout({rules.VILLAGE_ASSISTANT, rules.REVIEWER})
    assert rules.has_idle_timeout({rules.APPROVER})
    assert rules.has_idle_timeout({rules.INTAKE_CLERK})


def test_the_anchor_statement_changes_with_every_field():
    base = audit_rules.anchor_statement(3, "a" * 64, NOW)
    assert audit_rules.anchor_statement(3, "a" * 64, NOW) == base
    assert audit_rules.anchor_statement(4, "a" * 64, NOW) != base
    assert audit_rules.anchor_statement(3, "b" * 64, NOW) != base
    assert audit_rules.anchor_statement(3, "a" * 64, NOW + timedelta(seconds=1)) != base
