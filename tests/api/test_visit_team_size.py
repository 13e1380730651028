"""A visit is complete when `min_visit_team_size` team members have attested (004: >= 2)."""

import uuid

from backend.attestation.canonical import submission_digest
from tests.api.test_sync import assigned_case, push, register_key
from tests.visit_factory import attest, submission


def test_a_jurisdiction_requiring_three_investigators_needs_three_signatures(api, db_session):
    case = assigned_case(api)
    changed = api.patch("wenping_admin", "/api/jurisdictions/530621100/settings",
                        json={"settings": {"min_visit_team_size": 3}})
    assert changed.status_code == 200, changed.get_json()
    team = [api.user_id(u) for u in ("wenping_fw1", "wenping_fw2", "wenping_fw3")]
    version = api.get("wenping_intake", f"/api/cases/{case['id']}").get_json()["version"]
    assigned = api.put("wenping_intake", f"/api/cases/{case['id']}/team",
                       json={"user_ids": team}, headers={"If-Match": f'"{version}"'})
    assert assigned.status_code == 200, assigned.get_json()
    case = assigned.get_json()

    keys = [register_key(api, u, device=f"device-{u[-3:]}aaaaaa")
            for u in ("wenping_fw1", "wenping_fw2", "wenping_fw3")]
    record = submission(case)
    for user_id, (pair, key_id) in zip(team[:2], keys[:2], strict=True):
        attest(record, user_id, key_id, pair)
    first = push(api, [record]).get_json()["results"][0]
    assert first["status"] == "accepted", first
    assert first["is_complete"] is False  # two of three: a fixed 2 would call it complete
    assert sorted(first["attested_by"]) == sorted(team[:2])

    pair3, key3 = keys[2]
    digest = submission_digest(record)
    third = {"type": "visit_attestation", "id": str(uuid.uuid4()), "submission_id": record["id"],
             "user_id": team[2], "key_id": key3, "digest": digest, "signature": pair3.sign(digest)}
    result = push(api, [third], username="wenping_fw3").get_json()["results"][0]
    assert result["status"] == "accepted", result
    assert result["is_complete"] is True
