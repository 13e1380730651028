"""Web Push through pywebpush: encrypt a notice for one subscription (RFC 8291 aes128gcm),
sign the request with the server's VAPID key (RFC 8292) and POST it to the push service.

The SSRF guard runs twice: when a subscription is stored (push_subscriptions.subscribe_push)
and here, before each POST, against the allowlist in force now; redirects are never followed,
so a push service cannot send the server elsewhere. And when the sender connects, the address
the host resolves to must be a public one (push_rules.is_public_address), checked on the very
address connected to, so DNS cannot point an allowed name at 127.0.0.1 or the cloud metadata
service (PUSH_PRIVATE_ADDRESSES_ALLOWED lifts this for a push service on a private network).
"""

from __future__ import annotations

import logging
import socket
from typing import Literal
from urllib.parse import urlsplit

import requests
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from backend.checkins import push_rules

log = logging.getLogger(__name__)

Delivery = Literal["sent", "gone", "failed"]
# A reminder still helps a day later; after that the push service may drop it.
TTL_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 10


class PublicAddressHTTPSConnection(HTTPSConnection):
    """An HTTPS connection that resolves its host itself, refuses any address that is not
    public, and connects to the address it checked (no second look-up to race)."""

    def _new_conn(self) -> socket.socket:
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        addresses = [str(info[4][0]) for info in found]
        if not addresses or not all(push_rules.is_public_address(a) for a in addresses):
            raise NewConnectionError(self, f"{self.host} resolves to an address that is not "
                                           "public; the server does not push there")
        self._dns_host = addresses[0]  # TLS still checks the certificate against self.host
        return super()._new_conn()


class _PublicAddressPool(HTTPSConnectionPool):
    ConnectionCls = PublicAddressHTTPSConnection


class PublicAddressAdapter(HTTPAdapter):
    """requests' adapter whose https connections go to public addresses only."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme, "https": _PublicAddressPool}


class PywebpushSender:
    """The Web Push sender of one job run: one HTTP session (kept-alive connections to the
    push services) and the VAPID key parsed once."""

    def __init__(self, private_key: str, subject: str, allowed_hosts: str,
                 private_addresses_allowed: bool = False):
        self._vapid = Vapid.from_string(private_key)
        self._subject = subject
        self._allowed = push_rules.parse_host_patterns(allowed_hosts)
        self._session = requests.Session()
        self._session.max_redirects = 0
        if not private_addresses_allowed:
            self._session.mount("https://", PublicAddressAdapter())

    def send(self, subscription: dict, payload: str) -> tuple[Delivery, int | None]:
        """Deliver one payload; "gone" when the push service says the subscription is over
        (404/410), "failed" on anything else that went wrong (logged, tried again next run)."""
        endpoint = subscription["endpoint"]
        problem = push_rules.endpoint_problem(endpoint, self._allowed)
        if problem:
            log.warning("push to %s refused: the endpoint %s", _service(endpoint), problem)
            return "failed", None
        try:
            # pywebpush writes "aud" and "exp" into the claims it is given: a fresh dict
            # per message, or every push service would get the first one's audience.
            webpush(subscription, payload, vapid_private_key=self._vapid,
                    vapid_claims={"sub": self._subject}, ttl=TTL_SECONDS,
                    timeout=TIMEOUT_SECONDS, headers={"Urgency": "normal"},
                    requests_session=self._session)
        except WebPushException as error:
            status = error.status_code
            if push_rules.is_gone(status):
                return "gone", status
            log.warning("push to %s failed with %s; the next run tries again",
                        _service(endpoint), status or error.message)
            return "failed", status
        except requests.RequestException as error:
            log.warning("push to %s failed (%s); the next run tries again",
                        _service(endpoint), type(error).__name__)
            return "failed", None
        return "sent", 201

    def close(self) -> None:
        self._session.close()


def _service(endpoint: str) -> str:
    """The push service's host: the endpoint itself is a capability and stays out of logs."""
    return urlsplit(endpoint).hostname or "?"


def sender() -> PywebpushSender | None:
    """The configured sender, or None when VAPID keys are not configured (SMS only)."""
    config = current_app.config
    if not (config.get("VAPID_PRIVATE_KEY") and config.get("VAPID_SUBJECT")
            and config.get("VAPID_PUBLIC_KEY")):
        return None
    return PywebpushSender(config["VAPID_PRIVATE_KEY"], config["VAPID_SUBJECT"],
                           config["PUSH_SERVICE_HOSTS"],
                           bool(config.get("PUSH_PRIVATE_ADDRESSES_ALLOWED")))
