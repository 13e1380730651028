"""Sync survives any single record (issue 8): whatever one record holds, or whatever fails
while it is handled, only that record is rejected; the records beside it are answered and
stored as if it were not there."""

from __future__ import annotations

import copy
import uuid
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from backend import events
from backend.attestation.canonical import submission_digest
from backend.audit.models import AuditEvent
from backend.forms import service as forms_service
from backend.households.models import Household
from backend.reviews.models import VisitReview
from backend.visits.models import VisitSubmission
from tests.api.query_plans import Statements
from tests.api.test_sync import push
from tests.device_keys import registered_key
from tests.visit_factory import attest, member, submission, survey_answers

SHA = "ab" * 32


def _cases(api, count):
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    located = [c for c in items["items"] if c["household"]["home_lat"] is not None]
    assert len(located) >= count
    return located[:count]


def _stored(db_session, *ids):
    return db_session.scalar(select(func.count()).select_from(VisitSubmission).where(
        VisitSubmission.id.in_(ids)))


def test_a_huge_integer_rejects_only_its_record(api, db_session):
    """Today: rfc8785 raises on the digest and the whole push is a 500."""
    case, other = _cases(api, 2)
    good_before, good_after = submission(case), submission(other)
    huge = submission(case, data=survey_answers(members=[member(age=10**400)]))
    beyond = submission(other, data=survey_answers(deposits=2**53))
    response = push(api, [good_before, huge, beyond, good_after])
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "rejected", "accepted"]
    for rejected in results[1:3]:
        assert rejected["problem"]["type"] == "record-not-canonical"
        assert rejected["problem"]["status"] == 422  # the device parks it for a person
    assert _stored(db_session, good_before["id"], good_after["id"]) == 2
    assert _stored(db_session, huge["id"], beyond["id"]) == 0


def test_an_unexpected_failure_rejects_only_its_record(api, db_session, monkeypatch):
    """A bug met by one record rolls back that record alone (a SAVEPOINT): the neighbours
    are stored, with the side effects of their events (the first visit locating a home)."""
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    unlocated = next(c for c in items["items"] if c["household"]["home_lat"] is None)
    located = _cases(api, 1)[0]
    good = submission(unlocated)
    doomed = submission(located, data=survey_answers(notes="boom"))
    validate = forms_service.validate_answers

    def failing(definition, data, context):
        if data.get("notes") == "boom":
            raise RuntimeError("a bug met by one record")
        return validate(definition, data, context)

    monkeypatch.setattr(forms_service, "validate_answers", failing)
    response = push(api, [doomed, good])
    assert response.status_code == 200, response.get_json()
    first, second = response.get_json()["results"]
    assert first["status"] == "rejected"
    assert first["problem"]["type"] == "internal-error" and first["problem"]["status"] == 500
    assert second["status"] == "accepted"
    assert _stored(db_session, good["id"]) == 1 and _stored(db_session, doomed["id"]) == 0
    household = db_session.get(Household, unlocated["household_id"])
    db_session.refresh(household)
    assert household.home_lat == good["stamps"][0]["lat"]


def test_a_failure_of_a_push_s_only_record_leaves_nothing_of_it(api, db_session, monkeypatch):
    """A push of one record runs without a SAVEPOINT (issue 23): a failure after its rows
    were written (here in the last handler of its events) rolls back the whole transaction,
    so nothing of it stays: not the visit, not the home it located, not its review or audit
    row. The answer is still the record's `internal-error`, and the next push is stored."""
    items = api.get("wenping_fw1", "/api/cases?assigned_to_me=true&page_size=100").get_json()
    unlocated = next(c for c in items["items"] if c["household"]["home_lat"] is None)
    doomed = submission(unlocated)

    def failing(accepted):
        raise RuntimeError("a bug met after the visit was written")

    handlers = events._batch_handlers[events.VisitAccepted]
    monkeypatch.setitem(events._batch_handlers, events.VisitAccepted, [*handlers, failing])
    with Statements() as sent:
        response = push(api, [doomed])
    assert response.status_code == 200, response.get_json()
    (answer,) = response.get_json()["results"]
    assert answer["status"] == "rejected" and answer["problem"]["type"] == "internal-error"
    # No SAVEPOINT of the push's own: only the test session's, standing in for the
    # request's transaction. On SQLite there are two: the replay lookup reads in one
    # transaction, and the record is written in the next (dbtypes.reads_first).
    transactions = 2 if db_session.get_bind().dialect.name == "sqlite" else 1
    assert [t for t in sent.texts if t.startswith("SAVEPOINT")] == [
        "SAVEPOINT sa_savepoint"] * transactions
    assert _stored(db_session, doomed["id"]) == 0
    household = db_session.get(Household, unlocated["household_id"])
    db_session.refresh(household)
    assert household.home_lat is None
    assert db_session.scalar(select(func.count()).select_from(VisitReview).where(
        VisitReview.submission_id == doomed["id"])) == 0
    assert db_session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_id == doomed["id"])) == 0
    monkeypatch.setitem(events._batch_handlers, events.VisitAccepted, handlers)
    assert push(api, [doomed]).get_json()["results"][0]["status"] == "accepted"
    assert _stored(db_session, doomed["id"]) == 1


