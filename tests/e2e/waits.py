"""Waiting on a state that only an async function in the page can read (IndexedDB, the
service worker, the notification list).

Playwright's wait_for_function does not await a promise: an `async` predicate returns a
promise, which is truthy, so the wait ends at once whatever the state. `wait_until` polls
such a predicate instead, once per animation frame, until it holds or `timeout_s` passes.
"""

from __future__ import annotations

import time


def wait_until(page, predicate: str, arg=None, timeout_s: float = 30, message: str = ""):
    """Return the predicate's first truthy value; raise AssertionError after `timeout_s`."""
    check = ("async (arg) => { await new Promise((done) => requestAnimationFrame(done));"
             f" return ({predicate})(arg); }}")
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(check, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"never held: {predicate.strip()[:200]}")
