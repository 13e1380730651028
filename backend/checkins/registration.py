"""What check-ins plug into at app start: the sync record type, photo access, events, jobs."""

from __future__ import annotations

from flask import Flask

from backend import events
from backend.checkins import jobs, service
from backend.checkins.schemas import CheckInRecordSchema
from backend.evidence import service as evidence
from backend.sync.registry import SyncRegistry


def register(sync: SyncRegistry) -> None:
    sync.accept("checkin", CheckInRecordSchema(), service.push_checkins)
    evidence.allow_viewing(service.photo_in_visible_checkin)
    events.subscribe(events.PhotoStored, service.on_photo_stored)


def register_jobs(app: Flask) -> None:
    jobs.register(app)
