"""The nightly purge on the job kernel: 03:30 in Shanghai (19:30 UTC), after the day's
check-in windows close and before staff start work."""

from __future__ import annotations

import logging

from huey import crontab

from backend import jobs
from backend.retention import service

log = logging.getLogger(__name__)


@jobs.periodic_task(crontab(minute="30", hour="19"), name="retention_purge")
def nightly_purge() -> dict:
    report = service.run_nightly()
    counts = {kind.kind: kind.count for kind in report.kinds}
    log.info("retention purge: %s; %d files deleted", counts, report.blobs_deleted)
    return counts
