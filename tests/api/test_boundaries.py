"""Package boundaries of issue 9: sync dispatches to registered record types and pull
providers, pull loads a page in bulk (no N+1), and events run inside the transaction."""

from dataclasses import dataclass

from marshmallow import Schema, fields
from sqlalchemy import event

from backend import events
from backend.extensions import db
from tests.api.test_sync import assigned_case, push
from tests.visit_factory import submission


class NoteSchema(Schema):
    type = fields.String(required=True)
    id = fields.UUID(required=True)
    text = fields.String(required=True)


def test_a_new_record_type_plugs_into_push_without_touching_sync(app, api):
    registry = app.extensions["doorstep.sync"]
    seen = []

    def handle(batch, records):
        seen.append((batch.caller.user_id, [r.loaded["text"] for r in records]))
        return [{"id": r.raw["id"], "status": "accepted"} for r in records]

    registry.accept("check_in_note", NoteSchema(), handle)
    try:
        case = assigned_case(api)
        visit = submission(case)
        note = {"type": "check_in_note", "id": "0b5f1a52-3c55-4a5e-9d1b-1f2e3d4c5b6a",
                "text": "recipient was home"}
        bad = {"type": "check_in_note", "id": "not-a-uuid", "text": "x"}
        results = push(api, [note, visit, bad]).get_json()["results"]
    finally:
        del registry.record_types["check_in_note"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected"]
    assert results[1]["id"] == visit["id"]
    assert results[2]["problem"]["errors"] == {"id": ["Not a valid UUID."]}
    assert seen == [(api.user_id("wenping_fw1"), ["recipient was home"])]


def _statements_of_full_pull(app, api, page_size):
    statements = []

    def count(*_args):
        statements.append(1)

    app.config["SYNC_PAGE_SIZE"] = page_size
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        body = api.get("wenping_fw1", "/api/sync/pull").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
        app.config["SYNC_PAGE_SIZE"] = 200
    return len(statements), len(body["cases"])


def test_a_pull_page_costs_the_same_queries_whatever_its_size(app, api):
    api.tokens("wenping_fw1")  # sign in first: only the pull is counted
    small, small_cases = _statements_of_full_pull(app, api, 2)
    large, large_cases = _statements_of_full_pull(app, api, 12)
    assert (small_cases, large_cases) == (2, 12)
    assert large == small  # households, members, names and teams load in bulk


@dataclass(frozen=True)
class Pinged:
    word: str


def test_events_run_before_commit_and_are_dropped_on_rollback(app, db_session):
    handled = []
    events.subscribe(Pinged, lambda e: handled.append((e.word, db_session().in_transaction())))
    with app.app_context():
        events.raise_(Pinged("kept"))
        assert handled == []  # waits for the end of the unit of work
        db_session.commit()
        assert handled == [("kept", True)]  # inside the transaction, before it commits
        events.raise_(Pinged("dropped"))
        db_session.rollback()
        db_session.commit()
    assert handled == [("kept", True)]


def test_batch_handlers_get_every_event_of_a_pass_at_once_in_order(app, db_session):
    batches = []
    events.subscribe_batch(Pinged, lambda pinged: batches.append([e.word for e in pinged]))
    with app.app_context():
        for word in ("one", "two", "three"):
            events.raise_(Pinged(word))
        db_session.commit()
    assert batches == [["one", "two", "three"]]


def _review_statements_of_a_push(app, api, how_many):
    from backend.reviews.models import VisitReview

    cases = api.get("wenping_fw1", "/api/cases?assigned_to_me=true").get_json()["items"]
    records = [submission(cases[i % len(cases)]) for i in range(how_many)]
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if VisitReview.__tablename__ in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        results = push(api, records).get_json()["results"]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert {r["status"] for r in results} == {"accepted"}
    return len(statements)


def test_review_rows_of_a_synced_batch_cost_the_same_queries_whatever_its_size(app, api):
    # One batch of visits starts its reviews in bulk: a thousand-visit push is not a
    # thousand review lookups, inserts and re-visit checks.
    api.tokens("wenping_fw1")
    assert _review_statements_of_a_push(app, api, 2) == _review_statements_of_a_push(app, api, 9)
