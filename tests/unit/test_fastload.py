"""The compiled record loader (backend/sync/fastload.py) answers exactly what marshmallow's
``schema.load`` answers, or nothing: on the records the PWA sends and on a Hypothesis
corpus of their mutations (wrong types, missing keys, unknown keys, nulls, bad values), a
record it takes is one the schema takes, loaded to the same value."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields, pre_load, validate

from backend.sync.fastload import compile_loader
from backend.visits.schemas import RECORD_SCHEMAS
from tests.visit_factory import member, submission, survey_answers

CASE = {"id": "3f1c6a52-8a7e-4c1e-9a2b-0d1e2f3a4b5c", "kind": "dibao",
        "household": {"home_lat": 27.19, "home_lon": 103.56}}
USER = "0b6e8f1e-4f5c-4d3a-9a8b-7c6d5e4f3a2b"


def _visit() -> dict:
    record = submission(CASE, data=survey_answers(members=[member(), member(name="李四")]))
    record["base_revision"] = 1
    record["attestations"] = [{"user_id": USER, "key_id": USER, "signature": "s" * 86,
                               "signature_image_sha256": "a" * 64,
                               "signed_at": "2024-05-06T02:41:00+08:00"}]
    record["photos"] = [{"sha256": "b" * 64, "field": "house_photo", "lat": 27.19, "lon": 103,
                         "accuracy_m": 8, "captured_at": "2024-05-06T02:10:00Z"}]
    return record


def _attestation() -> dict:
    return {"type": "visit_attestation", "id": USER, "submission_id": CASE["id"],
            "user_id": USER, "key_id": USER, "signature": "s" * 86, "digest": "c" * 64,
            "signature_image_sha256": None, "signed_at": None}


RECORDS = {"visit_submission": _visit, "visit_attestation": _attestation}


def _marshmallow(schema, record):
    try:
        return schema.load(copy.deepcopy(record))
    except ValidationError:
        return None


@pytest.mark.parametrize("kind", RECORDS)
def test_the_records_the_pwa_sends_take_the_compiled_path(kind):
    schema = RECORD_SCHEMAS[kind]
    record = RECORDS[kind]()
    loaded = compile_loader(schema)(record)

    assert loaded is not None
    assert loaded == schema.load(record)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**20) | st.floats()
    | st.sampled_from(["", "x", USER, USER.upper(), "a" * 64, "A" * 64, "start", "photo",
                       "2024-05-06T02:10:00Z", "2024-05-06T02:10:00", "2024-13-01T00:00:00Z",
                       "12.5", "1", "visit_submission", "visit_attestation", "s" * 79]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["kind", "lat", "lon", "sha256", "user_id", "x", "accuracy_m",
                         "captured_at", "key_id", "signature"]), inner, max_size=4),
    max_leaves=8)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            if key != "data":  # answers are the form's to check, not the record schema's
                yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _paths(inner, prefix + (index,))


@st.composite
def mutated(draw):
    kind = draw(st.sampled_from(sorted(RECORDS)))
    record = RECORDS[kind]()
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(record) if p]
        path = draw(st.sampled_from(paths))
        parent = record
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["set", "delete", "unknown"]))
        if action == "set":
            parent[path[-1]] = draw(JSON_VALUES)
        elif action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent["unexpected_" + str(path[-1])] = draw(JSON_VALUES)
    return kind, record


@settings(max_examples=400, deadline=None)
@given(mutated())
def test_a_mutated_record_is_loaded_as_marshmallow_loads_it_or_left_to_it(case):
    kind, record = case
    schema = RECORD_SCHEMAS[kind]
    fast = compile_loader(schema)(copy.deepcopy(record))
    if fast is not None:
        assert fast == _marshmallow(schema, record)


def test_schemas_with_what_the_compiler_does_not_know_are_left_to_marshmallow():
    class Hooked(Schema):
        name = fields.String()

        @pre_load
        def strip(self, data, **_kwargs):
            return data

    class Renamed(Schema):
        name = fields.String(data_key="Name")

    class Other(Schema):
        when = fields.Date()

    for schema in (Hooked(), Renamed(), Other()):
        assert compile_loader(schema) is None


def test_a_validator_the_field_runs_refuses_here_too():
    class Sized(Schema):
        name = fields.String(required=True, validate=validate.Length(max=3))

    load = compile_loader(Sized())
    assert load({"name": "abc"}) == {"name": "abc"}
    assert load({"name": "abcd"}) is None
    assert load({"name": 7}) is None
    assert load({}) is None
    assert load({"name": "a", "other": 1}) is None


TRICKY = [True, False, None, 0, 1, -1, 1.5, float("nan"), float("inf"), 2**70, "", "1",
          "12.5", USER, "a" * 64, "2024-05-06T02:10:00Z", "2024-05-06T02:10:00", [], {}, [{}]]


@pytest.mark.parametrize("kind", RECORDS)
def test_every_field_given_every_tricky_value_loads_as_marshmallow_loads_it(kind):
    schema = RECORD_SCHEMAS[kind]
    load = compile_loader(schema)
    taken = 0
    for path in [p for p in _paths(RECORDS[kind]()) if p]:
        for value in TRICKY:
            record = RECORDS[kind]()
            parent = record
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = value
            fast = load(copy.deepcopy(record))
            if fast is not None:
                taken += 1
                assert fast == _marshmallow(schema, record), (path, value)
    assert taken  # the compiled path is exercised, not only refused
