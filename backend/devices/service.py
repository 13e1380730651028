"""Device attestation keys: challenge, register with proof of possession, list, revoke.

Other packages read keys only through ``keys_by_id`` (plain dataclasses, revoked keys
with ``revoked_at``; ``rules.is_key_active`` says whether one counted at a time), never
through the table.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Label, Select, select, update
from sqlalchemy.exc import IntegrityError

from backend import clock
from backend.audit import service as audit
from backend.auth import rules as auth_rules
from backend.auth import service as auth
from backend.bulk import any_of, json_rows
from backend.dbtypes import new_id, utc_from_json
from backend.devices import rules
from backend.devices.models import DeviceKey, DeviceKeyChallenge
from backend.errors import ProblemError
from backend.extensions import db

MAX_OUTSTANDING_CHALLENGES = 5


@dataclass(frozen=True)
class DeviceKeyView:
    id: str
    user_id: str
    device_id: str
    public_key_jwk: dict
    created_at: datetime
    revoked_at: datetime | None


def _view(key: DeviceKey) -> DeviceKeyView:
    return DeviceKeyView(key.id, key.user_id, key.device_id, dict(key.public_key_jwk),
                         key.created_at, key.revoked_at)


def _chunks(values: Iterable[str], size: int = 500):
    items = sorted(set(values))
    for start in range(0, len(items), size):
        yield items[start:start + size]


@functools.cache
def _keys_named() -> Select:
    """Built once: every push asks it (backend/bulk.py: prebuilt statements)."""
    return select(DeviceKey).where(any_of(DeviceKey.id))


def keys_by_id(key_ids: Iterable[str]) -> dict[str, DeviceKeyView]:
    """Every named key that exists, revoked or not, by id (for the visit push)."""
    found: dict[str, DeviceKeyView] = {}
    for chunk in _chunks(k for k in key_ids if isinstance(k, str)):
        for key in db.session.scalars(_keys_named(), {"ids": chunk}):
            found[key.id] = _view(key)
    return found


@functools.cache
def keys_joinable(dialect: str) -> Label:
    """The keys named by the list bound as ``key_ids`` (revoked or not), as one JSON list,
    for another package to read beside its own row (a push of one visit or one check-in,
    issue 23); ``keys_from_joined`` makes the views of it."""
    return select(json_rows(dialect, DeviceKey.id, DeviceKey.user_id, DeviceKey.device_id,
                            DeviceKey.public_key_jwk, DeviceKey.created_at,
                            DeviceKey.revoked_at)).where(
        any_of(DeviceKey.id, "key_ids")).scalar_subquery().label("named_keys")


def keys_from_joined(rows: list | None) -> dict[str, DeviceKeyView]:
    found: dict[str, DeviceKeyView] = {}
    for key_id, user_id, device_id, jwk, created_at, revoked_at in rows or ():
        created = utc_from_json(created_at)
        assert created is not None
        found[key_id] = DeviceKeyView(key_id, user_id, device_id, dict(jwk), created,
                                      utc_from_json(revoked_at))
    return found


# --- registration ------------------------------------------------------------------------

def issue_challenge(user_id: str, device_id: str) -> DeviceKeyChallenge:
    """A fresh single-use nonce for this user on this device, valid a few minutes."""
    now = clock.now()
    seconds = current_app.config["DEVICE_KEY_CHALLENGE_SECONDS"]
    # Spent or expired nonces of this user are of no further use: keep the table small.
    db.session.execute(DeviceKeyChallenge.__table__.delete().where(
        DeviceKeyChallenge.user_id == user_id,
        (DeviceKeyChallenge.expires_at <= now) | DeviceKeyChallenge.used_at.is_not(None)))
    challenge = DeviceKeyChallenge(nonce=secrets.token_urlsafe(32), user_id=user_id,
                                   device_id=device_id, created_at=now,
                                   expires_at=now + timedelta(seconds=seconds))
    db.session.add(challenge)
    db.session.flush()
    # A few outstanding nonces per user are plenty (a retry, a second tab); older ones go.
    stale = db.session.scalars(select(DeviceKeyChallenge.nonce).where(
        DeviceKeyChallenge.user_id == user_id).order_by(
        DeviceKeyChallenge.created_at.desc(), DeviceKeyChallenge.nonce)
        .offset(MAX_OUTSTANDING_CHALLENGES)).all()
    if stale:
        db.session.execute(DeviceKeyChallenge.__table__.delete().where(
            DeviceKeyChallenge.nonce.in_(stale)))
    return challenge


def _spend_challenge(user_id: str, device_id: str, nonce: str) -> None:
    """Mark the nonce used, atomically: of two requests with one nonce only one wins."""
    now = clock.now()
    challenge = db.session.get(DeviceKeyChallenge, nonce) if isinstance(nonce, str) else None
    if challenge is None:
        slug: str | None = "device-key-challenge-invalid"
    else:
        slug = rules.is_challenge_usable(challenge.user_id, challenge.device_id,
                                         challenge.expires_at, challenge.used_at,
                                         user_id, device_id, now)
    if slug is None:
        spent = db.session.execute(update(DeviceKeyChallenge).where(
            DeviceKeyChallenge.nonce == nonce, DeviceKeyChallenge.used_at.is_(None))
            .values(used_at=now).execution_options(synchronize_session=False))
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            slug = "device-key-challenge-invalid"
    if slug is not None:
        raise ProblemError(slug, "Ask for a new challenge (POST /api/devices/keys/challenge) "
                                 "and sign it with the new key.")


def register(user_id: str, session_id: str | None, device_id: str, public_key_jwk: dict,
             nonce: str, signature: str, end_session: bool = False) -> tuple[DeviceKey, bool]:
    """Keep this device's new attestation key for the user, after it proved possession by
    signing the nonce. The user's older key on this device is revoked ("replaced"); the
    same key again is a no-op. Returns the key and whether it is new.

    ``end_session`` also ends the sign-in that registers (a colleague's phone must not
    keep the second investigator signed in).
    """
    if not rules.is_p256_public_jwk(public_key_jwk):
        raise ProblemError("device-key-invalid",
                           "Send the public half of an ECDSA P-256 key as a JWK.")
    public = rules.public_part(public_key_jwk)
    _spend_challenge(user_id, device_id, nonce)
    if not rules.verify_proof(public, user_id, device_id, nonce, signature):
        audit.record("device_key.proof_failed", "user", user_id, actor_id=user_id,
                     after={"device": device_id})
        # Commit: the nonce stays spent and the failure stays in the audit trail.
        raise ProblemError("device-key-proof-invalid",
                           "The signature over the challenge does not match the key.",
                           keep_changes=True)
    now = clock.now()
    thumbprint = rules.jwk_thumbprint(public)
    same = db.session.scalars(select(DeviceKey).where(
        DeviceKey.thumbprint == thumbprint)).all()
    if any(key.user_id != user_id for key in same):
        raise ProblemError("device-key-in-use",
                           "This key belongs to another user; make a new key.")
    existing = next((key for key in same if key.device_id == device_id
                     and key.revoked_at is None), None)
    if existing is None and same:
        raise ProblemError("device-key-in-use",
                           "This key was registered before; make a new key.")
    if existing is not None:
        key, is_new = existing, False
    else:
        for old in db.session.scalars(select(DeviceKey).where(
                DeviceKey.user_id == user_id, DeviceKey.device_id == device_id,
                DeviceKey.revoked_at.is_(None))):
            _revoke(old, now, "replaced", user_id)
        key = DeviceKey(id=new_id(), user_id=user_id, device_id=device_id,
                        public_key_jwk=public, thumbprint=thumbprint, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(key)
        except IntegrityError:
            raise ProblemError("conflict", "Another key for this device was registered at "
                                           "the same time; retry.") from None
        is_new = True
        audit.record("device_key.registered", "device_key", key.id, actor_id=user_id,
                     after={"device": device_id, "x": public["x"][:12]})
    if end_session and session_id:
        auth.logout(user_id, session_id)
    return key, is_new



# --- listing and revoking ----------------------------------------------------------------

def _revoke(key: DeviceKey, now: datetime, reason: str, by_id: str | None,
            jurisdiction_code: str | None = None) -> None:
    key.revoked_at = now
    key.revoked_reason = reason
    key.revoked_by_id = by_id
    audit.record("device_key.revoked", "device_key", key.id, actor_id=by_id,
                 before={"revoked_at": None},
                 after={"revoked_at": now.isoformat(), "reason": reason, "user": key.user_id,
                        "device": key.device_id},
                 jurisdiction_code=jurisdiction_code)


def _owner_in_scope(caller: auth_rules.Caller, user_id: str):
    """The user whose keys an admin may manage: in the admin's jurisdiction subtree."""
    user = auth.get_user(user_id)
    if user is None or not caller.covers(user.jurisdiction_code):
        return None
    return user


