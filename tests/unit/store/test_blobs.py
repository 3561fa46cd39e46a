"""Every blob store passes the same contract: content-addressed, bounded, checksummed,
idempotent, never deleting by default. The S3 store runs against a real S3-compatible
server (moto's standalone ``moto_server``) started here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from openworks.core.errors import Forbidden, Invalid, NotFound
from openworks.core.resources import BlobCorrupt, digest_of
from openworks.errors import ConfigError
from openworks.store import make_engine, migrate
from openworks.store.blobs import (
    DatabaseBlobStore,
    DirectoryBlobStore,
    S3BlobStore,
    make_blob_store,
)
from tests.dbutil import fresh_database_url

LIMIT = 64 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    if not Path(server).exists():
        pytest.skip("moto_server (pip install 'moto[server]') is not installed")
    port = _free_port()
    process = subprocess.Popen(
        [server, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("moto_server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _s3(endpoint: str, prefix: str = "openworks/") -> S3BlobStore:
    import boto3

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    bucket = f"blobs-{time.time_ns()}"
    client.create_bucket(Bucket=bucket)
    return S3BlobStore(bucket, prefix=prefix, max_bytes=LIMIT, client=client)


@pytest.fixture(params=["database", "directory", "s3"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> DatabaseBlobStore | DirectoryBlobStore | S3BlobStore:
    if request.param == "database":
        engine = make_engine(fresh_database_url())
        migrate(engine)
        request.addfinalizer(engine.dispose)
        return DatabaseBlobStore(engine, LIMIT)
    if request.param == "directory":
        return DirectoryBlobStore(tmp_path / "blobs", LIMIT)
    return _s3(request.getfixturevalue("s3_endpoint"))


Store = DatabaseBlobStore | DirectoryBlobStore | S3BlobStore


def test_put_get_round_trip_byte_for_byte(store: Store) -> None:
    data = bytes(range(256)) * 10
    digest = store.put(data)
    assert digest == digest_of(data)
    assert store.get(digest) == data
    assert store.size(digest) == len(data)


def test_put_is_idempotent_and_verifies_a_named_digest(store: Store) -> None:
    data = b"print('hello')\n"
    assert store.put(data) == store.put(data, digest_of(data).upper())
    with pytest.raises(Invalid) as err:
        store.put(data, "0" * 64)
    assert err.value.code == "Invalid.Resource.Checksum"


def test_empty_and_exactly_at_the_limit_are_fine_one_more_byte_is_not(store: Store) -> None:
    assert store.get(store.put(b"")) == b""
    assert store.size(store.put(b"x" * LIMIT)) == LIMIT
    with pytest.raises(Invalid) as err:
        store.put(b"x" * (LIMIT + 1))
    assert err.value.code == "Invalid.Resource.TooLarge"
    assert "64 KiB" not in err.value.message and str(LIMIT) in err.value.message


def test_unknown_and_malformed_digests(store: Store) -> None:
    assert store.size("a" * 64) is None
    assert store.size("../../etc/passwd") is None
    with pytest.raises(NotFound):
        store.get("a" * 64)
    with pytest.raises(NotFound):
        store.get("not-a-digest")


def test_nothing_is_deleted_by_default(store: Store) -> None:
    digest = store.put(b"keep me")
    with pytest.raises(Forbidden):
        store.delete(digest)
    assert store.get(digest) == b"keep me"
    store.allow_delete = True
    assert store.delete(digest) is True
    assert store.size(digest) is None
    assert store.delete(digest) is False


def test_directory_store_detects_corruption_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = DirectoryBlobStore(tmp_path, LIMIT)
    digest = store.put(b"original")
    path = tmp_path / "sha256" / digest[:2] / digest[2:]
    assert path.read_bytes() == b"original"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".upload-")]
    path.write_bytes(b"tampered")
    with pytest.raises(BlobCorrupt):
        store.get(digest)


def test_make_blob_store_refuses_incomplete_settings(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url())
    try:
        with pytest.raises(ConfigError):
            make_blob_store("directory", engine=engine)
        with pytest.raises(ConfigError):
            make_blob_store("s3", engine=engine)
        with pytest.raises(ConfigError):
            make_blob_store("ftp", engine=engine)
        assert isinstance(make_blob_store("database", engine=engine), DatabaseBlobStore)
        made = make_blob_store("directory", engine=engine, directory=str(tmp_path))
        assert isinstance(made, DirectoryBlobStore)
    finally:
        engine.dispose()
