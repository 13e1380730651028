"""Web Push through pywebpush: encrypt a notice for one subscription (RFC 8291 aes128gcm),
sign the request with the server's VAPID key (RFC 8292) and POST it to the push service.

The SSRF guard runs twice: when a subscription is stored (service.subscribe_push) and here,
before each POST, against the allowlist in force now; redirects are never followed, so a
push service cannot send the server elsewhere.
"""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import urlsplit

import requests
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from backend.checkins import push_rules

log = logging.getLogger(__name__)

Delivery = Literal["sent", "gone", "failed"]
# A reminder still helps a day later; after that the push service may drop it.
TTL_SECONDS = 24 * 3600
TIMEOUT_SECONDS = 10


class PywebpushSender:
    """The Web Push sender of one job run: one HTTP session (kept-alive connections to the
    push services) and the VAPID key parsed once."""

    def __init__(self, private_key: str, subject: str, allowed_hosts: str):
        self._vapid = Vapid.from_string(private_key)
        self._subject = subject
        self._allowed = push_rules.parse_host_patterns(allowed_hosts)
        self._session = requests.Session()
        self._session.max_redirects = 0

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
                           config["PUSH_SERVICE_HOSTS"])
