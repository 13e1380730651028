"""A worker's memory of ended sign-ins (backend/auth/revocations.py), without a database."""

from backend.auth.revocations import RevokedSessions


class Clock:
    def __init__(self):
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


class Database:
    """What the sessions table says has ended, and how often it was asked."""

    def __init__(self):
        self.ended: set[str] = set()
        self.reads = 0

    def recently_revoked(self):
        self.reads += 1
        return set(self.ended)


def test_the_database_is_read_at_most_once_per_poll():
    clock, database = Clock(), Database()
    known = RevokedSessions(poll_seconds=1.0, local_keep_seconds=960)
    for _ in range(50):
        assert not known.is_revoked("a", database.recently_revoked, clock)
        clock.at += 0.01
    assert database.reads == 1
    clock.at += 1.0
    known.is_revoked("a", database.recently_revoked, clock)
    assert database.reads == 2


def test_an_end_in_another_worker_counts_at_the_next_poll():
    clock, database = Clock(), Database()
    known = RevokedSessions(poll_seconds=1.0, local_keep_seconds=960)
    assert not known.is_revoked("a", database.recently_revoked, clock)
    database.ended.add("a")  # another worker signs "a" out
    clock.at += 0.5
    assert not known.is_revoked("a", database.recently_revoked, clock)  # the window
    clock.at += 0.5
    assert known.is_revoked("a", database.recently_revoked, clock)


def test_an_end_in_this_worker_counts_at_once_and_survives_an_earlier_poll():
    clock, database = Clock(), Database()
    known = RevokedSessions(poll_seconds=1.0, local_keep_seconds=960)
    assert not known.is_revoked("a", database.recently_revoked, clock)
    known.note_revoked(["a"], clock)  # not committed yet: the database does not list it
    assert known.is_revoked("a", database.recently_revoked, clock)
    clock.at += 5  # a poll that ran before the commit replaces the polled set ...
    assert known.is_revoked("a", database.recently_revoked, clock)  # ... not the local note
    assert database.reads == 2


def test_a_local_note_is_dropped_once_every_token_of_it_expired():
    clock, database = Clock(), Database()
    known = RevokedSessions(poll_seconds=1.0, local_keep_seconds=960)
    known.note_revoked(["a"], clock)
    clock.at += 959
    assert known.is_revoked("a", database.recently_revoked, clock)
    clock.at += 2
    assert not known.is_revoked("a", database.recently_revoked, clock)

