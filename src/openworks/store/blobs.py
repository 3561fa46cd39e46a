"""Blob stores: immutable resource bytes by SHA-256 (core.resources.BlobStore).

::

    _Checked.put(data, digest?) ── len > max_bytes ──────────▶ Invalid.Resource.TooLarge
         │                     └─ sha256(data) != digest ──▶ Invalid.Resource.Checksum
         └─ already there? (_size) ─ no ─▶ _write(digest, data)        (idempotent)
    _Checked.get(digest) ─▶ _read ─ None ─▶ NotFound InvalidResource.NotFound
                                  └─ sha256 differs ─▶ BlobCorrupt (a server fault)

    DatabaseBlobStore    one ``blobs`` row per blob (schema_blobs.py); the default
    DirectoryBlobStore   <root>/sha256/<2 hex>/<62 hex>; temp file + fsync + rename
    S3BlobStore          <bucket>/<prefix>sha256/<hex> through boto3 (any S3-compatible)

Nothing is ever deleted unless the store is built with ``allow_delete`` (no openworks code
path does): versions name digests, so a superseded version's bytes stay readable.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from openworks.core.errors import Forbidden, Invalid, NotFound
from openworks.core.resources import DEFAULT_MAX_BYTES, BlobCorrupt, digest_of, is_digest
from openworks.errors import ConfigError

from .schema_blobs import blobs
from .upsert import insert_missing

if TYPE_CHECKING:
    from openworks.config import Settings

__all__ = [
    "BLOB_STORES",
    "DatabaseBlobStore",
    "DirectoryBlobStore",
    "S3BlobStore",
    "blob_store_from",
    "make_blob_store",
]

BLOB_STORES = ("database", "directory", "s3")


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


class _Checked:
    """Size bound, SHA-256 on write and on read, and no deletes by default."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, allow_delete: bool = False) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self.allow_delete = allow_delete

    # implementations ---------------------------------------------------------------
    def _write(self, digest: str, data: bytes) -> None:
        raise NotImplementedError

    def _read(self, digest: str) -> bytes | None:
        raise NotImplementedError

    def _size(self, digest: str) -> int | None:
        raise NotImplementedError

    def _remove(self, digest: str) -> bool:
        raise NotImplementedError

    # the interface -----------------------------------------------------------------
    def put(self, data: bytes, digest: str | None = None) -> str:
        if len(data) > self.max_bytes:
            raise Invalid(
                "Invalid.Resource.TooLarge",
                f"A resource may hold at most {_mib(self.max_bytes)} "
                f"({self.max_bytes} bytes); this one has {len(data)}.",
            )
        actual = digest_of(data)
        if digest is not None and digest.strip().lower() != actual:
            raise Invalid(
                "Invalid.Resource.Checksum",
                f"The bytes have SHA-256 {actual}, not the expected {digest.strip().lower()}.",
            )
        if self._size(actual) is None:
            self._write(actual, data)
        return actual

    def get(self, digest: str) -> bytes:
        data = self._read(digest) if is_digest(digest) else None
        if data is None:
            raise NotFound("InvalidResource.NotFound", f"No bytes have SHA-256 {digest}.")
        if digest_of(data) != digest:
            raise BlobCorrupt(f"the stored bytes of {digest} fail their SHA-256 check")
        return data

    def size(self, digest: str) -> int | None:
        return self._size(digest) if is_digest(digest) else None

    def delete(self, digest: str) -> bool:
        if not self.allow_delete:
            raise Forbidden(
                "Forbidden.Resource.Immutable", "This blob store never deletes resource bytes."
            )
        return self._remove(digest) if is_digest(digest) else False


