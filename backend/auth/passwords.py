"""Password hashing with argon2id, its cost taken from argon2-cffi's named profiles.

Production uses the library's default (RFC 9106's low-memory profile: 64 MiB, 3 passes).
The test suite signs in thousands of times; ``PASSWORD_HASH_PROFILE = "CHEAPEST"`` (the
library's own profile for tests) makes each hash cost microseconds instead of a tenth of a
second, and ``check_profile`` refuses it anywhere but under ``TESTING``.
"""

from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

DEFAULT_PROFILE = "RFC_9106_LOW_MEMORY"
TEST_ONLY_PROFILES = frozenset({"CHEAPEST"})


@cache
def _hasher_for(profile: str) -> PasswordHasher:
    return PasswordHasher.from_parameters(getattr(profiles, profile))


def _hasher() -> PasswordHasher:
    profile = DEFAULT_PROFILE
    if has_app_context():
        profile = current_app.config.get("PASSWORD_HASH_PROFILE", DEFAULT_PROFILE)
    return _hasher_for(profile)


def check_profile(config) -> None:
    """Refuse to start with an unknown profile, or a test-only one outside the tests."""
    profile = config.get("PASSWORD_HASH_PROFILE", DEFAULT_PROFILE)
    if not isinstance(getattr(profiles, profile, None), profiles.Parameters):
        raise RuntimeError(f"PASSWORD_HASH_PROFILE {profile!r} is not an argon2-cffi profile")
    if profile in TEST_ONLY_PROFILES and not config.get("TESTING"):
        raise RuntimeError(f"PASSWORD_HASH_PROFILE {profile!r} is for the test suite only")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("doorstep-timing-equaliser")


def dummy_hash() -> str:
    """Verifying against this keeps a failed login for an unknown user as slow as for a
    known one, so timing does not reveal which usernames exist."""
    return _dummy_hash(_hasher())
