"""The argon2 cost: RFC 9106 everywhere but the test suite, which may not leak its cheap one."""

import pytest
from argon2 import extract_parameters, profiles

from backend.auth import passwords


def test_outside_an_app_passwords_hash_with_rfc_9106_low_memory():
    parameters = extract_parameters(passwords.hash_password("a long passphrase"))

    assert parameters == profiles.RFC_9106_LOW_MEMORY
    assert (parameters.memory_cost, parameters.time_cost) == (65536, 3)


def test_a_real_server_refuses_the_test_profile():
    with pytest.raises(RuntimeError, match="test suite only"):
        passwords.check_profile({"PASSWORD_HASH_PROFILE": "CHEAPEST"})
    passwords.check_profile({"PASSWORD_HASH_PROFILE": "CHEAPEST", "TESTING": True})
    passwords.check_profile({})


@pytest.mark.parametrize("profile", ["cheapest", "get_default_parameters", "Parameters", ""])
def test_an_unknown_profile_stops_the_start(profile):
    with pytest.raises(RuntimeError, match="not an argon2-cffi profile"):
        passwords.check_profile({"PASSWORD_HASH_PROFILE": profile})


def test_a_hash_made_under_one_profile_verifies_under_another():
    """Seeded with the tests' profile, signed in by a server with the default: still valid,
    and flagged for a rehash to the stronger cost."""
    cheap = passwords._hasher_for("CHEAPEST").hash("s3cret-phrase")

    assert passwords.verify_password(cheap, "s3cret-phrase")
    assert not passwords.verify_password(cheap, "wrong")
    assert passwords.needs_rehash(cheap)


def test_the_operator_picks_a_profile_and_cannot_pick_the_tests_one(monkeypatch, tmp_path):
    from backend.config import load_config

    monkeypatch.delenv("PASSWORD_HASH_PROFILE", raising=False)
    assert "PASSWORD_HASH_PROFILE" not in load_config(str(tmp_path))  # passwords' default
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", "RFC_9106_HIGH_MEMORY")
    passwords.check_profile(load_config(str(tmp_path)))
    monkeypatch.setenv("PASSWORD_HASH_PROFILE", "CHEAPEST")
    with pytest.raises(RuntimeError, match="test suite only"):
        passwords.check_profile(load_config(str(tmp_path)))
