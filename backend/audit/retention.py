"""Purging the oldest audit rows: only a whole prefix of the chain, behind a signed
checkpoint, so the rows that stay still verify (docs/decisions/0022-retention-and-purge.md).

A row in the middle is never removed or redacted: its hash covers its fields, and the next
row links to that hash. The prefix ends before the first row that is still within retention
or that is about a case under legal hold; a hold on an old case therefore stops the audit
purge at that case's first row until it is lifted (holds are rare and short; the dry run
says so).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from backend import clock
from backend.audit import rules
from backend.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from backend.audit.service import HEAD_ID, checkpoint_key, latest_checkpoint
from backend.bulk import chunks
from backend.extensions import db


class ChainBrokenBeforePurge(Exception):
    """The prefix to purge does not verify: purging it would hide the tampering."""


@dataclass(frozen=True)
class PrefixPlan:
    after_seq: int  # the chain now starts after this position (0: the genesis)
    up_to_seq: int  # the purge removes positions after_seq+1 .. up_to_seq
    rows: int
    stopped_by_hold_case_id: str | None  # a held case's row ended the prefix early

    @property
    def is_empty(self) -> bool:
        return self.up_to_seq <= self.after_seq


def plan_prefix(cutoff: datetime, held_case_ids: Collection[str]) -> PrefixPlan:
    """The longest prefix of the chain whose rows are all older than ``cutoff`` and none of
    them about a held case."""
    checkpoint = latest_checkpoint()
    after_seq = checkpoint.seq if checkpoint else 0
    head_seq = db.session.scalar(select(AuditChainHead.last_seq)
                                 .where(AuditChainHead.id == HEAD_ID)) or 0
    linked = AuditEvent.chain_seq > after_seq
    first_young = db.session.scalar(select(func.min(AuditEvent.chain_seq))
                                    .where(linked, AuditEvent.at >= cutoff))
    first_held: int | None = None
    held_case: str | None = None
    for chunk in chunks(sorted(held_case_ids)):
        row = db.session.execute(
            select(AuditEvent.chain_seq, AuditEvent.object_id)
            .where(linked, AuditEvent.object_type == "case", AuditEvent.object_id.in_(chunk))
            .order_by(AuditEvent.chain_seq).limit(1)).first()
        seq = row[0] if row is not None else None
        if row is not None and seq is not None and (first_held is None or seq < first_held):
            first_held, held_case = seq, row[1]
    stops = [seq for seq in (first_young, first_held) if seq is not None]
    up_to = min(stops) - 1 if stops else head_seq
    up_to = max(up_to, after_seq)
    rows = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        linked, AuditEvent.chain_seq <= up_to)) or 0
    stopped_by_hold = held_case if first_held is not None and (
        first_young is None or first_held < first_young) else None
    return PrefixPlan(after_seq, up_to, rows, stopped_by_hold)


def purge_prefix(plan: PrefixPlan) -> AuditCheckpoint | None:
    """Walk the prefix (it must verify), sign a checkpoint at its end, delete it."""
    if plan.is_empty:
        return None
    checkpoint = latest_checkpoint()
    previous = checkpoint.row_hash if checkpoint else rules.GENESIS_HASH
    expected, last_at = plan.after_seq + 1, None
    columns = [getattr(AuditEvent, name) for name in rules.HASHED_FIELDS]
    walked = db.session.execute(
        select(*columns, AuditEvent.prev_hash, AuditEvent.row_hash)
        .where(AuditEvent.chain_seq > plan.after_seq, AuditEvent.chain_seq <= plan.up_to_seq)
        .order_by(AuditEvent.chain_seq).execution_options(yield_per=1000))
    try:  # a server-side cursor on PostgreSQL: closed even when a row does not verify
        for row in walked.mappings():
            if (row["chain_seq"] != expected or row["prev_hash"] != previous
                    or row["row_hash"] != rules.row_hash(previous, dict(row))):
                raise ChainBrokenBeforePurge(
                    f"audit row id {row['id']} (position {row['chain_seq']}) does not verify")
            previous, expected, last_at = row["row_hash"], expected + 1, row["at"]
    finally:
        walked.close()
    if expected - 1 != plan.up_to_seq or last_at is None:
        raise ChainBrokenBeforePurge(
            f"positions {expected} to {plan.up_to_seq} are missing from the chain")
    rows_purged = expected - 1 - plan.after_seq
    made = AuditCheckpoint(
        seq=plan.up_to_seq, row_hash=previous, last_at=last_at, rows_purged=rows_purged,
        made_at=clock.now(),
        signature=rules.checkpoint_signature(checkpoint_key(), plan.up_to_seq, previous,
                                             last_at, rows_purged))
    db.session.add(made)
    db.session.execute(delete(AuditEvent).where(AuditEvent.chain_seq <= plan.up_to_seq))
    db.session.flush()
    return made
