"""The registration hook: a package that holds a kind of personal data tells retention how to
find what is past its time and how to purge it (at import, like ``jobs.task``).

Retention imports no package that registers here (complaints, visits, check-ins): each one
calls ``register_kind`` from its own ``retention`` module, so a kind whose package is not
installed is simply listed with no purger. A new kind brings its own ``RetentionPolicy``
(default, floor and source) unless the catalogue in ``rules`` already names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from backend.retention.rules import CATALOGUE, RetentionPolicy


@dataclass(frozen=True)
class Purgeable:
    """One thing past its retention: what it is (an id the owner understands, never its
    content), which cases and households it belongs to (for legal holds), and the blob keys
    in object storage that go with it."""

    subject_id: str
    case_ids: tuple[str, ...] = ()
    household_ids: tuple[str, ...] = ()
    blob_keys: tuple[str, ...] = ()


# find(cutoff) -> everything counted from before the cutoff that is still there.
Finder = Callable[[datetime], Sequence[Purgeable]]
# purge(items, cutoff) deletes or erases them in the current transaction; their blob keys
# are deleted by retention after the commit.
Purger = Callable[[Sequence[Purgeable], datetime], None]


@dataclass(frozen=True)
class PurgeableKind:
    policy: RetentionPolicy
    find: Finder
    purge: Purger
    # True when an item, once purged, is found again unless retention remembers it (an
    # application's case row stays, only its content goes).
    remembers_purged: bool = False

    @property
    def kind(self) -> str:
        return self.policy.kind


_kinds: dict[str, PurgeableKind] = {}


def register_kind(kind: str, find: Finder, purge: Purger, *,
                  policy: RetentionPolicy | None = None, remembers_purged: bool = False) -> None:
    """Declare how ``kind`` is found and purged. ``policy`` is needed only for a kind the
    catalogue does not name. Registering a kind again replaces it (a module re-imported)."""
    chosen = policy or CATALOGUE.get(kind)
    if chosen is None:
        raise ValueError(f"retention kind {kind!r} needs a policy (default, floor, source)")
    if chosen.kind != kind:
        raise ValueError(f"the policy given for {kind!r} is {chosen.kind!r}'s")
    _kinds[kind] = PurgeableKind(chosen, find, purge, remembers_purged)


def registered(kind: str) -> PurgeableKind | None:
    return _kinds.get(kind)


def policies() -> list[RetentionPolicy]:
    """Every known kind: the catalogue's, then any a package brought, in a stable order."""
    extra = [k.policy for name, k in sorted(_kinds.items()) if name not in CATALOGUE]
    return [*CATALOGUE.values(), *extra]


def policy_of(kind: str) -> RetentionPolicy | None:
    registered_kind = _kinds.get(kind)
    return registered_kind.policy if registered_kind else CATALOGUE.get(kind)
