"""The daily audit anchor: the chain's head, signed, kept outside the database.

Someone who can write the database can rewrite the hash chain from any row on and
recompute every hash (ADR 0005's open point). Once a day the head (position and hash) is
signed with an Ed25519 key from the environment and written where the database's users
cannot reach: a directory (AUDIT_ANCHOR_DIR, another disk or a write-once mount) or the
blob store (S3 with object lock, say). `flask verify-audit --anchor FILE` then proves the
chain still leads to that head: a history rewritten before it cannot match the signed hash.
Ed25519 rather than HMAC: an auditor verifies with the public key alone and cannot forge an
anchor with it (docs/decisions/0023-two-factors-and-the-audit-anchor.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import select

from backend.audit import rules
from backend.audit import service as audit
from backend.audit.models import AuditChainHead, AuditEvent
from backend.extensions import db


class AnchorKeyError(ValueError):
    """No usable signing or verifying key in the environment."""


@dataclass(frozen=True)
class Anchor:
    chain_seq: int
    row_hash: str
    anchored_at: datetime
    key_id: str
    signature: str

    def as_json(self) -> str:
        return json.dumps({"format": rules.ANCHOR_FORMAT, "chain_seq": self.chain_seq,
                           "row_hash": self.row_hash,
                           "anchored_at": self.anchored_at.isoformat(timespec="microseconds"),
                           "key_id": self.key_id, "signature": self.signature}, indent=2) + "\n"


def new_key_pair() -> tuple[str, str]:
    """(private, public), each the base64 of its 32 raw bytes: the settings' format."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes_raw()
    return base64.b64encode(raw).decode(), _public_text(private.public_key())


def _public_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def _decoded(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise AnchorKeyError(f"{what} is not base64") from exc
    if len(raw) != 32:
        raise AnchorKeyError(f"{what} must be 32 bytes (base64 of a raw Ed25519 key)")
    return raw


def signing_key(config) -> Ed25519PrivateKey:
    text = config.get("AUDIT_ANCHOR_SIGNING_KEY") or ""
    if not text:
        raise AnchorKeyError("AUDIT_ANCHOR_SIGNING_KEY is not set: no anchor can be signed "
                             "(`flask audit-anchor-keys` makes a pair)")
    return Ed25519PrivateKey.from_private_bytes(_decoded(text, "AUDIT_ANCHOR_SIGNING_KEY"))


def verifying_key(config, public_key_text: str | None = None) -> Ed25519PublicKey:
    """The key anchors are checked with: the one given, AUDIT_ANCHOR_PUBLIC_KEY, or the
    signing key's own public half (on the server itself)."""
    text = public_key_text or config.get("AUDIT_ANCHOR_PUBLIC_KEY") or ""
    if text:
        return Ed25519PublicKey.from_public_bytes(_decoded(text, "the public key"))
    return signing_key(config).public_key()


def key_id(key: Ed25519PublicKey) -> str:
    """A short name of the key (which key signed, after a rotation), not a secret."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def sign_head(config, now: datetime) -> Anchor:
    head = db.session.get(AuditChainHead, audit.HEAD_ID, populate_existing=True)
    seq, digest = (head.last_seq, head.last_hash) if head else (0, rules.GENESIS_HASH)
    key = signing_key(config)
    signature = key.sign(rules.anchor_statement(seq, digest, now))
    return Anchor(seq, digest, now, key_id(key.public_key()),
                  base64.b64encode(signature).decode())


@dataclass(frozen=True)
class AnchorCheck:
    report: audit.ChainReport
    problem: str | None

    @property
    def holds(self) -> bool:
        return self.problem is None and self.report.is_intact


def read_anchor(text: str, key: Ed25519PublicKey) -> Anchor:
    """Parse an anchor file and check its signature; ValueError says what is wrong."""
    try:
        document = json.loads(text)
        anchor = Anchor(int(document["chain_seq"]), str(document["row_hash"]),
                        datetime.fromisoformat(document["anchored_at"]),
                        str(document.get("key_id", "")), str(document["signature"]))
        if document.get("format") != rules.ANCHOR_FORMAT:
            raise ValueError(f"not a {rules.ANCHOR_FORMAT} file")
        signature = base64.b64decode(anchor.signature, validate=True)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"the anchor file is not readable: {exc}") from exc
    try:
        key.verify(signature, rules.anchor_statement(anchor.chain_seq, anchor.row_hash,
                                                     anchor.anchored_at))
    except InvalidSignature as exc:
        raise ValueError("the anchor's signature does not hold for this key (the file was "
                         "changed, or another key signed it)") from exc
    return anchor


def verify_to_anchor(anchor: Anchor) -> AnchorCheck:
    """Walk the whole chain, then check that it passes through the anchored head."""
    report = audit.verify_chain()
    if not report.is_intact:
        return AnchorCheck(report, None)
    if anchor.chain_seq == 0:
        return AnchorCheck(report, None)
    stored = db.session.scalar(select(AuditEvent.row_hash).where(
        AuditEvent.chain_seq == anchor.chain_seq))
    if stored is None:
        return AnchorCheck(report, f"the chain has no row at the anchored position "
                                   f"{anchor.chain_seq}: rows were deleted")
    if stored != anchor.row_hash:
        return AnchorCheck(report, f"the row at the anchored position {anchor.chain_seq} does "
                                   "not have the anchored hash: the history before "
                                   f"{anchor.anchored_at.isoformat()} was rewritten")
    return AnchorCheck(report, None)
