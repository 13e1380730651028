"""Malformed requests, as a table: each is answered 4xx application/problem+json with a stable
`type` slug, never a 500 (issue 8). A sync push answers 200 with the bad record `rejected`
(one bad record never sinks the batch), so its cases check the record's problem instead.

A case is (id, method, path, body bytes, content type, wants): `path` may name `{case}` (a case
the caller can edit), `wants` is "problem" or "rejected-record". `XFAIL` names cases expected
to fail (none: the JSON parser's bounds answer deep nesting and huge numbers with a 400).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

JSON = "application/json"
UUID = "0b7e6a9e-3f4c-4d2a-9a51-6c1f2e3d4b5a"
UUID2 = "1c8f7bae-4a5d-4e3b-8b62-7d2a3f4e5c6b"
SHA = "a" * 64


@dataclass(frozen=True)
class BadInput:
    id: str
    method: str
    path: str
    body: bytes
    content_type: str | None = JSON
    wants: str = "problem"
    user: str = "wenping_intake"


def _dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True).encode()


# Endpoint -> (method, path, a valid-looking body, who sends it)
ENDPOINTS = {
    "login": ("POST", "/api/auth/login",
              {"username": "nobody_here", "password": "wrong-password"}, None),
    "household": ("POST", "/api/households", {
        "jurisdiction_code": "530621100201", "address": "砚池社区1组1号",
        "members": [{"name": "张三", "relation": "head"}]}, "wenping_intake"),
    "case": ("POST", "/api/cases", {
        "household_id": UUID, "kind": "dibao", "channel": "window",
        "is_economic_check_authorized": True, "has_honesty_pledge": True}, "wenping_intake"),
    "case-edit": ("PATCH", "/api/cases/{case}", {"note": "n"}, "wenping_reviewer"),
    "team": ("PUT", "/api/cases/{case}/team", {"user_ids": [UUID, UUID2]}, "wenping_reviewer"),
    "settings": ("PATCH", "/api/jurisdictions/530621100/settings",
                 {"settings": {"min_visit_minutes": 10}}, "wenping_admin"),
    "device-key": ("POST", "/api/devices/keys", {
        "device_id": "device-0001", "public_key_jwk": {"kty": "EC", "crv": "P-256"}},
        "wenping_fw1"),
    "push": ("POST", "/api/sync/push", {"records": [{"type": "visit_attestation"}]},
             "wenping_fw1"),
}

DEEP = 50_000


def _body_cases() -> list[BadInput]:
    """Whole bodies that are not what any endpoint takes."""
    raw = {
        "deep-list": b"[" * DEEP + b"]" * DEEP,
        "deep-object": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        "deep-list-in-field": b'{"x": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        "nested-900": b"[" * 900 + b"]" * 900,
        "huge-integer": b"1" + b"0" * 5000,
        "huge-integer-in-field": b'{"x": 1' + b"0" * 5000 + b"}",
        "huge-exponent": b'{"x": 1e999999}',
        "nan": b"NaN",
        "infinity": b"Infinity",
        "minus-infinity": b"-Infinity",
        "nan-in-field": b'{"x": NaN}',
        "invalid-utf8": b'{"x": "\xff\xfe\xfd"}',
        "lone-surrogate": b'{"x": "\\ud800"}',
        "truncated": b'{"x": ',
        "trailing-garbage": b'{"x": 1} trailing',
        "empty-body": b"",
        "whitespace-body": b"   ",
        "null": b"null",
        "true": b"true",
        "number": b"17",
        "string": b'"just a string"',
        "array": b"[]",
        "array-of-objects": b"[{}, {}]",
        "nul-byte": b'{"x": "a\\u0000b"}',
        "utf16-bom": '{"x": 1}'.encode("utf-16"),
    }
    cases = []
    for endpoint, (method, path, _valid, user) in ENDPOINTS.items():
        for name, body in raw.items():
            cases.append(BadInput(f"{endpoint}-{name}", method, path, body, JSON,
                                  "problem", user or "wenping_intake"))
        cases.append(BadInput(f"{endpoint}-form-encoded", method, path, b"a=1&b=2",
                              "application/x-www-form-urlencoded", "problem",
                              user or "wenping_intake"))
        cases.append(BadInput(f"{endpoint}-text-plain", method, path, b'{"x": 1}',
                              "text/plain", "problem", user or "wenping_intake"))
    return cases


# Wrong values tried in every field: the wrong type each time, or out of every bound.
WRONG = {
    "int": 12, "float": 1.5, "string": "x", "true": True, "null": None, "list": [],
    "object": {}, "list-of-null": [None], "long-string": "长" * 20_000,
    "huge-int": 10 ** 30,
}


def _field_cases() -> list[BadInput]:
    """Each field of each JSON body, set to each value of the wrong kind for it."""
    wrong_for = {
        "login": {"username": ["int", "null", "list", "object", "long-string", "true"],
                  "password": ["int", "null", "list", "object", "long-string"],
                  "device_id": ["int", "list", "object", "long-string"]},
        "household": {
            "jurisdiction_code": ["int", "null", "string", "list", "long-string"],
            "address": ["int", "null", "object", "string", "long-string"],
            "members": ["null", "object", "list", "list-of-null", "string"],
            "home_lat": ["string", "huge-int", "object", "true"],
            "home_lon": ["string", "huge-int", "list"],
            "is_relative_of_staff": ["string", "int", "list"],
            "staff_relatives": ["string", "list-of-null", "object"],
            "id": ["int", "string", "object"],
        },
        "case": {
            "household_id": ["int", "null", "string", "list"],
            "kind": ["int", "null", "string", "list-of-null"],
            "channel": ["int", "null", "string"],
            "is_economic_check_authorized": ["string", "null", "list"],
            "has_honesty_pledge": ["string", "null", "object"],
            "applied_at": ["int", "string", "list"],
            "note": ["int", "long-string", "list"],
            "temporary_subtype": ["int", "string"],
            "id": ["int", "string", "list"],
        },
        "case-edit": {"note": ["int", "long-string", "list", "object"],
                      "channel": ["int", "string", "null"],
                      "is_economic_check_authorized": ["string", "list", "null"],
                      "status": ["string"]},
        "team": {"user_ids": ["null", "string", "list", "list-of-null", "object", "int"]},
        "settings": {"settings": ["null", "string", "list", "int", "list-of-null"]},
        "device-key": {"device_id": ["int", "null", "list", "long-string", "string"],
                       "public_key_jwk": ["string", "null", "list", "int", "object"]},
        "push": {"records": ["null", "string", "list", "object", "int"],
                 "device_id": ["int", "list", "long-string"],
                 "sent_at": ["int", "string", "list"]},
    }
    cases = []
    for endpoint, fields in wrong_for.items():
        method, path, valid, user = ENDPOINTS[endpoint]
        for field, kinds in fields.items():
            for kind in kinds:
                body = {**valid, field: WRONG[kind]}
                cases.append(BadInput(f"{endpoint}-{field}-{kind}", method, path, _dumps(body),
                                      JSON, "problem", user or "wenping_intake"))
        # A key repeated in one object is ambiguous (parsers disagree on which value wins):
        # the whole body is refused as malformed JSON.
        cases.append(BadInput(f"{endpoint}-duplicate-keys", method, path,
                              _duplicate_keys(valid), JSON, "problem",
                              user or "wenping_intake"))
    return cases


def _duplicate_keys(valid: dict) -> bytes:
    """The first key repeated, the last time with a value of the wrong kind."""
    key = next(iter(valid))
    pairs = [json.dumps(key) + ": " + json.dumps(valid[key]) for _ in range(2)]
    pairs.append(json.dumps(key) + ": [[[{}]]]")
    rest = [json.dumps(k) + ": " + json.dumps(v) for k, v in valid.items() if k != key]
    return ("{" + ", ".join(pairs + rest) + "}").encode()


def visit_submission() -> dict:
    return {
        "type": "visit_submission", "id": UUID, "case_id": UUID2,
        "form_id": "household_survey", "form_version": 1, "base_revision": None,
        "started_at": "2026-11-25T08:00:00+08:00", "ended_at": "2026-11-25T08:40:00+08:00",
        "captured_at": "2026-11-25T08:40:00+08:00", "data": {},
        "stamps": [{"kind": "start", "lat": 27.19, "lon": 103.55, "accuracy_m": 10,
                    "captured_at": "2026-11-25T08:00:00+08:00", "user_id": UUID,
                    "device_id": "device-0001"}],
        "photos": [{"sha256": SHA, "field": "members[0].photo",
                    "captured_at": "2026-11-25T08:10:00+08:00", "lat": 27.19, "lon": 103.55,
                    "accuracy_m": 5}],
        "attestations": [{"user_id": UUID, "key_id": UUID2, "signature": "s" * 86,
                          "signature_image_sha256": SHA,
                          "signed_at": "2026-11-25T08:41:00+08:00"}],
    }


def visit_attestation() -> dict:
    return {"type": "visit_attestation", "id": UUID, "submission_id": UUID2, "user_id": UUID,
            "key_id": UUID2, "signature": "s" * 86, "signature_image_sha256": SHA,
            "signed_at": "2026-11-25T08:41:00+08:00", "digest": SHA}


RECORD_WRONG = ["int", "float", "true", "list", "object", "long-string", "list-of-null"]
# Fields whose value may be null (load_default None): null is not wrong there.
NULLABLE = {"base_revision", "started_at", "ended_at", "captured_at", "accuracy_m", "user_id",
            "device_id", "field", "lat", "lon", "signature_image_sha256", "signed_at",
            "digest"}
# Wrong kinds that a field takes as valid, so they are not tried there.
ACCEPTED = {"data": {"object"}, "base_revision": {"int"}, "accuracy_m": {"int", "float"},
            "lat": {"int", "float"}, "lon": {"int", "float"}, "form_version": set()}


def _record_cases() -> list[BadInput]:
    """Every field of both sync record types, including the nested stamps, photos and
    attestations, with a value of the wrong kind: that record is rejected, never a 500."""
    cases = []

    def add(name: str, record: dict, wants: str = "rejected-record") -> None:
        body = _dumps({"device_id": "device-0001", "records": [record]})
        cases.append(BadInput(f"push-record-{name}", "POST", "/api/sync/push", body, JSON,
                              wants, "wenping_fw1"))

    def kinds_for(field: str) -> list[str]:
        kinds = [k for k in RECORD_WRONG if k not in ACCEPTED.get(field, set())]
        if field not in NULLABLE:
            kinds.append("null")
        return kinds

    submission = visit_submission()
    for field in submission:
        for kind in kinds_for(field):
            add(f"submission-{field}-{kind}", {**submission, field: WRONG[kind]})
    for group in ("stamps", "photos", "attestations"):
        item = submission[group][0]
        for field in item:
            for kind in kinds_for(field):
                add(f"submission-{group}-{field}-{kind}",
                    {**submission, group: [{**item, field: WRONG[kind]}]})
        add(f"submission-{group}-null-item", {**submission, group: [None]})
    attestation = visit_attestation()
    for field in attestation:
        for kind in kinds_for(field):
            add(f"attestation-{field}-{kind}", {**attestation, field: WRONG[kind]})
    for name, record in {"unknown-type": {"type": "visit_deletion", "id": UUID},
                         "no-type": {"id": UUID}, "string-record": "visit",
                         "number-record": 7, "list-record": [visit_attestation()],
                         "nan-lat": None}.items():
        if name == "nan-lat":
            # NaN is not JSON at all: the whole body is refused before any record is read.
            stamp = {**submission["stamps"][0], "lat": float("nan")}
            add(name, {**submission, "stamps": [stamp]}, "problem")
            continue
        add(name, record)
    return cases


CASES = _body_cases() + _field_cases() + _record_cases()

# Cases expected to fail: none now that JSON bodies are parsed within limits.
XFAIL: set[str] = set()
