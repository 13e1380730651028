"""The push's answer (backend/sync/schemas.push_results_dumped) is the document PushResultSchema
dumps, whether a result is passed as it is or walked through the schema: the OpenAPI document
stays the contract (issue 23)."""

import json
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.sync import schemas
from backend.sync.schemas import PushResultSchema, push_results_dumped

_TEXT = st.text(max_size=70)
_ANY = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT
        | st.lists(st.integers() | _TEXT, max_size=2))
_FLAG = st.fixed_dictionaries({"code": _TEXT, "severity": _TEXT})
# Results as the handlers write them ...
_PLAIN = st.fixed_dictionaries(
    {"id": st.text(max_size=64) | st.text(min_size=64, max_size=66),
     "status": st.sampled_from(["accepted", "duplicate"])},
    optional={"revision": st.integers(), "is_complete": st.booleans(),
              "attested_by": st.lists(_TEXT, max_size=3),
              "attestation_problems": st.lists(_TEXT, max_size=2),
              "missing_photos": st.lists(_TEXT, max_size=2), "flags": st.lists(_FLAG, max_size=3)})
_KEYS = ["id", "status", "revision", "is_complete", "attested_by", "attestation_problems",
         "missing_photos", "flags", "problem", "outcome"]


@st.composite
def _result(draw):
    """... and one of them with one value of another type, a flag with another key, or a key
    the schema does not declare."""
    result = draw(_PLAIN)
    change = draw(st.sampled_from(["none", "value", "flag", "list item"]))
    if change == "value":
        result[draw(st.sampled_from(_KEYS))] = draw(_ANY)
    elif change == "flag":
        result["flags"] = [{"code": "c", "severity": "s", **draw(st.dictionaries(
            st.sampled_from(["code", "severity", "extra"]), _ANY, min_size=1, max_size=2))}]
    elif change == "list item":
        result[draw(st.sampled_from(["attested_by", "attestation_problems", "missing_photos"]))
               ] = ["ok", draw(_ANY)]
    return result


ACCEPTED = {"id": "0b6e8f1e-4f5c-4d3a-9a8b-7c6d5e4f3a2b", "status": "accepted", "revision": 1,
            "is_complete": True, "attested_by": ["u1", "u2"], "missing_photos": [],
            "flags": [{"code": "visit-too-short", "severity": "warning"}]}


def _or_error(dump):
    """The document as the app writes it (Flask's provider sorts keys), where True == 1 but
    "true" != "1"; or the error's type."""
    try:
        return json.dumps(dump(), sort_keys=True)
    except (TypeError, ValueError, AttributeError) as error:  # what fields raise on junk
        return type(error)


@settings(max_examples=500, deadline=None)
@given(st.lists(_result(), max_size=3))
def test_the_answer_is_what_the_schema_dumps(results):
    assert _or_error(lambda: {"results": push_results_dumped(results)}) == _or_error(
        lambda: PushResultSchema().dump({"results": results}))


def test_an_accepted_visit_is_passed_as_it_is_and_a_malformed_id_through_the_schema():
    with mock.patch.object(schemas._RECORD_RESULT, "dump", wraps=schemas._RECORD_RESULT.dump) \
            as dump:
        answer = push_results_dumped([ACCEPTED, {**ACCEPTED, "id": 7}, {**ACCEPTED, "id": True}])
    assert answer == [ACCEPTED, {**ACCEPTED, "id": None}, {**ACCEPTED, "id": None}]
    assert dump.call_count == 2  # the two malformed ids; the accepted visit is not walked
