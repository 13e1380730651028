from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db


class DataKeyCheck(db.Model):
    """What start-up checks the keys against: ``data:<key id>`` holds a value sealed with
    that data key, ``index`` a blind index of a fixed text. A key that does not open its
    row, or an index key that gives another index, stops the start (ADR 0020). A row of a
    key the keyring lacks says data may still be sealed with it; rotation removes the row
    once no value is."""

    __tablename__ = "data_key_check"

    name: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[str] = mapped_column(String(160), nullable=False)
