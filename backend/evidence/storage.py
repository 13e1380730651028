"""Where photo bytes live: a local directory in development, an S3 bucket in production.

Keys are chosen by the caller (in practice content addresses such as
``<sha256>.jpg`` / ``<sha256>.thumb.jpg``), so a put of the same key is a replay of the same
bytes: every store here treats put as an idempotent overwrite and delete of a missing key as
success. The content type is metadata of the database row; S3 also gets it so a presigned
download is served with the right header, while the local store does not record it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

# No slashes, no leading dot, nothing a shell or S3 console would misread; keeps a key from
# ever naming a path outside the store.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


class BlobNotFound(KeyError):
    """No blob under this key."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...  # raises BlobNotFound

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...  # a missing key is not an error


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a valid blob key: {key!r}")
    return key


class LocalBlobStore:
    """Files under `root_dir`, sharded two levels deep: ``ab/cd/<key>``.

    The shard comes from a hash of the key, not the key's first letters, so keys that share
    a prefix (``thumb-...``) still spread evenly and no directory grows to a million entries.
    """

    def __init__(self, root_dir: str | os.PathLike[str]) -> None:
        self.root_dir = Path(root_dir)

    def path_of(self, key: str) -> Path:
        shard = hashlib.sha256(_checked(key).encode()).hexdigest()
        return self.root_dir / shard[:2] / shard[2:4] / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path_of(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename over it: readers see the old blob or the whole
        # new one, never half a file, even if the process dies mid-write.
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as temp_file:
                temp_file.write(data)
                temp_file.flush()
                os.fsync(temp_file.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        self._fsync_dir(target.parent)  # make the rename itself survive a power cut

    def get(self, key: str) -> bytes:
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    def readiness(self) -> dict:
        """Raises unless a file can be written and removed under the root."""
        self.root_dir.mkdir(parents=True, exist_ok=True)
        probe = self.root_dir / f".ready-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
        return {"kind": "local", "path": str(self.root_dir)}

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)

    @staticmethod
    def _fsync_dir(directory: Path) -> None:
        if os.name != "posix":
            return
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class S3BlobStore:
    """Objects in one bucket, under an optional prefix. The boto3 client is injected."""

    def __init__(self, bucket: str, client: Any, prefix: str = "") -> None:
        self.bucket = bucket
        self.client = client
        self.prefix = prefix

    def _object_key(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._object_key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as exc:
            if _is_missing(exc):
                raise BlobNotFound(key) from None
            raise
        body = answer["Body"]
        try:
            return body.read()
        finally:
            body.close()

    def readiness(self) -> dict:
        """Raises unless the bucket answers (and these credentials may see it)."""
        self.client.head_bucket(Bucket=self.bucket)
        return {"kind": "s3", "bucket": self.bucket}

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except Exception as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # S3 answers 204 whether or not the object existed: delete is idempotent already.
        self.client.delete_object(Bucket=self.bucket, Key=self._object_key(key))


def _is_missing(exc: Exception) -> bool:
    """botocore's ClientError for a missing object: NoSuchKey from GET, a bare 404 from HEAD."""
    response = getattr(exc, "response", None)
    if not isinstance(response, Mapping):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404", "NotFound"}


def make_blob_store(
    config: Mapping[str, Any], instance_path: str | os.PathLike[str], s3_client: Any = None
) -> BlobStore:
    """S3 when PHOTO_S3_BUCKET is set, else files under ``<instance_path>/photos``.

    Optional settings: PHOTO_S3_PREFIX, PHOTO_S3_ENDPOINT_URL (MinIO, or a domestic
    S3-compatible service), PHOTO_S3_REGION. Credentials come from boto3's usual chain
    (environment, instance role), never from this config.
    """
    bucket = config.get("PHOTO_S3_BUCKET")
    if bucket:
        if s3_client is None:
            import boto3  # only deployments with a bucket pay for importing boto3

            s3_client = boto3.client(
                "s3",
                endpoint_url=config.get("PHOTO_S3_ENDPOINT_URL") or None,
                region_name=config.get("PHOTO_S3_REGION") or None,
            )
        return S3BlobStore(bucket, s3_client, prefix=config.get("PHOTO_S3_PREFIX", ""))
    return LocalBlobStore(Path(instance_path) / "photos")
