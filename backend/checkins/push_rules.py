"""Pure rules of Web Push to recipients (RFC 8030 delivery, RFC 8291 encryption, RFC 8292
VAPID): which endpoints the server may POST to, what a subscription's keys must be, what a
notice says, and which answers of a push service end a subscription.

The server POSTs to an endpoint the browser chose, so an endpoint is a request the server
makes on a caller's behalf (SSRF): only https, only the real push services' hosts on their
default port, never an IP literal or a URL with credentials. The endpoint is read by the
sender's own parser (urllib3's, under requests) and by the standard library's, and must
round-trip to a plain ``https://host[:443]/path[?query]``: a backslash, an escaped slash, a
space or a trailing dot, which parsers read differently, is refused. The address a host
resolves to is checked again when the sender connects (``is_public_address``).

No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from urllib3.util import parse_url

MAX_ENDPOINT_LENGTH = 1024  # FCM's are ~200 characters; the column is this wide
P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04 || X || Y (RFC 8291 section 3.1)
AUTH_BYTES = 16  # the authentication secret (RFC 8291 section 3.2)
# 404 and 410: the subscription expired or the user revoked it (RFC 8030 section 7.3);
# the server forgets it. Any other failure is passing: the next run tries again.
GONE_STATUSES = frozenset({404, 410})
CHECKIN_SCREEN_URL = "/#/checkin"


def parse_host_patterns(text: str | Iterable[str]) -> tuple[str, ...]:
    """A setting's list of hosts ("a.example, *.b.example") as lower-case patterns."""
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(item.strip().lower() for item in items if item.strip())


def host_allowed(host: str, port: int | None, patterns: Iterable[str]) -> bool:
    """Is ``host:port`` named by a pattern? ``name`` means that host on port 443, ``name:port``
    that host on that port, ``*.suffix`` any host under ``suffix`` (not ``suffix`` itself) on
    443. A lone ``*`` names nothing: the list must name the services."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        name, _, wanted = pattern.partition(":")
        wanted_port = int(wanted) if wanted.isdigit() else 443
        if (port or 443) != wanted_port:
            continue
        if name.startswith("*.") and len(name) > 2:
            if host.endswith(name[1:]) and host != name[2:]:
                return True
        elif name == host and name != "*":
            return True
    return False


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # Forms that resolvers read as numbers but ip_address does not ("2130706433",
        # "0x7f.1") never name a push service either.
        return host.replace(".", "").isdigit() or host.startswith("0x")
    return True


# A DNS name: letters, digits and hyphens in dot-separated labels, no trailing dot.
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}"
                        r"[a-z0-9])?)*")
# RFC 3986 path characters without percent-escapes (push services' paths need none).
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
# The query may carry escapes (WNS tokens do); it cannot change where the request goes.
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]*")
PLAIN = "must be a plain https://host/path URL"


def endpoint_problem(endpoint: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why the server may not POST to this endpoint, or None when it may."""
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        return "too long"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
        sent = parse_url(endpoint)  # what requests will connect to
    except ValueError:
        return "not a URL"
    if parts.scheme != "https":
        return "must be https"
    if (parts.username is not None or parts.password is not None or "@" in parts.netloc
            or sent.auth is not None):
        return "must not hold credentials"
    host = parts.hostname or ""
    if not host:
        return "not a URL"
    if _is_ip_literal(host):
        return "must name a push service, not an IP address"
    if parts.fragment or sent.fragment:
        return "must not have a fragment"
    if not _round_trips(endpoint, host, port, sent):
        return PLAIN
    if not host_allowed(host, port, parse_host_patterns(allowed_hosts)):
        return "not a known push service"
    return None


def _round_trips(endpoint: str, host: str, port: int | None, sent) -> bool:
    """Do both parsers read the same plain host, port and path, and does rebuilding the URL
    from them give back exactly what was sent (host case aside)? (Which ports may be used is
    the allowlist's to say: 443 unless a pattern names another.)"""
    if not _HOST_NAME.fullmatch(host) or sent.host != host or sent.port != port:
        return False
    if not _PLAIN_PATH.fullmatch(sent.path or ""):
        return False
    if sent.query is not None and not _PLAIN_QUERY.fullmatch(sent.query):
        return False
    rebuilt = (f"https://{host}{'' if port is None else f':{port}'}{sent.path}"
               f"{'?' + sent.query if sent.query is not None else ''}")
    return rebuilt.lower() == endpoint.lower() and ".." not in sent.path.split("/")


def is_public_address(address: str) -> bool:
    """May the sender connect to this resolved address? Only a globally routable one: never
    loopback, private, link-local (cloud metadata), shared or reserved space."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def decode_base64url(text: str) -> bytes | None:
    """Base64url (RFC 4648 section 5) with or without padding; None if it is not."""
    if not text or any(c not in _BASE64URL for c in text.rstrip("=")):
        return None
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def key_problems(p256dh: str, auth: str) -> dict[str, list[str]]:
    """Field errors of a subscription's keys: p256dh a P-256 point, auth 16 bytes."""
    errors: dict[str, list[str]] = {}
    point = decode_base64url(p256dh)
    if point is None or len(point) != P256DH_BYTES or point[0] != 4:
        errors["keys.p256dh"] = ["an uncompressed P-256 public key (65 bytes, base64url)"]
    else:
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except ValueError:
            errors["keys.p256dh"] = ["not a point on the P-256 curve"]
    secret = decode_base64url(auth)
    if secret is None or len(secret) != AUTH_BYTES:
        errors["keys.auth"] = ["the 16-byte authentication secret (base64url)"]
    return errors


def is_gone(status: int | None) -> bool:
    return status in GONE_STATUSES


# --- what a notice says ----------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A notification as the phone shows it: nothing the recipient's own screen does not."""

    title: str
    body: str
    url: str = CHECKIN_SCREEN_URL
    tag: str = "checkin"

    def payload(self) -> str:
        """The push message's body (encrypted on the way): small JSON the service worker
        reads (pwa/static/sw.js)."""
        return json.dumps({"title": self.title, "body": self.body, "url": self.url,
                           "tag": self.tag}, ensure_ascii=False, separators=(",", ":"))

    def sms(self) -> str:
        return f"【{self.title}】{self.body}"


def reminder_notice(closes_on: date) -> Notice:
    """The reminder a few days before a window closes (rules.is_reminder_day)."""
    return Notice("低保签到提醒",
                  f"请在{closes_on.month}月{closes_on.day}日前用手机完成本期签到。",
                  tag="checkin-reminder")
