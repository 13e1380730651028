"""Pure rules of the webhooks: signing, the retry schedule, the URL and address policy and
masking by purpose. No Flask, no SQLAlchemy, no network.

Signing follows the Standard Webhooks specification (standardwebhooks.com, "Signature
scheme"): the signed content is ``{webhook-id}.{webhook-timestamp}.{body}``, signed with
HMAC-SHA256 under the secret's bytes (the base64 after ``whsec_``) and sent as
``v1,<base64>``; several signatures are separated by spaces (a rotated secret's overlap).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import math
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from backend.privacy import catalogue
from backend.privacy.rules import Disclosure, mask_text

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # 256 bits; the specification asks for 24 to 64 bytes
MAX_URL_LENGTH = 2048

# --- signing -------------------------------------------------------------------------------------


def new_secret(token_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret: its base64 part decoded."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,`` signature over ``id.timestamp.body``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(secrets_in_force: Iterable[str], message_id: str, timestamp: int,
                     body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per secret in force, space-separated
    (the new secret first; the old one too while a rotation's overlap lasts)."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_force)


def delivery_headers(secrets_in_force: Iterable[str], message_id: str, timestamp: int,
                     body: bytes) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets_in_force, message_id, timestamp, body),
            "content-type": "application/json", "user-agent": "Doorstep-Webhooks/1"}


def secrets_in_force(current: str, previous: str | None, previous_until: datetime | None,
                     now: datetime) -> list[str]:
    """The secrets to sign with now: the current one, and the previous one until its
    overlap window ends."""
    if previous and previous_until is not None and now < previous_until:
        return [current, previous]
    return [current]


# --- retry schedule ------------------------------------------------------------------------------

RETRY_BASE = timedelta(seconds=30)
RETRY_CAP = timedelta(hours=4)
RETRY_WINDOW = timedelta(hours=24)


def backoff(failures: int, random: Callable[[], float]) -> timedelta:
    """How long to wait after the ``failures``-th failed attempt in a row (1 = the first):
    exponential (30 s, 1 min, 2 min, ... capped at 4 h) with equal jitter (half fixed, half
    random), so receivers that come back are not hit by every sender at the same second."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    exponent = min(failures - 1, 20)
    delay = min(RETRY_BASE.total_seconds() * math.pow(2, exponent), RETRY_CAP.total_seconds())
    return timedelta(seconds=delay / 2 + random() * delay / 2)


def next_attempt_at(failures: int, window_started_at: datetime, now: datetime,
                    random: Callable[[], float]) -> datetime | None:
    """When to try again after a failure, or None to dead-letter: retries go on until the
    retry window (24 h from the first attempt, or from a manual redelivery) has passed."""
    if now - window_started_at >= RETRY_WINDOW:
        return None
    return now + backoff(failures, random)


# --- where deliveries may go (SSRF) ---------------------------------------------------------------

# Names that resolve to the cloud metadata service or the machine itself, refused before
# any lookup (their addresses are refused after it too).
_REFUSED_HOSTS = {"localhost", "metadata", "metadata.google.internal", "instance-data",
                  "metadata.azure.internal"}
LOOPBACK_FOR_TESTS = "127.0.0.1"


@dataclass(frozen=True)
class UrlPolicy:
    """``allow_http_loopback`` is for tests and local development only: it lets a
    subscription name ``http://127.0.0.1:<port>`` (and nothing else that is not https)."""

    allow_http_loopback: bool = False


class RefusedUrl(ValueError):
    """Why a URL or an address may not receive deliveries (said to the administrator)."""


