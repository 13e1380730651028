"""backend.evidence.storage: the local store for real, the S3 store against a fake client."""

from __future__ import annotations

import io
import os

import pytest

from backend.evidence.storage import (
    BlobNotFound,
    LocalBlobStore,
    S3BlobStore,
    make_blob_store,
)

KEY = "96decda27d4c9f88166647eb11b976044f076b37afeca3e8888dac8932e0cae4.jpg"


# --- LocalBlobStore --------------------------------------------------------------------------


def test_local_put_get_exists_delete(tmp_path):
    store = LocalBlobStore(tmp_path)
    assert not store.exists(KEY)
    store.put(KEY, b"jpeg bytes", "image/jpeg")
    assert store.exists(KEY)
    assert store.get(KEY) == b"jpeg bytes"
    store.delete(KEY)
    assert not store.exists(KEY)
    with pytest.raises(BlobNotFound):
        store.get(KEY)


def test_local_blobs_are_sharded_two_levels_deep(tmp_path):
    store = LocalBlobStore(tmp_path)
    store.put(KEY, b"x", "image/jpeg")
    path = store.path_of(KEY)
    relative = path.relative_to(tmp_path).parts
    assert len(relative) == 3 and relative[-1] == KEY
    assert all(len(part) == 2 for part in relative[:2])


def test_local_put_is_idempotent_and_leaves_no_temp_files(tmp_path):
    store = LocalBlobStore(tmp_path)
    store.put(KEY, b"same bytes", "image/jpeg")
    store.put(KEY, b"same bytes", "image/jpeg")  # a replayed upload
    assert store.get(KEY) == b"same bytes"
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert files == [store.path_of(KEY)]


def test_local_delete_of_a_missing_key_is_fine(tmp_path):
    LocalBlobStore(tmp_path).delete(KEY)


def test_local_put_is_atomic_when_the_write_fails(tmp_path, monkeypatch):
    store = LocalBlobStore(tmp_path)
    store.put(KEY, b"old", "image/jpeg")

    def power_cut(*_args):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "fsync", power_cut)
    with pytest.raises(OSError, match="disk gone"):
        store.put(KEY, b"new but never finished", "image/jpeg")
    monkeypatch.undo()
    assert store.get(KEY) == b"old"  # the old blob, whole
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p != store.path_of(KEY)]
    assert leftovers == []  # and the half-written temp file is gone


@pytest.mark.parametrize("bad_key", ["", "../etc/passwd", "a/b", ".hidden", "x" * 300, "é.jpg"])
def test_keys_cannot_name_paths_outside_the_store(tmp_path, bad_key):
    with pytest.raises(ValueError):
        LocalBlobStore(tmp_path).put(bad_key, b"x", "image/jpeg")


# --- S3BlobStore -----------------------------------------------------------------------------
# Interface tests only: a fake client records the calls a boto3 S3 client would get and
# answers the way S3 does. Nothing here talks to S3, MinIO or the network, so it proves our
# side of the contract (parameters, error mapping), not S3's behaviour.


class FakeClientError(Exception):
    """Shaped like botocore.exceptions.ClientError: the parsed error sits in `.response`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


class FakeS3Client:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}
        self.calls: list[tuple[str, dict]] = []

    def put_object(self, **params):
        self.calls.append(("put_object", params))
        self.objects[(params["Bucket"], params["Key"])] = params["Body"]
        return {"ETag": '"fake"'}

    def get_object(self, **params):
        self.calls.append(("get_object", params))
        try:
            return {"Body": io.BytesIO(self.objects[(params["Bucket"], params["Key"])])}
        except KeyError:
            raise FakeClientError("NoSuchKey") from None

    def head_object(self, **params):
        self.calls.append(("head_object", params))
        if (params["Bucket"], params["Key"]) not in self.objects:
            raise FakeClientError("404")  # HEAD has no body, so S3 gives only the status
        return {}

    def delete_object(self, **params):
        self.calls.append(("delete_object", params))
        self.objects.pop((params["Bucket"], params["Key"]), None)
        return {}


def test_s3_store_sends_bucket_key_body_and_content_type():
    client = FakeS3Client()
    store = S3BlobStore("doorstep-photos", client, prefix="evidence/")
    store.put(KEY, b"jpeg bytes", "image/jpeg")
    assert client.calls == [
        (
            "put_object",
            {
                "Bucket": "doorstep-photos",
                "Key": f"evidence/{KEY}",
                "Body": b"jpeg bytes",
                "ContentType": "image/jpeg",
            },
        )
    ]
    assert store.exists(KEY)
    assert store.get(KEY) == b"jpeg bytes"
    store.delete(KEY)
    assert not store.exists(KEY)
    assert [name for name, _ in client.calls] == [
        "put_object",
        "head_object",
        "get_object",
        "delete_object",
        "head_object",
    ]


def test_s3_missing_object_maps_to_blob_not_found():
    store = S3BlobStore("doorstep-photos", FakeS3Client())
    with pytest.raises(BlobNotFound):
        store.get(KEY)
    assert store.exists(KEY) is False
    store.delete(KEY)  # S3 deletes are idempotent


def test_s3_other_errors_are_not_swallowed():
    client = FakeS3Client()

    def denied(**_params):
        raise FakeClientError("AccessDenied")

    client.head_object = denied
    with pytest.raises(FakeClientError):
        S3BlobStore("doorstep-photos", client).exists(KEY)


def test_s3_store_rejects_bad_keys_too():
    with pytest.raises(ValueError):
        S3BlobStore("doorstep-photos", FakeS3Client()).put("../x", b"", "image/jpeg")


# --- make_blob_store -------------------------------------------------------------------------


def test_make_blob_store_is_local_without_a_bucket(tmp_path):
    store = make_blob_store({}, tmp_path)
    assert isinstance(store, LocalBlobStore)
    assert store.root_dir == tmp_path / "photos"


def test_make_blob_store_is_s3_with_a_bucket(tmp_path):
    client = FakeS3Client()
    store = make_blob_store(
        {"PHOTO_S3_BUCKET": "doorstep-photos", "PHOTO_S3_PREFIX": "p/"}, tmp_path, s3_client=client
    )
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.client, store.prefix) == ("doorstep-photos", client, "p/")