class DatabaseBlobStore(_Checked):
    """One ``blobs`` row per blob, in the server's own database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine, max_bytes: int = DEFAULT_MAX_BYTES, **kw: Any) -> None:
        super().__init__(max_bytes, **kw)
        self.engine = engine

    def _write(self, digest: str, data: bytes) -> None:
        with self.engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                values = {
                    "digest": digest,
                    "size": len(data),
                    "data": data,
                    "create_time": time.time_ns() // 1_000_000,
                }
                insert_missing(conn, blobs, values)

    def _read(self, digest: str) -> bytes | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(blobs.c.data).where(blobs.c.digest == digest)).first()
        return bytes(found[0]) if found else None

    def _size(self, digest: str) -> int | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(blobs.c.size).where(blobs.c.digest == digest)).first()
        return int(found[0]) if found else None

    def _remove(self, digest: str) -> bool:
        with self.engine.connect() as conn:
            conn.info["write"] = True
            with conn.begin():
                gone = conn.execute(blobs.delete().where(blobs.c.digest == digest))
        return bool(gone.rowcount)


class DirectoryBlobStore(_Checked):
    """Files under ``root``: ``sha256/ab/cdef…``, written to a temp file in the same
    directory, fsynced, renamed into place (atomic), and the directory fsynced."""

    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, **kw: Any) -> None:
        super().__init__(max_bytes, **kw)
        self.root = Path(root)
        (self.root / "sha256").mkdir(parents=True, exist_ok=True)

    def _path(self, digest: str) -> Path:
        return self.root / "sha256" / digest[:2] / digest[2:]

    def _write(self, digest: str, data: bytes) -> None:
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _read(self, digest: str) -> bytes | None:
        try:
            return self._path(digest).read_bytes()
        except FileNotFoundError:
            return None

    def _size(self, digest: str) -> int | None:
        try:
            return self._path(digest).stat().st_size
        except FileNotFoundError:
            return None

    def _remove(self, digest: str) -> bool:
        try:
            self._path(digest).unlink()
        except FileNotFoundError:
            return False
        return True


class S3BlobStore(_Checked):
    """Objects ``<prefix>sha256/<hex>`` in an S3-compatible bucket, through boto3.

    Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
    a profile, an instance role); ``endpoint_url`` points at MinIO, Ceph, OSS… ."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        prefix: str = "",
        region: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        client: Any = None,
        **kw: Any,
    ) -> None:
        super().__init__(max_bytes, **kw)
        if client is None:
            import boto3  # the s3 extra: pip install 'openworks[s3]'

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _key(self, digest: str) -> str:
        return f"{self.prefix}sha256/{digest}"

    @staticmethod
    def _missing(error: Exception) -> bool:
        response = getattr(error, "response", None) or {}
        code = str(response.get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def _write(self, digest: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(digest),
            Body=data,
            ContentType="application/octet-stream",
            Metadata={"sha256": digest},
        )

    def _read(self, digest: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception as error:
            if self._missing(error):
                return None
            raise
        body = answer["Body"]
        try:
            return bytes(body.read())
        finally:
            body.close()

    def _size(self, digest: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(digest))
        except Exception as error:
            if self._missing(error):
                return None
            raise
        return int(head["ContentLength"])

    def _remove(self, digest: str) -> bool:
        if self._size(digest) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest))
        return True


def make_blob_store(
    kind: str,
    *,
    engine: Engine,
    directory: str | None = None,
    bucket: str | None = None,
    endpoint_url: str | None = None,
    prefix: str = "",
    region: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> _Checked:
    """The store a server or command uses (OPENWORKS_BLOB_STORE, docs/deploy.md)."""
    if kind == "database":
        return DatabaseBlobStore(engine, max_bytes)
    if kind == "directory":
        if not directory:
            raise ConfigError("the directory blob store needs OPENWORKS_BLOB_DIR (--blob-dir)")
        return DirectoryBlobStore(directory, max_bytes)
    if kind == "s3":
        if not bucket:
            raise ConfigError("the s3 blob store needs OPENWORKS_BLOB_S3_BUCKET")
        return S3BlobStore(
            bucket, endpoint_url=endpoint_url, prefix=prefix, region=region, max_bytes=max_bytes
        )
    raise ConfigError(f"unknown blob store {kind!r}: use {', '.join(BLOB_STORES)}")


def blob_store_from(settings: Settings, engine: Engine) -> _Checked:
    """:func:`make_blob_store` with a server's settings."""
    if settings.resource_max_bytes < 1:
        raise ConfigError("OPENWORKS_RESOURCE_MAX_BYTES must be a positive number of bytes.")
    return make_blob_store(
        settings.blob_store,
        engine=engine,
        directory=settings.blob_dir,
        bucket=settings.blob_s3_bucket,
        endpoint_url=settings.blob_s3_endpoint,
        prefix=settings.blob_s3_prefix,
        region=settings.blob_s3_region,
        max_bytes=settings.resource_max_bytes,
    )
