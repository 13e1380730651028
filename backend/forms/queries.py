"""Reads of imported form versions (forms.models); the service decides what they mean."""

from __future__ import annotations

from sqlalchemy import func, select

from backend.extensions import db
from backend.forms.models import FormVersion


def imported_definition(form_id: str, version: int) -> dict | None:
    return db.session.scalar(select(FormVersion.definition).where(
        FormVersion.form_id == form_id, FormVersion.version == version))


def imported_definitions() -> list[dict]:
    return list(db.session.scalars(select(FormVersion.definition).order_by(
        FormVersion.form_id, FormVersion.version)))


def imported_rows() -> list[tuple[str, int, str | None, object, str]]:
    """(form_id, version, source file, imported_at, imported_by_id) of every imported version."""
    return [(row[0], row[1], row[2], row[3], row[4]) for row in db.session.execute(select(
        FormVersion.form_id, FormVersion.version, FormVersion.source_filename,
        FormVersion.imported_at, FormVersion.imported_by_id).order_by(
        FormVersion.form_id, FormVersion.version))]


def latest_imported_version(form_id: str) -> int:
    return db.session.scalar(select(func.max(FormVersion.version)).where(
        FormVersion.form_id == form_id)) or 0


def imported_marker() -> str:
    """Changes whenever a version is imported (rows are never changed or deleted)."""
    count, last_id = db.session.execute(select(func.count(FormVersion.id),
                                               func.max(FormVersion.id))).one()
    return f"{count}:{last_id or 0}"
