from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class HouseholdDossier(db.Model):
    """One request for a household's printable file, and the job building it.

    The PDF is masked for the one who asked (their roles, at build time), so only they may
    download it; it lives in the photo store under ``dossier-<id>.pdf``."""

    __tablename__ = "household_dossier"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    household_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("household.id"), nullable=False, index=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(12), nullable=False)
    requested_by_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("user_account.id"), nullable=False, index=True)
    lang: Mapped[str] = mapped_column(String(8), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False)  # rules.DOSSIER_STATES
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    step: Mapped[str | None] = mapped_column(String(40))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    page_count: Mapped[int | None] = mapped_column(Integer)
    byte_size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(200))
