"""Build realistic visit submissions and real P-256 attestations for tests and benches."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from backend.attestation.canonical import submission_digest
from backend.attestation.rules import attestation_message


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class DeviceKeyPair:
    """What the PWA does with WebCrypto: a P-256 key whose public half is a JWK."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                    "y": b64url(numbers.y.to_bytes(32, "big"))}

    def sign(self, digest_hex: str) -> str:
        der = self.private.sign(attestation_message(digest_hex), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


SELF_CARE_ITEMS = ("eats_alone", "dresses_alone", "transfers_alone", "uses_toilet_alone",
                   "walks_indoors_alone", "bathes_alone")


def member(name="王秀英", relation="head", id_number="53062119560309022X", age=70, **extra):
    answer = {"name": name, "relation": relation, "id_number": id_number, "sex": "female",
              "age": age, "health": "chronic_illness", "disability_grade": None,
              "education": "primary", "marital_status": "widowed", "work_status":
              "unable_to_work", "can_work": False, "income_wages": 0, "income_business": 0,
              "income_property": 0, "income_transfer": 300}
    answer.update(extra)
    return answer


def survey_answers(members=None, **extra) -> dict:
    answers = {
        "address_confirmed": True, "actual_address": None, "contact_mobile": None,
        "housing_type": "owned", "housing_area": 45.5, "has_running_water": True,
        "heating": "stove", "appliances": ["tv"], "visit_location": None, "house_photo": None,
        "members": members or [member()], "deposits": 1200, "securities": None,
        "vehicle_count": 0, "vehicle_value": None, "owns_other_housing": False,
        "other_housing_area": None, "owns_business": False, "medical_expense": 200,
        "education_expense": None, "utilities_expense": 30, "supporters": [], "notes": "",
    }
    answers.update(extra)
    return answers


def submission(case: dict, *, start: datetime | None = None, minutes: int = 25,
               offset_m: float = 0.0, data: dict | None = None, photos=None,
               submission_id: str | None = None, user_ids=(None, None)) -> dict:
    """A visit to `case` (a case view from the API) with start and end stamps at home."""
    household = case["household"]
    lat = (household["home_lat"] or 27.19) + offset_m / 111_320
    lon = household["home_lon"] or 103.55
    start = start or datetime.now(UTC) - timedelta(minutes=minutes + 5)
    end = start + timedelta(minutes=minutes)
    if data is None:
        data = survey_answers()
        if case["kind"] == "extreme_poverty":  # the self-care assessment (001, 民发〔2021〕43号)
            data.update({item: True for item in SELF_CARE_ITEMS})
    return {
        "type": "visit_submission", "id": submission_id or str(uuid.uuid4()),
        "case_id": case["id"], "form_id": "household_survey", "form_version": 1,
        "base_revision": None, "started_at": start.isoformat(), "ended_at": end.isoformat(),
        "captured_at": end.isoformat(), "data": data,
        "stamps": [
            {"kind": "start", "lat": lat, "lon": lon, "accuracy_m": 12,
             "captured_at": start.isoformat(), "user_id": user_ids[0]},
            {"kind": "end", "lat": lat, "lon": lon, "accuracy_m": 15,
             "captured_at": end.isoformat(), "user_id": user_ids[1]},
        ],
        "photos": photos or [],
        "attestations": [],
    }


def attest(record: dict, signer_user_id: str, key_id: str, keypair: DeviceKeyPair) -> dict:
    record["attestations"].append({
        "user_id": signer_user_id, "key_id": key_id,
        "signature": keypair.sign(submission_digest(record)),
        "signed_at": datetime.now(UTC).isoformat()})
    return record
