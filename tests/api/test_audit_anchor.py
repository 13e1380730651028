"""The daily audit anchor (issue 22; ADR 0005's open point, ADR 0023): the chain's head,
signed with Ed25519, kept outside the database; `verify-audit --anchor FILE` proves the
chain still runs through it, so a history rewritten with recomputed hashes shows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from backend import anchoring, jobs
from backend.audit import anchor as anchors
from backend.audit import rules
from backend.audit.models import AuditChainHead, AuditEvent
from backend.extensions import db

MOMENT = datetime(2026, 12, 7, 16, 5, tzinfo=UTC)


@pytest.fixture
def keys(app, monkeypatch, tmp_path):
    private, public = anchors.new_key_pair()
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_SIGNING_KEY", private)
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_DIR", str(tmp_path / "anchors"))
    return private, public


def _anchor_now(app, monkeypatch) -> tuple[anchors.Anchor, dict]:
    from backend import clock

    monkeypatch.setattr(clock, "_frozen_now", MOMENT)
    assert anchoring.daily_anchor.run() is not None
    db.session.commit()  # the worker's unit of work ends so (here: the test's savepoint)
    path = f"{app.config['AUDIT_ANCHOR_DIR']}/audit-anchor-2026-12-07.json"
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    return anchors.read_anchor(json.dumps(document), anchors.verifying_key(app.config)), document


def _verify(app, path, *extra):
    return app.test_cli_runner().invoke(args=["verify-audit", "--anchor", str(path), *extra])


def test_the_daily_job_is_declared_on_the_kernel(app):
    with app.app_context():
        names = {task.__name__ for task in jobs.current_huey()._registry._periodic_tasks}
    assert "audit_anchor" in names


def test_the_job_signs_the_head_and_writes_it_outside_the_database(app, api, db_session, keys,
                                                                   monkeypatch):
    api.tokens("wenping_fw1")  # some rows
    head = db_session.get(AuditChainHead, 1, populate_existing=True)
    before = (head.last_seq, head.last_hash)
    signed, document = _anchor_now(app, monkeypatch)
    assert (signed.chain_seq, signed.row_hash) == before
    assert document["format"] == "doorstep-audit-anchor/1"
    assert document["anchored_at"] == "2026-12-07T16:05:00.000000+00:00"
    anchored = db_session.scalars(select(AuditEvent).where(
        AuditEvent.action == "audit.anchored")).all()
    assert anchored[-1].object_id == str(before[0])
    assert anchored[-1].chain_seq == before[0] + 1  # the anchoring is the next row


def test_verify_audit_proves_the_chain_through_the_anchor(app, api, db_session, keys,
                                                          monkeypatch, tmp_path):
    api.tokens("wenping_fw1")
    signed, _ = _anchor_now(app, monkeypatch)
    api.tokens("wenping_fw2")  # the chain goes on after the anchor
    path = f"{app.config['AUDIT_ANCHOR_DIR']}/audit-anchor-2026-12-07.json"
    result = _verify(app, path, "--public-key", keys[1])
    assert result.exit_code == 0, result.output
    assert f"through the anchor of 2026-12-07T16:05:00+00:00 at position {signed.chain_seq}" \
        in result.output


def test_a_history_rewritten_with_recomputed_hashes_is_caught(app, api, db_session, keys,
                                                              monkeypatch):
    """Without the anchor, someone who can write the database rewrites a row and re-hashes
    every row after it: verify-audit alone says OK. The anchor's signed hash says no."""
    api.tokens("wenping_fw1")
    signed, _ = _anchor_now(app, monkeypatch)
    rows = db_session.execute(select(AuditEvent).order_by(AuditEvent.chain_seq)).scalars().all()
    victim = rows[len(rows) // 2]
    previous = victim.prev_hash
    for row in rows[rows.index(victim):]:
        fields = {name: getattr(row, name) for name in rules.HASHED_FIELDS}
        if row.id == victim.id:
            fields["ip"] = "10.6.6.6"
        digest = rules.row_hash(previous, fields)
        db_session.execute(update(AuditEvent).where(AuditEvent.id == row.id).values(
            ip=fields["ip"], prev_hash=previous, row_hash=digest))
        previous = digest
    db_session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(
        last_hash=previous))
    db_session.expire_all()
    plain = app.test_cli_runner().invoke(args=["verify-audit"])
    assert plain.exit_code == 0, plain.output  # the chain alone is consistent again
    path = f"{app.config['AUDIT_ANCHOR_DIR']}/audit-anchor-2026-12-07.json"
    result = _verify(app, path)
    assert result.exit_code == 1
    assert f"position {signed.chain_seq} does not have the anchored hash" in result.output


def test_a_truncated_chain_is_caught(app, api, db_session, keys, monkeypatch):
    from sqlalchemy import delete

    api.tokens("wenping_fw1")
    signed, _ = _anchor_now(app, monkeypatch)
    db_session.execute(delete(AuditEvent).where(AuditEvent.chain_seq >= signed.chain_seq - 1))
    db_session.execute(update(AuditChainHead).where(AuditChainHead.id == 1).values(
        last_seq=signed.chain_seq - 2, last_hash=db_session.scalar(
            select(AuditEvent.row_hash).where(AuditEvent.chain_seq == signed.chain_seq - 2))))
    db_session.expire_all()
    path = f"{app.config['AUDIT_ANCHOR_DIR']}/audit-anchor-2026-12-07.json"
    result = _verify(app, path)
    assert result.exit_code == 1 and "rows were deleted" in result.output


def test_a_forged_or_edited_anchor_is_refused(app, api, db_session, keys, monkeypatch, tmp_path):
    _, document = _anchor_now(app, monkeypatch)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps({**document, "chain_seq": document["chain_seq"] - 1}))
    result = _verify(app, edited)
    assert result.exit_code == 1 and "signature does not hold" in result.output
    other_private, other_public = anchors.new_key_pair()
    result = _verify(app, f"{app.config['AUDIT_ANCHOR_DIR']}/audit-anchor-2026-12-07.json",
                     "--public-key", other_public)
    assert result.exit_code == 1 and "signature does not hold" in result.output


def test_without_a_key_no_anchor_is_written_and_the_worker_says_why(app, db_session,
                                                                    monkeypatch, caplog):
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_SIGNING_KEY", "")
    assert anchoring.daily_anchor.run() is None
    assert "AUDIT_ANCHOR_SIGNING_KEY is not set" in caplog.text
    cli = app.test_cli_runner().invoke(args=["audit-anchor"])
    assert cli.exit_code == 1 and "AUDIT_ANCHOR_SIGNING_KEY" in cli.output


def test_the_anchor_statement_is_canonical_and_covers_every_field():
    base = rules.anchor_statement(7, "a" * 64, MOMENT)
    assert base == (b'{"anchored_at":"2026-12-07T16:05:00.000000+00:00","chain_seq":7,'
                    b'"format":"doorstep-audit-anchor/1","row_hash":"' + b"a" * 64 + b'"}')
    assert rules.anchor_statement(8, "a" * 64, MOMENT) != base
    assert rules.anchor_statement(7, "b" * 64, MOMENT) != base
