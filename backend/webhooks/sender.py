"""One HTTP POST to a subscriber, safe against server-side request forgery.

- The host name is resolved here, every resolved address is judged (``rules.address_refusal``:
  no private, loopback, link-local, metadata or other non-global address), and the socket
  connects to that vetted address itself: a DNS answer that changes between the check and
  the connection (rebinding) cannot reach anything else. TLS still verifies the certificate
  against the host name (SNI and hostname check use the name, not the address).
- Short timeouts (connect, each read, and the whole exchange), at most ``max_body`` bytes
  of the answer read, no redirect followed (a 3xx is a failure), no proxy from the
  environment. Every failure is an ``Outcome``, never an exception: the caller retries.

No Flask and no database here: the delivery job calls it from a small thread pool.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from backend.webhooks import rules

Resolver = Callable[..., list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Outcome:
    outcome: str  # delivered, http_error, redirect, timeout, address_refused, connection_error,
    #               url_refused, too_slow
    status_code: int | None
    duration_ms: int
    error: str | None = None

    @property
    def is_delivered(self) -> bool:
        return self.outcome == "delivered"


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 3.0
    read_timeout: float = 5.0
    total_timeout: float = 10.0
    max_body: int = 4096


class AddressRefused(OSError):
    pass


def _vetted_connect(resolve: Resolver, policy: rules.UrlPolicy, limits: Limits):
    def connect(address, timeout=None, source_address=None):
        host, port = address
        try:
            infos = resolve(host, port, type=socket.SOCK_STREAM)
        except OSError as failed:
            raise OSError(f"cannot resolve {host}: {failed}") from failed
        candidates: list[tuple[int, tuple[Any, ...]]] = []
        for family, _type, _proto, _name, sockaddr in infos:
            reason = rules.address_refusal(str(sockaddr[0]), policy)
            if reason:
                # One bad address refuses the host: a name that points inside is not a
                # receiver, whichever address a retry would have picked.
                raise AddressRefused(f"{host} resolves to {sockaddr[0]}: {reason}")
            candidates.append((family, sockaddr))
        if not candidates:
            raise OSError(f"{host} has no address")
        last: OSError | None = None
        for family, sockaddr in candidates:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(limits.connect_timeout)
            try:
                sock.connect(sockaddr)
            except OSError as failed:
                sock.close()
                last = failed
                continue
            sock.settimeout(limits.read_timeout)
            return sock
        assert last is not None
        raise last

    return connect


def post(url: str, headers: dict[str, str], body: bytes, policy: rules.UrlPolicy, *,
         limits: Limits = Limits(), resolve: Resolver = socket.getaddrinfo,
         ssl_context: ssl.SSLContext | None = None) -> Outcome:
    """POST ``body`` to ``url``; how it went."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = rules.parse_url(url, policy)
    except rules.RefusedUrl as refused:
        return Outcome("url_refused", None, took(), str(refused))
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = http.client.HTTPSConnection(
            target.host, target.port, timeout=limits.read_timeout,
            context=ssl_context or ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.host, target.port,
                                                timeout=limits.read_timeout)
    connection._create_connection = _vetted_connect(resolve, policy, limits)  # type: ignore[attr-defined]
    try:
        connection.request("POST", target.path, body=body,
                           headers={**headers, "content-length": str(len(body))})
        response = connection.getresponse()
        status = response.status
        _read_some(response, limits, started)
        if time.monotonic() - started > limits.total_timeout:
            return Outcome("too_slow", status, took(), "the answer took too long")
        if 200 <= status < 300:
            return Outcome("delivered", status, took())
        if 300 <= status < 400:
            return Outcome("redirect", status, took(), "redirects are not followed")
        return Outcome("http_error", status, took(), f"answered {status}")
    except AddressRefused as refused:
        return Outcome("address_refused", None, took(), str(refused)[:300])
    except TimeoutError as slow:
        return Outcome("timeout", None, took(), str(slow)[:300] or "timed out")
    except (OSError, http.client.HTTPException, ValueError) as failed:
        return Outcome("connection_error", None, took(),
                       f"{type(failed).__name__}: {failed}"[:300])
    finally:
        connection.close()


def _read_some(response: http.client.HTTPResponse, limits: Limits, started: float) -> None:
    """Read at most ``max_body`` bytes of the answer, and stop at the total deadline: a
    receiver that streams forever, or drips, holds the sender no longer than that."""
    left = limits.max_body
    while left > 0 and time.monotonic() - started <= limits.total_timeout:
        chunk = response.read1(min(left, 1024)) if hasattr(response, "read1") else b""
        if not chunk:
            return
        left -= len(chunk)
