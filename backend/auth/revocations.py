"""Which sign-ins have ended, as this worker knows it without a query per request.

Issue 23: every signed-in request used to read its session, user and roles (one statement,
about 1.5 ms of CPU) only to learn what the access token already says (`roles`, `jur`) and
whether the session was revoked. Now the caller is built from the token's claims, and the
revocation question is answered from memory:

- a revocation made in this worker counts at once (`note_revoked`, called by every path that
  ends a sign-in);
- a revocation made in another worker counts within `REVOCATION_POLL_SECONDS` (default 1 s):
  the first request after that long re-reads the sessions revoked recently enough that one
  of their access tokens may still be unexpired (one indexed range over `revoked_at`).

That second window is the price of the saving. An access token lives 15 minutes, so the
window is a small fraction of what a stolen token would give a thief anyway, and a refresh
(the only way to a new token) is always checked against the database.

An account must never be ended by flipping `is_active` alone: like a password change, it
must end the sign-ins too (`service.revoke_all_sessions`), or its tokens live to their expiry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import monotonic


@dataclass
class RevokedSessions:
    """Session ids revoked recently (the last access-token lifetime), per worker process.

    Pure bookkeeping: the caller hands in the loader (a database read) and the clock, so the
    rules are tested without Flask or a database.
    """

    poll_seconds: float
    # A locally noted revocation is kept at least this long even if a poll that ran before
    # its commit does not list it yet (the poll replaces the set; this keeps the union).
    local_keep_seconds: float
    _polled: frozenset[str] = frozenset()
    _polled_at: float = float("-inf")
    _local: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def is_revoked(self, session_id: str, load: Callable[[], Iterable[str]],
                   now: Callable[[], float] | None = None) -> bool:
        at = (now or monotonic)()
        if at - self._polled_at >= self.poll_seconds:
            self._refresh(load, at)
        return session_id in self._polled or session_id in self._local

    def note_revoked(self, session_ids: Iterable[str],
                     now: Callable[[], float] | None = None) -> None:
        at = (now or monotonic)()
        with self._lock:
            for session_id in session_ids:
                self._local[session_id] = at

    def _refresh(self, load: Callable[[], Iterable[str]], at: float) -> None:
        polled = frozenset(load())
        with self._lock:
            self._polled, self._polled_at = polled, at
            self._local = {sid: noted for sid, noted in self._local.items()
                           if at - noted < self.local_keep_seconds}
