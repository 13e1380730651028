from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.dbtypes import UtcDateTime
from backend.extensions import db


class Photo(db.Model):
    """An uploaded photo, addressed by the SHA-256 of the bytes the device sent."""

    __tablename__ = "photo"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    uploaded_by_id: Mapped[str | None] = mapped_column(String(36), ForeignKey("user_account.id"))
    device_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    format: Mapped[str] = mapped_column(String(8), nullable=False)
    content_type: Mapped[str] = mapped_column(String(32), nullable=False)
    byte_size: Mapped[int] = mapped_column(Integer, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    exif_lat: Mapped[float | None] = mapped_column(Float)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_accuracy_m: Mapped[float | None] = mapped_column(Float)
    # The camera's own clock as it wrote it (captured_at is the device's claim).
    exif_taken_at_local: Mapped[str | None] = mapped_column(String(32))
    exif_taken_at_offset: Mapped[str | None] = mapped_column(String(8))
    camera: Mapped[str | None] = mapped_column(String(100))
    dhash: Mapped[str] = mapped_column(String(16), nullable=False)


class PhotoHashBand(db.Model):
    """One byte of a photo's dHash: photos within 7 bits share at least one band.

    Looking up the 8 bands finds near-duplicate candidates with an index instead of
    comparing a new photo with every photo ever filed.
    """

    __tablename__ = "photo_hash_band"

    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("photo.sha256"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger, nullable=False)

    __table_args__ = (Index("ix_photo_hash_band_lookup", "band", "value"),)
