"""Replayed visit records, answered from the id index before anything is parsed: a phone
that sends its day of visits again (a lost answer, a retry) costs one lookup of the batch's
ids, a digest only of the ids already known, and the stored results (issue 23)."""

from __future__ import annotations

from backend.attestation import canonical
from backend.cases import service as cases
from backend.sync.registry import PushBatch
from backend.visits import queries


def _ids(records: list[tuple[int, dict]]) -> set[str]:
    return {raw["id"] for _, raw in records
            if isinstance(raw.get("id"), str) and len(raw["id"]) <= 36}


def replayed_submissions(batch: PushBatch, records: list[tuple[int, dict]]) -> dict[int, dict]:
    """The ``visit_submission`` records already stored, answered ``duplicate`` with their
    stored result: their id is known and their signed content's digest is one of its
    revisions' (computed only for known ids), and the caller is on the case's visit team in
    their area, as a push needs. Everything else goes through ``push_submissions``, which
    still finds a duplicate stored by a request racing this one."""
    stored = queries.stored_digests(_ids(records))
    batch.looked_up["visit_submission"] = set(stored)  # the handler reads only those again
    if not stored:
        return {}
    matched: dict[int, tuple[str, str]] = {}
    for index, raw in records:
        known = stored.get(raw["id"]) if isinstance(raw.get("id"), str) else None
        if known is None:
            continue
        try:
            same = canonical.parsed_submission_digest_in(raw, known[1])
        except ValueError:  # unsignable or incomplete: the handler answers why
            continue
        if same:
            matched[index] = (raw["id"], known[0])
    return _duplicates(batch, matched)


def replayed_attestations(batch: PushBatch, records: list[tuple[int, dict]]) -> dict[int, dict]:
    """The ``visit_attestation`` records already stored (by id), sent again by their signer,
    answered ``duplicate`` with their visit's stored result."""
    stored = queries.stored_attestations(_ids(records))
    matched: dict[int, tuple[str, str]] = {}
    for index, raw in records:
        row = stored.get(raw["id"]) if isinstance(raw.get("id"), str) else None
        if row is not None and row[0] == batch.caller.user_id == raw.get("user_id"):
            matched[index] = (row[1], row[2])
    raws = dict(records)
    return {index: {**answer, "id": raws[index]["id"]}
            for index, answer in _duplicates(batch, matched).items()}


def _duplicates(batch: PushBatch, matched: dict[int, tuple[str, str]]) -> dict[int, dict]:
    """Stored results for the matched records ({position: (visit, case)}) whose case is in
    the caller's area with the caller on its visit team (else the handler answers why)."""
    if not matched:
        return {}
    found = cases.for_push({case_id for _, case_id in matched.values()}, batch.caller)
    mine = {index: sid for index, (sid, case_id) in matched.items()
            if case_id in found and batch.caller.user_id in found[case_id].team}
    results = queries.results_for(list(set(mine.values()))) if mine else {}
    return {index: {**results[sid], "status": "duplicate"} for index, sid in mine.items()}