def list_keys(caller: auth_rules.Caller, user_id: str | None = None) -> list[DeviceKey]:
    """Your own keys; an admin may list those of a user in their jurisdiction. Newest first,
    revoked ones included (with when and why)."""
    user_id = user_id or caller.user_id
    if user_id != caller.user_id:
        if not caller.has(auth_rules.ADMIN):
            raise ProblemError("forbidden", "Only an administrator may list another "
                                            "person's device keys.")
        if _owner_in_scope(caller, user_id) is None:
            raise ProblemError("user-not-found", "No such user in your jurisdiction.")
    return _keys_of(user_id)


def _keys_of(user_id: str) -> list[DeviceKey]:
    return list(db.session.scalars(select(DeviceKey).where(DeviceKey.user_id == user_id)
                                   .order_by(DeviceKey.created_at.desc(), DeviceKey.id)))


def revoke(caller: auth_rules.Caller, key_id: str) -> DeviceKey:
    """Revoke your own key (a lost phone) or, as an admin, a key of a user in your
    jurisdiction. Revoking twice keeps the first time. Keys the caller may not manage
    answer as not found, so their existence is not revealed."""
    key = db.session.get(DeviceKey, key_id)
    owner = None
    if key is not None and key.user_id != caller.user_id:
        owner = (_owner_in_scope(caller, key.user_id)
                 if caller.has(auth_rules.ADMIN) else None)
        if owner is None:
            key = None
    if key is None:
        raise ProblemError("device-key-not-found", "No such device key among those you "
                                                   "may manage.")
    if key.revoked_at is None:
        owner = owner or auth.get_user(key.user_id)
        _revoke(key, clock.now(), "revoked", caller.user_id,
                owner.jurisdiction_code if owner is not None else None)
    return key


def keys_for_username(username: str) -> list[DeviceKey]:
    """For the CLI (an operator on the server, no caller)."""
    user = auth.find_by_username(username)
    if user is None:
        raise ProblemError("user-not-found", f"No user named {username!r}.")
    return _keys_of(user.id)


def revoke_by_operator(key_id: str) -> DeviceKey:
    """For the CLI: revoke any key; the audit row names no user (the actor is the CLI)."""
    key = db.session.get(DeviceKey, key_id)
    if key is None:
        raise ProblemError("device-key-not-found", f"No device key {key_id!r}.")
    if key.revoked_at is None:
        owner = auth.get_user(key.user_id)
        _revoke(key, clock.now(), "revoked", None,
                owner.jurisdiction_code if owner is not None else None)
    return key
