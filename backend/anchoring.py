"""Writing the daily audit anchor outside the database: the job, and where it goes.

Apart from backend.audit because it reaches the storage layer (backend.evidence.storage),
which itself audits: the audit package stays at the bottom. The signing and checking are in
backend.audit.anchor; ADR 0023 says why.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from flask import current_app
from huey import crontab

from backend import clock, jobs
from backend.audit import anchor as anchors
from backend.audit import service as audit
from backend.evidence.storage import make_blob_store

log = logging.getLogger(__name__)
ANCHOR_PREFIX = "audit-anchor-"


def anchor_key(anchor: anchors.Anchor) -> str:
    return f"{ANCHOR_PREFIX}{anchor.anchored_at:%Y-%m-%d}.json"


def _write_file(directory: Path, name: str, data: bytes) -> Path:
    """Write whole or not at all (a temporary file renamed over), so a crash mid-write never
    leaves a half anchor that would fail verification."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".anchor-", delete=False) as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(file.name, target)
    return target


def store_anchor(config, instance_path: str, anchor: anchors.Anchor) -> str:
    """AUDIT_ANCHOR_DIR when set (a disk or write-once mount of its own: plain files an
    auditor can list), else the blob store the photos use (S3 with object lock, or files
    under instance/photos); returns where it went."""
    name, data = anchor_key(anchor), anchor.as_json().encode()
    directory = config.get("AUDIT_ANCHOR_DIR")
    if directory:
        return str(_write_file(Path(directory), name, data))
    make_blob_store(config, instance_path).put(name, data, "application/json")
    return f"blob:{name}"


def write_anchor() -> anchors.Anchor:
    """Sign the head now and store it as audit-anchor-<UTC date>.json (a second run the same
    day replaces that day's file with a later head); the anchoring is itself audited."""
    app = current_app
    anchor = anchors.sign_head(app.config, clock.now())
    where = store_anchor(app.config, app.instance_path, anchor)
    audit.record("audit.anchored", "audit_chain", str(anchor.chain_seq),
                 after={"stored": anchor_key(anchor), "row_hash": anchor.row_hash,
                        "key_id": anchor.key_id})
    log.info("audit anchor stored at %s", where)
    return anchor


# 00:05 in Shanghai: the day's work is in, and each county day gets its own file.
@jobs.periodic_task(crontab(minute="5", hour="16"), name="audit_anchor")
def daily_anchor() -> int | None:
    try:
        anchor = write_anchor()
    except anchors.AnchorKeyError as problem:
        log.error("audit anchor not written: %s", problem)
        return None
    log.info("audit anchor written at chain position %s", anchor.chain_seq)
    return anchor.chain_seq