# --- the property -------------------------------------------------------------------------

@contextmanager
def _rolled_back(db_session):
    """Run requests inside a SAVEPOINT of the test's connection, then undo them."""
    connection = db_session.get_bind()
    db_session.remove()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        db_session.remove()
        savepoint.rollback()


def _paths(value, prefix=()):
    """Every place in a record: each key and index, nested ones included."""
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, prefix + (index,))


def _put(record, path, value):
    if not path:
        return value
    changed = copy.deepcopy(record)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


JSON_SCALARS = (st.none() | st.booleans() | st.integers()
                | st.sampled_from([2**53, -(2**53), 2**63, 10**400, -(10**30), 0, -1])
                | st.floats(allow_nan=False, allow_infinity=False)
                | st.text(max_size=12)
                | st.sampled_from(["", "\x00", SHA, str(uuid.UUID(int=0)), "2026-11-25T08:00:00",
                                   "2026-11-25T08:00:00+08:00", "visit_submission",
                                   "visit_attestation", "start"]))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)


def test_any_value_in_one_record_never_changes_its_neighbours(api, db_session):
    """Any JSON value put anywhere in one record (a field, nested answers, a stamp, a photo,
    an attestation, a new key, the record itself) leaves the neighbours' results exactly as
    when they are pushed alone."""
    fw1, fw2 = api.user_id("wenping_fw1"), api.user_id("wenping_fw2")
    pair1, key1 = registered_key(api, "wenping_fw1")
    pair2, key2 = registered_key(api, "wenping_fw2", "device-bbbbbbbb")
    complete_case, later_case, far_case, own_case = _cases(api, 4)

    # fw2 signed these on the visit; fw1, who pushes the batch, signs later on their own.
    half_signed = attest(submission(later_case), fw2, key2, pair2)
    other_half_signed = attest(submission(own_case), fw2, key2, pair2)
    assert [r["status"] for r in push(api, [half_signed, other_half_signed])
            .get_json()["results"]] == ["accepted", "accepted"]
    digest = submission_digest(half_signed)
    neighbours = [
        attest(attest(submission(complete_case), fw1, key1, pair1), fw2, key2, pair2),
        {"type": "visit_attestation", "id": str(uuid.uuid4()), "submission_id": half_signed["id"],
         "user_id": fw1, "key_id": key1, "digest": digest, "signature": pair1.sign(digest)},
        submission(far_case, offset_m=3000, minutes=4),
    ]
    other_digest = submission_digest(other_half_signed)
    templates = [
        attest(submission(own_case, photos=[{"sha256": SHA, "field": "house_photo",
                                             "captured_at": "2026-11-25T08:00:00+08:00",
                                             "lat": 27.1, "lon": 103.5, "accuracy_m": 10}]),
               fw1, key1, pair1),
        {"type": "visit_attestation", "id": str(uuid.uuid4()),
         "submission_id": other_half_signed["id"], "user_id": fw1, "key_id": key1,
         "digest": other_digest, "signature": pair1.sign(other_digest)},
    ]
    places = [(t, path) for t in templates for path in _paths(t)]
    places += [(t, path + ("extra",)) for t in templates for path in _paths(t)
               if path and isinstance(_at(t, path), dict)]

    with _rolled_back(db_session):
        alone = push(api, neighbours).get_json()["results"]
    assert [r["status"] for r in alone] == ["accepted"] * 3
    assert alone[0]["is_complete"] and alone[1]["is_complete"]

    @settings(max_examples=100, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(place=st.sampled_from(places), value=JSON_VALUES, position=st.integers(0, 3))
    def check(place, value, position):
        template, path = place
        odd = _put(template, path, value)
        batch = copy.deepcopy(neighbours)
        batch.insert(position, odd)
        with _rolled_back(db_session):
            response = push(api, batch)
            assert response.status_code == 200, response.get_json()
            results = response.get_json()["results"]
            assert len(results) == 4
            assert results[:position] + results[position + 1:] == alone
            assert _stored(db_session, neighbours[0]["id"], neighbours[2]["id"]) == 2

    check()


def _at(record, path):
    for step in path:
        record = record[step]
    return record

