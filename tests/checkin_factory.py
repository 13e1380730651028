"""Build recipient check-ins the way the PWA does: a camera photo, a challenge, GPS, signed
with the recipient's device key. Shared by API tests and the bench."""

from __future__ import annotations

import io
import random
import uuid
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from PIL import Image

from backend.checkins.pushed_checkins import checkin_digest, checkin_message
from tests.visit_factory import DeviceKeyPair, b64url


def photo_bytes(seed: int, size: int = 96, quality: int = 85) -> bytes:
    """A distinct JPEG per seed (random blocks: far apart in dHash)."""
    rng = random.Random(seed)
    image = Image.new("L", (9, 8))
    image.putdata([rng.randrange(256) for _ in range(72)])
    image = image.resize((size, size), Image.NEAREST).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def sign_checkin(pair: DeviceKeyPair, record: dict) -> str:
    der = pair.private.sign(checkin_message(checkin_digest(record)), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def checkin(pair: DeviceKeyPair, key_id: str, photo_sha256: str, *, at: datetime | None = None,
            lat: float = 27.19, lon: float = 103.56, accuracy_m: float | None = 12.0,
            source: str = "camera", photo_at: datetime | None = None,
            recipient_id: str | None = None, proxy: dict | None = None,
            record_id: str | None = None, challenge: dict | None = None) -> dict:
    at = at or datetime.now(UTC)
    record = {
        "type": "checkin", "id": record_id or str(uuid.uuid4()), "recipient_id": recipient_id,
        "photo": {"sha256": photo_sha256, "source": source,
                  "captured_at": (photo_at or at).isoformat()},
        "challenge": challenge or {"kind": "fingers", "value": 3},
        "challenge_answer": "3", "location": {"lat": lat, "lon": lon, "accuracy_m": accuracy_m},
        "captured_at": at.isoformat(), "proxy": proxy, "key_id": key_id,
    }
    record["signature"] = sign_checkin(pair, record)
    return record
