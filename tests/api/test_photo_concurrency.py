"""Two devices uploading the same photo at the same moment store it once, and each gets
the idempotent answer a single retry gets (201 for one, 200 for the others), never a 500.

Commits for real (no rolled-back outer transaction) and cleans up after itself. On
PostgreSQL the uploads truly overlap; SQLite serialises the writers.
"""

import hashlib
import io
import random
import threading

from PIL import Image
from sqlalchemy import delete, func, select

from backend.audit.models import AuditEvent
from backend.evidence.models import Photo, PhotoHashBand
from backend.extensions import db
from tests.conftest import Api

UPLOADERS = 4


def _fresh_photo(seed: int) -> bytes:
    """A JPEG no other test uploaded: random noise, so its hash is new on every run."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (64, 48), bytes(rng.randrange(256) for _ in range(64 * 48 * 3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _cleanup(app, sha256s):
    with app.app_context():
        db.session.execute(delete(PhotoHashBand).where(PhotoHashBand.sha256.in_(sha256s)))
        db.session.execute(delete(Photo).where(Photo.sha256.in_(sha256s)))
        db.session.execute(delete(AuditEvent).where(AuditEvent.object_id.in_(sha256s)))
        db.session.commit()


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_concurrent_uploads_of_the_same_photo_store_it_once(app):
    users = ["wenping_fw1", "wenping_fw2"] * (UPLOADERS // 2)
    clients = [Api(app.test_client()) for _ in users]
    headers = [api.headers(user) for api, user in zip(clients, users, strict=True)]
    photos = [_fresh_photo(random.randrange(2**32)) for _ in range(3)]
    sha256s = [hashlib.sha256(raw).hexdigest() for raw in photos]
    try:
        for raw, sha in zip(photos, sha256s, strict=True):
            barrier = threading.Barrier(UPLOADERS, timeout=30)
            answers: list[tuple[int, str]] = []

            def upload(api, header, raw=raw, sha=sha, barrier=barrier, answers=answers):
                barrier.wait()
                response = api.client.put(f"/api/photos/{sha}", data=raw,
                                          headers={**header, "Content-Type": "image/jpeg"})
                answers.append((response.status_code, response.get_json().get("sha256")))

            threads = [threading.Thread(target=upload, args=(api, header))
                       for api, header in zip(clients, headers, strict=True)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert sorted(status for status, _ in answers) == [200] * (UPLOADERS - 1) + [201], \
                answers
            assert {body_sha for _, body_sha in answers} == {sha}
            with app.app_context():
                assert _count(Photo, Photo.sha256 == sha) == 1
                assert _count(PhotoHashBand, PhotoHashBand.sha256 == sha) == 8
                assert _count(AuditEvent, AuditEvent.object_id == sha,
                              AuditEvent.action == "photo.uploaded") == 1
    finally:
        _cleanup(app, sha256s)