def address_refusal(address: str, policy: UrlPolicy) -> str | None:
    """Why a resolved address may not be connected to, or None when it may: only global
    unicast addresses (no private, loopback, link-local, metadata, shared, reserved or
    multicast one; an IPv4-mapped IPv6 address is judged as the IPv4 it carries)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if policy.allow_http_loopback and str(ip) == LOOPBACK_FOR_TESTS:
        return None
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "not a public internet address"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query, as sent on the request line


def parse_url(url: str, policy: UrlPolicy) -> Target:
    """The URL's parts, or RefusedUrl saying what is wrong with it. Addresses are judged
    again after every DNS lookup (``address_refusal``); this refuses what is wrong on its
    face: not https, credentials in it, no host, a refused name or address literal."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as bad:
        raise RefusedUrl("not a valid URL") from bad
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise RefusedUrl("no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedUrl("credentials in the URL are not allowed; the signature authenticates")
    if parts.fragment:
        raise RefusedUrl("a fragment is never sent; remove it")
    is_test_loopback = policy.allow_http_loopback and host == LOOPBACK_FOR_TESTS
    if parts.scheme != "https" and not (parts.scheme == "http" and is_test_loopback):
        raise RefusedUrl("only https URLs receive deliveries")
    if host in _REFUSED_HOSTS or host.endswith(".localhost") or host.endswith(".internal"):
        raise RefusedUrl("an internal host name")
    if _is_ip_literal(host):
        reason = address_refusal(host, policy)
        if reason:
            raise RefusedUrl(reason)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --- what leaves, by purpose ---------------------------------------------------------------------


@dataclass(frozen=True)
class Purpose:
    """What a receiver of this purpose may read in full: ``disclosure`` for identity
    numbers (a full ID number leaves only where ``full_id``, and that is audited) and
    whether people's names are sent at all."""

    slug: str
    disclosure: Disclosure
    names: bool


def _names_shown(purpose: str) -> bool:
    """Whether the catalogue's receiver row for ``purpose`` shows people's names at all."""
    return catalogue.field_shown({catalogue.RECEIVER}, purpose,
                                 "member.name") != catalogue.HIDDEN


PURPOSES: dict[str, Purpose] = {
    # 一件事联办 (001): medical insurance, housing or education act on the person, so they
    # need who it is; the ID number lets them match their own register.
    "joint_handling": Purpose("joint_handling", Disclosure.for_receiver("joint_handling"),
                              names=_names_shown("joint_handling")),
    # A county dashboard elsewhere: counts and states, nobody's identity.
    "dashboard": Purpose("dashboard", Disclosure.for_receiver("dashboard"),
                         names=_names_shown("dashboard")),
    # Provincial reporting: names for spot checks, ID numbers masked.
    "reporting": Purpose("reporting", Disclosure.for_receiver("reporting"),
                         names=_names_shown("reporting")),
}

_NAME_KEYS = ("name", "names")
_ID_KEYS = ("id_number", "resident_id")


def _is_name_key(key: str) -> bool:
    return key in _NAME_KEYS or key.endswith("_name") or key.endswith("_names")


def mask_payload(value: Any, purpose: Purpose) -> Any:
    """An event's data as a receiver of ``purpose`` may read it: names emptied where the
    purpose has no use for them, ID and mobile numbers masked wherever they stand (by key
    or by shape) unless the purpose may read them in full."""
    disclosure = purpose.disclosure
    if isinstance(value, Mapping):
        masked: dict[str, Any] = {}
        for key, item in value.items():
            if not purpose.names and _is_name_key(str(key)):
                # Kept as null, not left out: the payload still matches its schema.
                masked[key] = None
                continue
            if str(key) in _ID_KEYS and isinstance(item, str) and not disclosure.full_id:
                masked[key] = mask_text(item, disclosure) if len(item) == 18 else "*" * len(item)
                continue
            masked[key] = mask_payload(item, purpose)
        return masked
    if isinstance(value, list):
        return [mask_payload(item, purpose) for item in value]
    if isinstance(value, str):
        return mask_text(value, disclosure)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        shown = mask_text(text, disclosure)
        return value if shown == text else shown
    return value


def discloses_full_id(value: Any) -> bool:
    """Whether a JSON value still holds a full resident ID number (after masking: then the
    purpose allowed it, and the disclosure is audited)."""
    if isinstance(value, Mapping):
        return any(discloses_full_id(item) for item in value.values())
    if isinstance(value, list):
        return any(discloses_full_id(item) for item in value)
    if isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value)
        return mask_text(text, Disclosure(full_id=False, full_phone=True)) != text
    return False


# --- after a failed attempt -----------------------------------------------------------------------

DISABLE_AFTER_FAILURES = 30  # attempts in a row, over every delivery of one subscription


def should_disable(consecutive_failures: int, threshold: int = DISABLE_AFTER_FAILURES) -> bool:
    return consecutive_failures >= threshold
